//! Helpers shared by the integration tests that run the `sim` binary.

use std::process::{Command, Output};

/// Runs `sim` with `args` and no display, so nothing opens a window.
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the sim binary runs")
}
