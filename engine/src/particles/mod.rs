//! The particle simulation: one preset built on the public [`World`] and [`Schedule`] API,
//! with nothing a user could not write.
//!
//! [`ParticleSim`] holds a `World<Particle>`, the state its systems share
//! ([`ParticleState`]: the scene, emitters, RNG, force field) and the schedule:
//!
//! | system | what it does |
//! |---|---|
//! | `stash` | if a renderer asked for it ([`ParticleSim::keep_previous_positions`]), keeps every position as the step starts, in the frame arena, to interpolate from |
//! | `forces` | bins positions into a grid (timed as `grid`) and applies attractors and neighbour repulsion (parallel) |
//! | `integrate` | gravity, drag, motion, wall bounces (parallel; on SoA, AVX2 picked at run time, else `Vec4` lanes) |
//! | `age` | lifetimes; the dead are queued as despawns through the command buffer (parallel) |
//! | `emit` | emitters queue spawns up to the budget (serial: it draws from the RNG) |
//!
//! After each system the schedule applies the commands it queued (timed as `apply`), but
//! age's despawns wait for emit's spawns, which then take the dead particles' rows in place
//! ([`Commands::apply`](crate::world::Commands::apply)): at a full budget, no row moves.

pub mod access;
pub mod emitter;
pub mod particle;
pub mod replay;
pub mod scene;
pub mod systems;

pub use particle::Particle;

use crate::counters::CounterId;
use crate::error::ParamError;
use crate::grid::{Grid, GridGeometry};
use crate::parallel::for_each_chunk;
use crate::storage::{ByLayout, Layout, RowsRef};
use crate::sync::SharedParams;
use crate::timer::SystemTimes;
use crate::timestep::FixedTimestep;
use crate::world::{MemoryStats, Previous, PreviousView, Schedule, Strategy, Switch, World};
use emitter::EmitterState;
use glam::Vec2;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use scene::{MAX_PARTICLES, Scene, SceneError};
use systems::{Attractor, ForceField, MAX_ATTRACTORS, Motion, NeighbourTally, Pushes};

/// With neighbour forces on, the storage is reordered into grid-cell order this often (in
/// steps), so the rows a neighbour query reads sit next to each other in memory.
const REORDER_EVERY: u64 = 8;

/// The counters the preset keeps, in display order.
pub const COUNTERS: [&str; 5] = [
    "spawned",
    "died",
    "bounces",
    "cells_visited",
    "neighbour_checks",
];

/// Why a particle simulation could not be built.
#[derive(Debug)]
pub enum SimError {
    /// The scene has a value out of range.
    Scene(SceneError),
    /// A strategy or other parameter is out of range.
    Param(ParamError),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Scene(e) => e.fmt(f),
            SimError::Param(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SimError {}

impl From<SceneError> for SimError {
    fn from(e: SceneError) -> Self {
        SimError::Scene(e)
    }
}

impl From<ParamError> for SimError {
    fn from(e: ParamError) -> Self {
        SimError::Param(e)
    }
}

/// What the particle systems share beyond the world.
pub struct ParticleState {
    scene: Scene,
    emitters: Vec<EmitterState>,
    rng: Pcg64Mcg,
    /// The force field of the step, read by the workers through the lock strategy.
    field: SharedParams<ForceField>,
    base_field: ForceField,
    mouse: Option<Attractor>,
    grid: Option<GridGeometry>,
    motion: Motion,
    budget: u32,
    ids: CounterIds,
    /// Positions at the start of the step, followed through the step's row moves.
    previous: Previous<Particle, Vec2>,
    /// Whether `stash` captures them (only renderers need them).
    keep_previous: bool,
}

#[derive(Clone, Copy)]
struct CounterIds {
    spawned: CounterId,
    died: CounterId,
    bounces: CounterId,
    cells_visited: CounterId,
    neighbour_checks: CounterId,
}

/// A running particle simulation: the world, the systems' state and the schedule.
///
/// ```
/// use engine::particles::{ParticleSim, scene::Scene};
/// use engine::prelude::*;
/// let scene = Scene::default_scene().with_particles(1_000).unwrap();
/// let mut soa = ParticleSim::new(scene.clone(), Strategy { threads: 1, ..Strategy::default() }).unwrap();
/// let mut aos = ParticleSim::new(scene, Strategy { layout: Layout::Aos, threads: 2, ..Strategy::default() }).unwrap();
/// soa.run(20);
/// aos.run(20);
/// assert_eq!(soa.state_hash(), aos.state_hash()); // same bits, whatever the strategy
/// ```
pub struct ParticleSim {
    world: World<Particle>,
    state: ParticleState,
    schedule: Schedule<Particle, ParticleState>,
}

impl ParticleSim {
    /// A simulation of `scene` with `strategy`, its initial bursts already spawned.
    ///
    /// # Errors
    /// If the scene has a value out of range (scenes built in code are checked like
    /// files), or the strategy is.
    pub fn new(scene: Scene, strategy: Strategy) -> Result<ParticleSim, SimError> {
        scene.validate()?;
        let mut world = World::new(strategy)?;
        let ids = CounterIds {
            spawned: world.register_counter(COUNTERS[0]),
            died: world.register_counter(COUNTERS[1]),
            bounces: world.register_counter(COUNTERS[2]),
            cells_visited: world.register_counter(COUNTERS[3]),
            neighbour_checks: world.register_counter(COUNTERS[4]),
        };
        let base_field = base_field(&scene);
        let grid = match scene.forces.repulsion {
            Some(r) => Some(GridGeometry::new(
                scene.world.width,
                scene.world.height,
                r.radius,
            )?),
            None => None,
        };
        let f = &scene.forces;
        let dt = scene.world.dt;
        let bounds = Vec2::new(scene.world.width, scene.world.height);
        let motion = Motion {
            dt,
            gravity_dt: Vec2::from(f.gravity) * dt,
            damping: 1.0 - f.drag * dt,
            bounds,
            restitution: f.restitution,
        };
        let mut state = ParticleState {
            emitters: scene.emitters.iter().map(EmitterState::new).collect(),
            rng: Pcg64Mcg::seed_from_u64(scene.seed),
            field: SharedParams::new(strategy.lock, strategy.threads, base_field),
            base_field,
            mouse: None,
            grid,
            motion,
            budget: scene.world.particles,
            ids,
            previous: Previous::new(particle::FIELDS.position),
            keep_previous: false,
            scene,
        };
        let budget = state.budget as usize;
        world.commands_mut().reserve(0, budget);
        let gravity = Vec2::from(state.scene.forces.gravity);
        {
            let (_, shared) = world.split();
            let mut queue = shared.commands.writer(0);
            let mut queued = 0;
            for e in &state.emitters {
                e.burst(&mut state.rng, gravity, bounds, |p| {
                    if queued < budget {
                        queue.spawn(p);
                        queued += 1;
                    }
                });
            }
            shared.counters.add(ids.spawned, queued as u64);
        }
        let applied = world.apply_commands();
        debug_assert!(applied.spawned <= budget);
        Ok(ParticleSim {
            world,
            state,
            schedule: schedule(),
        })
    }

    /// Sets the rows per parallel chunk (see [`World::set_chunk_rows`]).
    ///
    /// # Errors
    /// If `rows` is 0.
    pub fn with_chunk_rows(mut self, rows: usize) -> Result<ParticleSim, ParamError> {
        self.world.set_chunk_rows(rows)?;
        Ok(self)
    }

    /// Runs one fixed step.
    pub fn step(&mut self) {
        self.run(1);
    }

    /// Runs `n` steps (one pool entry for all of them).
    pub fn run(&mut self, n: u64) {
        self.schedule.run(&mut self.world, &mut self.state, n);
    }

    /// The world: entities, rows, counters, strategy.
    pub fn world(&self) -> &World<Particle> {
        &self.world
    }

    /// The scene it runs.
    pub fn scene(&self) -> &Scene {
        &self.state.scene
    }

    /// The schedule's systems, in run order.
    pub fn systems(&self) -> impl Iterator<Item = &str> {
        self.schedule.names()
    }

    /// Wall time of each system in the last step (and `grid`, `apply`).
    pub fn times(&self) -> SystemTimes {
        self.world.times()
    }

    /// The particle budget: live particles never exceed it (emitters stop at it).
    pub fn budget(&self) -> u32 {
        self.state.budget
    }

    /// Sets the particle budget (existing particles above it are kept until they die).
    ///
    /// # Errors
    /// If `budget` is 0 or above [`MAX_PARTICLES`].
    pub fn set_budget(&mut self, budget: u32) -> Result<(), ParamError> {
        if !(1..=MAX_PARTICLES).contains(&budget) {
            return Err(ParamError::new(
                "budget",
                budget,
                format!("1 to {MAX_PARTICLES}"),
            ));
        }
        self.state.budget = budget;
        Ok(())
    }

    /// Asks for a strategy switch from the next step on (see [`World::request`]).
    ///
    /// # Errors
    /// If the switch is out of range; nothing changes then.
    pub fn request(&mut self, switch: Switch) -> Result<(), ParamError> {
        self.world.request(switch)
    }

    /// The strategy in effect.
    pub fn strategy(&self) -> Strategy {
        self.world.strategy()
    }

    /// The strategy asked for, in effect from the next step.
    pub fn desired(&self) -> Strategy {
        self.world.desired()
    }

    /// The thread pool steps run on (renderers may reuse it).
    pub fn pool(&self) -> &rayon::ThreadPool {
        self.world.pool()
    }

    /// The particles' rows in the active layout, for renderers (use with
    /// [`with_rows!`](crate::with_rows)).
    pub fn rows(&self) -> RowsRef<'_, Particle> {
        self.world.rows()
    }

    /// Whether each step keeps the positions it starts from (system `stash`), for
    /// [`ParticleSim::previous_positions`]. Off by default: it costs a copy of the position
    /// column per step (0.77 ms at 1M particles in SoA on 2 cores, 2.34 ms in AoS, which
    /// gathers 8 bytes out of every 40-byte row: `sim bench --particles 1000000 --render`,
    /// 2026-12-02), and only renderers need it.
    pub fn keep_previous_positions(&mut self, keep: bool) {
        self.state.keep_previous = keep;
    }

    /// Every particle's position at the start of the last step, matched to the rows now
    /// (row `i` is the particle of row `i` of [`ParticleSim::rows`]; `None` for a particle
    /// spawned in that step). With the rows' positions, the two states a renderer
    /// interpolates between. `None` before the first step, and unless
    /// [`ParticleSim::keep_previous_positions`] is on.
    pub fn previous_positions(&self) -> Option<PreviousView<'_, Vec2>> {
        self.state.previous.view(&self.world)
    }

    /// Live particles.
    pub fn len(&self) -> usize {
        self.world.len()
    }

    /// Whether no particle is alive.
    pub fn is_empty(&self) -> bool {
        self.world.is_empty()
    }

    /// Steps run so far.
    pub fn steps(&self) -> u64 {
        self.world.steps()
    }

    /// The fixed step length in seconds.
    pub fn dt(&self) -> f32 {
        self.state.scene.world.dt
    }

    /// A fixed-step clock for this scene: its `dt`, at most `max_steps_per_frame` a frame.
    /// The one clock that turns display frames into steps, for windows and headless runs.
    pub fn clock(&self) -> FixedTimestep {
        let w = &self.state.scene.world;
        FixedTimestep::new(f64::from(w.dt), w.max_steps_per_frame)
            .expect("a validated scene has a positive dt and at least one step per frame")
    }

    /// The world's size.
    pub fn bounds(&self) -> Vec2 {
        self.state.motion.bounds
    }

    /// Memory held by arenas and storage.
    pub fn memory(&self) -> MemoryStats {
        self.world.memory()
    }

    /// Every counter's name and total, in [`COUNTERS`] order.
    pub fn counter_totals(&self) -> impl Iterator<Item = (&str, u64)> {
        self.world.counters().totals()
    }

    /// Whether the mouse attractor is held (by the user, or by a replayed recording).
    pub fn mouse_held(&self) -> bool {
        self.state.mouse.is_some()
    }

    /// Holds the mouse attractor at `at` (world units); `repel` pushes instead. `None`
    /// releases it. Takes effect from the next step.
    pub fn set_mouse(&mut self, at: Option<Vec2>, repel: bool) {
        let strength = self.state.scene.forces.mouse_strength * if repel { -1.0 } else { 1.0 };
        self.state.mouse = at.map(|position| Attractor {
            position,
            strength,
            softening2: 400.0,
        });
    }

    /// The line every runner ends with, for scripts to compare:
    /// `state_hash=<16 hex digits> particles=<live> steps=<n>`.
    pub fn state_line(&self) -> String {
        replay::End::of(self).line()
    }

    /// A hash of every live particle's handle and fields, in entity order. Equal hashes
    /// mean bit-identical simulations.
    pub fn state_hash(&self) -> u64 {
        crate::world::state_hash(self.world.storage(), |p: &Particle| {
            p.float_bits()
                .into_iter()
                .map(u64::from)
                .chain([u64::from(u32::from_le_bytes(p.color))])
        })
    }
}

/// The preset's schedule: every system is a plain function of the world and the state.
fn schedule() -> Schedule<Particle, ParticleState> {
    let mut schedule = Schedule::new();
    schedule
        .add("stash", stash)
        .and_then(|s| s.add("forces", forces))
        .and_then(|s| s.add("integrate", integrate))
        // The dead wait for emit's spawns, which take their rows in place.
        .and_then(|s| s.add_with_deferred_commands("age", age))
        .and_then(|s| s.add("emit", emit))
        .expect("the preset's system names are distinct");
    schedule
}

fn stash(world: &mut World<Particle>, state: &mut ParticleState) {
    if state.keep_previous {
        state.previous.capture(world);
    } else {
        // Nothing kept: no earlier capture may be read as this step's.
        state.previous = Previous::new(particle::FIELDS.position);
    }
}

fn forces(world: &mut World<Particle>, state: &mut ParticleState) {
    let mut field = state.base_field;
    if let Some(mouse) = state.mouse {
        field.attractors[field.count] = mouse;
        field.count += 1;
    }
    let strategy = world.strategy();
    if state.field.strategy() != strategy.lock {
        state.field = SharedParams::new(strategy.lock, strategy.threads, field);
    }
    state.field.write(field);
    let (storage, shared) = world.split();
    let grid = state.grid.map(|geometry| {
        let _t = shared.timers.scope("grid");
        // SoA hands its position column over as is; AoS pays a gather into the arena.
        let positions = storage.slice_of(particle::FIELDS.position, shared.frame);
        let mut grid = Grid::build_in_parts(shared.frame, geometry, positions, shared.chunk_rows);
        if shared.steps.is_multiple_of(REORDER_EVERY) {
            storage
                .permute_with_inverse(grid.cell_order(), |row| grid.slot_of(row))
                .expect("a grid's cell order is a permutation of its rows, slot_of its inverse");
            grid.rows_now_in_cell_order();
        }
        grid
    });
    if !field.is_active() {
        return;
    }
    let tally = NeighbourTally {
        counters: shared.counters,
        cells_visited: state.ids.cells_visited,
        neighbour_checks: state.ids.neighbour_checks,
    };
    let params = &state.field;
    // The repulsion first, in the grid's cell order (neighbours share their candidates
    // there), into the frame arena; then every row takes its push.
    let by_slot = grid.as_ref().map(|grid| {
        let pushes = shared
            .frame
            .alloc_slice_fill_with(grid.cell_order().len(), |_| Vec2::ZERO);
        // Neighbour work is heavy per row: smaller chunks balance better.
        let chunk = (shared.chunk_rows / 8).max(1);
        pushes
            .par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, out)| {
                let radius = params.read().repulsion_radius;
                systems::repulsion(grid, radius, i * chunk, out, &tally);
            });
        &*pushes
    });
    let pushes = grid.as_ref().zip(by_slot).map(|(g, p)| Pushes::new(g, p));
    let dt = state.motion.dt;
    let pushes = pushes.as_ref();
    match storage.rows_mut() {
        ByLayout::Soa(columns) => for_each_chunk(columns, shared.chunk_rows, &|c, first| {
            let field = params.read();
            systems::forces_columns(c.position, c.velocity, c.mass, first, &field, pushes, dt)
        }),
        ByLayout::Aos(rows) => for_each_chunk(rows, shared.chunk_rows, &|c, first| {
            systems::forces(c, first, &params.read(), pushes, dt)
        }),
    }
}

fn integrate(world: &mut World<Particle>, state: &mut ParticleState) {
    let (storage, shared) = world.split();
    let bounces = systems::integrate(storage.rows_mut(), &state.motion, shared.chunk_rows);
    shared.counters.add(state.ids.bounces, bounces);
}

fn age(world: &mut World<Particle>, state: &mut ParticleState) {
    // Every live particle could die this step: size the queue for that, so no push
    // reallocates mid-step (capacity is bounded by the budget).
    let live = world.len();
    world.commands_mut().reserve(live, 0);
    let (storage, shared) = world.split();
    let (counters, died) = (shared.counters, state.ids.died);
    let deaths = |n: u64| {
        if n > 0 {
            counters.add(died, n);
        }
    };
    systems::age(
        storage.rows_mut(),
        state.motion.dt,
        shared.chunk_rows,
        shared.commands,
        &deaths,
    );
}

fn emit(world: &mut World<Particle>, state: &mut ParticleState) {
    // Age's despawns are still queued (each live particle at most once), not yet applied.
    let live = world
        .len()
        .saturating_sub(world.commands_mut().pending_despawns());
    let mut room = (state.budget as usize).saturating_sub(live);
    world.commands_mut().reserve(0, room);
    let (_, shared) = world.split();
    let mut queue = shared.commands.writer(0);
    let mut spawned = 0;
    for e in &mut state.emitters {
        let n = e.emit(&mut state.rng, state.motion.dt, room, |p| queue.spawn(p));
        room -= n;
        spawned += n;
    }
    shared.counters.add(state.ids.spawned, spawned as u64);
}

/// The scene's fixed forces in inner-loop form.
fn base_field(scene: &Scene) -> ForceField {
    let mut field = ForceField::default();
    for a in scene.attractors.iter().take(MAX_ATTRACTORS) {
        field.attractors[field.count] = Attractor {
            position: Vec2::from(a.position),
            strength: a.strength,
            softening2: a.softening * a.softening,
        };
        field.count += 1;
    }
    if let Some(r) = scene.forces.repulsion {
        field.repulsion_radius = r.radius;
        field.repulsion_strength = r.strength;
    }
    field
}

/// Checks used by tests and soaks: storage and handles agree (see
/// [`Storage::check`](crate::storage::Storage::check)), and the storage is in the layout
/// the strategy says.
///
/// # Errors
/// Names the first broken invariant.
pub fn check_consistency(sim: &ParticleSim) -> Result<(), String> {
    let world = sim.world();
    world.storage().check()?;
    let (layout, want): (Layout, Layout) = (world.storage().layout(), world.strategy().layout);
    if layout != want {
        return Err(format!("storage is {layout} but the strategy says {want}"));
    }
    Ok(())
}
