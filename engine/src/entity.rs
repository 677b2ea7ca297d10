//! Generational entity handles and the allocator that hands them out.
//!
//! An [`Entity`] is a slot index plus the generation the slot had when the entity was
//! spawned. Despawning bumps the slot's generation, so every handle to the old occupant
//! stops resolving, even after the slot is reused.
//!
//! # Invariants
//! - A slot's generation only ever grows; a handle resolves only while its generation equals
//!   the slot's and the slot is alive. Hence a stale handle never aliases a newer entity.
//! - A slot whose generation reached `u32::MAX` is *retired* when despawned: it never returns
//!   to the free list, so generations never wrap (hecs wraps and can alias; we do not).
//! - Spawn and despawn are O(1): the free list is a stack of slot indices. Despawn never
//!   allocates; spawn allocates only when it creates a slot beyond the previous maximum.
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

    /// The generation of the slot when this entity was spawned.
    pub fn generation(self) -> NonZeroU32 {
        self.generation
    }

    /// Packs the handle into one `u64` (generation in the high half), e.g. for hashing.
    pub fn to_bits(self) -> u64 {
        (u64::from(self.generation.get()) << 32) | u64::from(self.index)
    }

    /// Inverse of [`Entity::to_bits`]; `None` if the generation half is zero.
    pub fn from_bits(bits: u64) -> Option<Entity> {
        Some(Entity {
            index: bits as u32,
            generation: NonZeroU32::new((bits >> 32) as u32)?,
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    generation: NonZeroU32,
    alive: bool,
}

/// Hands out [`Entity`] handles and knows which are alive.
#[derive(Clone, Debug, Default)]
pub struct EntityAllocator {
    slots: Vec<Slot>,
    /// Slots ready for reuse, used as a stack (last freed, first reused).
    free: Vec<u32>,
    live: usize,
    retired: usize,
}

impl EntityAllocator {
    /// An empty allocator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a live entity, reusing a freed slot if there is one.
    ///
    /// # Panics
    /// If more than `u32::MAX` slots would be needed (16 GiB of slots alone).
    pub fn spawn(&mut self) -> Entity {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.alive = true;
            return Entity {
                index,
                generation: slot.generation,
            };
        }
        let index = u32::try_from(self.slots.len()).expect("more than u32::MAX entity slots");
        let generation = NonZeroU32::MIN;
        self.slots.push(Slot {
            generation,
            alive: true,
        });
        // The free list never holds more than every slot: keeping room for that means
        // despawn never allocates (only a new high-water mark of slots does).
        self.free.reserve(self.slots.len() - self.free.len());
        Entity { index, generation }
    }

    /// Despawns `entity`; returns false (and changes nothing) if it was not alive.
    pub fn despawn(&mut self, entity: Entity) -> bool {
        if !self.is_alive(entity) {
            return false;
        }
        let slot = &mut self.slots[entity.index as usize];
        slot.alive = false;
        self.live -= 1;
        match slot.generation.checked_add(1) {
            Some(next) => {
                slot.generation = next;
                self.free.push(entity.index);
            }
            // Generation exhausted: retire the slot rather than wrap and alias.
            None => self.retired += 1,
        }
        true
    }

    /// Whether `entity` is alive: its slot exists, is occupied, and has its generation.
    pub fn is_alive(&self, entity: Entity) -> bool {
        self.slots
            .get(entity.index as usize)
            .is_some_and(|s| s.alive && s.generation == entity.generation)
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
        self.slots.len()
    }

    /// The number of slots retired because their generation was exhausted.
    pub fn retired(&self) -> usize {
        self.retired
    }

    /// The live entity currently in slot `index`, if any.
    pub fn entity_at(&self, index: u32) -> Option<Entity> {
        let slot = self.slots.get(index as usize)?;
        slot.alive.then_some(Entity {
            index,
            generation: slot.generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

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
        // Fast-forward the slot to its last generation.
        alloc.slots[0].generation = NonZeroU32::new(u32::MAX).unwrap();
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
    fn bits_round_trip() {
        let mut alloc = EntityAllocator::new();
        let e = alloc.spawn();
        assert_eq!(Entity::from_bits(e.to_bits()), Some(e));
        assert_eq!(Entity::from_bits(7), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Spawn,
        Despawn(usize),
        Lookup(usize),
    }

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
            let mut alloc = EntityAllocator::new();
            // Model: every handle ever issued -> alive?
            let mut model: HashMap<Entity, bool> = HashMap::new();
            let mut issued: Vec<Entity> = Vec::new();
            let mut live = 0usize;
            for op in ops {
                match op {
                    Op::Spawn => {
                        let e = alloc.spawn();
                        prop_assert!(model.insert(e, true).is_none(), "handle {e:?} issued twice");
                        issued.push(e);
                        live += 1;
                    }
                    Op::Despawn(i) if !issued.is_empty() => {
                        let e = issued[i % issued.len()];
                        let was = model[&e];
                        prop_assert_eq!(alloc.despawn(e), was);
                        live -= usize::from(was);
                        model.insert(e, false);
                    }
                    Op::Lookup(i) if !issued.is_empty() => {
                        let e = issued[i % issued.len()];
                        prop_assert_eq!(alloc.is_alive(e), model[&e]);
                    }
                    _ => {}
                }
                prop_assert_eq!(alloc.len(), live);
            }
        }
    }
}
