//! Row origins: for each row, the row it held at a chosen moment, followed through every
//! move the storage makes since (swap-removes, spawns, permutations).
//!
//! A system that keeps a copy of a field (last step's positions, say) in row order can read
//! that copy for the *current* rows through the origins, whatever moved in between. See
//! [`Storage::mark_origins`](super::Storage::mark_origins).

/// The origin of a row spawned since the mark: it has no earlier row.
pub const NEW_ROW: u32 = u32::MAX;

/// `rows[i]` is the row that row `i` held at the mark, or [`NEW_ROW`].
#[derive(Debug, Default)]
pub(super) struct Origins {
    rows: Vec<u32>,
    /// Scratch for permutations, kept so following one allocates nothing.
    spare: Vec<u32>,
}

impl Origins {
    /// Every one of `len` rows is its own origin.
    pub(super) fn mark(&mut self, len: usize) {
        use rayon::prelude::*;
        self.rows.clear();
        if len <= crate::parallel::PARALLEL_MIN_ROWS {
            self.rows.extend(0..len as u32);
        } else {
            // Written by the current pool's workers: at a million rows, 4 MB.
            self.rows.par_extend((0..len as u32).into_par_iter());
        }
    }

    pub(super) fn as_slice(&self) -> &[u32] {
        &self.rows
    }

    /// A row was spawned at the end.
    pub(super) fn push(&mut self) {
        self.rows.push(NEW_ROW);
    }

    /// Row `row` now holds a row spawned since the mark.
    pub(super) fn renew(&mut self, row: usize) {
        self.rows[row] = NEW_ROW;
    }

    /// Every written row now holds a row spawned since the mark.
    pub(super) fn renew_rows<B>(&mut self, writes: &[super::RowWrite<B>]) {
        super::write_column(&mut self.rows, writes, |_| NEW_ROW);
    }

    /// Row `row` was swap-removed: the last row moved into its place.
    pub(super) fn swap_remove(&mut self, row: usize) {
        self.rows.swap_remove(row);
    }

    /// Row `k` became the old row `order[k]` (a checked permutation).
    pub(super) fn permute(&mut self, order: &[u32]) {
        self.spare.clear();
        self.spare
            .extend(order.iter().map(|&i| self.rows[i as usize]));
        std::mem::swap(&mut self.rows, &mut self.spare);
    }

    pub(super) fn reserve(&mut self, additional: usize) {
        self.rows.reserve(additional);
    }

    pub(super) fn heap_bytes(&self) -> usize {
        (self.rows.capacity() + self.spare.capacity()) * size_of::<u32>()
    }
}
