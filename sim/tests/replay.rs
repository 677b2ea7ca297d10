//! Record and replay: a session with switches, mouse drags, budget changes, pauses, a scene
//! load and a reset is recorded through the same `Session` the window uses, written to a
//! file, and replayed headless — under the recorded strategy, under every layout × lock
//! held, and through `sim replay` — always to the recorded state. Tampered files give one
//! message naming the file and exit 1.

use engine::particles::replay::{CHECKPOINT_EVERY, EventKind, Recording, file};
use engine::particles::scene::Scene;
use engine::storage::Layout;
use engine::sync::LockStrategy;
use engine::world::Strategy;
use glam::Vec2;
use sim::app::scenes::Catalog;
use sim::app::session::{Overrides, Session};
use sim::bindings::SimAction;
use std::path::PathBuf;
mod common;
use common::sim;
use std::process::Output;

const FRAME: f64 = 1.0 / 60.0;

fn run_frames(s: &mut Session, frames: u32) {
    (0..frames).for_each(|_| {
        s.tick(FRAME);
    });
}

/// A session on the swarm (grid, permutes) that switches everything, drags the mouse,
/// changes the budget, pauses and single-steps, loads the churn scene and resets it.
fn record() -> Recording {
    let catalog = Catalog::locate();
    let swarm = Scene::load(&PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/scenes/swarm.toml"
    )))
    .unwrap()
    .with_particles(400)
    .unwrap();
    let overrides = Overrides {
        particles: Some(300),
        seed: None,
    };
    let strategy = Strategy {
        threads: 2,
        ..Strategy::default()
    };
    let mut s = Session::new(swarm, strategy, overrides).unwrap();
    assert!(!s.start_recording().error);
    let press = |s: &mut Session, a: SimAction| assert!(!s.apply(a, &catalog).error, "{a:?}");
    run_frames(&mut s, 5);
    press(&mut s, SimAction::Layout);
    press(&mut s, SimAction::Lock);
    for i in 0..6 {
        s.set_mouse(Some(Vec2::new(300.0 + 20.0 * i as f32, 400.0)), false);
        run_frames(&mut s, 1);
    }
    s.set_mouse(Some(Vec2::new(500.0, 200.0)), true);
    run_frames(&mut s, 3);
    s.set_mouse(None, false);
    press(&mut s, SimAction::BudgetDown);
    press(&mut s, SimAction::Padding);
    press(&mut s, SimAction::Threads);
    press(&mut s, SimAction::Alloc);
    run_frames(&mut s, 3);
    press(&mut s, SimAction::Pause);
    press(&mut s, SimAction::Step);
    press(&mut s, SimAction::Step);
    run_frames(&mut s, 3);
    press(&mut s, SimAction::Pause);
    press(&mut s, SimAction::BudgetUp);
    // Past a checkpoint.
    run_frames(&mut s, (CHECKPOINT_EVERY / 2 + 10) as u32);
    let churn = 1 + catalog
        .entries()
        .iter()
        .position(|p| p.ends_with("churn.toml"))
        .unwrap();
    press(&mut s, SimAction::Scene(churn));
    run_frames(&mut s, 20);
    press(&mut s, SimAction::Layout);
    press(&mut s, SimAction::Reset);
    run_frames(&mut s, 10);
    s.stop_recording().unwrap()
}

fn kinds(r: &Recording) -> Vec<&'static str> {
    r.events.iter().map(|e| e.kind.name()).collect()
}

#[test]
fn a_recorded_session_replays_to_the_same_state_under_every_strategy() {
    let recording = record();
    for kind in [
        "switch",
        "mouse",
        "budget",
        "pause",
        "single_step",
        "checkpoint",
        "scene",
        "reset",
    ] {
        assert!(
            kinds(&recording).contains(&kind),
            "{kind}: {:?}",
            kinds(&recording)
        );
    }
    let text = file::to_text(&recording);
    let parsed = file::parse("session.replay", &text).unwrap();
    assert_eq!(parsed, recording, "the file holds the whole session");

    let mut again = Session::replaying(&parsed, None).unwrap();
    again.play_to_end(|_, _| {}).unwrap();
    assert_eq!(again.world().state_line(), recording.end.line());

    for layout in Layout::ALL {
        for lock in LockStrategy::ALL {
            let hold = Strategy {
                layout,
                lock,
                threads: 1,
                ..Strategy::default()
            };
            let mut held = Session::replaying(&parsed, Some(hold)).unwrap();
            held.play_to_end(|_, _| {})
                .unwrap_or_else(|d| panic!("{layout}/{lock}: {d}"));
            assert_eq!(held.world().strategy().layout, layout, "held, not switched");
        }
    }
}

#[test]
fn a_tampered_checkpoint_is_found_where_it_diverges() {
    let mut recording = record();
    let (i, step) = recording
        .events
        .iter()
        .enumerate()
        .find_map(|(i, e)| matches!(e.kind, EventKind::Checkpoint { .. }).then_some((i, e.step)))
        .unwrap();
    if let EventKind::Checkpoint { state_hash, .. } = &mut recording.events[i].kind {
        *state_hash ^= 1;
    }
    let mut s = Session::replaying(&recording, None).unwrap();
    let d = s.play_to_end(|_, _| {}).unwrap_err();
    assert_eq!((d.world, d.step), (0, step), "{d}");
    assert!(
        d.to_string()
            .starts_with(&format!("first divergence at step {step}"))
    );
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-replay-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn sim_replay_matches_holds_and_benches_and_refuses_bad_files() {
    let recording = record();
    let text = file::to_text(&recording);
    let path = write("good.replay", &text);
    let p = path.to_str().unwrap();

    let out = sim(&["replay", p]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out).lines().last(),
        Some(recording.end.line().as_str())
    );

    let out = sim(&[
        "replay",
        p,
        "--layout",
        "aos",
        "--lock",
        "mutex",
        "--threads",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("aos mutex"), "{}", stdout(&out));

    let out = sim(&[
        "replay",
        p,
        "--bench",
        "--layout",
        "all",
        "--lock",
        "sharded,mutex",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let table = stdout(&out);
    assert!(
        table.contains("median_ms") && table.contains("replays match"),
        "{table}"
    );

    // The page size is held for the whole replay, and every row names it.
    let out = sim(&["replay", p, "--bench", "--pages", "small"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let row = stdout(&out).lines().nth(1).unwrap_or_default().to_owned();
    assert!(row.contains(" small "), "{row}");

    let out = sim(&["replay", p, "--layout", "soa,aos"]);
    assert_eq!(out.status.code(), Some(2), "a list needs --bench");

    let bad_end = text.replacen(
        &format!("state_hash = \"{:016x}\"", recording.end.state_hash),
        "state_hash = \"0000000000000000\"",
        1,
    );
    let half = &text[..text.len() / 2];
    let future = text.replacen("version = 1", "version = 7", 1);
    let cut = &text[..text.rfind("[[events]]").unwrap()];
    let no_checkpoint = text.replacen("step = 11\n", "step = 99999\n", 1);
    let bad_scene = text.replacen("width = 1600.0", "width = -5.0", 1);
    let out_of_order = text.replacen("step = 11\n", "step = 2\n", 1);
    for (name, text, needle) in [
        (
            "end.replay",
            bad_end.as_str(),
            "did not reach the recorded state",
        ),
        ("half.replay", half, "half.replay: "),
        ("future.replay", future.as_str(), "version 7 is newer"),
        (
            "scene.replay",
            bad_scene.as_str(),
            "[scene]: field `world.width`",
        ),
        ("order.replay", out_of_order.as_str(), "events out of order"),
        ("cut.replay", cut, "it is cut short"),
        (
            "checkpoint.replay",
            no_checkpoint.as_str(),
            "the checkpoint at step 1200 is missing",
        ),
        ("junk.replay", "\u{0}\u{1}garbage", "junk.replay: "),
        ("empty.replay", "", "not a recording"),
    ] {
        assert!(
            text != file::to_text(&recording),
            "{name}: the tampering did not take"
        );
        let path = write(name, text);
        let out = sim(&["replay", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(needle), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let out = sim(&["replay", "/no/such/file.replay"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
