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
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter registered with [`Counters::register`]: an index, cheap to copy into workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CounterId(usize);

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

    /// What the choice does to memory, in one sentence (for the window's help).
    pub fn teaches(self) -> &'static str {
        match self {
            Padding::Padded => {
                "padded: each thread's counters fill cache-padded blocks of their own, so \
                 no two cores ever write the same cache line"
            }
            Padding::Packed => {
                "packed: threads' counters share cache lines, so every add by one core \
                 takes the line away from the others (false sharing, on purpose)"
            }
        }
    }
}

crate::named_choice!(Padding, "counter padding", "padded or packed");

/// Counters per cache-padded block (128 bytes: x86-64 prefetches lines in pairs).
const LANES: usize = 16;

/// Per-thread tallies under names given at run time.
///
/// ```
/// use engine::counters::{Counters, Padding};
/// use rayon::prelude::*;
/// let mut counters = Counters::new(Padding::Packed, rayon::current_num_threads());
/// let bounces = counters.register("bounces");
/// (0..1000).into_par_iter().for_each(|_| counters.add(bounces, 1));
/// assert_eq!(counters.total(bounces), 1000);
/// assert_eq!(counters.totals().collect::<Vec<_>>(), [("bounces", 1000)]);
/// ```
pub struct Counters {
    names: Vec<Cow<'static, str>>,
    padding: Padding,
    /// Worker slots plus the shared one.
    slots: usize,
    /// Flat cells in blocks of `LANES`, indexed by [`Counters::index`].
    cells: Box<[CachePadded<[AtomicU64; LANES]>]>,
}

impl Counters {
    /// No counters yet, for a pool of `threads` workers.
    pub fn new(padding: Padding, threads: usize) -> Counters {
        Self::with_names(padding, threads, Vec::new())
    }

    fn with_names(padding: Padding, threads: usize, names: Vec<Cow<'static, str>>) -> Counters {
        let slots = threads.max(1) + 1;
        let mut counters = Counters {
            names,
            padding,
            slots,
            cells: Box::new([]),
        };
        let cells = counters.index(slots - 1, counters.names.len().saturating_sub(1)) + 1;
        counters.cells = (0..cells.div_ceil(LANES))
            .map(|_| CachePadded::default())
            .collect();
        counters
    }

    /// The counter called `name`, added (at zero) if new. Registering is done between steps
    /// (it needs `&mut`); the id is then copied into the systems that count.
    pub fn register(&mut self, name: impl Into<Cow<'static, str>>) -> CounterId {
        let name = name.into();
        if let Some(id) = self.id(&name) {
            return id;
        }
        let mut names = self.names.clone();
        names.push(name);
        *self = self.rebuilt_with(self.padding, self.threads(), names);
        CounterId(self.names.len() - 1)
    }

    /// The counter called `name`, if registered.
    pub fn id(&self, name: &str) -> Option<CounterId> {
        self.names.iter().position(|n| n == name).map(CounterId)
    }

    /// The active padding.
    pub fn padding(&self) -> Padding {
        self.padding
    }

    /// The number of worker slots (excluding the shared one).
    pub fn threads(&self) -> usize {
        self.slots - 1
    }

    /// Adds `n` to `counter` in the calling thread's slot.
    #[inline]
    pub fn add(&self, counter: CounterId, n: u64) {
        let shared = self.slots - 1;
        let slot = rayon::current_thread_index().map_or(shared, |i| i.min(shared));
        self.cell(slot, counter.0).fetch_add(n, Ordering::Relaxed);
    }

    /// Where slot `slot`'s copy of counter `c` lives: padded, each slot owns whole blocks;
    /// packed, the slots' copies of one counter sit side by side.
    #[inline]
    fn index(&self, slot: usize, c: usize) -> usize {
        match self.padding {
            Padding::Padded => slot * self.names.len().div_ceil(LANES) * LANES + c,
            Padding::Packed => c * self.slots + slot,
        }
    }

    #[inline]
    fn cell(&self, slot: usize, c: usize) -> &AtomicU64 {
        let i = self.index(slot, c);
        &self.cells[i / LANES][i % LANES]
    }

    /// One slot's value of `counter`; slot `threads()` is the shared one.
    ///
    /// # Panics
    /// If `slot > threads()`.
    pub fn slot_value(&self, slot: usize, counter: CounterId) -> u64 {
        assert!(slot < self.slots, "slot {slot} of {}", self.slots);
        self.cell(slot, counter.0).load(Ordering::Relaxed)
    }

    /// The sum of `counter` over all slots.
    pub fn total(&self, counter: CounterId) -> u64 {
        (0..self.slots).map(|s| self.slot_value(s, counter)).sum()
    }

    /// Every counter's name and total, in registration order.
    pub fn totals(&self) -> impl Iterator<Item = (&str, u64)> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_ref(), self.total(CounterId(i))))
    }

    /// Sets every counter of every slot to zero (between steps: it needs `&mut`).
    pub fn reset(&mut self) {
        for block in self.cells.iter_mut() {
            block.iter_mut().for_each(|cell| *cell.get_mut() = 0);
        }
    }

    /// The same counters with another padding or thread count, totals carried over.
    pub fn rebuilt(&self, padding: Padding, threads: usize) -> Counters {
        self.rebuilt_with(padding, threads, self.names.clone())
    }

    fn rebuilt_with(
        &self,
        padding: Padding,
        threads: usize,
        names: Vec<Cow<'static, str>>,
    ) -> Counters {
        let new = Counters::with_names(padding, threads, names);
        for c in 0..self.names.len() {
            new.cell(new.slots - 1, c)
                .store(self.total(CounterId(c)), Ordering::Relaxed);
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
            let mut counters = Counters::new(padding, 2);
            let (checks, died, spawned) = (
                counters.register("checks"),
                counters.register("died"),
                counters.register("spawned"),
            );
            pool.install(|| {
                (0..n).into_par_iter().for_each(|i| {
                    counters.add(checks, 1);
                    counters.add(died, i % 2);
                })
            });
            counters.add(spawned, 5); // from outside the pool: the shared slot
            assert_eq!(counters.total(checks), n);
            assert_eq!(counters.total(died), n / 2);
            assert_eq!(counters.slot_value(2, spawned), 5);
            assert_eq!(counters.padding(), padding);
        }
    }

    #[test]
    fn a_bigger_pool_than_slots_still_counts_everything() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let mut counters = Counters::new(Padding::Packed, 1);
        let bounces = counters.register("bounces");
        pool.install(|| {
            (0..1000)
                .into_par_iter()
                .for_each(|_| counters.add(bounces, 1))
        });
        assert_eq!(counters.total(bounces), 1000);
    }

    #[test]
    fn registering_and_rebuilding_keep_totals_and_ids() {
        let mut counters = Counters::new(Padding::Padded, 2);
        let a = counters.register("a");
        counters.add(a, 3);
        // Enough counters to need a second block per thread.
        let ids: Vec<CounterId> = (0..20)
            .map(|i| counters.register(format!("c{i}")))
            .collect();
        assert_eq!(
            counters.register("a"),
            a,
            "registering twice gives the same id"
        );
        counters.add(ids[19], 7);
        assert_eq!((counters.total(a), counters.total(ids[19])), (3, 7));
        let packed = counters.rebuilt(Padding::Packed, 4);
        assert!(packed.totals().eq(counters.totals()));
        assert_eq!(packed.threads(), 4);
        assert_eq!(packed.id("c19"), Some(ids[19]));
    }

    #[test]
    fn padded_slots_do_not_share_cache_lines() {
        let mut counters = Counters::new(Padding::Padded, 2);
        let c = counters.register("c");
        let a = counters.cell(0, c.0) as *const _ as usize;
        let b = counters.cell(1, c.0) as *const _ as usize;
        assert!(b - a >= 128);
        let mut packed = Counters::new(Padding::Packed, 2);
        let c = packed.register("c");
        let a = packed.cell(0, c.0) as *const _ as usize;
        let b = packed.cell(1, c.0) as *const _ as usize;
        assert_eq!(b - a, 8);
    }
}
