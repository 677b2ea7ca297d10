//! `sim run`: the simulation without a window, ending with one line a script can compare.

use crate::Failure;
use crate::cli::RunArgs;
use crate::snapshot::advance;
use engine::entity::Entity;
use engine::particles::{ParticleSim, check_consistency};
use engine::world::Switch;

/// Handles sampled at one memory report and re-checked at the next.
const HANDLE_SAMPLE: usize = 1000;

/// Runs `sim run`; the last line printed is
/// `state_hash=<16 hex digits> particles=<live> steps=<n>`.
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let world = simulate(args)?;
    let counters: Vec<String> = world
        .counter_totals()
        .map(|(name, total)| format!("{name}={total}"))
        .collect();
    crate::out!("counters {}", counters.join(" "));
    crate::out!("{}", world.state_line());
    Ok(())
}

/// The run itself: `--frames` display frames, or exactly `--steps` fixed steps; memory
/// reports and switches (`--switch-every`) count in the same unit.
fn simulate(args: &RunArgs) -> Result<ParticleSim, Failure> {
    let (total, unit) = match (args.frames, args.steps) {
        (Some(frames), None) => (frames, Unit::Frames),
        (None, Some(steps)) => (steps, Unit::Steps),
        _ => return Err(Failure::usage("give either --frames or --steps")),
    };
    let scene = args.scene.load().map_err(Failure::runtime)?;
    let mut world = ParticleSim::new(scene, args.strategy.strategy())
        .map_err(|e| Failure::runtime(e.to_string()))?;
    // Stop at every memory report and every switch; otherwise run straight through.
    let report_every = if args.report_memory {
        (total / 20).max(1)
    } else {
        u64::MAX
    };
    let switch_every = args.switch_every.unwrap_or(u64::MAX);
    let progress = crate::progress::bar(total, unit.name());
    // Stops for the bar too, about a hundred in a run.
    let tick_every = (total / 100).max(1);
    let mut sampled: Vec<Entity> = Vec::new();
    let mut done = 0;
    while done < total {
        let next_stop = [
            total,
            next_multiple(done, report_every),
            next_multiple(done, switch_every),
            next_multiple(done, tick_every),
        ];
        let until = next_stop.into_iter().min().unwrap_or(total);
        match unit {
            Unit::Frames => {
                advance(&mut world, until - done, &progress);
            }
            Unit::Steps => world.run(until - done),
        }
        done = until;
        progress.set_position(done);
        if done % switch_every == 0 && done < total {
            switch(&mut world);
        }
        if args.report_memory && (done % report_every == 0 || done == total) {
            print_memory(&world, unit, done);
            check_handles(&world, &sampled).map_err(Failure::runtime)?;
            sampled = sample_handles(&world);
        }
    }
    progress.finish_and_clear();
    Ok(world)
}

/// What `--frames` or `--steps` counts.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    /// Display frames of 1/60 s (each runs the fixed steps due).
    Frames,
    /// Fixed steps.
    Steps,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Frames => "frames",
            Unit::Steps => "steps",
        }
    }
}

/// The first multiple of `every` after `done` (saturating).
fn next_multiple(done: u64, every: u64) -> u64 {
    (done / every).saturating_add(1).saturating_mul(every)
}

/// Flips the layout and moves to the next lock strategy (applied before the next step).
fn switch(world: &mut ParticleSim) {
    let s = world.strategy();
    for switch in [
        Switch::Layout(s.layout.toggled()),
        Switch::Lock(s.lock.next()),
    ] {
        world
            .request(switch)
            .expect("layout and lock switches are always in range");
    }
    crate::out!(
        "switch frame_step={} layout={} lock={}",
        world.steps(),
        s.layout.toggled(),
        s.lock.next()
    );
}

fn sample_handles(world: &ParticleSim) -> Vec<Entity> {
    let storage = world.world().storage();
    let n = storage.len();
    let stride = (n / HANDLE_SAMPLE).max(1);
    (0..n)
        .step_by(stride)
        .filter_map(|i| storage.entity_at(i))
        .collect()
}

/// Storage and allocator agree, and no handle sampled earlier resolves to anything but
/// itself (a dead one must not resolve at all, even if its slot was reused).
fn check_handles(world: &ParticleSim, sampled: &[Entity]) -> Result<(), String> {
    check_consistency(world)?;
    for &e in sampled {
        let storage = world.world().storage();
        let stored = storage.slot_of(e).and_then(|slot| storage.entity_at(slot));
        let alive = storage.entities().is_alive(e);
        if (alive && stored != Some(e)) || (!alive && stored.is_some()) {
            return Err(format!(
                "handle {e:?}: alive={alive} but storage resolves it to {stored:?}"
            ));
        }
    }
    Ok(())
}

fn print_memory(world: &ParticleSim, unit: Unit, done: u64) {
    let m = world.memory();
    let at = match unit {
        Unit::Frames => "frame",
        Unit::Steps => "step",
    };
    crate::out!(
        "memory {at}={done} particles={} arena_used={} arena_capacity={} arena_high_water={} storage_capacity={} storage_bytes={} entity_slots={} rss_bytes={}",
        world.len(),
        m.frame_arenas.used,
        m.frame_arenas.capacity,
        m.frame_arenas.high_water,
        m.storage_capacity,
        m.storage_bytes,
        m.entity_slots,
        rss_bytes().map_or_else(|| "unknown".to_string(), |b| b.to_string()),
    );
}

/// Resident set size of this process, from /proc (Linux only).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn simulate_with(args: &[&str]) -> ParticleSim {
        let cli =
            Cli::try_parse_from(["sim", "run", "--particles", "500"].iter().chain(args)).unwrap();
        let Some(Command::Run(run)) = cli.command else {
            panic!("run expected")
        };
        simulate(&run).unwrap()
    }

    #[test]
    fn steps_runs_exactly_that_many_fixed_steps() {
        assert_eq!(simulate_with(&["--steps", "7"]).steps(), 7);
        assert_eq!(simulate_with(&["--steps", "0"]).steps(), 0);
        let switched = simulate_with(&["--steps", "9", "--switch-every", "2"]);
        assert_eq!(switched.steps(), 9);
        assert_eq!(
            switched.state_hash(),
            simulate_with(&["--steps", "9"]).state_hash(),
            "switches do not change the state"
        );
    }

    #[test]
    fn frames_still_advance_the_clock_by_display_frames() {
        // The default scene steps at 120 Hz: two steps per 1/60 s frame.
        let frames = simulate_with(&["--frames", "5"]);
        assert_eq!(frames.steps(), 10);
        assert_eq!(
            frames.state_hash(),
            simulate_with(&["--steps", "10"]).state_hash()
        );
    }
}
