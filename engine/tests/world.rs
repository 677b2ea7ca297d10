//! Whole-world invariants: determinism across every strategy, no loss on switches,
//! consistent handles and bounded memory under churn.

mod common;
use common::scene;
use engine::arena::AllocMode;
use engine::counters::Padding;
use engine::entity::Entity;
use engine::glam::Vec2;
use engine::particles::scene::Scene;
use engine::particles::{ParticleSim, check_consistency};
use engine::storage::Layout;
use engine::sync::LockStrategy;
use engine::world::{Strategy, Switch};
use std::collections::HashMap;

fn strategy(layout: Layout, lock: LockStrategy, padding: Padding, threads: usize) -> Strategy {
    Strategy {
        layout,
        lock,
        padding,
        threads,
        alloc: AllocMode::Arena,
    }
}

/// Small chunks so even a small world is split across threads.
fn world(scene: &Scene, s: Strategy) -> ParticleSim {
    ParticleSim::new(scene.clone(), s)
        .unwrap()
        .with_chunk_rows(256)
        .unwrap()
}

fn counter(w: &ParticleSim, name: &str) -> u64 {
    let id = w.world().counters().id(name).expect("a preset counter");
    w.world().counters().total(id)
}

#[test]
fn same_hash_for_every_layout_lock_padding_thread_count_and_alloc_mode() {
    // swarm: grid + repulsion + attractors; churn: deaths and spawns every step.
    for (name, particles, steps) in [
        ("swarm", 3000, 40),
        ("churn", 4000, 60),
        ("default", 4000, 40),
    ] {
        let scene = scene(name, particles);
        let mut reference = None;
        for layout in Layout::ALL {
            for lock in LockStrategy::ALL {
                for padding in Padding::ALL {
                    for threads in [1, 2] {
                        for alloc in AllocMode::ALL {
                            let s = Strategy {
                                alloc,
                                ..strategy(layout, lock, padding, threads)
                            };
                            let mut w = world(&scene, s);
                            w.run(steps);
                            let got = (w.state_hash(), w.len());
                            let expected = *reference.get_or_insert(got);
                            assert_eq!(
                                got, expected,
                                "{name}: {layout}/{lock}/{padding}/{threads} threads/{alloc} diverged"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn previous_positions_follow_every_row_move() {
    // churn: despawns and spawns every step, the spawns in the rows of the dead
    // (Storage::replace), and with a halved budget swap-removes; swarm: a cell-order
    // permute every 8 steps.
    for name in ["churn", "swarm"] {
        let scene = scene(name, 3000);
        for layout in Layout::ALL {
            let mut w = world(
                &scene,
                Strategy {
                    layout,
                    threads: 2,
                    ..Strategy::default()
                },
            );
            w.step();
            assert!(w.previous_positions().is_none(), "only when asked for");
            w.keep_previous_positions(true);
            let (mut moved, mut spawned) = (0, 0);
            for step in 0..24 {
                if step == 12 {
                    // A smaller budget: more deaths than spawns, so rows are swap-removed
                    // as well as taken by spawns in place.
                    let budget = (w.len() as u32 / 2).max(1);
                    w.set_budget(budget).unwrap();
                }
                let storage = w.world().storage();
                let before: HashMap<Entity, (usize, Vec2)> = (0..w.len())
                    .map(|i| storage.row(i).map(|(e, p)| (e, (i, p.position))).unwrap())
                    .collect();
                w.step();
                let view = w.previous_positions().expect("captured this step");
                assert_eq!(view.len(), w.len());
                for i in 0..w.len() {
                    let (e, _) = w.world().storage().row(i).unwrap();
                    match (view.get(i), before.get(&e)) {
                        (Some(prev), Some(&(row, at))) => {
                            assert_eq!(prev, at, "{name} {layout}: row {i}");
                            moved += usize::from(row != i);
                        }
                        (None, None) => spawned += 1,
                        (got, had) => panic!("{name} {layout}: row {i}: {got:?} vs {had:?}"),
                    }
                }
            }
            assert!(moved > 100, "{name} {layout}: only {moved} rows moved");
            assert!(
                name != "churn" || spawned > 100,
                "churn {layout}: only {spawned} spawned"
            );
        }
    }
}

#[test]
fn the_simulation_actually_moves_and_churns() {
    let scene = scene("churn", 4000);
    let mut w = world(&scene, Strategy::default());
    let before = w.state_hash();
    w.run(60);
    assert_ne!(w.state_hash(), before);
    assert!(counter(&w, "died") > 1000, "churn kills");
    assert!(counter(&w, "spawned") > 3000, "and respawns");
    assert!(w.len() <= 4000, "never above budget");
    check_consistency(&w).unwrap();
}

#[test]
fn switching_mid_run_loses_nothing_and_changes_no_result() {
    let scene = scene("swarm", 3000);
    let base = strategy(Layout::Soa, LockStrategy::Mutex, Padding::Padded, 1);
    let mut straight = world(&scene, base);
    let mut switched = world(&scene, base);
    let switches = [
        Switch::Layout(Layout::Aos),
        Switch::Lock(LockStrategy::LockFree),
        Switch::Padding(Padding::Packed),
        Switch::Threads(2),
        Switch::Layout(Layout::Soa),
        Switch::Lock(LockStrategy::Sharded),
        Switch::Layout(Layout::Aos),
        Switch::Threads(1),
        Switch::Lock(LockStrategy::RwLock),
        Switch::Padding(Padding::Padded),
    ];
    for s in switches {
        switched.request(s).unwrap();
        // Lockstep with a run that never switches: equal after every switch.
        switched.run(5);
        straight.run(5);
        assert_eq!(switched.state_hash(), straight.state_hash(), "after {s:?}");
        check_consistency(&switched).unwrap();
    }
    let s = switched.world().strategy();
    assert_eq!(
        (s.layout, s.lock, s.padding, s.threads),
        (Layout::Aos, LockStrategy::RwLock, Padding::Padded, 1)
    );
}

#[test]
fn a_layout_switch_keeps_every_value_bit_identical() {
    let scene = scene("churn", 2000);
    let mut w = world(&scene, Strategy::default());
    w.run(30);
    let rows = |w: &ParticleSim| -> Vec<_> {
        let storage = w.world().storage();
        (0..storage.len())
            .map(|i| {
                let (e, p) = storage.row(i).unwrap();
                (e, p.float_bits(), p.color)
            })
            .collect()
    };
    let before = rows(&w);
    w.request(Switch::Layout(Layout::Aos)).unwrap();
    w.run(0);
    assert_eq!(
        w.world().storage().layout(),
        Layout::Soa,
        "run(0) applies nothing"
    );
    // Apply through a real step boundary, then compare against the same step without a switch.
    let mut twin = world(&scene, Strategy::default());
    twin.run(30);
    assert_eq!(rows(&twin), before);
    w.step();
    twin.step();
    assert_eq!(w.world().storage().layout(), Layout::Aos);
    assert_eq!(rows(&w), rows(&twin));
}

#[test]
fn memory_reaches_a_steady_high_water_mark_under_churn() {
    let scene = scene("churn", 5000);
    let mut w = world(&scene, Strategy::default());
    w.run(600); // warm-up: 5 s of simulated time, several full population turnovers
    let warm = w.memory();
    for _ in 0..4 {
        w.run(300);
        let now = w.memory();
        assert!(
            now.storage_capacity <= warm.storage_capacity,
            "{now:?} vs {warm:?}"
        );
        assert!(
            now.frame_arenas.capacity <= warm.frame_arenas.capacity,
            "{now:?} vs {warm:?}"
        );
        assert!(
            now.entity_slots <= w.budget() as usize,
            "slots are reused: {now:?}"
        );
        check_consistency(&w).unwrap();
    }
}

#[test]
fn budget_changes_apply_between_steps() {
    let scene = scene("churn", 4000);
    let mut w = world(&scene, Strategy::default());
    w.set_budget(1000).unwrap();
    w.run(200);
    assert!(w.len() <= 1000, "{}", w.len());
    assert_eq!(w.budget(), 1000);
    let e = w.set_budget(0).unwrap_err();
    assert_eq!(e.parameter(), "budget");
    assert_eq!(w.budget(), 1000, "a refused budget changes nothing");
}

#[test]
fn bad_parameters_are_errors_that_name_them() {
    let scene = scene("default", 1000);
    let zero = Strategy {
        threads: 0,
        ..Strategy::default()
    };
    let e = ParticleSim::new(scene.clone(), zero).err().unwrap();
    assert!(
        e.to_string().starts_with("threads = 0: expected 1 to"),
        "{e}"
    );
    let mut w = world(&scene, Strategy::default());
    assert!(w.request(Switch::Threads(0)).is_err());
    assert_eq!(
        w.world().desired(),
        w.world().strategy(),
        "nothing was queued"
    );
    let mut bad = scene.clone();
    bad.world.dt = 0.0;
    let e = ParticleSim::new(bad, Strategy::default()).err().unwrap();
    assert!(e.to_string().contains("world.dt"), "{e}");
    assert!(w.with_chunk_rows(0).is_err());
}
