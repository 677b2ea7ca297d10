//! The contenders other than bevy's: the engine's storage and system, hecs, legion and the
//! hand-written loops, each a world over a copy of the particles and a way to step it; and
//! [`Run`], what every contender does.

use crate::kernels::{
    BOUNCES, DT, Pos, Vel, motion, step_entities, step_slices, step_slices_par, stream,
};
use benches::Particles;
use engine::parallel::PARALLEL_MIN_ROWS;
use engine::particles::Particle;
use engine::particles::systems::integrate;
use engine::storage::{Layout, Storage};
use glam::Vec2;
use rayon::prelude::*;
use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;

/// One way of running the step over N particles.
pub trait Run {
    /// One whole step over every particle.
    fn step(&mut self);
    /// (position, velocity) of every particle in spawn order, to check that contenders agree.
    fn state(&mut self) -> Vec<(Vec2, Vec2)>;
}

/// The threads a contender steps on: how many, and the rayon pool of that many workers it
/// forks and joins on.
#[derive(Clone, Copy)]
pub struct Threads<'p> {
    /// The pool's worker count.
    pub count: usize,
    /// The pool.
    pub pool: &'p rayon::ThreadPool,
}

impl<'p> Threads<'p> {
    /// `pool`'s workers.
    pub fn of(pool: &'p rayon::ThreadPool) -> Self {
        Self {
            count: pool.current_num_threads(),
            pool,
        }
    }
}

/// The engine's storage and system, as the particle preset runs them.
pub struct Engine<'p> {
    storage: Storage<Particle>,
    pool: &'p rayon::ThreadPool,
}

impl<'p> Engine<'p> {
    /// The particles in a storage in `layout`, stepped on `pool`.
    pub fn new(particles: &Particles, layout: Layout, pool: &'p rayon::ThreadPool) -> Self {
        Self {
            storage: particles.storage(layout),
            pool,
        }
    }
}

impl Run for Engine<'_> {
    fn step(&mut self) {
        let m = black_box(motion());
        let storage = &mut self.storage;
        self.pool.install(|| {
            let bounces = integrate(storage.rows_mut(), &m, PARALLEL_MIN_ROWS);
            BOUNCES.fetch_add(bounces, Relaxed);
        })
    }
    fn state(&mut self) -> Vec<(Vec2, Vec2)> {
        (0..self.storage.len())
            .map(|i| {
                let (_, row) = self.storage.row(i).expect("i < len");
                (row.position, row.velocity)
            })
            .collect()
    }
}

/// hecs, per entity (`columns: false`) or over archetype column slices.
pub struct Hecs<'p> {
    world: hecs::World,
    columns: bool,
    on: Threads<'p>,
}

impl<'p> Hecs<'p> {
    /// The particles as `(Pos, Vel)` entities, stepped on `on`.
    pub fn new(particles: &Particles, columns: bool, on: Threads<'p>) -> Self {
        let mut world = hecs::World::new();
        world.spawn_batch(particles.pairs().map(|(p, v)| (Pos(p), Vel(v))));
        Self { world, columns, on }
    }
}

impl Run for Hecs<'_> {
    fn step(&mut self) {
        let m = black_box(motion());
        match (self.columns, self.on.count) {
            (false, 1) => {
                let bounces = step_entities(self.world.query_mut::<(&mut Pos, &mut Vel)>(), &m);
                BOUNCES.fetch_add(bounces, Relaxed);
            }
            (false, _) => {
                let world = &mut self.world;
                self.on.pool.install(|| {
                    world
                        .query_mut::<(&mut Pos, &mut Vel)>()
                        .into_iter_batched(PARALLEL_MIN_ROWS as u32)
                        .par_bridge()
                        .for_each(|batch| {
                            BOUNCES.fetch_add(step_entities(batch, &m), Relaxed);
                        })
                })
            }
            (true, threads) => {
                for archetype in self.world.archetypes() {
                    let (Some(mut p), Some(mut v)) =
                        (archetype.get::<&mut Pos>(), archetype.get::<&mut Vel>())
                    else {
                        continue;
                    };
                    let (p, v): (&mut [Pos], &mut [Vel]) = (&mut p, &mut v);
                    if threads == 1 {
                        BOUNCES.fetch_add(step_slices(p, v, &m), Relaxed);
                    } else {
                        self.on.pool.install(|| step_slices_par(p, v, &m));
                    }
                }
            }
        }
    }
    fn state(&mut self) -> Vec<(Vec2, Vec2)> {
        // One archetype, so iteration follows spawn order.
        self.world
            .query_mut::<(&Pos, &Vel)>()
            .into_iter()
            .map(|(p, v)| (p.0, v.0))
            .collect()
    }
}

/// legion, per entity (`chunks: false`) or over its chunks' component slices.
pub struct Legion<'p> {
    world: legion::World,
    query: LegionQuery,
    chunks: bool,
    on: Threads<'p>,
}

type LegionQuery = legion::query::Query<
    (legion::Write<Pos>, legion::Write<Vel>),
    <(legion::Write<Pos>, legion::Write<Vel>) as legion::query::DefaultFilter>::Filter,
>;

impl<'p> Legion<'p> {
    /// The particles as `(Pos, Vel)` entities, stepped on `on`.
    pub fn new(particles: &Particles, chunks: bool, on: Threads<'p>) -> Self {
        use legion::IntoQuery;
        let mut world = legion::World::default();
        world.extend(particles.pairs().map(|(p, v)| (Pos(p), Vel(v))));
        Self {
            world,
            query: <(legion::Write<Pos>, legion::Write<Vel>)>::query(),
            chunks,
            on,
        }
    }
}

impl Run for Legion<'_> {
    fn step(&mut self) {
        let m = black_box(motion());
        let (world, query) = (&mut self.world, &mut self.query);
        match (self.chunks, self.on.count) {
            // Chunk by chunk, as legion's own `for_each_mut` goes, so the bounce count is one
            // atomic add per chunk.
            (false, 1) => query.for_each_chunk_mut(world, |chunk| {
                BOUNCES.fetch_add(step_entities(chunk, &m), Relaxed);
            }),
            (false, _) => self.on.pool.install(|| {
                query.par_for_each_chunk_mut(world, |chunk| {
                    BOUNCES.fetch_add(step_entities(chunk, &m), Relaxed);
                })
            }),
            (true, 1) => {
                for chunk in query.iter_chunks_mut(world) {
                    let (p, v) = chunk.into_components();
                    BOUNCES.fetch_add(step_slices(p, v, &m), Relaxed);
                }
            }
            (true, _) => self.on.pool.install(|| {
                query.par_iter_chunks_mut(world).for_each(|chunk| {
                    let (p, v) = chunk.into_components();
                    step_slices_par(p, v, &m);
                })
            }),
        }
    }
    fn state(&mut self) -> Vec<(Vec2, Vec2)> {
        use legion::IntoQuery;
        // One archetype, filled in order, so iteration follows spawn order.
        <(legion::Read<Pos>, legion::Read<Vel>)>::query()
            .iter(&self.world)
            .map(|(p, v)| (p.0, v.0))
            .collect()
    }
}

/// Two plain `Vec<Vec2>`: the hand-written SoA loop (`stream: false`) or the memory bound.
pub struct Hand<'p> {
    positions: Vec<Vec2>,
    velocities: Vec<Vec2>,
    stream: bool,
    on: Threads<'p>,
}

impl<'p> Hand<'p> {
    /// A copy of the particles' columns, stepped on `on`.
    pub fn new(particles: &Particles, stream: bool, on: Threads<'p>) -> Self {
        Self {
            positions: particles.positions.clone(),
            velocities: particles.velocities.clone(),
            stream,
            on,
        }
    }
}

impl Run for Hand<'_> {
    fn step(&mut self) {
        let (p, v) = (&mut self.positions[..], &mut self.velocities[..]);
        if self.stream {
            let (k, s) = black_box((DT, 1.0));
            if self.on.count == 1 {
                stream(p, v, k, s);
            } else {
                self.on.pool.install(|| {
                    p.par_chunks_mut(PARALLEL_MIN_ROWS)
                        .zip(v.par_chunks_mut(PARALLEL_MIN_ROWS))
                        .for_each(|(p, v)| stream(p, v, k, s))
                });
            }
        } else {
            let m = black_box(motion());
            if self.on.count == 1 {
                BOUNCES.fetch_add(step_slices(p, v, &m), Relaxed);
            } else {
                self.on.pool.install(|| step_slices_par(p, v, &m));
            }
        }
    }
    fn state(&mut self) -> Vec<(Vec2, Vec2)> {
        self.positions
            .iter()
            .copied()
            .zip(self.velocities.iter().copied())
            .collect()
    }
}
