//! Array-of-structures layout: a `Vec<B>` of whole bundles.
//!
//! Every row visit loads the bundle's cache lines, whichever fields a system uses: that
//! memory traffic is what the AoS/SoA comparison measures. The code path is the same generic
//! system as for SoA.

use super::{Bundle, DenseRows, Rows};
use crate::entity::Entity;

/// Shared AoS rows.
pub struct AosRef<'a, B>(pub &'a [B]);

// Manual impls: a derive would add a needless `B: Clone` bound.
impl<B> Clone for AosRef<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<B> Copy for AosRef<'_, B> {}

/// Mutable AoS rows.
pub struct AosMut<'a, B>(pub &'a mut [B]);

impl<'a, B: Bundle> Rows<'a> for AosRef<'a, B> {
    type Item = B::Ref<'a>;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (a, b) = self.0.split_at(mid);
        (AosRef(a), AosRef(b))
    }
    #[inline]
    fn for_each(self, mut f: impl FnMut(Self::Item)) {
        self.0.iter().for_each(|row| f(row.as_ref()));
    }
}

impl<'a, B: Bundle> Rows<'a> for AosMut<'a, B> {
    type Item = B::Mut<'a>;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (a, b) = self.0.split_at_mut(mid);
        (AosMut(a), AosMut(b))
    }
    #[inline]
    fn for_each(self, mut f: impl FnMut(Self::Item)) {
        self.0.iter_mut().for_each(|row| f(row.as_mut()));
    }
}

impl<B: Bundle> DenseRows<B> for Vec<B> {
    type Ref<'a>
        = AosRef<'a, B>
    where
        B: 'a;
    type Mut<'a>
        = AosMut<'a, B>
    where
        B: 'a;
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn capacity(&self) -> usize {
        Vec::capacity(self)
    }
    fn heap_bytes(&self) -> usize {
        Vec::capacity(self) * size_of::<B>()
    }
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional)
    }
    fn push(&mut self, row: B) {
        Vec::push(self, row)
    }
    fn clear(&mut self) {
        Vec::clear(self)
    }
    fn swap_remove(&mut self, i: usize) -> B {
        Vec::swap_remove(self, i)
    }
    fn get(&self, i: usize) -> B {
        self[i]
    }
    fn set(&mut self, i: usize, row: B) {
        self[i] = row;
    }
    fn entity(&self, i: usize) -> Entity {
        self[i].entity()
    }
    fn row_mut(&mut self, i: usize) -> B::Mut<'_> {
        self[i].as_mut()
    }
    fn rows(&self) -> AosRef<'_, B> {
        AosRef(self)
    }
    fn rows_mut(&mut self) -> AosMut<'_, B> {
        AosMut(self)
    }
}
