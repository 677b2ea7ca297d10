//! A uniform spatial grid for neighbour queries, rebuilt every step in the frame arena.
//!
//! Positions are binned by a counting sort: count per cell, prefix-sum, scatter. The
//! result is four flat arrays (cell starts, sorted x and y coordinates, sorted row indices),
//! all in the frame arena, so a rebuild allocates nothing once the arena has grown to size.
//! The cell ids and the sorted arrays are written once each, into uninitialised arena
//! space (the scatter writes them in its own order); before they are read, a check that
//! every cell's write cursor reached the next cell's start, and the last start is the row
//! count, proves every slot was written.
//! Coordinates are kept as two arrays so a query can test four candidates per vector.
//!
//! # Invariants
//! - `starts` has `cells + 1` entries, non-decreasing, from 0 to `len`; the rows of cell
//!   `c` are `sorted_rows[starts[c]..starts[c + 1]]`, at the same indices of `sorted_x` and
//!   `sorted_y`.
//! - The sort is stable: within a cell, rows keep their storage order, so queries visit
//!   neighbours in an order that depends only on the data (determinism).
//! - Positions outside the world are binned into the nearest edge cell.

use crate::arena::Arena;
use crate::error::ParamError;
use crate::parallel::PARALLEL_MIN_ROWS;
use glam::Vec2;
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

/// The shape of a grid: world size and cell size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridGeometry {
    cell: f32,
    inv_cell: f32,
    cols: u32,
    rows: u32,
    /// The last column and row, as floats.
    last: Vec2,
}

impl GridGeometry {
    /// The most cells a grid may have (64 MiB of cell starts).
    pub const MAX_CELLS: usize = 16 << 20;

    /// Square cells of side `cell` covering `[0, width] x [0, height]`.
    ///
    /// # Errors
    /// If a size is not a positive finite number, or the grid would have more than
    /// [`GridGeometry::MAX_CELLS`] cells.
    pub fn new(width: f32, height: f32, cell: f32) -> Result<GridGeometry, ParamError> {
        let positive = "a positive finite number";
        for (name, v) in [("width", width), ("height", height), ("cell", cell)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(ParamError::new(name, v, positive));
            }
        }
        let (cols, rows) = (
            (width / cell).ceil().max(1.0),
            (height / cell).ceil().max(1.0),
        );
        let cells = f64::from(cols) * f64::from(rows);
        if cells > Self::MAX_CELLS as f64 {
            let smallest = (f64::from(width) * f64::from(height) / Self::MAX_CELLS as f64).sqrt();
            return Err(ParamError::new(
                "cell",
                cell,
                format!(
                    "a cell of at least {smallest:.3} for a {width}x{height} world \
                     (this one gives {cells:.0} cells, at most {} allowed)",
                    Self::MAX_CELLS
                ),
            ));
        }
        Ok(GridGeometry {
            cell,
            inv_cell: 1.0 / cell,
            cols: cols as u32,
            rows: rows as u32,
            last: Vec2::new(cols - 1.0, rows - 1.0),
        })
    }

    /// The number of cells.
    pub fn cells(&self) -> usize {
        self.cols as usize * self.rows as usize
    }

    /// The cell side.
    pub fn cell_size(&self) -> f32 {
        self.cell
    }

    /// Column and row of `p`, clamped into the grid.
    #[inline]
    fn coords(&self, p: Vec2) -> (u32, u32) {
        // Clamped as floats, so any position maps to a valid cell: a NaN fails `v > 0.0`
        // and becomes 0. Written out so the `unsafe` below does not rely on glam's
        // unspecified NaN handling in `max`.
        let clamp = |v: f32, last: f32| {
            let v = if v > 0.0 { v } else { 0.0 };
            if v < last { v } else { last }
        };
        let x = clamp(p.x * self.inv_cell, self.last.x);
        let y = clamp(p.y * self.inv_cell, self.last.y);
        // Unlike a saturating `as`, an unchecked truncation lets the loop over positions
        // vectorise (to `i32`, the conversion x86-64 has for vectors; the value is not
        // negative).
        // SAFETY: `x` and `y` are in `[0, last]`, neither NaN nor infinite (`clamp` above),
        // and `last` is at most `MAX_CELLS` (2^24), so both truncate to values an `i32` holds.
        let (x, y) = unsafe { (x.to_int_unchecked::<i32>(), y.to_int_unchecked::<i32>()) };
        (x as u32, y as u32)
    }

    #[inline]
    fn cell_of(&self, p: Vec2) -> u32 {
        let (x, y) = self.coords(p);
        y * self.cols + x
    }
}

/// Positions binned by cell; borrows its arrays from a frame arena.
pub struct Grid<'a> {
    geometry: GridGeometry,
    starts: &'a [u32],
    sorted_x: &'a [f32],
    sorted_y: &'a [f32],
    sorted_rows: &'a mut [u32],
    /// The inverse of `sorted_rows`: the sorted slot of each row (atomic so the parts of
    /// a parallel build can each write their rows' slots; every one is written once).
    slots: &'a [AtomicU32],
}

impl<'a> Grid<'a> {
    /// Bins `positions` (row `i` at `positions[i]`) with scratch from `arena`.
    ///
    /// ```
    /// use engine::{arena::Arena, grid::{Grid, GridGeometry}};
    /// use glam::Vec2;
    /// let arena = Arena::new();
    /// let pts = [Vec2::new(1.0, 1.0), Vec2::new(9.0, 9.0), Vec2::new(1.5, 1.2)];
    /// let grid = Grid::build(&arena, GridGeometry::new(10.0, 10.0, 2.0).unwrap(), &pts);
    /// let mut near = Vec::new();
    /// grid.for_each_near(Vec2::new(1.0, 1.0), |row, _| near.push(row));
    /// assert_eq!(near, [0, 2]);
    /// ```
    ///
    /// # Panics
    /// If there are more than `u32::MAX` positions (rows are indexed by `u32`).
    pub fn build(arena: &'a Arena, geometry: GridGeometry, positions: &[Vec2]) -> Grid<'a> {
        Grid::build_in_parts(arena, geometry, positions, PARALLEL_MIN_ROWS)
    }

    /// [`Grid::build`], split across the current rayon pool's workers when there are more
    /// than `min_rows` positions (the world passes its chunk size, so tests can make small
    /// worlds take the parallel path). The result does not depend on the split.
    ///
    /// # Panics
    /// If there are more than `u32::MAX` positions (rows are indexed by `u32`).
    pub fn build_in_parts(
        arena: &'a Arena,
        geometry: GridGeometry,
        positions: &[Vec2],
        min_rows: usize,
    ) -> Grid<'a> {
        let n = positions.len();
        // The counts, cursors and row indices are `u32`: past this they would wrap.
        assert!(
            u32::try_from(n).is_ok(),
            "a grid of {n} positions: at most u32::MAX fit"
        );
        let min_rows = min_rows.max(1);
        let cells = geometry.cells();
        // Big grids are built by the workers of the current rayon pool, each owning a range
        // of cells: every worker reads all ids but writes only its cells' counts and slots,
        // so the writes are disjoint slices and the result is the same as one worker's.
        let parts = if n > min_rows {
            rayon::current_num_threads().clamp(1, MAX_PARTS)
        } else {
            1
        };
        // The big arrays are written once each, straight into uninitialised arena space:
        // filling them first was a pass over 16 bytes a row, 0.6 ms a step for the 500k
        // swarm.
        let cell_ids = arena.alloc_uninit_slice::<u32>(n);
        let cell_of = |(ids, ps): (&mut [MaybeUninit<u32>], &[Vec2])| {
            for (id, p) in ids.iter_mut().zip(ps) {
                id.write(geometry.cell_of(*p));
            }
        };
        if parts > 1 {
            let chunks = cell_ids.par_chunks_mut(min_rows);
            chunks.zip(positions.par_chunks(min_rows)).for_each(cell_of);
        } else {
            cell_of((&mut *cell_ids, positions));
        }
        // SAFETY: the chunks of `cell_ids` (or all of it) were zipped with equally long
        // chunks of `positions`, which has `n` entries, so every id was written.
        let cell_ids = unsafe { cell_ids.assume_init_ref() };
        // Part k owns cells `bounds[k]..bounds[k + 1]`. The storage is kept in cell order, so
        // cutting at the ids of evenly spaced rows gives parts about equal writes (every part
        // still reads all ids: the reads grow with the parts, hence the cap).
        let bounds = arena.alloc_slice_fill_with(parts + 1, |k| match k {
            0 => 0,
            k if k == parts => cells as u32,
            k => cell_ids[n * k / parts],
        });
        for k in 1..=parts {
            bounds[k] = bounds[k].max(bounds[k - 1]);
        }
        let bounds = &*bounds;

        let starts = arena.alloc_slice_fill_with(cells + 1, |_| 0u32);
        join_parts(
            (0, &mut starts[1..]),
            0..parts,
            &|(first, counts): (u32, &mut [u32]), k| {
                let (a, b) = counts.split_at_mut((bounds[k] - first) as usize);
                ((first, a), (bounds[k], b))
            },
            &|(first, counts)| {
                for &c in cell_ids {
                    if let Some(count) = counts.get_mut(c.wrapping_sub(first) as usize) {
                        *count += 1;
                    }
                }
            },
        );
        for c in 0..cells {
            starts[c + 1] += starts[c];
        }
        let starts = &*starts;

        let sorted_x = arena.alloc_uninit_slice::<f32>(n);
        let sorted_y = arena.alloc_uninit_slice::<f32>(n);
        let sorted_rows = arena.alloc_uninit_slice::<u32>(n);
        let slots = &*arena.alloc_slice_fill_with(n, |_| AtomicU32::new(0));
        // Per-cell write cursors: the next slot of each cell.
        let cursors = arena.alloc_slice_copy(&starts[..cells]);
        let whole = Part {
            first_cell: 0,
            cursors: &mut *cursors,
            first_slot: 0,
            x: &mut *sorted_x,
            y: &mut *sorted_y,
            rows: &mut *sorted_rows,
        };
        join_parts(
            whole,
            0..parts,
            &|part: Part, k| part.split(bounds[k], starts[bounds[k] as usize]),
            &|part| part.scatter(cell_ids, positions, slots),
        );
        // Cell `c`'s slots are `starts[c]..starts[c + 1]`: ranges that tile `0..n` when the
        // last start is `n`. The scatter wrote each from `starts[c]` on, one slot per row
        // binned there. So if every cursor stopped at the next cell's start, and the last
        // start is `n`, every slot was written.
        let every_cell_filled = cursors.iter().zip(&starts[1..]).all(|(c, end)| c == end);
        assert!(
            starts[cells] as usize == n && every_cell_filled,
            "grid scatter left a slot unwritten"
        );
        // SAFETY: checked just above: every one of the `n` slots was written.
        let (sorted_x, sorted_y, sorted_rows) = unsafe {
            (
                sorted_x.assume_init_ref(),
                sorted_y.assume_init_ref(),
                sorted_rows.assume_init_mut(),
            )
        };
        Grid {
            geometry,
            starts,
            sorted_x,
            sorted_y,
            sorted_rows,
            slots,
        }
    }

    /// Every row, in cell order: reordering storage by this puts neighbours side by side.
    pub fn cell_order(&self) -> &[u32] {
        self.sorted_rows
    }

    /// Tells the grid its rows were permuted into [`Grid::cell_order`]: row `k` of the
    /// storage is now the `k`th binned row.
    pub fn rows_now_in_cell_order(&mut self) {
        let identity = |(k, (row, slot)): (usize, (&mut u32, &AtomicU32))| {
            *row = k as u32;
            slot.store(k as u32, Ordering::Relaxed);
        };
        let pairs = self.sorted_rows.iter_mut().zip(self.slots);
        if pairs.len() <= PARALLEL_MIN_ROWS {
            pairs.enumerate().for_each(identity);
        } else {
            // 8 bytes a row: 0.4 ms for the 500k swarm on one worker.
            let pairs = self.sorted_rows.par_iter_mut().zip(self.slots);
            pairs
                .enumerate()
                .with_min_len(PARALLEL_MIN_ROWS)
                .for_each(identity);
        }
    }

    /// Where row `row` sits in [`Grid::cell_order`] (the inverse of it).
    ///
    /// # Panics
    /// If `row` is not a binned row.
    #[inline]
    pub fn slot_of(&self, row: usize) -> usize {
        self.slots[row].load(Ordering::Relaxed) as usize
    }

    /// The binned positions in cell order, as x and y coordinates: slot `k` is row
    /// `cell_order()[k]`.
    pub fn sorted_positions(&self) -> (&[f32], &[f32]) {
        (self.sorted_x, self.sorted_y)
    }

    /// The slots (indices into [`Grid::cell_order`]) of the cell `p` falls in: every
    /// position binned there, whose [`Grid::runs_near`] are the same as `p`'s.
    #[inline]
    pub fn slots_in_cell_of(&self, p: Vec2) -> Range<usize> {
        let c = self.geometry.cell_of(p) as usize;
        self.starts[c] as usize..self.starts[c + 1] as usize
    }

    /// The geometry it was built with.
    pub fn geometry(&self) -> GridGeometry {
        self.geometry
    }

    /// Calls `f(row, position)` for every binned row in the 3x3 cells around `p`: a superset
    /// of the rows within one cell size of `p`. `row` is the index into the positions the
    /// grid was built from: with [`Storage::slice_of`](crate::storage::Storage::slice_of),
    /// the row's dense position in the storage (chunk `first` + offset in a chunk). Returns the number of cells visited.
    #[inline]
    pub fn for_each_near(&self, p: Vec2, mut f: impl FnMut(u32, Vec2)) -> u32 {
        self.for_each_run_near(p, |rows, xs, ys| {
            for ((row, x), y) in rows.iter().zip(xs).zip(ys) {
                f(*row, Vec2::new(*x, *y));
            }
        })
    }

    /// Like [`Grid::for_each_near`], but hands over each run of candidates that sit side by
    /// side in memory (the cells of one grid row) as three slices of equal length: rows, x
    /// and y coordinates. Lets a caller test candidates several at a time.
    #[inline]
    pub fn for_each_run_near(&self, p: Vec2, mut f: impl FnMut(&[u32], &[f32], &[f32])) -> u32 {
        let runs = self.runs_near(p);
        let cells = runs.cells();
        for run in runs {
            f(run.rows, run.xs, run.ys);
        }
        cells
    }

    /// The runs of [`Grid::for_each_run_near`] as an iterator: no closure, so a caller
    /// compiled for a wider instruction set inlines the whole query into its own code.
    ///
    /// ```
    /// use engine::{arena::Arena, grid::{Grid, GridGeometry}};
    /// use glam::Vec2;
    /// let arena = Arena::new();
    /// let pts = [Vec2::new(1.0, 1.0), Vec2::new(9.0, 9.0), Vec2::new(3.5, 1.2)];
    /// let grid = Grid::build(&arena, GridGeometry::new(10.0, 10.0, 2.0).unwrap(), &pts);
    /// let runs = grid.runs_near(Vec2::new(1.0, 1.0));
    /// assert_eq!(runs.cells(), 4, "a corner cell has three neighbours");
    /// let near: Vec<u32> = runs.flat_map(|run| run.rows.iter().copied()).collect();
    /// assert_eq!(near, [0, 2]);
    /// ```
    #[inline]
    pub fn runs_near(&self, p: Vec2) -> RunsNear<'_> {
        let g = &self.geometry;
        let (cx, cy) = g.coords(p);
        let (x0, x1) = (cx.saturating_sub(1), (cx + 1).min(g.cols - 1));
        let (y0, y1) = (cy.saturating_sub(1), (cy + 1).min(g.rows - 1));
        RunsNear {
            starts: self.starts,
            rows: self.sorted_rows,
            xs: self.sorted_x,
            ys: self.sorted_y,
            cols: g.cols,
            x0,
            x1,
            y: y0,
            y1,
            cells: (x1 - x0 + 1) * (y1 - y0 + 1),
        }
    }
}

/// Candidates that sit side by side in a grid's sorted arrays: the rows, x and y
/// coordinates of consecutive cells of one grid row (slices of one length).
#[derive(Clone, Copy, Debug)]
pub struct Run<'g> {
    /// The slot of its first candidate: `xs` is `sorted_positions().0[first..][..xs.len()]`.
    pub first: usize,
    /// Row indices, as [`Grid::for_each_near`] passes them.
    pub rows: &'g [u32],
    /// x coordinates.
    pub xs: &'g [f32],
    /// y coordinates.
    pub ys: &'g [f32],
}

/// The runs of the 3x3 cells around a point, one per grid row ([`Grid::runs_near`]).
#[derive(Clone, Debug)]
pub struct RunsNear<'g> {
    starts: &'g [u32],
    rows: &'g [u32],
    xs: &'g [f32],
    ys: &'g [f32],
    cols: u32,
    x0: u32,
    x1: u32,
    /// The next grid row; past `y1` when done.
    y: u32,
    y1: u32,
    cells: u32,
}

impl RunsNear<'_> {
    /// The number of cells the runs cover.
    pub fn cells(&self) -> u32 {
        self.cells
    }
}

impl<'g> Iterator for RunsNear<'g> {
    type Item = Run<'g>;

    #[inline]
    fn next(&mut self) -> Option<Run<'g>> {
        if self.y > self.y1 {
            return None;
        }
        // Cells of one grid row are contiguous in the sorted arrays.
        let first = (self.y * self.cols + self.x0) as usize;
        let last = (self.y * self.cols + self.x1) as usize;
        self.y += 1;
        let (start, end) = (self.starts[first] as usize, self.starts[last + 1] as usize);
        Some(Run {
            first: start,
            rows: &self.rows[start..end],
            xs: &self.xs[start..end],
            ys: &self.ys[start..end],
        })
    }
}

/// The most parts a grid build is split into: each part reads every cell id, so past a
/// few parts the extra reads eat the gain.
const MAX_PARTS: usize = 8;

/// One worker's share of the scatter: the cells `first_cell..first_cell + cursors.len()`
/// and the sorted slots they fill, which start at `first_slot`.
struct Part<'s> {
    first_cell: u32,
    cursors: &'s mut [u32],
    first_slot: u32,
    x: &'s mut [MaybeUninit<f32>],
    y: &'s mut [MaybeUninit<f32>],
    rows: &'s mut [MaybeUninit<u32>],
}

impl Part<'_> {
    /// Cuts at `cell`, whose first sorted slot is `slot`.
    fn split(self, cell: u32, slot: u32) -> (Self, Self) {
        let (cursors_a, cursors_b) = self.cursors.split_at_mut((cell - self.first_cell) as usize);
        let at = (slot - self.first_slot) as usize;
        let (x_a, x_b) = self.x.split_at_mut(at);
        let (y_a, y_b) = self.y.split_at_mut(at);
        let (rows_a, rows_b) = self.rows.split_at_mut(at);
        let a = Part {
            first_cell: self.first_cell,
            cursors: cursors_a,
            first_slot: self.first_slot,
            x: x_a,
            y: y_a,
            rows: rows_a,
        };
        let b = Part {
            first_cell: cell,
            cursors: cursors_b,
            first_slot: slot,
            x: x_b,
            y: y_b,
            rows: rows_b,
        };
        (a, b)
    }

    /// Writes every row whose cell is in this part to its cell's next slot, in row order
    /// (so the sort is stable).
    /// Also writes each such row's slot into `slots`.
    fn scatter(self, cell_ids: &[u32], positions: &[Vec2], slots: &[AtomicU32]) {
        for (row, (&c, p)) in cell_ids.iter().zip(positions).enumerate() {
            let Some(cursor) = self
                .cursors
                .get_mut(c.wrapping_sub(self.first_cell) as usize)
            else {
                continue;
            };
            let at = (*cursor - self.first_slot) as usize;
            *cursor += 1;
            self.x[at].write(p.x);
            self.y[at].write(p.y);
            self.rows[at].write(row as u32);
            slots[row].store(at as u32 + self.first_slot, Ordering::Relaxed);
        }
    }
}

/// Runs `work` on each of `parts` pieces of `state`, in parallel with `rayon::join`;
/// `split(state, k)` cuts `state` where part `k` begins. Called on a pool worker (as the
/// world does), this allocates nothing: `join` keeps its jobs on the worker's stack.
fn join_parts<S: Send>(
    state: S,
    parts: Range<usize>,
    split: &(impl Fn(S, usize) -> (S, S) + Sync),
    work: &(impl Fn(S) + Sync),
) {
    if parts.len() <= 1 {
        work(state);
        return;
    }
    let mid = parts.start + parts.len() / 2;
    let (a, b) = split(state, mid);
    rayon::join(
        || join_parts(a, parts.start..mid, split, work),
        || join_parts(b, mid..parts.end, split, work),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn finds_exactly_the_brute_force_neighbours() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let (w, h, r) = (100.0, 60.0, 3.5);
        let n = if cfg!(miri) { 60 } else { 3000 };
        for round in 0..3 {
            // Include points on and beyond the edges.
            let pts: Vec<Vec2> = (0..n)
                .map(|_| {
                    Vec2::new(
                        rng.random_range(-2.0..w + 2.0),
                        rng.random_range(-2.0..h + 2.0),
                    )
                })
                .collect();
            let arena = Arena::new();
            let grid = Grid::build(&arena, GridGeometry::new(w, h, r).unwrap(), &pts);
            for (i, p) in pts
                .iter()
                .enumerate()
                .step_by(if cfg!(miri) { 7 } else { 1 })
            {
                let mut from_grid = Vec::new();
                grid.for_each_near(*p, |j, q| {
                    assert_eq!(pts[j as usize], q);
                    if p.distance(q) < r {
                        from_grid.push(j as usize);
                    }
                });
                from_grid.sort();
                let brute: Vec<usize> = (0..n).filter(|j| p.distance(pts[*j]) < r).collect();
                assert_eq!(from_grid, brute, "point {i} in round {round}");
            }
        }
    }

    #[test]
    fn a_grid_built_in_parts_equals_the_serial_one() {
        // Above the parallel threshold: the grid a 1-worker pool builds (in one part) is the
        // reference, and pools of 2, 3 and 4 workers must build the same; positions half in
        // cell order (as the world keeps them) and half scattered, some out of the world.
        // Under Miri, small parts of a small world, so the parallel scatter into
        // uninitialised space runs there too.
        let min_rows = if cfg!(miri) { 8 } else { PARALLEL_MIN_ROWS };
        let n = min_rows * 3 + 17;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(9);
        let mut pts: Vec<Vec2> = (0..n)
            .map(|_| Vec2::new(rng.random_range(-1.0..101.0), rng.random_range(-1.0..61.0)))
            .collect();
        pts[..n / 2].sort_by_key(|p| (p.y as u32, p.x as u32));
        let geometry = GridGeometry::new(100.0, 60.0, 1.0).unwrap();
        let build = |pts: &[Vec2], threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let arena = Arena::new();
                let grid = Grid::build_in_parts(&arena, geometry, pts, min_rows);
                let rows = grid.sorted_rows.to_vec();
                for (slot, &row) in rows.iter().enumerate() {
                    assert_eq!(grid.slot_of(row as usize), slot, "{threads} workers");
                }
                (
                    grid.starts.to_vec(),
                    grid.sorted_x.to_vec(),
                    grid.sorted_y.to_vec(),
                    rows,
                )
            })
        };
        let serial = build(&pts, 1);
        assert_eq!(serial.0.last().copied(), Some(n as u32));
        for threads in [2, 3, 4] {
            assert_eq!(build(&pts, threads), serial, "{threads} workers");
        }
        // Everything in one cell: all parts but one are empty.
        pts.iter_mut().for_each(|p| *p = Vec2::new(50.5, 30.5));
        let serial = build(&pts, 1);
        assert_eq!(serial.3[..5], [0, 1, 2, 3, 4], "stable within the cell");
        assert_eq!(build(&pts, 4), serial);
    }

    #[test]
    fn sort_is_stable_and_complete() {
        let pts: Vec<Vec2> = (0..50).map(|i| Vec2::new((i % 5) as f32, 0.5)).collect();
        let arena = Arena::new();
        let grid = Grid::build(&arena, GridGeometry::new(5.0, 1.0, 1.0).unwrap(), &pts);
        assert_eq!(*grid.starts.last().unwrap(), 50);
        let mut seen: Vec<u32> = grid.sorted_rows.to_vec();
        for cell in grid.starts.windows(2) {
            let rows = &grid.sorted_rows[cell[0] as usize..cell[1] as usize];
            assert!(
                rows.windows(2).all(|w| w[0] < w[1]),
                "storage order kept in a cell"
            );
        }
        seen.sort();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_grid_has_no_candidates() {
        let arena = Arena::new();
        let grid = Grid::build(&arena, GridGeometry::new(10.0, 10.0, 1.0).unwrap(), &[]);
        assert!(grid.cell_order().is_empty());
        assert_eq!(grid.for_each_near(Vec2::splat(5.0), |_, _| panic!()), 9);
    }

    #[test]
    fn nan_and_far_away_positions_land_in_edge_cells() {
        let pts = [Vec2::NAN, Vec2::splat(1e30), Vec2::splat(-1e30)];
        let arena = Arena::new();
        let grid = Grid::build(&arena, GridGeometry::new(10.0, 10.0, 1.0).unwrap(), &pts);
        let mut count = 0;
        grid.for_each_near(Vec2::ZERO, |_, _| count += 1);
        grid.for_each_near(Vec2::splat(10.0), |_, _| count += 1);
        assert_eq!(count, 3);
    }

    #[test]
    fn cells_are_the_clamped_truncated_coordinates() {
        // The saturating integer clamp the float clamp replaces, for every awkward value:
        // NaN, infinities, negatives, -0, the edges and just past them, huge values.
        let reference = |g: &GridGeometry, p: Vec2| {
            let x = ((p.x * g.inv_cell) as u32).min(g.cols - 1);
            let y = ((p.y * g.inv_cell) as u32).min(g.rows - 1);
            (x, y)
        };
        let values = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -1e30,
            -1.0,
            -1e-30,
            -0.0,
            0.0,
            1e-30,
            0.999_999_9,
            1.0,
            2.5,
            9.999_999,
            10.0,
            10.000_001,
            37.0,
            1e30,
            f32::MAX,
        ];
        // The last: a subnormal cell, whose inverse is infinite (0 * inf is NaN).
        let shapes = [
            (10.0, 7.0, 1.0),
            (1600.0, 900.0, 4.0),
            (10.0, 10.0, 3.0),
            (1e-39, 1e-39, 1e-40),
        ];
        for (w, h, cell) in shapes {
            let g = GridGeometry::new(w, h, cell).unwrap();
            for &x in &values {
                for &y in &values {
                    let p = Vec2::new(x * w / 10.0, y * h / 10.0);
                    assert_eq!(g.coords(p), reference(&g, p), "{p} in {w}x{h} by {cell}");
                }
            }
        }
    }
}
