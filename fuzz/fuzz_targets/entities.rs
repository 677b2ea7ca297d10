//! Random spawn/despawn/lookup sequences against a model: a stale handle never resolves
//! and the live count always matches.
#![no_main]

use arbitrary::Arbitrary;
use engine::entity::{Entity, EntityAllocator};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

#[derive(Arbitrary, Debug)]
enum Op {
    Spawn,
    Despawn(u16),
    Lookup(u16),
}

fuzz_target!(|ops: Vec<Op>| {
    let mut alloc = EntityAllocator::new();
    let mut model: HashMap<Entity, bool> = HashMap::new();
    let mut issued: Vec<Entity> = Vec::new();
    let mut live = 0;
    for op in ops {
        match op {
            Op::Spawn => {
                let e = alloc.spawn();
                assert!(model.insert(e, true).is_none(), "handle issued twice");
                issued.push(e);
                live += 1;
            }
            Op::Despawn(i) if !issued.is_empty() => {
                let e = issued[i as usize % issued.len()];
                let was = model[&e];
                assert_eq!(alloc.despawn(e), was);
                live -= usize::from(was);
                model.insert(e, false);
            }
            Op::Lookup(i) if !issued.is_empty() => {
                let e = issued[i as usize % issued.len()];
                assert_eq!(alloc.is_alive(e), model[&e]);
            }
            _ => {}
        }
        assert_eq!(alloc.len(), live);
    }
});
