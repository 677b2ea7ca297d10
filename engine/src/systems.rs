//! The per-particle systems, each written once over [`Rows`] and monomorphised per layout.
//!
//! Each function handles one chunk of rows (the world splits the storage across rayon
//! workers with [`for_each_chunk`](crate::parallel::for_each_chunk)). Per-particle work is
//! plain arithmetic on the row's fields; loops stay free of dynamic dispatch so the SoA
//! instantiation vectorises where the work allows.

use crate::counters::{Counter, Counters};
use crate::entity::Entity;
use crate::grid::Grid;
use crate::particle;
use crate::storage::Rows;
use crate::sync::EventSink;
use glam::Vec2;

/// The most attractors a scene may have (the mouse adds one more).
pub const MAX_ATTRACTORS: usize = 8;

/// A point attractor in a form ready for the inner loop.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pull {
    /// Where it pulls to.
    pub position: Vec2,
    /// `strength` of the 1/d law (negative repels).
    pub strength: f32,
    /// Softening length squared.
    pub softening2: f32,
}

/// Parameters of the forces system: shared read-mostly between workers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ForceField {
    /// Active attractors (`pulls[..count]`); the mouse is one of them when held.
    pub pulls: [Pull; MAX_ATTRACTORS + 1],
    /// How many of `pulls` are active.
    pub count: usize,
    /// Neighbour repulsion radius (0: off).
    pub repulsion_radius: f32,
    /// Neighbour repulsion strength.
    pub repulsion_strength: f32,
}

impl ForceField {
    /// Whether the forces system has anything to do.
    pub fn is_active(&self) -> bool {
        self.count > 0 || self.repulsion_radius > 0.0
    }
}

/// Applies attractors and neighbour repulsion to the velocities of one chunk of rows.
pub fn forces<'a>(
    rows: impl Rows<'a, Item = particle::Mut<'a>>,
    field: &ForceField,
    grid: Option<&Grid>,
    dt: f32,
    counters: &Counters,
) {
    let pulls = &field.pulls[..field.count];
    let inv_r = 1.0 / field.repulsion_radius;
    let inv_r2 = inv_r * inv_r;
    rows.for_each(|p| {
        let here = *p.position;
        let mut accel = Vec2::ZERO;
        for pull in pulls {
            let d = pull.position - here;
            accel += d * (pull.strength / (d.length_squared() + pull.softening2));
        }
        if let Some(grid) = grid {
            let mut push = [Vec2::ZERO; 4];
            let mut checks = 0u64;
            let cells = grid.for_each_run_near(here, |_, candidates| {
                checks += candidates.len() as u64;
                // Four running sums, so the adds do not wait on each other.
                let mut quads = candidates.chunks_exact(4);
                for quad in &mut quads {
                    for (sum, there) in push.iter_mut().zip(quad) {
                        *sum += repulsion(here - *there, inv_r2);
                    }
                }
                for (sum, there) in push.iter_mut().zip(quads.remainder()) {
                    *sum += repulsion(here - *there, inv_r2);
                }
            });
            let push = (push[0] + push[1]) + (push[2] + push[3]);
            accel += push * (field.repulsion_strength * inv_r);
            // Counted per particle on purpose: this is where counter padding shows.
            counters.add(Counter::CellsVisited, u64::from(cells));
            counters.add(Counter::NeighbourChecks, checks);
        }
        *p.velocity += accel * (dt / *p.mass);
    });
}

/// The push from a neighbour at offset `d`: a polynomial in |d|², with no square root,
/// division or branch; zero at contact (the particle itself, `d = 0`) and beyond the radius.
#[inline]
fn repulsion(d: Vec2, inv_r2: f32) -> Vec2 {
    d * (1.0 - d.length_squared() * inv_r2).max(0.0)
}

/// Parameters of the integrate system.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Motion {
    /// Step length in seconds.
    pub dt: f32,
    /// Gravity times `dt`.
    pub gravity_dt: Vec2,
    /// Velocity factor per step from drag, `1 - drag * dt`.
    pub damping: f32,
    /// World size: walls at 0 and here.
    pub bounds: Vec2,
    /// Fraction of speed kept by a bounce.
    pub restitution: f32,
}

/// Gravity, drag, symplectic Euler and wall bounces for one chunk. Returns the bounces.
///
/// Branch-free (selects, not jumps), so the SoA instantiation vectorises.
#[inline]
pub fn integrate<'a>(rows: impl Rows<'a, Item = particle::Mut<'a>>, m: &Motion) -> u64 {
    // Copies in locals: stores through the rows' `&mut` could alias `m` as far as LLVM
    // knows, which would force a reload of every parameter on every row.
    let Motion {
        dt,
        gravity_dt,
        damping,
        bounds,
        restitution,
    } = *m;
    let mut bounces = 0u32;
    rows.for_each(|p| {
        let mut v = (*p.velocity + gravity_dt) * damping;
        let mut x = *p.position + v * dt;
        let out_x = (x.x < 0.0) | (x.x > bounds.x);
        let out_y = (x.y < 0.0) | (x.y > bounds.y);
        x = x.max(Vec2::ZERO).min(bounds);
        v.x = if out_x { -v.x * restitution } else { v.x };
        v.y = if out_y { -v.y * restitution } else { v.y };
        bounces += u32::from(out_x) + u32::from(out_y);
        *p.position = x;
        *p.velocity = v;
    });
    u64::from(bounces)
}

/// Ages one chunk; particles past their lifetime go to `deaths`. Returns the deaths.
pub fn age<'a>(
    rows: impl Rows<'a, Item = particle::Mut<'a>>,
    dt: f32,
    deaths: &EventSink<Entity>,
) -> u64 {
    let mut writer = deaths.writer();
    let mut died = 0;
    rows.for_each(|p| {
        *p.age += dt;
        if *p.age >= *p.lifetime {
            writer.push(*p.entity);
            died += 1;
        }
    });
    died
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Padding;
    use crate::entity::EntityAllocator;
    use crate::particle::Particle;
    use crate::storage::AosMut;
    use crate::sync::LockStrategy;

    fn particles(n: usize) -> Vec<Particle> {
        let mut ids = EntityAllocator::new();
        (0..n)
            .map(|i| Particle::at(ids.spawn(), Vec2::new(i as f32, 5.0), Vec2::new(1.0, 0.0)))
            .collect()
    }

    #[test]
    fn integrate_bounces_off_walls_and_keeps_particles_inside() {
        let mut ps = particles(3);
        ps[0].velocity = Vec2::new(-100.0, 0.0);
        ps[2].velocity = Vec2::new(0.0, 100.0);
        let m = Motion {
            dt: 0.1,
            gravity_dt: Vec2::ZERO,
            damping: 1.0,
            bounds: Vec2::new(10.0, 10.0),
            restitution: 0.5,
        };
        assert_eq!(integrate(AosMut(&mut ps), &m), 2);
        assert_eq!(ps[0].position, Vec2::new(0.0, 5.0));
        assert_eq!(ps[0].velocity, Vec2::new(50.0, 0.0));
        assert_eq!(ps[1].position, Vec2::new(1.1, 5.0));
        assert_eq!(ps[2].position, Vec2::new(2.0, 10.0));
        assert_eq!(ps[2].velocity, Vec2::new(0.0, -50.0));
    }

    #[test]
    fn age_reports_exactly_the_expired() {
        let mut ps = particles(4);
        ps[1].lifetime = 0.05;
        ps[3].lifetime = 0.1;
        let mut sink = EventSink::new(LockStrategy::Mutex, 1);
        assert_eq!(age(AosMut(&mut ps), 0.1, &sink), 2);
        let mut out = Vec::new();
        sink.drain_sorted(&mut out);
        assert_eq!(out, [ps[1].entity, ps[3].entity]);
    }

    #[test]
    fn repulsion_pushes_close_pairs_apart_symmetrically() {
        let mut ps = particles(2);
        ps[0].position = Vec2::new(5.0, 5.0);
        ps[1].position = Vec2::new(6.0, 5.0);
        ps.iter_mut().for_each(|p| p.velocity = Vec2::ZERO);
        let arena = crate::arena::Arena::new();
        let positions: Vec<Vec2> = ps.iter().map(|p| p.position).collect();
        let grid = Grid::build(
            &arena,
            crate::grid::GridGeometry::new(10.0, 10.0, 2.0),
            &positions,
        );
        let field = ForceField {
            repulsion_radius: 2.0,
            repulsion_strength: 10.0,
            ..ForceField::default()
        };
        let counters = Counters::new(Padding::Padded, 1);
        forces(AosMut(&mut ps), &field, Some(&grid), 1.0, &counters);
        // |d| = 1, radius 2: strength * d/r * (1 - 1/4) = 10 * 0.5 * 0.75 = 3.75.
        assert_eq!(ps[0].velocity, Vec2::new(-3.75, 0.0));
        assert_eq!(ps[1].velocity, Vec2::new(3.75, 0.0));
        assert_eq!(counters.total(Counter::NeighbourChecks), 4);
    }
}
