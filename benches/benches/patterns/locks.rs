//! Group `locks`: an `EventSink<u64>` under each `LockStrategy`. 2 threads (a 2-thread rayon
//! pool) each take one `sink.writer()` and push 100_000 events through it, the intended
//! usage; then `drain_sorted` merges and sorts them into a reused `Vec`.
//!
//! - `push_drain/<strategy>`: the whole step, pushes plus the drain and sort.
//! - `push/<strategy>`: the pushes alone (the drain runs untimed), which isolates the cost
//!   of the strategy from the sort that every strategy pays alike.
//!
//! The events are random values fixed per thread, so every strategy drains the same
//! multiset in an equally random order, and the sort costs the same whatever the strategy.

use crate::two_thread_pool;
use criterion::{BenchmarkId, Criterion, Throughput};
use engine::sync::{EventSink, LockStrategy};
use rand::Rng;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Events pushed by each thread per iteration.
const PER_THREAD: usize = 100_000;

/// Every pool thread pushes its own event list through one writer.
fn push_all(pool: &rayon::ThreadPool, sink: &EventSink<u64>, events: &[Vec<u64>]) {
    pool.broadcast(|ctx| {
        let mut writer = sink.writer();
        for &event in &events[ctx.index()] {
            writer.push(event);
        }
    });
}

pub fn bench(c: &mut Criterion) {
    let pool = two_thread_pool();
    let threads = pool.current_num_threads();
    let total = threads * PER_THREAD;
    let mut rng = benches::rng();
    let events: Vec<Vec<u64>> = (0..threads)
        .map(|_| (0..PER_THREAD).map(|_| rng.random()).collect())
        .collect();
    let mut sorted: Vec<u64> = events.concat();
    sorted.sort_unstable();
    let mut out = Vec::with_capacity(total);

    let mut group = c.benchmark_group("locks");
    group.throughput(Throughput::Elements(total as u64));
    for strategy in LockStrategy::ALL {
        let mut sink = EventSink::new(strategy, threads);
        // What the engine does between steps: size the buffers so no push reallocates.
        sink.reserve(total);
        push_all(&pool, &sink, &events);
        sink.drain_sorted(&mut out);
        assert_eq!(out, sorted, "{strategy}: every event drained, in order");
        group.bench_function(BenchmarkId::new("push_drain", strategy), |b| {
            b.iter(|| {
                push_all(&pool, &sink, &events);
                sink.drain_sorted(&mut out);
                black_box(out.last().copied())
            })
        });
        group.bench_function(BenchmarkId::new("push", strategy), |b| {
            b.iter_custom(|iters| {
                let mut pushing = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    push_all(&pool, &sink, &events);
                    pushing += start.elapsed();
                    sink.drain_sorted(&mut out);
                }
                pushing
            })
        });
    }
    group.finish();
}
