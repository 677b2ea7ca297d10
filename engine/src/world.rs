//! The world: entities, particle storage, resources, and the step that runs the systems.
//!
//! One step runs, in order: emit → grid → forces → integrate → age → apply. Strategy
//! switches ([`Switch`]) are queued with [`World::request`] and applied at the start of the
//! next step, never mid-step.
//!
//! # Invariants
//! - Determinism: the same scene and seed give the same [`World::state_hash`] after the same
//!   number of steps, whatever the layout, lock strategy, counter padding and thread count.
//!   Per-particle work depends only on that particle (and, for repulsion, on the grid, whose
//!   order is the storage order); events are merged sorted; the RNG is used only serially.
//! - No loss on switch: switching changes where and how data is kept, never the data.
//! - Bounded memory: live particles never exceed the budget; buffers are reused, so under
//!   steady churn capacities stop growing.

use crate::arena::{ArenaStats, FrameArenas};
use crate::counters::{Counter, Counters, Padding};
use crate::emitter::{EmitterState, Spawn};
use crate::entity::{Entity, EntityAllocator};
use crate::grid::{Grid, GridGeometry};
use crate::parallel::{PARALLEL_MIN_ROWS, for_each_chunk};
use crate::particle::Particle;
use crate::scene::Scene;
use crate::storage::{Layout, Rows, RowsRef, Storage};
use crate::sync::{EventSink, LockStrategy, SharedParams};
use crate::systems::{self, ForceField, MAX_ATTRACTORS, Motion, Pull};
use crate::timer::{System, SystemTimes};
use crate::with_rows;
use glam::Vec2;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// With neighbour forces on, the storage is reordered into grid-cell order this often (in
/// steps), so the rows a neighbour query reads sit next to each other in memory.
const REORDER_EVERY: u64 = 8;

/// The memory and concurrency strategies a world runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Strategy {
    /// SoA or AoS particle storage.
    pub layout: Layout,
    /// How workers share the event sink and parameters.
    pub lock: LockStrategy,
    /// Whether per-thread counters are cache-padded.
    pub padding: Padding,
    /// Worker threads.
    pub threads: usize,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            layout: Layout::Soa,
            lock: LockStrategy::Sharded,
            padding: Padding::Padded,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A change requested while running, applied between steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Switch {
    /// Convert the storage to this layout.
    Layout(Layout),
    /// Use this lock strategy.
    Lock(LockStrategy),
    /// Use this counter padding.
    Padding(Padding),
    /// Run on this many threads.
    Threads(usize),
    /// Change the particle budget (existing particles above it are kept until they die).
    Budget(u32),
}

/// Memory in use, for the soak test and the HUD.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryStats {
    /// Both frame arenas.
    pub frame_arenas: ArenaStats,
    /// Rows the particle storage can hold before reallocating.
    pub storage_capacity: usize,
    /// Heap bytes of the particle storage.
    pub storage_bytes: usize,
    /// Entity slots ever created.
    pub entity_slots: usize,
}

/// A running particle simulation.
pub struct World {
    scene: Scene,
    strategy: Strategy,
    entities: EntityAllocator,
    storage: Storage<Particle>,
    frames: FrameArenas,
    counters: Counters,
    deaths: EventSink<Entity>,
    field: SharedParams<ForceField>,
    base_field: ForceField,
    mouse: Option<Pull>,
    emitters: Vec<EmitterState>,
    rng: Pcg64Mcg,
    pool: Arc<rayon::ThreadPool>,
    pending: Vec<Switch>,
    spawns: Vec<Spawn>,
    dead: Vec<Entity>,
    times: SystemTimes,
    steps: u64,
    budget: u32,
    chunk_rows: usize,
}

impl World {
    /// A world running `scene` with `strategy`, its initial bursts already spawned.
    pub fn new(scene: Scene, strategy: Strategy) -> World {
        let strategy = Strategy {
            threads: strategy.threads.max(1),
            ..strategy
        };
        let base_field = base_field(&scene);
        let mut world = World {
            entities: EntityAllocator::with_capacity(scene.world.particles as usize),
            storage: Storage::new(strategy.layout),
            frames: FrameArenas::new(),
            counters: Counters::new(strategy.padding, strategy.threads),
            deaths: EventSink::new(strategy.lock, strategy.threads),
            field: SharedParams::new(strategy.lock, strategy.threads, base_field),
            base_field,
            mouse: None,
            emitters: scene.emitters.iter().map(EmitterState::new).collect(),
            rng: Pcg64Mcg::seed_from_u64(scene.seed),
            pool: Arc::new(build_pool(strategy.threads)),
            pending: Vec::new(),
            spawns: Vec::new(),
            dead: Vec::new(),
            times: SystemTimes::default(),
            steps: 0,
            budget: scene.world.particles,
            chunk_rows: PARALLEL_MIN_ROWS,
            strategy,
            scene,
        };
        let gravity = Vec2::from(world.scene.forces.gravity);
        let bounds = world.bounds();
        for e in &world.emitters {
            e.burst(&mut world.rng, gravity, bounds, &mut world.spawns);
        }
        world.spawns.truncate(world.budget as usize);
        world.storage.reserve(world.budget as usize);
        world.apply_spawns();
        world
    }

    /// Sets the rows per parallel chunk (default [`PARALLEL_MIN_ROWS`]): smaller chunks
    /// spread small worlds over threads (useful to test), larger ones cut fork-join costs.
    pub fn with_chunk_rows(mut self, rows: usize) -> World {
        self.chunk_rows = rows.max(1);
        self
    }

    /// The scene it runs.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The strategies in effect.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The particle budget.
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// Live particles.
    pub fn len(&self) -> usize {
        self.storage.len()
    }

    /// Whether no particle is alive.
    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
    }

    /// Steps run so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The fixed step length in seconds.
    pub fn dt(&self) -> f32 {
        self.scene.world.dt
    }

    /// The world's size.
    pub fn bounds(&self) -> Vec2 {
        Vec2::new(self.scene.world.width, self.scene.world.height)
    }

    /// The particles, for rendering and inspection.
    pub fn storage(&self) -> &Storage<Particle> {
        &self.storage
    }

    /// The entity allocator (which handles are alive).
    pub fn entities(&self) -> &EntityAllocator {
        &self.entities
    }

    /// The per-thread counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Wall time of each system in the last step.
    pub fn system_times(&self) -> SystemTimes {
        self.times
    }

    /// The thread pool steps run on (renderers may reuse it).
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// Queues a strategy switch for the start of the next step.
    pub fn request(&mut self, switch: Switch) {
        self.pending.push(switch);
    }

    /// Holds the mouse attractor at `at` (world units); `repel` pushes instead. `None`
    /// releases it. Takes effect from the next step.
    pub fn set_mouse(&mut self, at: Option<Vec2>, repel: bool) {
        let strength = self.scene.forces.mouse_strength * if repel { -1.0 } else { 1.0 };
        self.mouse = at.map(|position| Pull {
            position,
            strength,
            softening2: 400.0,
        });
    }

    /// Runs one fixed step.
    pub fn step(&mut self) {
        let pool = Arc::clone(&self.pool);
        pool.install(|| self.step_on_pool());
    }

    /// Runs `n` steps (one pool entry for all of them).
    pub fn run(&mut self, n: u64) {
        let pool = Arc::clone(&self.pool);
        pool.install(|| (0..n).for_each(|_| self.step_on_pool()));
    }

    fn step_on_pool(&mut self) {
        // A local: the timers' guards must not borrow `self` while the systems mutate it.
        let mut times = SystemTimes::default();
        self.apply_switches();
        self.frames.swap();
        let dt = self.dt();
        {
            let _t = times.scope(System::Emit);
            self.emit(dt);
        }
        self.move_particles(dt, &mut times);
        {
            let _t = times.scope(System::Age);
            self.age(dt);
        }
        {
            let _t = times.scope(System::Apply);
            self.apply_deaths();
            self.apply_spawns();
        }
        self.times = times;
        self.steps += 1;
    }

    fn emit(&mut self, dt: f32) {
        let mut room = (self.budget as usize).saturating_sub(self.storage.len());
        for e in &mut self.emitters {
            room -= e.emit(&mut self.rng, dt, room, &mut self.spawns);
        }
    }

    /// Grid, forces and integrate.
    fn move_particles(&mut self, dt: f32, times: &mut SystemTimes) {
        let mut field = self.base_field;
        if let Some(mouse) = self.mouse {
            field.pulls[field.count] = mouse;
            field.count += 1;
        }
        self.field.write(field);
        let frame = self.frames.current();
        let grid = {
            let _t = times.scope(System::Grid);
            (field.repulsion_radius > 0.0).then(|| {
                let geometry = GridGeometry::new(
                    self.scene.world.width,
                    self.scene.world.height,
                    field.repulsion_radius,
                );
                // SoA hands its position column over as is; AoS pays a gather.
                let positions = match self.storage.rows() {
                    RowsRef::Soa(cols) => cols.position,
                    RowsRef::Aos(rows) => {
                        frame.alloc_slice_fill_with(rows.0.len(), |i| rows.0[i].position)
                    }
                };
                let mut grid = Grid::build_in_parts(frame, geometry, positions, self.chunk_rows);
                if self.steps.is_multiple_of(REORDER_EVERY) {
                    self.storage.permute(grid.cell_order());
                    grid.rows_now_in_cell_order();
                }
                grid
            })
        };
        let counters = &self.counters;
        if field.is_active() {
            let _t = times.scope(System::Forces);
            let shared = &self.field;
            let grid = grid.as_ref();
            // Neighbour work is heavy per row: smaller chunks balance better.
            let chunk = if grid.is_some() {
                self.chunk_rows / 8
            } else {
                self.chunk_rows
            };
            with_rows!(self.storage.rows_mut(), mut |rows| for_each_chunk(rows, chunk, &|c, _| {
                systems::forces(c, &shared.read(), grid, dt, counters)
            }));
        }
        let _t = times.scope(System::Integrate);
        let f = &self.scene.forces;
        let motion = Motion {
            dt,
            gravity_dt: Vec2::from(f.gravity) * dt,
            damping: 1.0 - f.drag * dt,
            bounds: self.bounds(),
            restitution: f.restitution,
        };
        let chunk = self.chunk_rows;
        with_rows!(self.storage.rows_mut(), mut |rows| for_each_chunk(rows, chunk, &|c, _| {
            let bounces = systems::integrate(c, &motion);
            if bounces > 0 {
                counters.add(Counter::Bounces, bounces);
            }
        }));
    }

    fn age(&mut self, dt: f32) {
        // Every live particle could die this step: size the buffers for that, so no push
        // reallocates mid-step (capacity is bounded by the budget).
        self.deaths.reserve(self.storage.len());
        self.dead.reserve(self.storage.len());
        let (deaths, counters) = (&self.deaths, &self.counters);
        with_rows!(self.storage.rows_mut(), mut |rows| for_each_chunk(rows, self.chunk_rows, &|c, _| {
            let died = systems::age(c, dt, deaths);
            if died > 0 {
                counters.add(Counter::Died, died);
            }
        }));
    }

    /// Despawns the step's dead, in entity order.
    fn apply_deaths(&mut self) {
        self.deaths.drain_sorted(&mut self.dead);
        for e in self.dead.drain(..) {
            self.storage.remove(e);
            self.entities.despawn(e);
        }
    }

    /// Spawns the queued particles, in the order they were emitted.
    fn apply_spawns(&mut self) {
        self.counters
            .add(Counter::Spawned, self.spawns.len() as u64);
        for s in self.spawns.drain(..) {
            let entity = self.entities.spawn();
            self.storage.insert(Particle {
                entity,
                position: s.position,
                velocity: s.velocity,
                color: s.color,
                age: s.age,
                lifetime: s.lifetime,
                mass: s.mass,
            });
        }
    }

    fn apply_switches(&mut self) {
        let threads = self.strategy.threads;
        for switch in std::mem::take(&mut self.pending) {
            match switch {
                Switch::Layout(layout) => self.storage.set_layout(layout),
                Switch::Lock(lock) => self.strategy.lock = lock,
                Switch::Padding(padding) => self.strategy.padding = padding,
                Switch::Threads(n) => self.strategy.threads = n.max(1),
                Switch::Budget(n) => self.budget = n.clamp(1, crate::scene::MAX_PARTICLES),
            }
        }
        self.strategy.layout = self.storage.layout();
        let s = self.strategy;
        if s.lock != self.deaths.strategy() || s.threads != threads {
            // Between steps both are empty/idle: nothing is lost by rebuilding them.
            self.deaths = EventSink::new(s.lock, s.threads);
            self.field = SharedParams::new(s.lock, s.threads, self.base_field);
        }
        if s.padding != self.counters.padding() || s.threads != threads {
            self.counters = self.counters.rebuilt(s.padding, s.threads);
        }
        if s.threads != threads {
            // Takes effect from the next `step` call (this one already runs on the old pool).
            self.pool = Arc::new(build_pool(s.threads));
        }
    }

    /// A hash of every live particle's handle and fields, in entity order. Equal hashes
    /// mean bit-identical simulations.
    pub fn state_hash(&self) -> u64 {
        let mut h = Fnv1a::new();
        for index in 0..self.entities.slot_count() as u32 {
            let Some(e) = self.entities.entity_at(index) else {
                continue;
            };
            let Some(p) = self.storage.get(e) else {
                continue;
            };
            h.write(e.to_bits());
            for bits in p.float_bits() {
                h.write(u64::from(bits));
            }
            h.write(u64::from(u32::from_le_bytes(p.color)));
        }
        h.write(self.entities.len() as u64);
        h.finish()
    }

    /// Memory held by arenas and storage.
    pub fn memory(&self) -> MemoryStats {
        MemoryStats {
            frame_arenas: self.frames.stats(),
            storage_capacity: self.storage.capacity(),
            storage_bytes: self.storage.heap_bytes(),
            entity_slots: self.entities.slot_count(),
        }
    }

    /// The particles' rows in the active layout, for renderers (use with
    /// [`with_rows!`](crate::with_rows)).
    pub fn rows(&self) -> RowsRef<'_, Particle> {
        self.storage.rows()
    }
}

/// The scene's fixed forces in inner-loop form.
fn base_field(scene: &Scene) -> ForceField {
    let mut field = ForceField::default();
    for a in scene.attractors.iter().take(MAX_ATTRACTORS) {
        field.pulls[field.count] = Pull {
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

fn build_pool(threads: usize) -> rayon::ThreadPool {
    static POOLS: AtomicU64 = AtomicU64::new(0);
    let id = POOLS.fetch_add(1, Ordering::Relaxed);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("sim-{id}-worker-{i}"))
        .build()
        .expect("the OS refused to start worker threads")
}

/// 64-bit FNV-1a: tiny, stable across Rust versions (unlike `DefaultHasher`).
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, value: u64) {
        for byte in value.to_le_bytes() {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Checks used by tests and the soak: every stored particle is alive and every live entity
/// is stored.
pub fn check_consistency(world: &World) -> Result<(), String> {
    if world.storage.len() != world.entities.len() {
        return Err(format!(
            "{} stored rows but {} live entities",
            world.storage.len(),
            world.entities.len()
        ));
    }
    with_rows!(world.storage.rows(), |rows| {
        let mut bad = None;
        rows.for_each(|p| {
            if bad.is_none() && !world.entities.is_alive(*p.entity) {
                bad = Some(*p.entity);
            }
        });
        match bad {
            Some(e) => Err(format!("stored row of dead entity {e:?}")),
            None => Ok(()),
        }
    })
}
