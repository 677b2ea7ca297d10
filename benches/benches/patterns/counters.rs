//! Group `counters`: 2 threads (a 2-thread rayon pool, so each lands on its own slot) each
//! add 1 to the same tally 1_000_000 times through `Counters::add`, with the threads' slots
//! cache-padded (`Padding::Padded`) or packed side by side in one cache line
//! (`Padding::Packed`: false sharing on purpose). `local` is the floor the padded counters
//! aim at: each thread counts in a plain local `u64` and calls `Counters::add` once.
//!
//! The atomic adds need no `black_box`: each is an observable side effect, and a `black_box`
//! store per add would make every locked add wait for the store buffer to drain. The local
//! count needs one, or its loop would fold into a single addition.

use crate::two_thread_pool;
use criterion::{Criterion, Throughput};
use engine::counters::{Counters, Padding};
use std::hint::black_box;

/// Increments per thread per iteration.
const INCREMENTS: u64 = 1_000_000;

pub fn bench(c: &mut Criterion) {
    let pool = two_thread_pool();
    let threads = pool.current_num_threads();
    let mut group = c.benchmark_group("counters");
    group.throughput(Throughput::Elements(threads as u64 * INCREMENTS));

    for padding in Padding::ALL {
        let mut counters = Counters::new(padding, threads);
        let bounces = counters.register("bounces");
        let count = || {
            pool.broadcast(|_| {
                for _ in 0..INCREMENTS {
                    counters.add(bounces, 1);
                }
            })
        };
        count();
        assert_eq!(
            counters.total(bounces),
            threads as u64 * INCREMENTS,
            "{padding}: no increment lost"
        );
        group.bench_function(padding.name(), |b| b.iter(count));
    }

    let mut counters = Counters::new(Padding::Padded, threads);
    let bounces = counters.register("bounces");
    group.bench_function("local", |b| {
        b.iter(|| {
            pool.broadcast(|_| {
                let mut local = 0u64;
                for _ in 0..INCREMENTS {
                    local += black_box(1);
                }
                counters.add(bounces, local);
            })
        })
    });

    group.finish();
}
