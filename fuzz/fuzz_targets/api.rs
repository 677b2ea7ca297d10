//! The engine's public API called with arbitrary parameters and operations: every bad
//! parameter must come back as an `Err`, never a panic, and the storage must stay
//! consistent whatever is asked of it.
#![no_main]

use arbitrary::Arbitrary;
use engine::counters::Padding;
use engine::grid::{Grid, GridGeometry};
use engine::lanes::Pairs;
use engine::prelude::*;
use engine::world::MAX_THREADS;
use libfuzzer_sys::fuzz_target;

engine::bundle! {
    /// A small bundle with two `Vec2` fields, as a user would declare.
    pub mod mote: Mote {
        /// Position.
        pub at: Vec2,
        /// Velocity.
        pub v: Vec2,
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Spawn(f32, f32),
    Despawn(u16),
    Get(u16),
    Layout(bool),
    Permute(Vec<u32>),
    Grid { width: f32, height: f32, cell: f32 },
    Pairs(u8, u8),
    Request { threads: u16, packed: bool },
    ChunkRows(u16),
    Counter(String),
    System(String),
    Step,
}

fuzz_target!(|ops: Vec<Op>| {
    let strategy = Strategy { threads: 1, ..Strategy::default() };
    let mut world: World<Mote> = World::new(strategy).expect("a valid strategy");
    let mut schedule: Schedule<Mote, ()> = Schedule::new();
    let mut handed_out: Vec<Entity> = Vec::new();
    for op in ops.into_iter().take(200) {
        let pick = |k: u16| (!handed_out.is_empty()).then(|| handed_out[k as usize % handed_out.len()]);
        match op {
            Op::Spawn(x, y) => handed_out.push(world.spawn(Mote { at: Vec2::new(x, y), v: Vec2::ONE })),
            Op::Despawn(k) => {
                if let Some(e) = pick(k) {
                    world.despawn(e);
                    assert!(world.get(e).is_none(), "a despawned handle never resolves");
                }
            }
            Op::Get(k) => {
                if let Some(e) = pick(k) {
                    let _ = world.get(e);
                }
            }
            Op::Layout(soa) => {
                let layout = if soa { Layout::Soa } else { Layout::Aos };
                world.request(Switch::Layout(layout)).expect("layouts are always valid");
            }
            Op::Permute(order) => {
                let (storage, _) = world.split();
                let _ = storage.permute(&order);
            }
            Op::Grid { width, height, cell } => {
                if let Ok(geometry) = GridGeometry::new(width, height, cell) {
                    let arena = Arena::new();
                    let positions = world.storage().slice_of(mote::FIELDS.at, &arena);
                    let grid = Grid::build(&arena, geometry, positions);
                    grid.for_each_near(Vec2::new(width / 2.0, height / 2.0), |_, _| {});
                }
            }
            Op::Pairs(a, b) => {
                let (mut xs, mut ys) = (vec![Vec2::ZERO; a as usize], vec![Vec2::ZERO; b as usize]);
                assert_eq!(Pairs::new(&mut xs, &mut ys).is_ok(), a == b);
            }
            Op::Request { threads, packed } => {
                let ok = world.request(Switch::Threads(usize::from(threads))).is_ok();
                assert_eq!(ok, (1..=MAX_THREADS).contains(&usize::from(threads)));
                let padding = if packed { Padding::Packed } else { Padding::Padded };
                world.request(Switch::Padding(padding)).expect("paddings are always valid");
                // Keep the fuzzer from starting hundreds of threads.
                world.request(Switch::Threads(1)).expect("1 thread is valid");
            }
            Op::ChunkRows(rows) => assert_eq!(world.set_chunk_rows(usize::from(rows)).is_ok(), rows > 0),
            Op::Counter(name) => {
                let id = world.register_counter(&name);
                assert_eq!(world.counters().id(&name), Some(id));
            }
            Op::System(name) => {
                let taken = schedule.names().any(|n| n == name);
                let ok = schedule.add(&name, |_: &mut World<Mote>, _: &mut ()| {}).is_ok();
                assert_eq!(ok, !name.is_empty() && name != "apply" && !taken);
            }
            Op::Step => schedule.step(&mut world, &mut ()),
        }
        world.storage().check().expect("storage invariants hold");
    }
});
