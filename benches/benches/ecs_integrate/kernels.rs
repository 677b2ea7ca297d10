//! The workload every contender runs: the step's parameters, one particle's step, the loops
//! over entities and column slices (serial and on rayon), the memory-bound loop `stream`, the
//! components the ECS peers store, and the bounce tally they all add to.

use bevy_ecs::prelude::Component;
use engine::parallel::PARALLEL_MIN_ROWS;
use engine::particles::systems::Motion;
use glam::Vec2;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The fixed step of the simulation.
pub const DT: f32 = 1.0 / 120.0;
/// The box the particles bounce in.
pub const BOUNDS: Vec2 = Vec2::new(1000.0, 1000.0);

/// The step's parameters, as the world builds them: gravity 9.8 down, no drag, restitution 0.8.
pub fn motion() -> Motion {
    Motion {
        dt: DT,
        gravity_dt: Vec2::new(0.0, -9.8) * DT,
        damping: 1.0,
        bounds: BOUNDS,
        restitution: 0.8,
    }
}

/// Bounces counted by every contender (read after each bench, so none of the counting is
/// dead code).
pub static BOUNCES: AtomicU64 = AtomicU64::new(0);

/// One particle's step, the same arithmetic as `engine::particles::systems::integrate`'s row body.
/// Returns the walls hit (0, 1 or 2). Parameters by value (callers copy them out of any
/// reference before their loop): loads hoisted out of the loop.
#[inline(always)]
pub fn step(position: &mut Vec2, velocity: &mut Vec2, m: Motion) -> u32 {
    let Motion {
        dt,
        gravity_dt,
        damping,
        bounds,
        restitution,
    } = m;
    let mut v = (*velocity + gravity_dt) * damping;
    let mut x = *position + v * dt;
    let out_x = (x.x < 0.0) | (x.x > bounds.x);
    let out_y = (x.y < 0.0) | (x.y > bounds.y);
    x = x.max(Vec2::ZERO).min(bounds);
    v.x = if out_x { -v.x * restitution } else { v.x };
    v.y = if out_y { -v.y * restitution } else { v.y };
    *position = x;
    *velocity = v;
    u32::from(out_x) + u32::from(out_y)
}

/// The step over the `(position, velocity)` pairs a per-entity query yields (hecs, legion).
/// Returns the bounces.
#[inline(always)]
pub fn step_entities<'a>(
    entities: impl IntoIterator<Item = (&'a mut Pos, &'a mut Vel)>,
    m: &Motion,
) -> u64 {
    let m = *m;
    let mut bounces = 0u64;
    for (p, v) in entities {
        bounces += u64::from(step(&mut p.0, &mut v.0, m));
    }
    bounces
}

/// The step over two column slices (hand-written SoA, hecs and bevy columns). Returns the
/// bounces.
#[inline(always)]
pub fn step_slices<P, V>(positions: &mut [P], velocities: &mut [V], m: &Motion) -> u64
where
    P: AsVec2,
    V: AsVec2,
{
    let m = *m;
    let mut bounces = 0u32;
    for (p, v) in positions.iter_mut().zip(velocities.iter_mut()) {
        bounces += step(p.vec2(), v.vec2(), m);
    }
    u64::from(bounces)
}

/// `step_slices` over `PARALLEL_MIN_ROWS`-row chunks with rayon (in the current pool);
/// serial when the columns fit in one chunk.
pub fn step_slices_par<P, V>(positions: &mut [P], velocities: &mut [V], m: &Motion)
where
    P: AsVec2 + Send,
    V: AsVec2 + Send,
{
    if positions.len() <= PARALLEL_MIN_ROWS {
        BOUNCES.fetch_add(step_slices(positions, velocities, m), Relaxed);
        return;
    }
    positions
        .par_chunks_mut(PARALLEL_MIN_ROWS)
        .zip(velocities.par_chunks_mut(PARALLEL_MIN_ROWS))
        .for_each(|(p, v)| {
            BOUNCES.fetch_add(step_slices(p, v, m), Relaxed);
        });
}

/// The memory bound: read and write the same 32 bytes per particle (both columns), with the
/// least arithmetic that keeps the values bounded.
#[inline(always)]
pub fn stream(positions: &mut [Vec2], velocities: &mut [Vec2], k: f32, s: f32) {
    for (p, v) in positions.iter_mut().zip(velocities.iter_mut()) {
        *p += *v * k;
        *v *= s;
    }
}

/// Position component (hecs and bevy store each component type as its own column).
#[derive(Component, Clone, Copy)]
pub struct Pos(pub Vec2);
/// Velocity component.
#[derive(Component, Clone, Copy)]
pub struct Vel(pub Vec2);

/// A column element that is a `Vec2` (plain, or an ECS component wrapping one).
pub trait AsVec2 {
    fn vec2(&mut self) -> &mut Vec2;
}
impl AsVec2 for Vec2 {
    #[inline(always)]
    fn vec2(&mut self) -> &mut Vec2 {
        self
    }
}
impl AsVec2 for Pos {
    #[inline(always)]
    fn vec2(&mut self) -> &mut Vec2 {
        &mut self.0
    }
}
impl AsVec2 for Vel {
    #[inline(always)]
    fn vec2(&mut self) -> &mut Vec2 {
        &mut self.0
    }
}
