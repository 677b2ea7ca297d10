//! Splitting [`Rows`] across rayon workers, and running small work serially.
//!
//! A rayon fork-join costs about 18 µs on the 2-core machines this was measured on, far
//! more than a row of cheap per-row work, so small work stays serial: [`for_each_chunk`]
//! runs up to `min_chunk` rows on the calling thread and splits more rows into chunks of
//! `min_chunk` (the last one shorter). The world's default chunk is [`PARALLEL_MIN_ROWS`],
//! 32 768 rows: up to that many rows, a cheap per-row system runs serially.

use crate::storage::Rows;

/// Rows per parallel chunk; also the size under which work stays serial.
pub const PARALLEL_MIN_ROWS: usize = 32 * 1024;

/// Calls `f(chunk, first_row)` on disjoint chunks covering `rows`, in parallel when there
/// are more than `min_chunk` rows. Chunk boundaries depend only on the row count, and
/// nothing is allocated (rayon's `join` keeps its jobs on the stack).
///
/// ```
/// use engine::prelude::*;
/// use engine::particles::{particle, Particle};
/// let mut storage = Storage::new(Layout::Soa);
/// for _ in 0..10 {
///     storage.spawn(Particle::at(Vec2::ZERO, Vec2::X));
/// }
/// with_rows!(storage.rows_mut(), |rows| for_each_chunk(rows, 4, &|chunk, _first| {
///     chunk.for_each(|p: particle::Mut| *p.position += *p.velocity);
/// }));
/// assert!((0..10).all(|i| storage.row(i).unwrap().1.position == Vec2::X));
/// ```
pub fn for_each_chunk<'a, R, F>(rows: R, min_chunk: usize, f: &F)
where
    R: Rows<'a>,
    F: Fn(R, usize) + Sync,
{
    split(rows, min_chunk.max(1), 0, f);
}

fn split<'a, R, F>(rows: R, min_chunk: usize, first: usize, f: &F)
where
    R: Rows<'a>,
    F: Fn(R, usize) + Sync,
{
    let len = rows.len();
    if len <= min_chunk {
        f(rows, first);
        return;
    }
    // Split on a multiple of `min_chunk` so boundaries are the same at every depth.
    let mid = (len / 2).div_ceil(min_chunk) * min_chunk;
    let (a, b) = rows.split_at(mid);
    rayon::join(
        || split(a, min_chunk, first, f),
        || split(b, min_chunk, first + mid, f),
    );
}

/// Runs every task, spread over the current rayon pool's workers by nested
/// [`rayon::join`]s (which, unlike `rayon::scope`, allocate nothing). Used by code the
/// [`bundle!`](crate::bundle) macro generates, one task per column.
#[doc(hidden)]
pub fn join_all(tasks: &mut [&mut (dyn FnMut() + Send)]) {
    match tasks {
        [] => {}
        [task] => task(),
        _ => {
            let (a, b) = tasks.split_at_mut(tasks.len() / 2);
            rayon::join(|| join_all(a), || join_all(b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::particles::Particle;
    use crate::storage::{Layout, Storage};
    use crate::with_rows;
    use glam::Vec2;
    use std::sync::Mutex;

    #[test]
    fn chunks_cover_every_row_once_in_both_layouts() {
        let n = if cfg!(miri) { 50 } else { 10_000 };
        for layout in Layout::ALL {
            let mut storage = Storage::new(layout);
            for i in 0..n {
                storage.spawn(Particle::at(Vec2::ZERO, Vec2::splat(i as f32)));
            }
            let starts = Mutex::new(Vec::new());
            with_rows!(storage.rows_mut(), |rows| for_each_chunk(
                rows,
                7,
                &|chunk, first| {
                    starts.lock().unwrap().push((first, chunk.len()));
                    chunk.for_each(|p| *p.mass += 1.0);
                }
            ));
            let mut starts = starts.into_inner().unwrap();
            starts.sort();
            let mut next = 0;
            for (first, len) in starts {
                assert_eq!(first, next, "chunks are contiguous");
                assert!(len <= 7 && len > 0);
                next += len;
            }
            assert_eq!(next, n);
            assert!((0..n).all(|i| storage.row(i).unwrap().1.mass == 2.0));
        }
    }
}
