//! Group `arena`: 10_000 allocations of a 64-byte plain struct, then freeing them all.
//!
//! The engine's bump [`Arena`] (alloc, then an O(1) reset that keeps its chunk) beside what a
//! user would otherwise write: one `Box` per object (collected into a `Vec`, then dropped),
//! `bumpalo::Bump` (the same design: alloc, then reset) and `typed_arena::Arena` (created per
//! batch, dropped at its end). Every returned reference goes through `black_box`, so no write
//! can be elided; freeing is inside the timed routine on every side.

use criterion::{Criterion, Throughput};
use engine::arena::Arena;
use std::hint::black_box;

/// Objects allocated per iteration.
const OBJECTS: u64 = 10_000;

/// 64 bytes of plain data with its natural 8-byte alignment (no `repr(align)`).
type Object = [u64; 8];

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("arena");
    // Microsecond routines: many cheap samples make the median robust to VM jitter.
    group.sample_size(50);
    group.throughput(Throughput::Elements(OBJECTS));

    let mut arena = Arena::new();
    group.bench_function("engine", |b| {
        b.iter(|| {
            for i in 0..OBJECTS {
                black_box(arena.alloc::<Object>([i; 8]));
            }
            arena.reset();
        })
    });

    group.bench_function("box", |b| {
        b.iter(|| {
            (0..OBJECTS)
                .map(|i| Box::<Object>::new([i; 8]))
                .collect::<Vec<_>>()
        })
    });

    let mut bump = bumpalo::Bump::new();
    group.bench_function("bumpalo", |b| {
        b.iter(|| {
            for i in 0..OBJECTS {
                black_box(bump.alloc::<Object>([i; 8]));
            }
            bump.reset();
        })
    });

    group.bench_function("typed_arena", |b| {
        b.iter(|| {
            let arena = typed_arena::Arena::<Object>::new();
            for i in 0..OBJECTS {
                black_box(arena.alloc([i; 8]));
            }
        })
    });

    group.finish();
}
