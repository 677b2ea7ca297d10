//! `sim run`: the simulation without a window, ending with one line a script can compare.

use crate::Failure;
use crate::cli::RunArgs;
use crate::snapshot::advance;
use engine::counters::Counter;
use engine::world::World;

/// Runs `sim run`; the last line printed is
/// `state_hash=<16 hex digits> particles=<live> steps=<n>`.
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let scene = args.scene.load().map_err(Failure::runtime)?;
    let mut world = World::new(scene, args.strategy.strategy());
    // Memory reports every ~10% of the run (at least every frame for short runs).
    let report_every = if args.report_memory {
        (args.frames / 10).max(1)
    } else {
        args.frames.max(1)
    };
    let mut done = 0;
    while done < args.frames {
        let frames = report_every.min(args.frames - done);
        advance(&mut world, frames);
        done += frames;
        if args.report_memory {
            print_memory(&world, done);
        }
    }
    let counters: Vec<String> = Counter::ALL
        .iter()
        .map(|c| format!("{}={}", c.name(), world.counters().total(*c)))
        .collect();
    crate::out!("counters {}", counters.join(" "));
    crate::out!(
        "state_hash={:016x} particles={} steps={}",
        world.state_hash(),
        world.len(),
        world.steps()
    );
    Ok(())
}

fn print_memory(world: &World, frame: u64) {
    let m = world.memory();
    crate::out!(
        "memory frame={frame} particles={} arena_used={} arena_capacity={} arena_high_water={} storage_capacity={} storage_bytes={} entity_slots={} rss_bytes={}",
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
