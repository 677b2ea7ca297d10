//! Group `handles`: generational handles, the engine's [`EntityAllocator`] beside
//! `slotmap::SlotMap<DefaultKey, ()>`, the crate a user would pick for versioned keys that
//! stop resolving once removed. Both sides do the same logical operations on 10_000 handles:
//! - `insert`: 10_000 spawns into a fresh allocator (its growth and drop included);
//! - `get`: a liveness lookup of each of 10_000 live handles, in a shuffled order computed
//!   once (the same permutation on both sides);
//! - `get_1m`: the same with 1_000_000 handles, whose slots no longer fit a core's L2 cache:
//!   there the bytes per slot a lookup reads (4 for the engine, 8 for slotmap) show;
//! - `churn`: remove every other handle of that shuffled list, then spawn as many again,
//!   which reuses the freed slots: 10_000 operations that leave the state as it was.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use engine::entity::{Entity, EntityAllocator};
use rand::seq::SliceRandom;
use slotmap::{DefaultKey, SlotMap};
use std::hint::black_box;

/// Handles per iteration (and operations per iteration in every bench of the group).
const HANDLES: usize = 10_000;

/// Handles in the `get_1m` benches.
const MANY_HANDLES: usize = 1_000_000;

/// An allocator with `n` live entities, and their handles in shuffled order.
fn live_entities(n: usize) -> (EntityAllocator, Vec<Entity>) {
    let mut entities = EntityAllocator::new();
    let mut handles: Vec<Entity> = (0..n).map(|_| entities.spawn()).collect();
    handles.shuffle(&mut benches::rng());
    (entities, handles)
}

/// A slot map with `n` live keys, and the keys in the same shuffled order.
fn live_keys(n: usize) -> (SlotMap<DefaultKey, ()>, Vec<DefaultKey>) {
    let mut keys = SlotMap::new();
    let mut handles: Vec<DefaultKey> = (0..n).map(|_| keys.insert(())).collect();
    handles.shuffle(&mut benches::rng());
    (keys, handles)
}

/// Bench `name/side`: `is_live` on every one of `handles`, counting the live ones.
fn lookups<H: Copy>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    side: &str,
    handles: &[H],
    is_live: impl Fn(H) -> bool,
) {
    group.bench_function(BenchmarkId::new(name, side), |b| {
        b.iter(|| black_box(handles).iter().filter(|&&h| is_live(h)).count())
    });
}

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("handles");
    // Microsecond routines: many cheap samples make the median robust to VM jitter.
    group.sample_size(50);
    group.throughput(Throughput::Elements(HANDLES as u64));

    group.bench_function(BenchmarkId::new("insert", "engine"), |b| {
        b.iter(|| {
            let mut entities = EntityAllocator::new();
            for _ in 0..HANDLES {
                black_box(entities.spawn());
            }
            entities
        })
    });
    group.bench_function(BenchmarkId::new("insert", "slotmap"), |b| {
        b.iter(|| {
            let mut keys = SlotMap::<DefaultKey, ()>::new();
            for _ in 0..HANDLES {
                black_box(keys.insert(()));
            }
            keys
        })
    });

    for (name, n) in [("get", HANDLES), ("get_1m", MANY_HANDLES)] {
        group.throughput(Throughput::Elements(n as u64));
        let (entities, handles) = live_entities(n);
        lookups(&mut group, name, "engine", &handles, |e| {
            entities.is_alive(e)
        });
        let (keys, handles) = live_keys(n);
        lookups(&mut group, name, "slotmap", &handles, |k| {
            keys.contains_key(k)
        });
    }
    group.throughput(Throughput::Elements(HANDLES as u64));

    let (mut entities, mut handles) = live_entities(HANDLES);
    group.bench_function(BenchmarkId::new("churn", "engine"), |b| {
        b.iter(|| {
            for &e in handles.iter().step_by(2) {
                black_box(entities.despawn(e));
            }
            for e in handles.iter_mut().step_by(2) {
                *e = black_box(entities.spawn());
            }
        })
    });
    let (mut keys, mut handles) = live_keys(HANDLES);
    group.bench_function(BenchmarkId::new("churn", "slotmap"), |b| {
        b.iter(|| {
            for &k in handles.iter().step_by(2) {
                black_box(keys.remove(k));
            }
            for k in handles.iter_mut().step_by(2) {
                *k = black_box(keys.insert(()));
            }
        })
    });

    group.finish();
}
