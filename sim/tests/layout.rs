//! `sim layout` as a user runs it: the particle's bytes, the row on cache lines, the bytes
//! each system moves in each layout beside the measured times, and the sentences.

use std::process::Command;

#[test]
fn sim_layout_shows_the_particles_bytes_and_what_they_predict() {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["layout", "--particles", "2000", "--steps", "5"])
        .output()
        .expect("the sim binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "Particle: 32 bytes, align 4, 6 fields, 0 bytes of padding",
        "AoS row (AosRow<Particle>): 40 bytes",
        "4 of every 8 rows straddle two lines",
        "line 4 |",
        "SoA columns, one Vec each (bytes per element): entity 8, position 8",
        "AoS: integrate drags all 40 bytes of each particle through the cache to use 16",
        "SoA: integrate streams 2 columns, reading 16 bytes and writing 16 per particle",
        "sharded: each worker pushes",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing:\n{stdout}");
    }
    let integrate = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("integrate "))
        .expect("a row for integrate");
    let cells: Vec<&str> = integrate.split_whitespace().collect();
    assert_eq!(&cells[1..4], ["16+16", "40+40", "2.50x"], "{integrate}");
    assert!(cells[6].ends_with('x'), "a measured ratio: {integrate}");
}
