//! Array-of-structures layout: one `Vec` of whole rows (entity + bundle).
//!
//! Every row visit loads the row's cache lines, whichever fields a system uses: that
//! memory traffic is what the AoS/SoA comparison measures. The code path is the same generic
//! system as for SoA.

use super::{Bundle, DenseRows, RowWrite, Rows};
use crate::entity::Entity;

/// One AoS row: the entity and its bundle, side by side in memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AosRow<B> {
    /// The owning entity.
    pub entity: Entity,
    /// Its components.
    pub bundle: B,
}

/// Shared AoS rows.
pub struct AosRef<'a, B>(&'a [AosRow<B>]);

// Manual impls: a derive would add a needless `B: Clone` bound.
impl<B> Clone for AosRef<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<B> Copy for AosRef<'_, B> {}

impl<'a, B> AosRef<'a, B> {
    /// The rows as a slice.
    pub fn as_slice(&self) -> &'a [AosRow<B>] {
        self.0
    }
}

/// Mutable AoS rows.
pub struct AosMut<'a, B>(&'a mut [AosRow<B>]);

impl<'a, B> AosMut<'a, B> {
    /// Rows over `rows` (for tests and benches that keep rows in their own `Vec`).
    pub fn new(rows: &'a mut [AosRow<B>]) -> Self {
        AosMut(rows)
    }
}

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
        self.0
            .iter()
            .for_each(|row| f(B::view(&row.entity, &row.bundle)));
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
        self.0
            .iter_mut()
            .for_each(|row| f(B::view_mut(&row.entity, &mut row.bundle)));
    }
}

impl<B: Bundle> DenseRows<B> for Vec<AosRow<B>> {
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
        Vec::capacity(self) * size_of::<AosRow<B>>()
    }
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional)
    }
    fn push_row(&mut self, entity: Entity, bundle: B) {
        Vec::push(self, AosRow { entity, bundle })
    }
    fn gather_rows(&mut self, src: &Self, order: &[u32]) {
        Vec::clear(self);
        let Some(last) = src.len().checked_sub(1) else {
            return;
        };
        // An entry past the end reads the last row: the order may still be being checked.
        self.extend(order.iter().map(|&i| src[(i as usize).min(last)]));
    }
    fn swap_remove_row(&mut self, i: usize) -> B {
        Vec::swap_remove(self, i).bundle
    }
    fn set_row(&mut self, i: usize, entity: Entity, bundle: B) {
        self[i] = AosRow { entity, bundle };
    }
    fn set_rows(&mut self, writes: &[RowWrite<B>]) {
        // A row is one or two cache lines: nothing to split by column.
        super::write_column(self, writes, |w| AosRow {
            entity: w.entity,
            bundle: w.bundle,
        });
    }
    fn get(&self, i: usize) -> B {
        self[i].bundle
    }
    fn entity(&self, i: usize) -> Entity {
        self[i].entity
    }
    fn row_mut(&mut self, i: usize) -> B::Mut<'_> {
        let row = &mut self[i];
        B::view_mut(&row.entity, &mut row.bundle)
    }
    fn rows(&self) -> AosRef<'_, B> {
        AosRef(self)
    }
    fn rows_mut(&mut self) -> AosMut<'_, B> {
        AosMut(self)
    }
}
