//! Group `integrate`: one physics step (gravity, semi-implicit Euler: the velocity first, then
//! the position with the new velocity; reflection off the walls of a box) over the engine's
//! `Storage<Particle>` in SoA and in AoS, at 10k, 100k and 1M particles. Serial on purpose:
//! it measures memory layout, not rayon.
//!
//! The step is this file's own kernel, not the engine's `systems::integrate` (which adds
//! drag and counts bounces, and runs SoA columns on `Vec4` lanes, two particles at a time):
//! the numbers are what the layout costs a plain per-row loop, not the engine's integrate
//! system. The `ecs_integrate` bench times `systems::integrate` itself.
//!
//! The system is written once, generic over [`Rows`], and dispatched with `with_rows!`
//! exactly as the engine's systems are, so the two layouts run the same monomorphised code
//! and differ only in what they drag through the cache: SoA streams the position and
//! velocity columns (16 bytes per particle), AoS the whole 40-byte `Particle`. `hecs`
//! (`query_mut` over position and velocity components) is the ecosystem reference for the
//! same step. Both layouts and hecs start from the same particles.

use benches::Particles;
use criterion::{BenchmarkId, Criterion, Throughput};
use engine::particles::particle;
use engine::storage::{Layout, Rows};
use engine::with_rows;
use glam::Vec2;
use std::hint::black_box;

/// Particle counts benched.
const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// The fixed step of the simulation.
const DT: f32 = 1.0 / 120.0;
const GRAVITY: f32 = 9.8;
/// Fraction of the normal velocity kept by a bounce.
const RESTITUTION: f32 = 0.8;
/// The box `[0, W] x [0, H]` the particles bounce in.
const WALLS: Vec2 = Vec2::new(1000.0, 1000.0);

/// One particle's step. Branch-free (a clamp and a select), so a loop over columns can
/// vectorise.
#[inline(always)]
fn step(position: &mut Vec2, velocity: &mut Vec2, dt: f32) {
    velocity.y -= GRAVITY * dt;
    *position += *velocity * dt;
    let inside = position.clamp(Vec2::ZERO, WALLS);
    let bounced = inside.cmpne(*position);
    *velocity = Vec2::select(bounced, *velocity * -RESTITUTION, *velocity);
    *position = inside;
}

/// The system, written once for both layouts.
fn integrate<'a, R: Rows<'a, Item = particle::Mut<'a>>>(rows: R, dt: f32) {
    rows.for_each(|p| step(p.position, p.velocity, dt));
}

/// The hecs components the step touches (hecs stores each component type as its own column).
#[derive(Clone, Copy)]
struct Position(Vec2);
#[derive(Clone, Copy)]
struct Velocity(Vec2);

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("integrate");
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let particles = Particles::random(n, WALLS);
        for layout in Layout::ALL {
            let mut storage = particles.storage(layout);
            group.bench_function(BenchmarkId::new(layout.name(), n), |b| {
                b.iter(|| with_rows!(storage.rows_mut(), |rows| integrate(rows, black_box(DT))))
            });
        }
        let mut world = hecs::World::new();
        world.spawn_batch(particles.pairs().map(|(p, v)| (Position(p), Velocity(v))));
        group.bench_function(BenchmarkId::new("hecs", n), |b| {
            b.iter(|| {
                let dt = black_box(DT);
                for (p, v) in world.query_mut::<(&mut Position, &mut Velocity)>() {
                    step(&mut p.0, &mut v.0, dt);
                }
            })
        });
    }
    group.finish();
}
