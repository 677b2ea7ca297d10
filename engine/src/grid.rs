//! A uniform spatial grid for neighbour queries, rebuilt every step in the frame arena.
//!
//! Positions are binned by a counting sort: count per cell, prefix-sum, scatter. The
//! result is three flat arrays (cell starts, sorted positions, sorted row indices), all in
//! the frame arena, so a rebuild allocates nothing once the arena has grown to size.
//!
//! # Invariants
//! - `starts` has `cells + 1` entries, non-decreasing, from 0 to `len`; the rows of cell
//!   `c` are `sorted[starts[c]..starts[c + 1]]`.
//! - The sort is stable: within a cell, rows keep their storage order, so queries visit
//!   neighbours in an order that depends only on the data (determinism).
//! - Positions outside the world are binned into the nearest edge cell.

use crate::arena::Arena;
use glam::Vec2;

/// The shape of a grid: world size and cell size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridGeometry {
    cell: f32,
    inv_cell: f32,
    cols: u32,
    rows: u32,
}

impl GridGeometry {
    /// Square cells of side `cell` covering `[0, width] x [0, height]`.
    pub fn new(width: f32, height: f32, cell: f32) -> GridGeometry {
        GridGeometry {
            cell,
            inv_cell: 1.0 / cell,
            cols: ((width / cell).ceil() as u32).max(1),
            rows: ((height / cell).ceil() as u32).max(1),
        }
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
        // `as` saturates (NaN becomes 0), so any position maps to a valid cell.
        let x = ((p.x * self.inv_cell) as u32).min(self.cols - 1);
        let y = ((p.y * self.inv_cell) as u32).min(self.rows - 1);
        (x, y)
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
    sorted_positions: &'a [Vec2],
    sorted_rows: &'a mut [u32],
}

impl<'a> Grid<'a> {
    /// Bins `positions` (row `i` at `positions[i]`) with scratch from `arena`.
    ///
    /// ```
    /// use engine::{arena::Arena, grid::{Grid, GridGeometry}};
    /// use glam::Vec2;
    /// let arena = Arena::new();
    /// let pts = [Vec2::new(1.0, 1.0), Vec2::new(9.0, 9.0), Vec2::new(1.5, 1.2)];
    /// let grid = Grid::build(&arena, GridGeometry::new(10.0, 10.0, 2.0), &pts);
    /// let mut near = Vec::new();
    /// grid.for_each_near(Vec2::new(1.0, 1.0), |row, _| near.push(row));
    /// assert_eq!(near, [0, 2]);
    /// ```
    pub fn build(arena: &'a Arena, geometry: GridGeometry, positions: &[Vec2]) -> Grid<'a> {
        let n = positions.len();
        let cells = geometry.cells();
        let cell_ids = arena.alloc_slice_fill_with(n, |i| geometry.cell_of(positions[i]));
        let starts = arena.alloc_slice_fill_with(cells + 1, |_| 0u32);
        for &c in cell_ids.iter() {
            starts[c as usize + 1] += 1;
        }
        for c in 0..cells {
            starts[c + 1] += starts[c];
        }
        // Scatter, using a copy of the starts as per-cell write cursors.
        let cursor = arena.alloc_slice_copy(&starts[..cells]);
        let sorted_positions = arena.alloc_slice_fill_with(n, |_| Vec2::ZERO);
        let sorted_rows = arena.alloc_slice_fill_with(n, |_| 0u32);
        for (row, &c) in cell_ids.iter().enumerate() {
            let at = &mut cursor[c as usize];
            sorted_positions[*at as usize] = positions[row];
            sorted_rows[*at as usize] = row as u32;
            *at += 1;
        }
        Grid {
            geometry,
            starts,
            sorted_positions,
            sorted_rows,
        }
    }

    /// Every row, in cell order: reordering storage by this puts neighbours side by side.
    pub fn cell_order(&self) -> &[u32] {
        self.sorted_rows
    }

    /// Tells the grid its rows were permuted into [`Grid::cell_order`]: row `k` of the
    /// storage is now the `k`th binned row.
    pub fn rows_now_in_cell_order(&mut self) {
        for (k, row) in self.sorted_rows.iter_mut().enumerate() {
            *row = k as u32;
        }
    }

    /// The geometry it was built with.
    pub fn geometry(&self) -> GridGeometry {
        self.geometry
    }

    /// Calls `f(row, position)` for every binned row in the 3x3 cells around `p`: a superset
    /// of the rows within one cell size of `p`. Returns the number of cells visited.
    #[inline]
    pub fn for_each_near(&self, p: Vec2, mut f: impl FnMut(u32, Vec2)) -> u32 {
        self.for_each_run_near(p, |rows, positions| {
            rows.iter().zip(positions).for_each(|(row, p)| f(*row, *p));
        })
    }

    /// Like [`Grid::for_each_near`], but hands over each run of candidates that sit side by
    /// side in memory (the cells of one grid row) as two slices, rows and positions. Lets a
    /// caller process candidates several at a time.
    #[inline]
    pub fn for_each_run_near(&self, p: Vec2, mut f: impl FnMut(&[u32], &[Vec2])) -> u32 {
        let g = &self.geometry;
        let (cx, cy) = g.coords(p);
        let (x0, x1) = (cx.saturating_sub(1), (cx + 1).min(g.cols - 1));
        let (y0, y1) = (cy.saturating_sub(1), (cy + 1).min(g.rows - 1));
        for y in y0..=y1 {
            // Cells of one grid row are contiguous in the sorted arrays.
            let first = (y * g.cols + x0) as usize;
            let last = (y * g.cols + x1) as usize;
            let (start, end) = (self.starts[first] as usize, self.starts[last + 1] as usize);
            f(
                &self.sorted_rows[start..end],
                &self.sorted_positions[start..end],
            );
        }
        (x1 - x0 + 1) * (y1 - y0 + 1)
    }
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
            let grid = Grid::build(&arena, GridGeometry::new(w, h, r), &pts);
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
    fn sort_is_stable_and_complete() {
        let pts: Vec<Vec2> = (0..50).map(|i| Vec2::new((i % 5) as f32, 0.5)).collect();
        let arena = Arena::new();
        let grid = Grid::build(&arena, GridGeometry::new(5.0, 1.0, 1.0), &pts);
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
    fn nan_and_far_away_positions_land_in_edge_cells() {
        let pts = [Vec2::NAN, Vec2::splat(1e30), Vec2::splat(-1e30)];
        let arena = Arena::new();
        let grid = Grid::build(&arena, GridGeometry::new(10.0, 10.0, 1.0), &pts);
        let mut count = 0;
        grid.for_each_near(Vec2::ZERO, |_, _| count += 1);
        grid.for_each_near(Vec2::splat(10.0), |_, _| count += 1);
        assert_eq!(count, 3);
    }
}
