//! Criterion benches: each memory or concurrency pattern of the engine beside the ecosystem
//! crate (or the naive code) a user would otherwise pick, one criterion group per pattern so
//! every ratio compares numbers taken in the same run (this VM drifts ±20% over minutes).
//!
//! | group       | engine side                         | peer                                   |
//! |-------------|-------------------------------------|----------------------------------------|
//! | `arena`     | `arena::Arena` alloc + reset        | `Box::new`, `bumpalo`, `typed-arena`   |
//! | `handles`   | `entity::EntityAllocator`           | `slotmap::SlotMap`                     |
//! | `integrate` | `Storage<Particle>` in SoA, with the bench's own step (not `systems::integrate`) | the same storage in AoS; `hecs` |
//! | `counters`  | `Counters` cache-padded             | the same counters packed; a local `u64`|
//! | `locks`     | `EventSink`, `Sharded`              | the same sink with `Mutex`, `RwLock`, `LockFree` |
//! | `user_bundle` | a bundle declared in the bench, SoA through `lanes::Pairs` | the same bundle and kernel in AoS |
//!
//! Run with `cargo bench -p benches`; the numbers of a run are summarised in
//! `benches/RESULTS.md`. Sample counts and times are kept small so the whole run fits in a
//! few minutes on 2 cores.

mod arena;
mod counters;
mod handles;
mod integrate;
mod locks;
mod user_bundle;

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

/// Few samples and short windows: enough for stable medians of millisecond-scale routines.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .without_plots()
}

/// A pool of exactly two workers, so rayon's thread indices are 0 and 1: the threaded groups
/// (`counters`, `locks`) put one worker on each core and each on its own slot.
fn two_thread_pool() -> rayon::ThreadPool {
    benches::pool(2)
}

criterion_group! {
    name = patterns;
    config = config();
    targets = arena::bench, handles::bench, integrate::bench, counters::bench, locks::bench, user_bundle::bench
}
criterion_main!(patterns);
