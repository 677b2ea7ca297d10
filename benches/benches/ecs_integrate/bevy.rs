//! The bevy_ecs contenders: a world of `(Pos, Vel)` entities and a schedule with one system,
//! per entity or over contiguous column slices, with or without change detection.

use crate::kernels::{BOUNCES, Pos, Vel, motion, step, step_slices};
use crate::worlds::Run;
use benches::Particles;
use bevy_ecs::prelude::{DetectChangesMut, Query, Schedule, World};
use bevy_ecs::schedule::SingleThreadedExecutor;
use bevy_tasks::{ComputeTaskPool, TaskPoolBuilder};
use glam::Vec2;
use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;

/// bevy_ecs: a world and a schedule with one system.
pub struct Bevy {
    world: World,
    schedule: Schedule,
}

impl Bevy {
    /// The particles as `(Pos, Vel)` entities, and the system for `(change detection,
    /// contiguous slices, threads)`.
    pub fn new(
        particles: &Particles,
        change_detection: bool,
        slices: bool,
        threads: usize,
    ) -> Self {
        let mut world = World::new();
        world
            .spawn_batch(particles.pairs().map(|(p, v)| (Pos(p), Vel(v))))
            .for_each(drop);
        Self {
            world,
            schedule: bevy_schedule(change_detection, slices, threads),
        }
    }
}

impl Run for Bevy {
    fn step(&mut self) {
        self.schedule.run(&mut self.world);
    }
    fn state(&mut self) -> Vec<(Vec2, Vec2)> {
        // One table, so iteration follows spawn order.
        self.world
            .query::<(&Pos, &Vel)>()
            .iter(&self.world)
            .map(|(p, v)| (p.0, v.0))
            .collect()
    }
}

/// Sums a batch's bounces and adds them to [`BOUNCES`] once, when the batch is done
/// (bevy's `for_each_init` state).
struct Tally(u64);
impl Drop for Tally {
    fn drop(&mut self) {
        BOUNCES.fetch_add(self.0, Relaxed);
    }
}

/// A schedule holding one system, run by the single-threaded executor.
fn schedule<M>(
    system: impl bevy_ecs::schedule::IntoScheduleConfigs<bevy_ecs::system::ScheduleSystem, M>,
) -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.add_systems(system);
    schedule
}

/// The bevy systems: `(change detection, contiguous slices, threads)`.
fn bevy_schedule(change_detection: bool, slices: bool, threads: usize) -> Schedule {
    let m = motion();
    match (slices, threads) {
        (false, 1) => schedule(move |mut q: Query<(&mut Pos, &mut Vel)>| {
            let m = black_box(m);
            let mut bounces = 0u64;
            for (mut p, mut v) in q.iter_mut() {
                bounces += u64::from(if change_detection {
                    step(&mut p.0, &mut v.0, m)
                } else {
                    let (p, v) = (p.bypass_change_detection(), v.bypass_change_detection());
                    step(&mut p.0, &mut v.0, m)
                });
            }
            BOUNCES.fetch_add(bounces, Relaxed);
        }),
        (false, _) => schedule(move |mut q: Query<(&mut Pos, &mut Vel)>| {
            q.par_iter_mut().for_each_init(
                || Tally(0),
                |tally, (mut p, mut v)| {
                    tally.0 += u64::from(if change_detection {
                        step(&mut p.0, &mut v.0, m)
                    } else {
                        let (p, v) = (p.bypass_change_detection(), v.bypass_change_detection());
                        step(&mut p.0, &mut v.0, m)
                    });
                },
            );
        }),
        (true, 1) => schedule(move |mut q: Query<(&mut Pos, &mut Vel)>| {
            let m = black_box(m);
            for (mut p, mut v) in q.contiguous_iter_mut().expect("a dense query") {
                let bounces = if change_detection {
                    step_slices(&mut p, &mut v, &m)
                } else {
                    step_slices(p.bypass_change_detection(), v.bypass_change_detection(), &m)
                };
                BOUNCES.fetch_add(bounces, Relaxed);
            }
        }),
        (true, _) => schedule(move |mut q: Query<(&mut Pos, &mut Vel)>| {
            q.contiguous_par_iter_mut()
                .expect("a dense query")
                .for_each(|(mut p, mut v)| {
                    let bounces = if change_detection {
                        step_slices(&mut p, &mut v, &m)
                    } else {
                        step_slices(p.bypass_change_detection(), v.bypass_change_detection(), &m)
                    };
                    BOUNCES.fetch_add(bounces, Relaxed);
                });
        }),
    }
}

/// Builds bevy's compute pool, which is global and can be set up once per process: two
/// threads (see the crate docs). Later calls keep the first pool.
pub fn init_compute_pool() {
    ComputeTaskPool::get_or_init(|| TaskPoolBuilder::new().num_threads(2).build());
}
