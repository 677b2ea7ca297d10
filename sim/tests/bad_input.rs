//! Every kind of bad input the `sim` binary can be given: each gets one clear message and
//! a non-zero exit code (2 for bad flags, 1 for bad files), never a panic (101).
//! The table in docs/bad-input.md lists the same cases with their messages.

use std::path::PathBuf;
mod common;
use common::sim;

fn scene_file(name: &str, text: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `args`, checks the exit code and that stderr contains every `needle`.
fn expect(args: &[&str], code: i32, needles: &[&str]) {
    let out = sim(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}\nstderr: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: stderr lacks {needle:?}:\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
}

fn run_scene(name: &str, text: &str, code: i32, needles: &[&str]) {
    let path = scene_file(name, text.as_bytes());
    let path = path.to_str().unwrap();
    let mut all = vec![name];
    all.extend_from_slice(needles);
    expect(&["run", "--frames", "1", "--scene", path], code, &all);
}

const WORLD: &str = "[world]\nwidth = 100.0\nheight = 100.0\nparticles = 100\n";

#[test]
fn malformed_toml() {
    run_scene("malformed.toml", "[world\nwidth = 1", 1, &[":1:"]);
}

#[test]
fn wrong_type() {
    run_scene(
        "wrong_type.toml",
        "[world]\nwidth = \"wide\"\nheight = 1.0\nparticles = 1\n",
        1,
        &[":2:", "`width`", "invalid type"],
    );
}

#[test]
fn unknown_field() {
    run_scene(
        "unknown.toml",
        &format!("{WORLD}sped = 3\n"),
        1,
        &["unknown field `sped`"],
    );
}

#[test]
fn negative_count() {
    run_scene(
        "negative.toml",
        "[world]\nwidth = 1.0\nheight = 1.0\nparticles = -3\n",
        1,
        &[":4:", "`particles`"],
    );
}

#[test]
fn nan_value() {
    run_scene(
        "nan.toml",
        &format!("{WORLD}[forces]\ndrag = nan\n"),
        1,
        &["forces.drag", "expected a number from 0 to 10"],
    );
}

#[test]
fn huge_values() {
    run_scene(
        "huge.toml",
        "[world]\nwidth = 1.0\nheight = 1.0\nparticles = 900000000\n",
        1,
        &["world.particles", "50000000"],
    );
    run_scene(
        "wide.toml",
        "[world]\nwidth = 1e30\nheight = 1.0\nparticles = 1\n",
        1,
        &["world.width"],
    );
}

#[test]
fn zero_size_world() {
    run_scene(
        "zero.toml",
        "[world]\nwidth = 0.0\nheight = 1.0\nparticles = 1\n",
        1,
        &["world.width"],
    );
}

#[test]
fn missing_file() {
    expect(
        &["run", "--frames", "1", "--scene", "/no/such/scene.toml"],
        1,
        &["/no/such/scene.toml", "cannot read"],
    );
}

#[test]
fn unreadable_file() {
    // Not UTF-8: unreadable as text even for root, who ignores file permissions.
    let path = scene_file("binary.toml", &[0xff, 0xfe, 0x00, 0x80]);
    expect(
        &["run", "--frames", "1", "--scene", path.to_str().unwrap()],
        1,
        &["binary.toml", "cannot read"],
    );
}

#[test]
fn directory_as_scene() {
    expect(
        &[
            "run",
            "--frames",
            "1",
            "--scene",
            env!("CARGO_MANIFEST_DIR"),
        ],
        1,
        &["is a directory"],
    );
}

#[test]
fn bad_flags() {
    expect(
        &["run", "--frames", "1", "--layout", "diagonal"],
        2,
        &["--layout", "expected soa or aos"],
    );
    expect(
        &["run", "--frames", "1", "--lock", "spin"],
        2,
        &["--lock", "mutex, rwlock, lockfree or sharded"],
    );
    expect(
        &["run", "--frames", "1", "--counters", "fat"],
        2,
        &["--padding", "padded or packed"],
    );
    expect(
        &["run", "--frames", "1", "--padding", "fat"],
        2,
        &["--padding", "padded or packed"],
    );
    expect(
        &["bench", "--alloc", "stack"],
        2,
        &["--alloc", "arena or heap"],
    );
    expect(
        &["run", "--frames", "1", "--pages", "1g"],
        2,
        &["--pages", "small or huge"],
    );
    expect(
        &["bench", "--pages", "small,medium"],
        2,
        &["--pages", "small or huge"],
    );
    expect(
        &["run", "--frames", "1", "--threads", "0"],
        2,
        &["--threads", "1 to 256"],
    );
    expect(
        &["run", "--frames", "1", "--particles", "-5"],
        2,
        &["--particles"],
    );
    expect(&["run", "--frames", "-1"], 2, &["--frames"]);
    expect(&["run"], 2, &["--frames"]);
    expect(&["bench", "--threads", "1,x"], 2, &["--threads"]);
    expect(
        &[
            "snapshot", "--frames", "1", "--out", "x.png", "--width", "9",
        ],
        2,
        &["--width"],
    );
    expect(&["--fps", "-3"], 2, &["--fps"]);
    expect(&["layout", "--steps", "0"], 2, &["--steps", "1..=100000"]);
    expect(
        &["layout", "--particles", "x"],
        2,
        &["--particles", "expected 1 to"],
    );
    expect(&["fly"], 2, &["unrecognized subcommand"]);
}

#[test]
fn unwritable_outputs() {
    expect(
        &[
            "snapshot",
            "--frames",
            "1",
            "--particles",
            "100",
            "--out",
            "/no/such/dir/x.png",
        ],
        1,
        &["/no/such/dir/x.png"],
    );
    expect(
        &[
            "bench",
            "--particles",
            "100",
            "--frames",
            "1",
            "--layout",
            "soa",
            "--lock",
            "mutex",
            "--padding",
            "padded",
            "--threads",
            "1",
            "--json",
            "/no/such/dir/x.json",
        ],
        1,
        &["/no/such/dir/x.json"],
    );
}

#[test]
fn no_display_gives_one_line_and_exit_1() {
    let out = sim(&["--particles", "100"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no display"), "{stderr}");
    assert!(
        stderr.contains("sim run")
            && stderr.contains("sim bench")
            && stderr.contains("sim snapshot"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn good_input_still_works() {
    let out = sim(&["run", "--frames", "2", "--particles", "1000"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.trim().lines().last().unwrap();
    assert!(
        last.starts_with("state_hash=") && last.contains(" particles=") && last.contains(" steps="),
        "{last}"
    );
    assert_eq!(
        last.split_whitespace().next().unwrap().len(),
        "state_hash=".len() + 16
    );
}
