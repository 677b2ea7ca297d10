//! The set-up both bench binaries (`patterns` and `ecs_integrate`, in `benches/`) share: the
//! fixed-seed generator, the initial particles, and the rayon pools they run on. The benches
//! themselves live in `benches/`.

#![warn(missing_docs)]

use engine::particles::Particle;
use engine::storage::{Layout, Storage};
use glam::Vec2;
use rand::Rng;

/// The fixed-seed generator for inputs (shuffles, positions, events): every run benches the
/// same data.
pub fn rng() -> rand_pcg::Pcg64Mcg {
    rand::SeedableRng::seed_from_u64(0x5eed)
}

/// A rayon pool of exactly `threads` workers, so rayon's thread indices are `0..threads`.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap_or_else(|e| panic!("a {threads}-thread rayon pool: {e}"))
}

/// Particles as two columns, `positions[i]` and `velocities[i]` being particle `i`.
pub struct Particles {
    /// Positions, in world units.
    pub positions: Vec<Vec2>,
    /// Velocities, in world units per second.
    pub velocities: Vec<Vec2>,
}

impl Particles {
    /// `n` particles drawn from [`rng`]: inside the box `[0, W] × [0, H]` given by `walls`,
    /// moving up to 50 units/s each way. The same `n` and `walls` give the same particles.
    pub fn random(n: usize, walls: Vec2) -> Self {
        let mut rng = rng();
        let (positions, velocities) = (0..n)
            .map(|_| {
                let position = Vec2::new(rng.random::<f32>(), rng.random::<f32>()) * walls;
                let velocity =
                    Vec2::new(rng.random_range(-50.0..50.0), rng.random_range(-50.0..50.0));
                (position, velocity)
            })
            .unzip();
        Self {
            positions,
            velocities,
        }
    }

    /// Each particle's `(position, velocity)`, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (Vec2, Vec2)> + '_ {
        self.positions
            .iter()
            .copied()
            .zip(self.velocities.iter().copied())
    }

    /// A storage in `layout` holding the particles, in order, each with a fresh entity.
    pub fn storage(&self, layout: Layout) -> Storage<Particle> {
        let mut storage = Storage::new(layout);
        storage.reserve(self.positions.len());
        for (position, velocity) in self.pairs() {
            storage.spawn(Particle::at(position, velocity));
        }
        storage
    }
}
