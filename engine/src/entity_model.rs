//! A model of the entity allocator, shared by its unit test and the `entities` fuzz target
//! (which includes this file by path): every handle ever issued, and whether it is alive.

use crate::entity::{Entity, EntityAllocator};
use std::collections::HashMap;

/// One call on the allocator; indices pick among the handles issued so far.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `spawn`.
    Spawn,
    /// `despawn` of an issued handle (alive or not).
    Despawn(usize),
    /// `is_alive` of an issued handle.
    Lookup(usize),
}

/// The allocator beside the model of what it should answer.
#[derive(Default)]
pub struct Checked {
    alloc: EntityAllocator,
    alive: HashMap<Entity, bool>,
    issued: Vec<Entity>,
    live: usize,
}

impl Checked {
    /// Applies `op` to the allocator; `Err` says how it disagreed with the model.
    pub fn apply(&mut self, op: Op) -> Result<(), String> {
        let pick =
            |i: usize, issued: &[Entity]| (!issued.is_empty()).then(|| issued[i % issued.len()]);
        match op {
            Op::Spawn => {
                let e = self.alloc.spawn();
                if self.alive.insert(e, true).is_some() {
                    return Err(format!("handle {e:?} issued twice"));
                }
                self.issued.push(e);
                self.live += 1;
            }
            Op::Despawn(i) => {
                if let Some(e) = pick(i, &self.issued) {
                    let was = self.alive[&e];
                    if self.alloc.despawn(e) != was {
                        return Err(format!("despawn({e:?}) disagrees: alive was {was}"));
                    }
                    self.live -= usize::from(was);
                    self.alive.insert(e, false);
                }
            }
            Op::Lookup(i) => {
                if let Some(e) = pick(i, &self.issued)
                    && self.alloc.is_alive(e) != self.alive[&e]
                {
                    return Err(format!("is_alive({e:?}) disagrees with the model"));
                }
            }
        }
        if self.alloc.len() != self.live {
            return Err(format!("len {} but {} alive", self.alloc.len(), self.live));
        }
        Ok(())
    }
}
