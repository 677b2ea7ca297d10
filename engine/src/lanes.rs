//! SIMD lanes for any bundle's `Vec2` fields: two rows in one `Vec4`.
//!
//! A `Vec2` column is `x0 y0 x1 y1 ...` in memory, so a `Vec4` load holds two rows with no
//! shuffles. A kernel written once over [`Lanes`] runs on `Vec4` over SoA columns (two rows
//! per instruction, [`Pairs::run`]) and on `Vec2` for AoS rows and the odd last row
//! ([`PairKernel::apply`]). Every lane does the same IEEE operations in both cases, so the
//! layouts give bit-identical results.
//!
//! ```
//! use engine::lanes::{Lanes, PairKernel, Pairs};
//! use engine::glam::Vec2;
//!
//! /// `position += velocity * dt`.
//! struct Drift { dt: f32 }
//!
//! impl PairKernel for Drift {
//!     type Params<L: Lanes> = L;
//!     fn params<L: Lanes>(&self) -> L { L::repeat(Vec2::splat(self.dt)) }
//!     fn apply<L: Lanes>(dt: &L, position: &mut L, velocity: &mut L) -> u32 {
//!         *position = *position + *velocity * *dt;
//!         0
//!     }
//! }
//!
//! let mut positions = vec![Vec2::ZERO; 5];
//! let mut velocities = vec![Vec2::ONE; 5];
//! Pairs::new(&mut positions, &mut velocities).unwrap().run(&Drift { dt: 0.5 });
//! assert!(positions.iter().all(|p| *p == Vec2::splat(0.5)));
//! ```

use crate::error::ParamError;
use crate::storage::Rows;
use glam::{BVec2, BVec4A, Vec2, Vec4, Vec4Swizzles};
use std::ops::{Add, Mul, Sub};

/// A vector of interleaved `x, y` components: `Vec2` (one row) or `Vec4` (two rows).
/// Kernels written over it compile to one or the other.
pub trait Lanes: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {
    /// Per-lane comparison results.
    type Mask: Copy;
    /// All lanes 0.
    const ZERO: Self;
    /// All lanes 1.
    const ONE: Self;
    /// `xy` in every pair of lanes.
    fn repeat(xy: Vec2) -> Self;
    /// Lanes where `self != rhs` (and where either is NaN).
    fn cmpne(self, rhs: Self) -> Self::Mask;
    /// Lanes where `self < rhs`.
    fn cmplt(self, rhs: Self) -> Self::Mask;
    /// Per-lane maximum.
    fn max(self, rhs: Self) -> Self;
    /// Per-lane minimum.
    fn min(self, rhs: Self) -> Self;
    /// `if_true` where `mask` is set, else `if_false`.
    fn select(mask: Self::Mask, if_true: Self, if_false: Self) -> Self;
    /// How many lanes of `mask` are set.
    fn count(mask: Self::Mask) -> u32;
}

/// Forwards to glam's inherent methods of the same names.
macro_rules! lanes {
    ($ty:ty, $mask:ty, |$xy:ident| $repeat:expr) => {
        impl Lanes for $ty {
            type Mask = $mask;
            const ZERO: Self = <$ty>::ZERO;
            const ONE: Self = <$ty>::ONE;
            #[inline(always)]
            fn repeat($xy: Vec2) -> Self {
                $repeat
            }
            #[inline(always)]
            fn cmpne(self, rhs: Self) -> $mask {
                <$ty>::cmpne(self, rhs)
            }
            #[inline(always)]
            fn cmplt(self, rhs: Self) -> $mask {
                <$ty>::cmplt(self, rhs)
            }
            #[inline(always)]
            fn max(self, rhs: Self) -> Self {
                <$ty>::max(self, rhs)
            }
            #[inline(always)]
            fn min(self, rhs: Self) -> Self {
                <$ty>::min(self, rhs)
            }
            #[inline(always)]
            fn select(mask: $mask, if_true: Self, if_false: Self) -> Self {
                <$ty>::select(mask, if_true, if_false)
            }
            #[inline(always)]
            fn count(mask: $mask) -> u32 {
                mask.bitmask().count_ones()
            }
        }
    };
}

lanes!(Vec2, BVec2, |xy| xy);
lanes!(Vec4, BVec4A, |xy| Vec4::new(xy.x, xy.y, xy.x, xy.y));

/// Per-row arithmetic on two `Vec2` fields, written once over [`Lanes`].
pub trait PairKernel: Sync {
    /// The kernel's parameters spread over the lanes of `L`, prepared once per run so the
    /// inner loop does per-lane arithmetic only (and keeps them in registers).
    type Params<L: Lanes>: Copy;
    /// Prepares the parameters for lanes `L`.
    fn params<L: Lanes>(&self) -> Self::Params<L>;
    /// Updates one lane group of `a` and `b` (one row for `Vec2`, two for `Vec4`); returns a
    /// count of events (e.g. wall hits), summed by [`Pairs::run`].
    fn apply<L: Lanes>(params: &Self::Params<L>, a: &mut L, b: &mut L) -> u32;
}

/// Two `Vec2` columns of equal length, e.g. a bundle's SoA `position` and `velocity`: the
/// rows a [`PairKernel`] runs on two at a time. Splits like any [`Rows`], so
/// [`for_each_chunk`](crate::parallel::for_each_chunk) spreads it over workers.
pub struct Pairs<'a> {
    a: &'a mut [Vec2],
    b: &'a mut [Vec2],
}

impl<'a> Pairs<'a> {
    /// The rows of `a` and `b`.
    ///
    /// # Errors
    /// If the columns differ in length.
    pub fn new(a: &'a mut [Vec2], b: &'a mut [Vec2]) -> Result<Pairs<'a>, ParamError> {
        if a.len() != b.len() {
            return Err(ParamError::new(
                "b",
                format!("a column of {} rows", b.len()),
                format!("as many rows as a ({})", a.len()),
            ));
        }
        Ok(Pairs { a, b })
    }

    /// The two columns again, e.g. to hand a chunk to a kernel written for them alone.
    pub fn into_columns(self) -> (&'a mut [Vec2], &'a mut [Vec2]) {
        (self.a, self.b)
    }

    /// Runs `kernel` on every row: two rows per `Vec4`, the odd last one on `Vec2`.
    /// Returns the sum of the kernel's counts.
    #[inline]
    pub fn run<K: PairKernel>(self, kernel: &K) -> u64 {
        let (a_pairs, a_last) = self.a.as_chunks_mut::<2>();
        let (b_pairs, b_last) = self.b.as_chunks_mut::<2>();
        // Copies in locals: stores through the rows could alias the kernel as far as LLVM
        // knows, which would force a reload of every parameter on every row.
        let wide = kernel.params::<Vec4>();
        let mut events = 0u64;
        for (a, b) in a_pairs.iter_mut().zip(b_pairs) {
            let (mut a4, mut b4) = (pair_to_lanes(*a), pair_to_lanes(*b));
            events += u64::from(K::apply(&wide, &mut a4, &mut b4));
            (*a, *b) = (lanes_to_pair(a4), lanes_to_pair(b4));
        }
        let narrow = kernel.params::<Vec2>();
        for (a, b) in a_last.iter_mut().zip(b_last) {
            events += u64::from(K::apply(&narrow, a, b));
        }
        events
    }
}

impl<'a> Rows<'a> for Pairs<'a> {
    type Item = (&'a mut Vec2, &'a mut Vec2);
    fn len(&self) -> usize {
        self.a.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (a0, a1) = self.a.split_at_mut(mid);
        let (b0, b1) = self.b.split_at_mut(mid);
        (Pairs { a: a0, b: b0 }, Pairs { a: a1, b: b1 })
    }
    fn for_each(self, mut f: impl FnMut(Self::Item)) {
        self.a
            .iter_mut()
            .zip(self.b.iter_mut())
            .for_each(|(a, b)| f((a, b)));
    }
}

#[inline(always)]
fn pair_to_lanes([a, b]: [Vec2; 2]) -> Vec4 {
    Vec4::new(a.x, a.y, b.x, b.y)
}

#[inline(always)]
fn lanes_to_pair(v: Vec4) -> [Vec2; 2] {
    [v.xy(), v.zw()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clamps `a` into [0, 1] and counts the lanes that moved: every Lanes method once.
    struct Clamp;

    impl PairKernel for Clamp {
        type Params<L: Lanes> = L;
        fn params<L: Lanes>(&self) -> L {
            L::repeat(Vec2::ONE)
        }
        fn apply<L: Lanes>(one: &L, a: &mut L, b: &mut L) -> u32 {
            let inside = a.max(L::ZERO).min(*one);
            let moved = inside.cmpne(*a);
            let below = a.cmplt(L::ZERO);
            *b = L::select(below, *b - *one, *b + *one);
            *a = inside;
            L::count(moved)
        }
    }

    #[test]
    fn wide_and_narrow_lanes_give_the_same_bits_for_every_length() {
        for n in 0..9 {
            let mk = |k: usize| Vec2::new(k as f32 * 0.7 - 2.0, 1.5 - k as f32 * 0.3);
            let mut a: Vec<Vec2> = (0..n).map(mk).collect();
            let mut b: Vec<Vec2> = (0..n).map(|k| mk(k + 3)).collect();
            let (mut ra, mut rb) = (a.clone(), b.clone());
            let events = Pairs::new(&mut a, &mut b).unwrap().run(&Clamp);
            let one = Clamp.params::<Vec2>();
            let mut expected = 0;
            for (x, y) in ra.iter_mut().zip(&mut rb) {
                expected += u64::from(Clamp::apply(&one, x, y));
            }
            assert_eq!(events, expected, "n = {n}");
            let bits = |v: &[Vec2]| {
                v.iter()
                    .flat_map(|p| p.to_array().map(f32::to_bits))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&a), bits(&ra), "a, n = {n}");
            assert_eq!(bits(&b), bits(&rb), "b, n = {n}");
        }
    }

    #[test]
    fn columns_of_different_lengths_are_refused() {
        let (mut a, mut b) = (vec![Vec2::ZERO; 3], vec![Vec2::ZERO; 2]);
        let err = Pairs::new(&mut a, &mut b).err().unwrap();
        assert_eq!(
            err.to_string(),
            "b = a column of 2 rows: expected as many rows as a (3)"
        );
    }
}
