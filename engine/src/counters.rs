//! Per-thread tallies, one slot per worker thread, cache-padded or deliberately packed.
//!
//! Workers add to their own slot (picked by rayon's thread index); a read sums the slots.
//! With [`Padding::Padded`] each thread's slot sits on its own cache line
//! (`crossbeam_utils::CachePadded`). With [`Padding::Packed`] the same counter of every
//! thread shares one cache line, so two threads counting at once bounce that line between
//! their cores (false sharing): the results are identical, only the time differs.
//!
//! # Invariants
//! - There is one slot per worker plus one shared "outside the pool" slot; a thread whose
//!   index does not fit uses the shared slot. Adds are atomic, so no tally is ever lost,
//!   whichever slot a thread lands on.
//! - `total(c)` is the sum over slots and is exact once the writers have finished (between
//!   steps).

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering};

/// The tallies the simulation keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Particles spawned.
    Spawned,
    /// Particles that reached the end of their lifetime.
    Died,
    /// Bounces off the world's walls.
    Bounces,
    /// Grid cells visited by neighbour queries.
    CellsVisited,
    /// Particle pairs tested for repulsion.
    NeighbourChecks,
}

const COUNTERS: usize = 5;

impl Counter {
    /// Every counter, in display order.
    pub const ALL: [Counter; COUNTERS] = [
        Counter::Spawned,
        Counter::Died,
        Counter::Bounces,
        Counter::CellsVisited,
        Counter::NeighbourChecks,
    ];

    /// A short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Counter::Spawned => "spawned",
            Counter::Died => "died",
            Counter::Bounces => "bounces",
            Counter::CellsVisited => "cells_visited",
            Counter::NeighbourChecks => "neighbour_checks",
        }
    }
}

/// Whether each thread's counters get their own cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Padding {
    /// One cache line (or two, on x86-64 prefetch pairs) per thread: no false sharing.
    #[default]
    Padded,
    /// Threads' counters interleaved in shared cache lines: false sharing on purpose.
    Packed,
}

impl Padding {
    /// Both choices, in a fixed order.
    pub const ALL: [Padding; 2] = [Padding::Padded, Padding::Packed];

    /// The other choice.
    pub fn toggled(self) -> Padding {
        match self {
            Padding::Padded => Padding::Packed,
            Padding::Packed => Padding::Padded,
        }
    }

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Padded => "padded",
            Padding::Packed => "packed",
        }
    }
}

crate::named_choice!(Padding, "counter padding", "padded or packed");

enum Slots {
    /// `padded[thread][counter]`: each thread's counters on their own line(s).
    Padded(Box<[CachePadded<[AtomicU64; COUNTERS]>]>),
    /// `packed[counter * slots + thread]`: all threads' copies of a counter side by side.
    Packed(Box<[AtomicU64]>),
}

/// A fixed set of per-thread tallies.
///
/// ```
/// use engine::counters::{Counter, Counters, Padding};
/// use rayon::prelude::*;
/// let counters = Counters::new(Padding::Packed, rayon::current_num_threads());
/// (0..1000).into_par_iter().for_each(|_| counters.add(Counter::Bounces, 1));
/// assert_eq!(counters.total(Counter::Bounces), 1000);
/// ```
pub struct Counters {
    slots: Slots,
    /// Worker slots plus the shared one.
    len: usize,
}

impl Counters {
    /// Counters for a pool of `threads` workers.
    pub fn new(padding: Padding, threads: usize) -> Counters {
        let len = threads.max(1) + 1;
        let slots = match padding {
            Padding::Padded => Slots::Padded((0..len).map(|_| CachePadded::default()).collect()),
            Padding::Packed => {
                Slots::Packed((0..len * COUNTERS).map(|_| AtomicU64::new(0)).collect())
            }
        };
        Counters { slots, len }
    }

    /// The active padding.
    pub fn padding(&self) -> Padding {
        match self.slots {
            Slots::Padded(_) => Padding::Padded,
            Slots::Packed(_) => Padding::Packed,
        }
    }

    /// The number of worker slots (excluding the shared one).
    pub fn threads(&self) -> usize {
        self.len - 1
    }

    /// Adds `n` to `counter` in the calling thread's slot.
    #[inline]
    pub fn add(&self, counter: Counter, n: u64) {
        let shared = self.len - 1;
        let slot = rayon::current_thread_index().map_or(shared, |i| i.min(shared));
        self.cell(slot, counter).fetch_add(n, Ordering::Relaxed);
    }

    #[inline]
    fn cell(&self, slot: usize, counter: Counter) -> &AtomicU64 {
        match &self.slots {
            Slots::Padded(s) => &s[slot][counter as usize],
            Slots::Packed(s) => &s[counter as usize * self.len + slot],
        }
    }

    /// One slot's value of `counter`; slot `threads()` is the shared one.
    pub fn slot_value(&self, slot: usize, counter: Counter) -> u64 {
        self.cell(slot, counter).load(Ordering::Relaxed)
    }

    /// The sum of `counter` over all slots.
    pub fn total(&self, counter: Counter) -> u64 {
        (0..self.len).map(|s| self.slot_value(s, counter)).sum()
    }

    /// Every counter's total, in [`Counter::ALL`] order.
    pub fn totals(&self) -> [u64; COUNTERS] {
        Counter::ALL.map(|c| self.total(c))
    }

    /// The same counters with another padding or thread count, totals carried over.
    pub fn rebuilt(&self, padding: Padding, threads: usize) -> Counters {
        let new = Counters::new(padding, threads);
        for c in Counter::ALL {
            new.cell(new.len - 1, c)
                .store(self.total(c), Ordering::Relaxed);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn both_paddings_count_exactly_from_many_threads() {
        let n = if cfg!(miri) { 200 } else { 100_000 };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for padding in Padding::ALL {
            let counters = Counters::new(padding, 2);
            pool.install(|| {
                (0..n).into_par_iter().for_each(|i| {
                    counters.add(Counter::NeighbourChecks, 1);
                    counters.add(Counter::Died, i % 2);
                })
            });
            counters.add(Counter::Spawned, 5); // from outside the pool: the shared slot
            assert_eq!(counters.total(Counter::NeighbourChecks), n);
            assert_eq!(counters.total(Counter::Died), n / 2);
            assert_eq!(counters.slot_value(2, Counter::Spawned), 5);
            assert_eq!(counters.padding(), padding);
        }
    }

    #[test]
    fn a_bigger_pool_than_slots_still_counts_everything() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let counters = Counters::new(Padding::Packed, 1);
        pool.install(|| {
            (0..1000)
                .into_par_iter()
                .for_each(|_| counters.add(Counter::Bounces, 1))
        });
        assert_eq!(counters.total(Counter::Bounces), 1000);
    }

    #[test]
    fn rebuilding_keeps_totals() {
        let counters = Counters::new(Padding::Padded, 2);
        counters.add(Counter::Bounces, 3);
        let packed = counters.rebuilt(Padding::Packed, 4);
        assert_eq!(packed.totals(), counters.totals());
        assert_eq!(packed.threads(), 4);
    }

    #[test]
    fn padded_slots_do_not_share_cache_lines() {
        let counters = Counters::new(Padding::Padded, 2);
        let a = counters.cell(0, Counter::Spawned) as *const _ as usize;
        let b = counters.cell(1, Counter::Spawned) as *const _ as usize;
        assert!(b - a >= 64);
        let packed = Counters::new(Padding::Packed, 2);
        let a = packed.cell(0, Counter::Spawned) as *const _ as usize;
        let b = packed.cell(1, Counter::Spawned) as *const _ as usize;
        assert_eq!(b - a, 8);
    }
}
