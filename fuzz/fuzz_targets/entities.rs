//! Random spawn/despawn/lookup sequences against a model (the one the unit test uses): a
//! stale handle never resolves and the live count always matches.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
// The shared model names the allocator as `crate::entity`.
use engine::entity;

#[path = "../../engine/src/entity_model.rs"]
mod entity_model;

#[derive(Arbitrary, Debug)]
enum Op {
    Spawn,
    Despawn(u16),
    Lookup(u16),
}

fuzz_target!(|ops: Vec<Op>| {
    let mut checked = entity_model::Checked::default();
    for op in ops {
        let op = match op {
            Op::Spawn => entity_model::Op::Spawn,
            Op::Despawn(i) => entity_model::Op::Despawn(usize::from(i)),
            Op::Lookup(i) => entity_model::Op::Lookup(usize::from(i)),
        };
        if let Err(e) = checked.apply(op) {
            panic!("{e}");
        }
    }
});
