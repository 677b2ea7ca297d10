//! Generational entity handles and the allocator that hands them out.
//!
//! An [`Entity`] is a slot index plus the version the slot had when the entity was
//! spawned (its generation). Despawning bumps the slot's version, so every handle to the old
//! occupant stops resolving, even after the slot is reused.
//!
//! # Invariants
//! - A slot's version only ever grows (until retired); it is odd while the slot holds an
//!   entity, even while it is free. Handles carry odd generations, so a handle resolves iff
//!   its generation equals its slot's version: a stale handle never aliases a newer entity,
//!   and no handle, even one forged with [`Entity::from_bits`], resolves a free slot.
//! - A slot whose version reached `u32::MAX` is *retired* when despawned (version 0): it
//!   never returns to the free list, so versions never wrap (hecs wraps and can alias; we
//!   do not). Each slot serves 2^31 lifetimes before that.
//! - Spawn and despawn are O(1): free slots' indices form a stack beside the versions.
//!   Spawn allocates only when it creates a slot beyond the most ever made; despawn at most
//!   once per growth of the slots (or after a clone, which does not keep capacity), and
//!   then makes room for every slot to be free at once. Once the slot count has settled,
//!   neither allocates.
//! - The order of handed-out indices depends only on the sequence of calls, never on timing,
//!   so a simulation that spawns deterministically gets the same handles every run.

use std::num::NonZeroU32;

/// A handle to an entity: a slot index and the generation of that slot.
///
/// `Entity` and `Option<Entity>` are both 8 bytes (the generation is never zero).
///
/// ```
/// use engine::entity::{Entity, EntityAllocator};
/// let mut entities = EntityAllocator::new();
/// let a = entities.spawn();
/// assert!(entities.despawn(a));
/// let b = entities.spawn(); // reuses a's slot ...
/// assert_eq!(a.index(), b.index());
/// assert!(!entities.is_alive(a)); // ... but a stays dead
/// assert_eq!(std::mem::size_of::<Option<Entity>>(), 8);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Entity {
    index: u32,
    generation: NonZeroU32,
}

const _: () = assert!(size_of::<Entity>() == 8);
const _: () = assert!(size_of::<Option<Entity>>() == 8);

impl Entity {
    /// The slot index: dense, suitable for indexing side tables.
    pub fn index(self) -> u32 {
        self.index
    }

    /// The version of the slot when this entity was spawned (always odd).
    pub fn generation(self) -> NonZeroU32 {
        self.generation
    }

    /// Packs the handle into one `u64` (generation in the high half), e.g. for hashing.
    pub fn to_bits(self) -> u64 {
        (u64::from(self.generation.get()) << 32) | u64::from(self.index)
    }

    /// Inverse of [`Entity::to_bits`]; `None` unless the generation half is odd (the only
    /// generations handles have).
    pub fn from_bits(bits: u64) -> Option<Entity> {
        let generation = NonZeroU32::new((bits >> 32) as u32).filter(|g| g.get() % 2 == 1)?;
        Some(Entity {
            index: bits as u32,
            generation,
        })
    }
}

/// Hands out [`Entity`] handles and knows which are alive.
///
/// Slot `i`'s version is `versions[i]`: odd while an entity lives in it, even while it is
/// free (0 once retired). Handles always carry odd generations, so a single comparison
/// tells whether a handle is alive, and no handle can ever match a free slot. The versions
/// sit alone in their array, 4 bytes a slot, because a lookup reads nothing else; the free
/// slots are a separate stack, so spawn and despawn touch the stack's top rather than a
/// second random slot.
#[derive(Clone, Debug, Default)]
pub struct EntityAllocator {
    versions: Vec<u32>,
    /// The free slots' indices, the most recently freed on top (reused first).
    free: Vec<u32>,
    live: usize,
    retired: usize,
}

impl EntityAllocator {
    /// An empty allocator.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty allocator with room for `slots` entities before it reallocates.
    pub fn with_capacity(slots: usize) -> Self {
        EntityAllocator {
            versions: Vec::with_capacity(slots),
            free: Vec::with_capacity(slots),
            ..Self::default()
        }
    }

    /// Creates a live entity, reusing the most recently freed slot if there is one.
    ///
    /// # Panics
    /// If more than `u32::MAX - 1` slots would be needed (16 GiB of versions alone).
    #[inline]
    pub fn spawn(&mut self) -> Entity {
        self.live += 1;
        // Each branch knows the version it leaves, so the slot is not read back.
        let (index, generation) = if let Some(index) = self.free.pop() {
            let version = &mut self.versions[index as usize];
            *version += 1; // even (free) -> odd (alive)
            let generation = NonZeroU32::new(*version).expect("odd, hence non-zero");
            (index, generation)
        } else {
            (self.new_slot(), NonZeroU32::MIN)
        };
        Entity { index, generation }
    }

    /// Appends a slot holding a fresh entity (version 1) and returns its index.
    #[inline]
    fn new_slot(&mut self) -> u32 {
        // Index `u32::MAX` stays unused, as it did when it marked the free list's end, so
        // the limit (and the `Panics` doc) did not change.
        let index = u32::try_from(self.versions.len())
            .ok()
            .filter(|i| *i != u32::MAX)
            .expect("more than u32::MAX - 1 entity slots");
        self.versions.push(1);
        index
    }

    /// Despawns `entity`; returns false (and changes nothing) if it was not alive.
    #[inline]
    pub fn despawn(&mut self, entity: Entity) -> bool {
        // The liveness test of `is_alive`, on the version it then updates: one bounds check.
        let Some(version) = self.versions.get_mut(entity.index as usize) else {
            return false;
        };
        if *version != entity.generation.get() {
            return false;
        }
        self.live -= 1;
        if *version == u32::MAX {
            // Versions exhausted: retire the slot rather than wrap and alias.
            *version = 0;
            self.retired += 1;
        } else {
            *version += 1; // odd (alive) -> even (free)
            if self.free.len() == self.free.capacity() {
                self.grow_free();
            }
            self.free.push(entity.index);
        }
        true
    }

    /// Gives the free stack room for as many indices as the slots have room for, so no
    /// despawn allocates again until the slots grow.
    ///
    /// Called from despawn rather than from the spawn that grows the slots: growing both
    /// buffers in turn made the system allocator copy the slots at every growth (inserts
    /// 2x slower, measured with the `handles` bench).
    #[cold]
    fn grow_free(&mut self) {
        self.free
            .reserve_exact(self.versions.capacity() - self.free.len());
    }

    /// Whether `entity` is alive: one comparison, since free slots have even versions and
    /// handles odd ones.
    #[inline]
    pub fn is_alive(&self, entity: Entity) -> bool {
        self.versions
            .get(entity.index as usize)
            .is_some_and(|&v| v == entity.generation.get())
    }

    /// The number of live entities.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no entity is alive.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The number of slots ever created (live, free or retired): the bound on `index()`.
    pub fn slot_count(&self) -> usize {
        self.versions.len()
    }

    /// The number of slots retired because their versions were exhausted.
    pub fn retired(&self) -> usize {
        self.retired
    }

    /// The live entity currently in slot `index`, if any.
    #[inline]
    pub fn entity_at(&self, index: u32) -> Option<Entity> {
        let version = *self.versions.get(index as usize)?;
        (version % 2 == 1).then(|| Entity {
            index,
            generation: NonZeroU32::new(version).expect("odd, hence non-zero"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stale_handle_never_resolves_after_reuse() {
        let mut alloc = EntityAllocator::new();
        let a = alloc.spawn();
        alloc.despawn(a);
        let b = alloc.spawn();
        assert_eq!(a.index(), b.index());
        assert_ne!(a, b);
        assert!(!alloc.is_alive(a));
        assert!(alloc.is_alive(b));
        assert!(
            !alloc.despawn(a),
            "despawning a stale handle must not kill b"
        );
        assert!(alloc.is_alive(b));
    }

    #[test]
    fn exhausted_generation_retires_the_slot() {
        let mut alloc = EntityAllocator::new();
        let a = alloc.spawn();
        alloc.despawn(a);
        // Fast-forward the free slot to its last (even) version before the final odd one.
        alloc.versions[0] = u32::MAX - 1;
        let last = alloc.spawn();
        assert_eq!(last.generation().get(), u32::MAX);
        assert!(alloc.despawn(last));
        assert_eq!(alloc.retired(), 1);
        let fresh = alloc.spawn();
        assert_ne!(
            fresh.index(),
            last.index(),
            "a retired slot is never reused"
        );
        assert!(!alloc.is_alive(last));
        assert!(!alloc.is_alive(a));
    }

    #[test]
    fn forged_handles_never_resolve_free_slots() {
        let mut alloc = EntityAllocator::new();
        let a = alloc.spawn();
        alloc.despawn(a);
        // The free slot has version 2: no handle can carry an even generation.
        assert_eq!(Entity::from_bits((2u64 << 32) | u64::from(a.index())), None);
        let stale = Entity::from_bits(a.to_bits()).unwrap();
        assert!(!alloc.is_alive(stale));
        assert!(!alloc.despawn(stale));
        assert_eq!(alloc.entity_at(a.index()), None);
        let b = alloc.spawn();
        assert_eq!(b.generation().get(), 3);
        assert_eq!(alloc.entity_at(b.index()), Some(b));
    }

    #[test]
    fn a_settled_population_reuses_slots_without_allocating() {
        let mut alloc = EntityAllocator::new();
        let mut entities: Vec<Entity> = (0..1000).map(|_| alloc.spawn()).collect();
        for &e in &entities {
            assert!(alloc.despawn(e));
        }
        // The high-water marks are set: the same churn again moves neither buffer.
        let buffers = |a: &EntityAllocator| (a.versions.as_ptr(), a.free.as_ptr());
        let before = buffers(&alloc);
        for round in 0..3 {
            for e in &mut entities {
                *e = alloc.spawn();
            }
            assert_eq!(alloc.slot_count(), 1000, "round {round} reused every slot");
            for &e in entities.iter().rev() {
                assert!(alloc.despawn(e));
            }
        }
        assert_eq!(buffers(&alloc), before);
        // Most recently freed first: the slot despawned last comes back first.
        assert_eq!(alloc.spawn().index(), entities[0].index());
    }

    #[test]
    fn bits_round_trip() {
        let mut alloc = EntityAllocator::new();
        let e = alloc.spawn();
        assert_eq!(Entity::from_bits(e.to_bits()), Some(e));
        assert_eq!(Entity::from_bits(7), None);
    }

    use crate::entity_model::{Checked, Op};

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Spawn),
            2 => any::<usize>().prop_map(Op::Despawn),
            2 => any::<usize>().prop_map(Op::Lookup),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: if cfg!(miri) { 2 } else { 10 },
            ..ProptestConfig::default()
        })]

        /// 10^4 ops per case x 10 cases = 10^5 random ops against a HashMap model.
        #[test]
        fn matches_a_hashmap_model(ops in prop::collection::vec(op(), if cfg!(miri) { 200 } else { 10_000 })) {
            let mut checked = Checked::default();
            for op in ops {
                checked.apply(op).map_err(TestCaseError::fail)?;
            }
        }
    }
}
