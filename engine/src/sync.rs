//! Lock strategies for data that parallel systems share, behind one interface.
//!
//! - [`EventSink`]: many workers push events; after the system they are drained, merged and
//!   sorted. The world's command buffer ([`crate::world::Commands`]) is two of them: queued
//!   despawns and queued spawns.
//! - [`SharedParams`]: parameters that workers only read while the main thread writes them
//!   between parallel phases. The particle preset keeps its force field (attractors, the
//!   mouse, repulsion) in one and writes it once per step, before its forces system reads it.
//!
//! The four [`LockStrategy`] variants differ only in cost: `Mutex` and `RwLock` take one
//! global lock per push; `LockFree` pushes into a crossbeam `ArrayQueue`; `Sharded` gives
//! each worker its own cache-padded buffer, locked once per chunk (uncontended) and merged at
//! the end of the step.
//!
//! What sharing costs is counted as it happens, per thread in the engine's own
//! [`Counters`] (padded or packed like the world's): locks taken, locks found held (the
//! writer waited), atomic pushes, spills to the overflow buffer and buffers merged at the
//! drain. See [`EventSink::contention`]; the world sums its two sinks per step.
//!
//! # Invariants
//! - No event is lost: a full lock-free queue or a busy shard spills into an overflow buffer.
//! - [`EventSink::drain_sorted`] returns the same sorted events whatever the strategy, the
//!   thread count or the interleaving.
//! - Buffers keep their capacity between steps: in steady state nothing is allocated.

use crate::counters::{CounterId, Counters, Padding};
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use crossbeam_utils::atomic::AtomicCell;
use rayon::slice::ParallelSliceMut;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockWriteGuard, TryLockError};

/// How workers share an [`EventSink`] or [`SharedParams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum LockStrategy {
    /// One `std::sync::Mutex` around the shared data.
    Mutex,
    /// One `std::sync::RwLock`: readers share, writers exclude.
    RwLock,
    /// crossbeam's lock-free `ArrayQueue` / `AtomicCell`.
    LockFree,
    /// A cache-padded buffer per worker thread, merged after the step.
    #[default]
    Sharded,
}

impl LockStrategy {
    /// All strategies, in the order `K` cycles through them.
    pub const ALL: [LockStrategy; 4] = [
        LockStrategy::Mutex,
        LockStrategy::RwLock,
        LockStrategy::LockFree,
        LockStrategy::Sharded,
    ];

    /// The next strategy in [`LockStrategy::ALL`], wrapping around.
    pub fn next(self) -> LockStrategy {
        let i = Self::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LockStrategy::Mutex => "mutex",
            LockStrategy::RwLock => "rwlock",
            LockStrategy::LockFree => "lockfree",
            LockStrategy::Sharded => "sharded",
        }
    }

    /// What the strategy does to memory, in one sentence (for the window's help).
    pub fn teaches(self) -> &'static str {
        match self {
            LockStrategy::Mutex => {
                "mutex: every queued despawn or spawn takes one global lock, whose cache line \
                 bounces between the cores that push"
            }
            LockStrategy::RwLock => {
                "rwlock: readers may share it, but each push locks it for writing: its one \
                 cache line bounces between cores like a mutex's"
            }
            LockStrategy::LockFree => {
                "lockfree: pushes claim slots of one crossbeam queue by compare-and-swap: no \
                 lock, but the queue's tail line is still shared by every core"
            }
            LockStrategy::Sharded => {
                "sharded: each worker pushes into its own cache-padded buffer, locked once \
                 per chunk and merged after the system: no line is shared while it runs"
            }
        }
    }
}

crate::named_choice!(
    LockStrategy,
    "lock strategy",
    "mutex, rwlock, lockfree or sharded"
);

/// Below this many events a sort stays on the calling thread.
const PARALLEL_SORT_MIN: usize = 32 * 1024;

/// Locks, ignoring poisoning: the guarded data are plain buffers that a panic cannot leave
/// half-updated in a way that matters (a push either happened or not).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The worker slot of the calling thread: rayon's index, or 0 outside a pool.
fn thread_slot(slots: usize) -> usize {
    rayon::current_thread_index().unwrap_or(0) % slots
}

enum Sink<E> {
    Mutex(Mutex<Vec<E>>),
    RwLock(RwLock<Vec<E>>),
    LockFree(Box<ArrayQueue<E>>),
    Sharded(Box<[CachePadded<Mutex<Vec<E>>>]>),
}

/// Events pushed by many workers, drained in sorted order.
///
/// ```
/// use engine::sync::{EventSink, LockStrategy};
/// use rayon::prelude::*;
/// let mut out = Vec::new();
/// for strategy in LockStrategy::ALL {
///     let mut sink = EventSink::new(strategy, 2);
///     (0..100u32).into_par_iter().for_each(|i| sink.writer().push(99 - i));
///     sink.drain_sorted(&mut out);
///     assert_eq!(out, (0..100).collect::<Vec<_>>());
/// }
/// ```
pub struct EventSink<E> {
    sink: Sink<E>,
    /// Events that did not fit the queue, or whose shard was busy.
    overflow: Mutex<Vec<E>>,
    /// What sharing cost since the last [`EventSink::reset_contention`].
    tally: Counters,
    ids: ContentionIds,
}

/// What sharing an [`EventSink`] cost, summed over threads (see [`EventSink::contention`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contention {
    /// Locks taken on shared data: one per event with `Mutex` and `RwLock`, one per chunk of
    /// work with `Sharded` (each worker locks its own shard), none with `LockFree`.
    pub locks: u64,
    /// Times a writer found the lock held by another thread and waited for it.
    pub waits: u64,
    /// Compare-and-swap pushes into the lock-free queue.
    pub atomic_pushes: u64,
    /// Events sent to the mutex-guarded overflow buffer: the lock-free queue was full, or a
    /// shard was already held further up the same thread's stack.
    pub spills: u64,
    /// Buffers appended into one at the drain: one per shard with events, or one.
    pub merges: u64,
}

impl Contention {
    /// Field-by-field sum.
    pub fn plus(self, other: Contention) -> Contention {
        Contention {
            locks: self.locks + other.locks,
            waits: self.waits + other.waits,
            atomic_pushes: self.atomic_pushes + other.atomic_pushes,
            spills: self.spills + other.spills,
            merges: self.merges + other.merges,
        }
    }
}

#[derive(Clone, Copy)]
struct ContentionIds {
    locks: CounterId,
    waits: CounterId,
    atomic_pushes: CounterId,
    spills: CounterId,
    merges: CounterId,
}

fn contention_counters(padding: Padding, threads: usize) -> (Counters, ContentionIds) {
    let mut c = Counters::new(padding, threads);
    let ids = ContentionIds {
        locks: c.register("locks"),
        waits: c.register("waits"),
        atomic_pushes: c.register("atomic_pushes"),
        spills: c.register("spills"),
        merges: c.register("merges"),
    };
    (c, ids)
}

impl<E: Copy + Ord + Send + Sync> EventSink<E> {
    /// A sink for a pool of `threads` workers, counting its contention in cache-padded
    /// per-thread counters.
    pub fn new(strategy: LockStrategy, threads: usize) -> EventSink<E> {
        Self::with_padding(strategy, threads, Padding::Padded)
    }

    /// A sink whose contention counters are laid out with `padding`.
    pub fn with_padding(strategy: LockStrategy, threads: usize, padding: Padding) -> EventSink<E> {
        let (tally, ids) = contention_counters(padding, threads);
        let sink = match strategy {
            LockStrategy::Mutex => Sink::Mutex(Mutex::default()),
            LockStrategy::RwLock => Sink::RwLock(RwLock::default()),
            LockStrategy::LockFree => Sink::LockFree(Box::new(ArrayQueue::new(1024))),
            LockStrategy::Sharded => Sink::Sharded(
                (0..threads.max(1))
                    .map(|_| CachePadded::new(Mutex::default()))
                    .collect(),
            ),
        };
        EventSink {
            sink,
            overflow: Mutex::default(),
            tally,
            ids,
        }
    }

    /// What sharing cost since the sink was made or [`EventSink::reset_contention`] was
    /// last called, summed over threads.
    ///
    /// ```
    /// use engine::sync::{EventSink, LockStrategy};
    /// let mut sink = EventSink::new(LockStrategy::Mutex, 1);
    /// let mut w = sink.writer();
    /// (0..10u32).for_each(|i| w.push(i));
    /// drop(w);
    /// sink.drain_sorted(&mut Vec::new());
    /// let c = sink.contention();
    /// assert_eq!((c.locks, c.waits, c.merges), (10, 0, 1)); // one lock per event, uncontended
    /// ```
    pub fn contention(&self) -> Contention {
        let (t, ids) = (&self.tally, &self.ids);
        Contention {
            locks: t.total(ids.locks),
            waits: t.total(ids.waits),
            atomic_pushes: t.total(ids.atomic_pushes),
            spills: t.total(ids.spills),
            merges: t.total(ids.merges),
        }
    }

    /// Zeroes the contention counts (between steps).
    pub fn reset_contention(&mut self) {
        self.tally.reset();
    }

    /// The strategy in use.
    pub fn strategy(&self) -> LockStrategy {
        match self.sink {
            Sink::Mutex(_) => LockStrategy::Mutex,
            Sink::RwLock(_) => LockStrategy::RwLock,
            Sink::LockFree(_) => LockStrategy::LockFree,
            Sink::Sharded(_) => LockStrategy::Sharded,
        }
    }

    /// Prepares for up to `events` pushes in the coming step, so that no push reallocates.
    /// Call it between steps; capacities only grow, so once the largest step has been seen
    /// nothing allocates again.
    pub fn reserve(&mut self, events: usize) {
        let reserve = |v: &mut Vec<E>| v.reserve(events.saturating_sub(v.len()));
        match &mut self.sink {
            Sink::Mutex(m) => reserve(m.get_mut().unwrap_or_else(PoisonError::into_inner)),
            Sink::RwLock(r) => reserve(r.get_mut().unwrap_or_else(PoisonError::into_inner)),
            Sink::LockFree(queue) => {
                if queue.capacity() < events {
                    // Events still queued (a schedule may defer a system's commands) move
                    // to the bigger queue: none is lost.
                    let bigger = ArrayQueue::new(events.max(queue.len()).next_power_of_two());
                    while let Some(event) = queue.pop() {
                        let moved = bigger.push(event);
                        debug_assert!(moved.is_ok(), "the bigger queue holds them all");
                    }
                    **queue = bigger;
                }
            }
            // Any one worker may produce every event of the step.
            Sink::Sharded(shards) => shards.iter_mut().for_each(|s| {
                reserve(s.get_mut().unwrap_or_else(PoisonError::into_inner));
            }),
        }
    }

    /// Events queued and not yet drained.
    pub fn pending(&mut self) -> usize {
        let queued = match &mut self.sink {
            Sink::Mutex(m) => m.get_mut().unwrap_or_else(PoisonError::into_inner).len(),
            Sink::RwLock(r) => r.get_mut().unwrap_or_else(PoisonError::into_inner).len(),
            Sink::LockFree(q) => q.len(),
            Sink::Sharded(shards) => shards
                .iter_mut()
                .map(|s| s.get_mut().unwrap_or_else(PoisonError::into_inner).len())
                .sum(),
        };
        queued
            + self
                .overflow
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
    }

    /// A writer for the calling thread. Take one per chunk of work and push through it:
    /// for `Sharded` it holds the thread's own buffer for its whole life.
    pub fn writer(&self) -> SinkWriter<'_, E> {
        let target = match &self.sink {
            Sink::Sharded(shards) => match shards[thread_slot(shards.len())].try_lock() {
                Ok(guard) => {
                    self.count(self.ids.locks);
                    Target::Shard(guard)
                }
                Err(TryLockError::Poisoned(p)) => Target::Shard(p.into_inner()),
                // Held by this thread further up the stack (nested work): spill instead.
                Err(TryLockError::WouldBlock) => Target::Overflow,
            },
            _ => Target::Shared,
        };
        SinkWriter { sink: self, target }
    }

    #[inline]
    fn count(&self, id: CounterId) {
        self.tally.add(id, 1);
    }

    /// Takes `m`, counting the lock and, if another thread held it, the wait.
    #[inline]
    fn lock_counted<'a, T>(&self, m: &'a Mutex<T>) -> MutexGuard<'a, T> {
        self.count(self.ids.locks);
        match m.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.count(self.ids.waits);
                lock(m)
            }
        }
    }

    /// Write-locks `r`, counting the lock and any wait.
    #[inline]
    fn write_counted<'a, T>(&self, r: &'a RwLock<T>) -> RwLockWriteGuard<'a, T> {
        self.count(self.ids.locks);
        match r.try_write() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.count(self.ids.waits);
                r.write().unwrap_or_else(PoisonError::into_inner)
            }
        }
    }

    /// Moves every event into `out` (cleared first), sorted, and empties the sink. Buffers
    /// keep their capacity.
    pub fn drain_sorted(&mut self, out: &mut Vec<E>) {
        out.clear();
        let mut merges = 0;
        let mut merge = |from: &mut Vec<E>| {
            merges += u64::from(!from.is_empty());
            out.append(from);
        };
        match &mut self.sink {
            Sink::Mutex(m) => merge(m.get_mut().unwrap_or_else(PoisonError::into_inner)),
            Sink::RwLock(r) => merge(r.get_mut().unwrap_or_else(PoisonError::into_inner)),
            Sink::LockFree(q) => {
                merges += u64::from(!q.is_empty());
                out.extend(std::iter::from_fn(|| q.pop()));
            }
            Sink::Sharded(shards) => shards.iter_mut().for_each(|s| {
                merge(s.get_mut().unwrap_or_else(PoisonError::into_inner));
            }),
        }
        let mut merge = |from: &mut Vec<E>| {
            merges += u64::from(!from.is_empty());
            out.append(from);
        };
        merge(
            self.overflow
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        self.tally.add(self.ids.merges, merges);
        // The sort is the serial part of every strategy: spread big ones over the pool.
        if out.len() >= PARALLEL_SORT_MIN {
            out.par_sort_unstable();
        } else {
            out.sort_unstable();
        }
    }
}

impl<E> EventSink<E> {
    /// Puts `event` in the overflow buffer, counted as a spill.
    fn spill(&self, event: E) {
        self.tally.add(self.ids.spills, 1);
        lock(&self.overflow).push(event);
    }
}

enum Target<'a, E> {
    Shared,
    Shard(MutexGuard<'a, Vec<E>>),
    Overflow,
}

/// Pushes events into an [`EventSink`]; see [`EventSink::writer`].
pub struct SinkWriter<'a, E> {
    sink: &'a EventSink<E>,
    target: Target<'a, E>,
}

impl<E: Copy + Ord + Send + Sync> SinkWriter<'_, E> {
    /// Records one event.
    #[inline]
    pub fn push(&mut self, event: E) {
        let sink = self.sink;
        match (&mut self.target, &sink.sink) {
            (Target::Shard(buffer), _) => buffer.push(event),
            (Target::Overflow, _) => sink.spill(event),
            (Target::Shared, Sink::Mutex(m)) => sink.lock_counted(m).push(event),
            (Target::Shared, Sink::RwLock(r)) => sink.write_counted(r).push(event),
            (Target::Shared, Sink::LockFree(q)) => {
                sink.count(sink.ids.atomic_pushes);
                if let Err(event) = q.push(event) {
                    sink.spill(event);
                }
            }
            (Target::Shared, Sink::Sharded(_)) => unreachable!("sharded writers hold a shard"),
        }
    }
}

enum Params<T> {
    Mutex(Mutex<T>),
    RwLock(RwLock<T>),
    LockFree(AtomicCell<T>),
    Sharded(Box<[CachePadded<RwLock<T>>]>),
}

/// Read-mostly parameters shared by workers, guarded by a [`LockStrategy`].
///
/// `LockFree` uses crossbeam's `AtomicCell`: truly lock-free for values of up to 8 bytes;
/// larger values use its sequence locks, where readers never block each other.
/// `Sharded` keeps one cache-padded copy per worker: reads touch only the reader's own
/// line; a write updates every copy.
///
/// ```
/// use engine::sync::{LockStrategy, SharedParams};
/// let params = SharedParams::new(LockStrategy::Sharded, 2, [0.0f32, -9.8]);
/// params.write([0.0, -1.6]);
/// assert_eq!(params.read(), [0.0, -1.6]);
/// ```
pub struct SharedParams<T> {
    params: Params<T>,
}

impl<T: Copy + Send + Sync> SharedParams<T> {
    /// Parameters for a pool of `threads` workers, starting at `value`.
    pub fn new(strategy: LockStrategy, threads: usize, value: T) -> SharedParams<T> {
        let params = match strategy {
            LockStrategy::Mutex => Params::Mutex(Mutex::new(value)),
            LockStrategy::RwLock => Params::RwLock(RwLock::new(value)),
            LockStrategy::LockFree => Params::LockFree(AtomicCell::new(value)),
            LockStrategy::Sharded => Params::Sharded(
                (0..threads.max(1))
                    .map(|_| CachePadded::new(RwLock::new(value)))
                    .collect(),
            ),
        };
        SharedParams { params }
    }

    /// The strategy in use.
    pub fn strategy(&self) -> LockStrategy {
        match self.params {
            Params::Mutex(_) => LockStrategy::Mutex,
            Params::RwLock(_) => LockStrategy::RwLock,
            Params::LockFree(_) => LockStrategy::LockFree,
            Params::Sharded(_) => LockStrategy::Sharded,
        }
    }

    /// The current value.
    #[inline]
    pub fn read(&self) -> T {
        match &self.params {
            Params::Mutex(m) => *lock(m),
            Params::RwLock(r) => *r.read().unwrap_or_else(PoisonError::into_inner),
            Params::LockFree(c) => c.load(),
            Params::Sharded(s) => *s[thread_slot(s.len())]
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Replaces the value for every reader.
    pub fn write(&self, value: T) {
        match &self.params {
            Params::Mutex(m) => *lock(m) = value,
            Params::RwLock(r) => *r.write().unwrap_or_else(PoisonError::into_inner) = value,
            Params::LockFree(c) => c.store(value),
            Params::Sharded(s) => s.iter().for_each(|copy| {
                *copy.write().unwrap_or_else(PoisonError::into_inner) = value;
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    #[test]
    fn every_strategy_gives_the_same_sorted_events_at_any_thread_count() {
        let n: u64 = if cfg!(miri) { 64 } else { 20_000 };
        let expected: Vec<u64> = (0..n).map(|i| i * 7 % n).collect::<Vec<_>>();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        let mut out = Vec::new();
        for threads in [1, 2, 3] {
            for strategy in LockStrategy::ALL {
                let mut sink = EventSink::new(strategy, threads);
                // Small reserve on purpose: the lock-free queue must spill, not drop.
                sink.reserve(16);
                pool(threads).install(|| {
                    expected.par_chunks(5).for_each(|chunk| {
                        let mut w = sink.writer();
                        chunk.iter().for_each(|e| w.push(*e));
                    })
                });
                assert_eq!(sink.pending(), expected.len(), "{strategy}: pending");
                sink.drain_sorted(&mut out);
                assert_eq!(out, expected_sorted, "{strategy} with {threads} threads");
                sink.drain_sorted(&mut out);
                assert!(out.is_empty(), "drain empties the sink");
            }
        }
    }

    #[test]
    fn each_strategy_counts_what_sharing_cost_it() {
        let n: u64 = if cfg!(miri) { 64 } else { 20_000 };
        let chunk = if cfg!(miri) { 8 } else { 500 };
        let events: Vec<u64> = (0..n).collect();
        let mut out = Vec::new();
        for strategy in LockStrategy::ALL {
            for padding in Padding::ALL {
                let mut sink = EventSink::with_padding(strategy, 2, padding);
                pool(2).install(|| {
                    events.par_chunks(chunk).for_each(|c| {
                        let mut w = sink.writer();
                        c.iter().for_each(|e| w.push(*e));
                    })
                });
                sink.drain_sorted(&mut out);
                assert_eq!(out.len() as u64, n);
                let c = sink.contention();
                let chunks = n.div_ceil(chunk as u64);
                let what = format!("{strategy}/{padding}: {c:?}");
                match strategy {
                    LockStrategy::Mutex | LockStrategy::RwLock => {
                        assert_eq!((c.locks, c.atomic_pushes, c.spills), (n, 0, 0), "{what}");
                        assert!(c.waits <= n, "{what}");
                        assert_eq!(c.merges, 1, "{what}");
                    }
                    LockStrategy::LockFree => {
                        // The queue holds 1024 until a reserve asks for more: the rest spill.
                        assert_eq!((c.locks, c.atomic_pushes), (0, n), "{what}");
                        assert_eq!(c.spills, n.saturating_sub(1024), "{what}");
                    }
                    LockStrategy::Sharded => {
                        assert_eq!(
                            (c.locks, c.waits, c.atomic_pushes),
                            (chunks, 0, 0),
                            "{what}"
                        );
                        assert!((1..=3).contains(&c.merges), "{what}");
                    }
                }
                sink.reset_contention();
                assert_eq!(sink.contention(), Contention::default());
            }
        }
    }

    #[test]
    fn nested_writers_on_one_thread_spill_instead_of_deadlocking() {
        let mut sink = EventSink::new(LockStrategy::Sharded, 1);
        {
            let mut outer = sink.writer();
            outer.push(2u8);
            let mut inner = sink.writer();
            inner.push(1);
        }
        let mut out = Vec::new();
        sink.drain_sorted(&mut out);
        assert_eq!(out, [1, 2]);
    }

    #[test]
    fn params_read_what_was_written_from_every_thread() {
        for strategy in LockStrategy::ALL {
            let params = SharedParams::new(strategy, 2, (1.0f32, 2.0f32, 3u32));
            params.write((4.0, 5.0, 6));
            let seen: Vec<_> = pool(2).install(|| {
                (0..if cfg!(miri) { 8 } else { 1000 })
                    .into_par_iter()
                    .map(|_| params.read())
                    .collect()
            });
            assert!(seen.iter().all(|v| *v == (4.0, 5.0, 6)), "{strategy}");
        }
    }

    #[test]
    fn names_round_trip_and_cycle() {
        for s in LockStrategy::ALL {
            assert_eq!(s.name().parse::<LockStrategy>(), Ok(s));
        }
        assert_eq!(LockStrategy::Sharded.next(), LockStrategy::Mutex);
        assert!(
            "spin"
                .parse::<LockStrategy>()
                .unwrap_err()
                .contains("mutex, rwlock")
        );
    }
}
