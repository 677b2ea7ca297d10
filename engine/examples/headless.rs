//! The particle preset driven from code: a scene built in code (no file), a run, a live
//! strategy switch, and the state hash that proves the switch changed nothing.
//!
//! ```sh
//! cargo run --release -p engine --example headless -- 20000 600
//! ```
//! Arguments: particles (default 20 000) and steps (default 600). The last line is
//! `state_hash=<16 hex digits> particles=<live> steps=<n>`.

use engine::particles::ParticleSim;
use engine::particles::scene::{Attractor, Emitter, Scene, Shape};
use engine::prelude::*;
use std::process::ExitCode;

/// A fountain pulled towards a point, built field by field from the scene types' defaults.
fn scene(particles: u32) -> Scene {
    let mut scene = Scene {
        name: "from code".into(),
        ..Scene::default()
    };
    scene.world.particles = particles;
    scene.forces.gravity = [0.0, -120.0];
    scene.attractors.push(Attractor {
        position: [700.0, 600.0],
        strength: 20_000.0,
        softening: 30.0,
    });
    scene.emitters.push(Emitter {
        position: [300.0, 100.0],
        rate: particles as f32 / 4.0,
        burst: particles / 2,
        shape: Shape::Disc { radius: 20.0 },
        spread: 20.0,
        speed: [150.0, 300.0],
        lifetime: [2.0, 4.0],
        colors: vec!["#ff8800".into(), "#ffee66".into()],
        ..Emitter::default()
    });
    scene
}

fn arg(n: usize, name: &str, default: u64) -> Result<u64, String> {
    match std::env::args().nth(n) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|e| format!("{name}: '{text}' is not a whole number ({e})")),
    }
}

fn main() -> ExitCode {
    let parsed = arg(1, "particles", 20_000).and_then(|p| Ok((p, arg(2, "steps", 600)?)));
    let (particles, steps) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("headless: {e}");
            return ExitCode::from(2);
        }
    };
    let particles = u32::try_from(particles).unwrap_or(u32::MAX);
    let build = |strategy| ParticleSim::new(scene(particles), strategy);
    let (mut sim, mut twin) = match (build(Strategy::default()), build(Strategy::default())) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            // A bad particle count is caught by the scene's own validation, by field name.
            eprintln!("headless: {e}");
            return ExitCode::from(2);
        }
    };
    // Half-way, switch the storage layout and the lock strategy of one of the two.
    sim.run(steps / 2);
    for switch in [
        Switch::Layout(Layout::Aos),
        Switch::Lock(LockStrategy::Mutex),
    ] {
        sim.request(switch)
            .expect("layouts and locks are always valid");
    }
    sim.run(steps - steps / 2);
    twin.run(steps);
    let times: Vec<String> = sim
        .times()
        .iter()
        .map(|(name, t)| format!("{name}={:.3}ms", t.as_secs_f64() * 1e3))
        .collect();
    println!("last step: {}", times.join(" "));
    let counters: Vec<String> = sim
        .counter_totals()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    println!("counters: {}", counters.join(" "));
    println!(
        "switched to {}/{} half-way: same state as without the switch: {}",
        sim.strategy().layout,
        sim.strategy().lock,
        sim.state_hash() == twin.state_hash()
    );
    println!("{}", sim.state_line());
    if sim.state_hash() == twin.state_hash() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
