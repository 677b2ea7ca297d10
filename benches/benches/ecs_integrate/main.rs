//! Group `ecs_integrate`: the engine's integrate system beside the ECS crates and
//! the hand-written loops a user could pick instead, on one workload, in one process run.
//!
//! The workload is the engine's [`engine::particles::systems::integrate`]: position and velocity as glam
//! `Vec2`; `v = (v + g·dt) · damping`, `p += v·dt`, clamp into the box `[0, W] × [0, H]` and
//! reflect the velocity component of each wall hit times the restitution; count the bounces.
//! Drag is 0 (damping 1.0, passed through `black_box` so the multiply stays): without decay
//! no velocity drifts into subnormals over the millions of steps a bench runs. Every
//! contender starts from the same particles and does the same arithmetic per particle,
//! including the bounce count (summed per chunk, then one atomic add per chunk, as the
//! world's step does with its counters).
//!
//! Particle counts `N` = 10k, 100k, 1M, 4M; 1 and 2 threads. Benchmark ids are
//! `ecs_integrate/<contender>/<threads>t/<N>`; criterion reports the throughput in elements
//! (particles) per second. The contenders:
//!
//! | id | what runs |
//! |---|---|
//! | `engine_soa` | `Storage<Particle>` (`Layout::Soa`), `particles::systems::integrate(rows, .., PARALLEL_MIN_ROWS)`, on a 1- or 2-thread rayon pool (what the preset's `integrate` system does) |
//! | `engine_aos` | the same with `Layout::Aos` (the teaching contrast) |
//! | `hecs_query` | hecs 0.11 `World::query_mut::<(&mut Pos, &mut Vel)>()`; 2 threads: `into_iter_batched(PARALLEL_MIN_ROWS)` + rayon `par_bridge` |
//! | `hecs_columns` | hecs archetype columns (`Archetype::get::<&mut Pos>()` derefs to `&mut [Pos]`); 2 threads: rayon `par_chunks_mut` |
//! | `legion_query` | legion 0.4 `<(Write<Pos>, Write<Vel>)>::query()`, per entity within each chunk: `for_each_chunk_mut` (what legion's `for_each_mut` does inside); 2 threads: `par_for_each_chunk_mut` (rayon, in the current pool), so the bounce count is one atomic add per chunk. legion parallelises over chunks, and the one archetype here is one chunk, so this stays on one thread |
//! | `legion_columns` | the same query's chunks as component slices (`iter_chunks_mut` + `into_components`); 2 threads: rayon `par_chunks_mut` over those slices |
//! | `bevy_query` | bevy_ecs 0.20 `Query<(&mut Pos, &mut Vel)>` in a `Schedule`, per entity through `Mut<T>` (change detection on); 1 thread: `iter_mut`, 2 threads: `par_iter_mut` |
//! | `bevy_query_nocd` | the same through `Mut::bypass_change_detection` (no change ticks written) |
//! | `bevy_slices` | bevy_ecs 0.20 contiguous query (`contiguous_iter_mut` / `contiguous_par_iter_mut`): table column slices, change detection on (`DerefMut` of `ContiguousMut` marks the whole slice changed) |
//! | `bevy_slices_nocd` | the same through `ContiguousMut::bypass_change_detection` |
//! | `hand_soa` | two `Vec<Vec2>` and a zipped loop; 2 threads: rayon `par_chunks_mut(PARALLEL_MIN_ROWS)` |
//! | `stream` | the memory bound: the same two `Vec<Vec2>`, `p += v·k; v *= s` (read and write the same 32 bytes per particle, minimal arithmetic); 2 threads as `hand_soa` |
//!
//! Threads. Each sample's timing loop runs inside a dedicated 1- or 2-thread rayon pool
//! (`install` once per sample, as `Schedule::run(.., n)` enters its pool once for `n` steps), so
//! the rayon contenders fork and join on that pool, and the 1-thread rows run serially on its
//! worker. (Entering a pool from outside costs a worker wake-up, tens of µs here: paid per
//! step it would swamp a 10k step.) bevy's
//! `ComputeTaskPool` is global and can be set up once per process, so it is built with 2
//! threads: the 1-thread bevy rows run `iter_mut` / `contiguous_iter_mut` (no task pool
//! involved), the 2-thread rows `par_iter_mut` / `contiguous_par_iter_mut` (bevy's default
//! batching: one batch per pool thread). Both run in a `Schedule` with the single-threaded
//! executor: there is one system, so the multi-threaded executor would only add a task hop.
//! The bevy timing loop runs on the 1-thread rayon pool's worker, which is only a thread to
//! run the schedule on.
//!
//! Run with `cargo bench -p benches --bench ecs_integrate`; results in
//! `benches/ECS_INTEGRATE.md`. `ECS_INTEGRATE_PAIRED=15 cargo bench -p benches --bench
//! ecs_integrate` runs a paired pass instead (see [`paired`]): the contenders take turns in
//! short slots, and ratios are taken within each round, so the VM's drift cancels.
//!
//! The modules, each importing only from those listed before it: [`kernels`] (the workload's
//! arithmetic), [`worlds`] and [`bevy`] (each contender's world and how it steps),
//! [`contenders`] (the contenders as a type, the pools, the agreement check), [`paired`].

mod bevy;
mod contenders;
mod kernels;
mod paired;
mod worlds;

use benches::Particles;
use contenders::{Contender, Pools, SIZES};
use criterion::criterion_group;
use criterion::{BenchmarkId, Criterion, Throughput};
use kernels::{BOUNCES, BOUNDS};
use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let pools = Pools::checked();
    let mut group = c.benchmark_group("ecs_integrate");
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let particles = Particles::random(n, BOUNDS);
        for on in pools.each() {
            for contender in Contender::ALL {
                // Built one at a time, so at most one copy of the particles is alive.
                let mut c = contender.build(&particles, on, &pools);
                let id = BenchmarkId::new(format!("{}/{}t", contender.name(), on.count), n);
                group.bench_function(id, |b| b.iter_custom(|steps| c.time(steps)));
            }
        }
    }
    group.finish();
    black_box(BOUNCES.load(Relaxed));
}

/// Few samples and short windows: 96 benches in a few minutes on 2 cores.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .without_plots()
}

criterion_group! {
    name = ecs_integrate;
    config = config();
    targets = bench
}

/// With `ECS_INTEGRATE_PAIRED=<rounds>` the binary runs the paired pass instead of criterion.
fn main() {
    if let Some(rounds) = std::env::var("ECS_INTEGRATE_PAIRED")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    {
        paired::run(rounds.max(1));
        return;
    }
    ecs_integrate();
    Criterion::default().configure_from_args().final_summary();
}
