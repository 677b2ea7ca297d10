//! Boids with predators: the engine driven from your own code.
//!
//! A flock of your own bundle ([`Boid`], declared with `bundle!`) lives in a `World<Boid>`;
//! a `Schedule<Boid, Flock>` runs five named systems you write yourself each step:
//!
//! | system | shows |
//! |---|---|
//! | `audit` | a live layout switch is applied before the step's first system and loses nothing |
//! | `steer` | a spatial grid in the frame arena; neighbour reads; parallel chunks, one body for both layouts |
//! | `hunt` | state outside the bundle (the predators); despawns through the command buffer; a named counter |
//! | `integrate` | a cheap parallel per-row system |
//! | `respawn` | a serial system with a seeded RNG, spawning through the command buffer |
//!
//! ```sh
//! cargo run --release -p engine --example boids -- --layout aos --lock mutex --threads 2
//! ```
//!
//! Flags: `--layout soa|aos --lock mutex|rwlock|lockfree|sharded --threads N --steps N
//! --boids N`, and `--switch-at STEP` (default: half way; past `--steps`: never) for the live
//! layout switch. The last line, `state_hash=... boids=... steps=...`, is the same for every
//! layout, lock strategy, thread count and switch step: per-boid work depends only on the
//! data, sums run in a fixed order, and the engine applies commands in a fixed order.
//!
//! `rand` and `rand_pcg` are dependencies of the engine, so this example can use them; a
//! crate of your own would list them in its `Cargo.toml`.

use engine::prelude::*;
use engine::world::state_hash;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::process::exit;
use std::time::Instant;

bundle! {
    /// One boid. SoA keeps each field in its own column; AoS keeps whole rows.
    pub mod boid: Boid {
        /// World units.
        pub position: Vec2,
        /// World units per second.
        pub velocity: Vec2,
        /// Seconds since it hatched (the `integrate` system ages it).
        pub age: f32,
    }
}

/// Fixed step, seconds.
const DT: f32 = 1.0 / 60.0;
/// Boids per square world unit at the start: sets the world's size.
const DENSITY: f32 = 0.02;
/// Neighbours within this distance steer a boid; also the grid's cell size.
const SIGHT: f32 = 8.0;
/// Neighbours closer than this push the boid away.
const PERSONAL_SPACE: f32 = 3.0;
const MIN_SPEED: f32 = 20.0;
const MAX_SPEED: f32 = 60.0;
/// Separation, alignment, cohesion, fleeing: weights of the steering rules.
const RULES: [f32; 4] = [400.0, 2.0, 1.5, 600.0];
const PREDATORS: usize = 4;
const PREDATOR_SPEED: f32 = 75.0;
/// A boid this close to a predator is eaten; closer than `FLEE` it runs.
const CATCH: f32 = 2.0;
const FLEE: f32 = 25.0;
/// At most this many newcomers join per step while the flock is short.
const RESPAWN_PER_STEP: usize = 8;
/// Rows per parallel chunk: the default (32 768) would leave 20 000 boids on one thread.
const CHUNK_ROWS: usize = 2048;

/// Everything the systems share beyond the world (the schedule's resources).
struct Flock {
    size: Vec2,
    geometry: GridGeometry,
    /// Predators are `Boid` values kept here, not rows of the world: nothing is forced
    /// into the bundle.
    predators: Vec<Boid>,
    rng: Pcg64Mcg,
    /// The population `respawn` keeps up.
    population: usize,
    eaten: CounterId,
    respawned: CounterId,
    /// Set by `main` before a layout switch: the hash the world must still have after it.
    switch_audit: Option<u64>,
    /// Whether the switch lost nothing (set by `audit`).
    switch_ok: Option<bool>,
}

fn random_boid(rng: &mut Pcg64Mcg, size: Vec2) -> Boid {
    let position = Vec2::new(rng.random_range(0.0..size.x), rng.random_range(0.0..size.y));
    let angle = rng.random_range(0.0..std::f32::consts::TAU);
    let velocity = Vec2::from_angle(angle) * rng.random_range(MIN_SPEED..MAX_SPEED);
    Boid {
        position,
        velocity,
        age: 0.0,
    }
}

/// Reflects a position that left `[0, size]` back inside and turns the velocity around.
fn bounce(position: &mut Vec2, velocity: &mut Vec2, size: Vec2) {
    for axis in 0..2 {
        if position[axis] < 0.0 {
            position[axis] = -position[axis];
            velocity[axis] = velocity[axis].abs();
        } else if position[axis] > size[axis] {
            position[axis] = 2.0 * size[axis] - position[axis];
            velocity[axis] = -velocity[axis].abs();
        }
    }
}

/// Checks, at the start of the step after `main` requested a layout switch, that every
/// handle and value came through the conversion bit-identical.
fn audit(world: &mut World<Boid>, flock: &mut Flock) {
    if let Some(before) = flock.switch_audit.take() {
        let same = flock_hash(world) == before && world.storage().check().is_ok();
        flock.switch_ok = Some(same);
    }
}

/// Separation, alignment and cohesion from the neighbours the grid finds, plus fleeing.
fn steer(world: &mut World<Boid>, flock: &mut Flock) {
    let (storage, shared) = world.split();
    let arena = shared.frame;
    let grid = {
        let _t = shared.timers.scope("grid");
        // One slice of positions: the column itself in SoA, gathered into the arena in AoS.
        let positions = storage.slice_of(boid::FIELDS.position, arena);
        Grid::build_in_parts(arena, flock.geometry, positions, shared.chunk_rows)
    };
    // Neighbours' velocities must be read while the rows are borrowed mutably below: copy
    // them into the frame arena first (in SoA `slice_of` borrows the column itself).
    let velocities: &[Vec2] =
        arena.alloc_slice_copy(storage.slice_of(boid::FIELDS.velocity, arena));
    // The closure must be `Sync`: it may capture the grid and slices, not `shared.frame`
    // (an `Arena` is not `Sync`; workers that need scratch use `arena::with_thread_scratch`).
    with_rows!(storage.rows_mut(), |rows| for_each_chunk(
        rows,
        shared.chunk_rows,
        &|chunk, first| steer_chunk(chunk, first, &grid, velocities, &flock.predators)
    ));
}

/// Steers one chunk whose first row is `first`. Written once over [`Rows`]; `with_rows!`
/// compiles it for SoA columns and for AoS rows.
fn steer_chunk<'a>(
    rows: impl Rows<'a, Item = boid::Mut<'a>>,
    first: usize,
    grid: &Grid,
    velocities: &[Vec2],
    predators: &[Boid],
) {
    let [separation, alignment, cohesion, flee] = RULES;
    let mut row = first as u32;
    rows.for_each(|b| {
        let here = *b.position;
        let (mut push, mut heading, mut centre, mut seen) =
            (Vec2::ZERO, Vec2::ZERO, Vec2::ZERO, 0u32);
        // Candidates come in an order fixed by the data (cells, then storage order), so the
        // sums come out bit-identical whatever the thread count.
        grid.for_each_near(here, |other, there| {
            let away = here - there;
            let d2 = away.length_squared();
            if other == row || d2 >= SIGHT * SIGHT {
                return;
            }
            seen += 1;
            heading += velocities[other as usize];
            centre += there;
            if d2 < PERSONAL_SPACE * PERSONAL_SPACE && d2 > 0.0 {
                push += away / d2;
            }
        });
        let mut accel = push * separation;
        if seen > 0 {
            let inv = 1.0 / seen as f32;
            accel += (heading * inv - *b.velocity) * alignment + (centre * inv - here) * cohesion;
        }
        for p in predators {
            let away = here - p.position;
            if away.length_squared() < FLEE * FLEE {
                accel += away.normalize_or_zero() * flee;
            }
        }
        let v = *b.velocity + accel * DT;
        let speed = v.length().max(f32::MIN_POSITIVE);
        *b.velocity = v * (speed.clamp(MIN_SPEED, MAX_SPEED) / speed);
        row += 1;
    });
}

/// Predators chase the nearest boid; boids within reach are despawned through the command
/// buffer (applied after this system, in a fixed order) and counted as `eaten`. The grid
/// of `steer` cannot be kept (it borrows that system's arena), so the few predators scan
/// every position: `slice_of` again, a gather into the frame arena in AoS.
fn hunt(world: &mut World<Boid>, flock: &mut Flock) {
    let (storage, shared) = world.split();
    let positions = storage.slice_of(boid::FIELDS.position, shared.frame);
    for p in &mut flock.predators {
        let nearest = positions.iter().min_by(|a, b| {
            a.distance_squared(p.position)
                .total_cmp(&b.distance_squared(p.position))
        });
        let wanted = nearest.map_or(Vec2::ZERO, |t| {
            (*t - p.position).normalize_or_zero() * PREDATOR_SPEED
        });
        p.velocity += (wanted - p.velocity) * 0.1;
        p.position += p.velocity * DT;
        bounce(&mut p.position, &mut p.velocity, flock.size);
    }
    with_rows!(storage.rows(), |rows| for_each_chunk(
        rows,
        shared.chunk_rows,
        &|chunk, first| {
            // One writer per chunk, keyed by its first row: the apply order ignores threads.
            let mut writer = shared.commands.writer(first);
            chunk.for_each(|b: boid::Ref| {
                if flock
                    .predators
                    .iter()
                    .any(|p| p.position.distance_squared(*b.position) < CATCH * CATCH)
                {
                    writer.despawn(*b.entity);
                    shared.counters.add(flock.eaten, 1);
                }
            });
        }
    ));
}

/// Moves every boid, bounces it off the world's edges and ages it.
fn integrate(world: &mut World<Boid>, flock: &mut Flock) {
    let (storage, shared) = world.split();
    let size = flock.size;
    with_rows!(storage.rows_mut(), |rows| for_each_chunk(
        rows,
        shared.chunk_rows,
        &|chunk, _| {
            chunk.for_each(|b: boid::Mut| {
                *b.position += *b.velocity * DT;
                bounce(b.position, b.velocity, size);
                *b.age += DT;
            })
        }
    ));
}

/// Serial (it draws from one RNG): newcomers replace the eaten, a few per step.
fn respawn(world: &mut World<Boid>, flock: &mut Flock) {
    let missing = flock
        .population
        .saturating_sub(world.len())
        .min(RESPAWN_PER_STEP);
    world.commands_mut().reserve(0, missing); // so queueing allocates nothing
    let (_, shared) = world.split();
    let mut writer = shared.commands.writer(0);
    for _ in 0..missing {
        writer.spawn(random_boid(&mut flock.rng, flock.size));
    }
    shared.counters.add(flock.respawned, missing as u64);
}

/// Every live boid's handle and field bits, in entity order: equal hashes, equal flocks.
fn flock_hash(world: &World<Boid>) -> u64 {
    state_hash(world.storage(), |b: &Boid| {
        let floats = [
            b.position.x,
            b.position.y,
            b.velocity.x,
            b.velocity.y,
            b.age,
        ];
        floats.map(|f| u64::from(f.to_bits()))
    })
}

struct Args {
    strategy: Strategy,
    steps: u64,
    boids: usize,
    switch_at: Option<u64>,
}

const USAGE: &str = "usage: boids [--layout soa|aos] [--lock mutex|rwlock|lockfree|sharded] \
                     [--threads N] [--steps N] [--boids N] [--switch-at STEP]";

const FLAGS: &str = "--layout, --lock, --threads, --steps, --boids, --switch-at or --help";

/// Parses the command line; an error names the flag and what it accepts.
fn parse_args() -> Result<Args, String> {
    let names = |all: &[&str]| all.join("|");
    let mut args = Args {
        strategy: Strategy::default(),
        steps: 300,
        boids: 20_000,
        switch_at: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let accepted = match flag.as_str() {
            "--layout" => names(&Layout::ALL.map(Layout::name)),
            "--lock" => names(&LockStrategy::ALL.map(LockStrategy::name)),
            "--threads" => format!("1 to {}", engine::world::MAX_THREADS),
            "--boids" => "1 to 1000000".to_owned(),
            "--steps" | "--switch-at" => "a whole number".to_owned(),
            "-h" | "--help" => {
                println!("{USAGE}");
                exit(0);
            }
            _ => return Err(format!("unknown flag '{flag}' (expected {FLAGS})")),
        };
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value: {accepted}"))?;
        let bad = || format!("{flag} = {value}: expected {accepted}");
        let number = || value.parse::<u64>().map_err(|_| bad());
        let s = &mut args.strategy;
        match flag.as_str() {
            // `Layout` and `LockStrategy` parse from their names, with messages listing them.
            "--layout" => s.layout = value.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--lock" => s.lock = value.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--threads" => s.threads = number()? as usize,
            "--steps" => args.steps = number()?,
            "--switch-at" => args.switch_at = Some(number()?),
            _ => match number()? {
                n @ 1..=1_000_000 => args.boids = n as usize,
                _ => return Err(bad()),
            },
        }
    }
    // The engine checks the thread count; its error names the parameter like the flag.
    args.strategy = args.strategy.validate().map_err(|e| format!("--{e}"))?;
    Ok(args)
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("boids: {e}");
        exit(2)
    });
    let mut world: World<Boid> = World::new(args.strategy).unwrap_or_else(|e| {
        eprintln!("boids: {e}");
        exit(1)
    });
    world.set_chunk_rows(CHUNK_ROWS).expect("chunk rows > 0");
    let side = (args.boids as f32 / DENSITY).sqrt().max(4.0 * SIGHT);
    let size = Vec2::splat(side);
    let mut rng = Pcg64Mcg::seed_from_u64(42);
    for _ in 0..args.boids {
        world.spawn(random_boid(&mut rng, size));
    }
    let predators = (0..PREDATORS)
        .map(|_| random_boid(&mut rng, size))
        .collect();
    let mut flock = Flock {
        size,
        geometry: GridGeometry::new(side, side, SIGHT).expect("a sane grid"),
        predators,
        rng,
        population: args.boids,
        eaten: world.register_counter("eaten"),
        respawned: world.register_counter("respawned"),
        switch_audit: None,
        switch_ok: None,
    };
    let mut schedule: Schedule<Boid, Flock> = Schedule::new();
    schedule
        .add("audit", audit)
        .and_then(|s| s.add("steer", steer))
        .and_then(|s| s.add("hunt", hunt))
        .and_then(|s| s.add("integrate", integrate))
        .and_then(|s| s.add("respawn", respawn))
        .expect("distinct system names");

    let s = world.strategy();
    println!(
        "{} boids, {PREDATORS} predators, {side:.0}x{side:.0} world, {} / {} / {} threads",
        args.boids, s.layout, s.lock, s.threads
    );
    let start = Instant::now();
    let switch_at = args.switch_at.unwrap_or(args.steps / 2).min(args.steps);
    schedule.run(&mut world, &mut flock, switch_at);
    if switch_at < args.steps {
        // Asked for between steps; the world converts its storage when the next step starts.
        let from = world.strategy().layout;
        flock.switch_audit = Some(flock_hash(&world));
        world
            .request(Switch::Layout(from.toggled()))
            .expect("a layout is always valid");
        schedule.run(&mut world, &mut flock, args.steps - switch_at);
        let to = world.strategy().layout;
        if flock.switch_ok != Some(true) {
            eprintln!("boids: the switch {from} -> {to} changed the data");
            exit(1);
        }
        println!("layout {from} -> {to} after step {switch_at}: every handle and value kept");
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Counters by the names registered; per-system wall times of the last step.
    let mut summary = format!("{} steps in {elapsed:.2} s:", world.steps());
    for (name, n) in world.counters().totals() {
        summary += &format!(" {name}={n}");
    }
    for (name, t) in world.times().iter() {
        summary += &format!(" {name}={:.2}ms", t.as_secs_f64() * 1e3);
    }
    println!("{summary}");
    println!(
        "state_hash={:016x} boids={} steps={}",
        flock_hash(&world),
        world.len(),
        world.steps()
    );
}
