//! Zero heap allocations per step in steady state: frame arenas and reused buffers do the
//! work. In heap mode the same steps do allocate, exactly as often as the world reports.
//! A counting global allocator watches every thread of the test process.

mod common;
use common::scene;
use engine::arena::AllocMode;
use engine::counters::Padding;
use engine::particles::ParticleSim;
use engine::storage::Layout;
use engine::sync::LockStrategy;
use engine::world::Strategy;
use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made in rounds of 10 steps after `warmup` steps.
///
/// Each round is one `run` call, i.e. one entry into the thread pool: entering a rayon pool
/// from outside pushes onto crossbeam's injector queue, which allocates a block every 63
/// entries. That is a cost per frame (the window enters once per frame), not per step, so
/// rounds are kept few enough per world that it never lands in the count.
fn allocations_per_round(world: &mut ParticleSim, warmup: u64, rounds: u64) -> Vec<u64> {
    world.run(warmup);
    (0..rounds)
        .map(|_| {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            world.run(10);
            ALLOCATIONS.load(Ordering::Relaxed) - before
        })
        .collect()
}

/// One test for all scenes, so no other test's threads allocate during a measurement; and
/// every world is kept alive to the end, because a dropped thread pool's workers release
/// their thread-local state (and crossbeam-epoch allocates) while they shut down.
#[test]
fn steady_state_steps_allocate_nothing() {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let v = std::hint::black_box(vec![1u8; 100]);
    assert!(
        ALLOCATIONS.load(Ordering::Relaxed) > before,
        "the counter sees allocations"
    );
    drop(v);

    let mut keep_alive = Vec::new();
    let mut failures = Vec::new();
    for (name, particles, warmup) in [
        ("default", 20_000, 200),
        ("swarm", 10_000, 60),
        ("churn", 10_000, 300),
    ] {
        let scene = scene(name, particles);
        for layout in Layout::ALL {
            for lock in LockStrategy::ALL {
                let strategy = Strategy {
                    layout,
                    lock,
                    padding: Padding::Padded,
                    threads: 2,
                    alloc: AllocMode::Arena,
                };
                let mut world = ParticleSim::new(scene.clone(), strategy)
                    .unwrap()
                    .with_chunk_rows(1024)
                    .unwrap();
                // The render stash is per-step scratch too.
                world.keep_previous_positions(true);
                let counts = allocations_per_round(&mut world, warmup, 10);
                if counts.iter().any(|c| *c != 0) {
                    failures.push(format!("{name} {layout}/{lock}: {counts:?}"));
                }
                keep_alive.push(world);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "allocations per 10 steps after warm-up:\n{}",
        failures.join("\n")
    );

    // Heap mode: the same steps, each scratch buffer a fresh allocation. One step per
    // round, so each round can be checked against what the world says it allocated.
    for (name, particles, warmup) in [("default", 20_000, 200), ("churn", 10_000, 300)] {
        let scene = scene(name, particles);
        for layout in Layout::ALL {
            let strategy = Strategy {
                layout,
                threads: 2,
                alloc: AllocMode::Heap,
                ..Strategy::default()
            };
            let mut world = ParticleSim::new(scene.clone(), strategy)
                .unwrap()
                .with_chunk_rows(1024)
                .unwrap();
            world.keep_previous_positions(true);
            world.run(warmup);
            for _ in 0..10 {
                let before = ALLOCATIONS.load(Ordering::Relaxed);
                world.run(1);
                let seen = ALLOCATIONS.load(Ordering::Relaxed) - before;
                let reported = world.world().step_allocations().count;
                if reported == 0 || seen != reported {
                    failures.push(format!(
                        "heap {name} {layout}: saw {seen} allocations, the world reports {reported}"
                    ));
                }
            }
            keep_alive.push(world);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
