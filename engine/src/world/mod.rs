//! The world: entities and their bundles, plus everything systems share — frame arenas,
//! per-thread counters, the command buffer, the thread pool, timers — and the memory and
//! concurrency strategy, switchable between steps.
//!
//! A [`World<B>`] holds one bundle type `B` (declared with [`bundle!`](crate::bundle)). Its
//! systems are plain functions registered in a [`Schedule`], which runs them in order, one
//! step at a time. The particle simulation ([`crate::particles`]) is one such world and
//! schedule, built only from this public API.
//!
//! ```
//! use engine::prelude::*;
//!
//! bundle! {
//!     /// A ball.
//!     pub mod ball: Ball {
//!         /// Height.
//!         pub y: f32,
//!         /// Vertical speed.
//!         pub vy: f32,
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut world: World<Ball> = World::new(Strategy::default())?;
//! let first = world.spawn(Ball { y: 10.0, vy: 0.0 });
//! world.spawn(Ball { y: 0.5, vy: -2.0 });
//! let fall = world.register_counter("fell through the floor");
//!
//! let mut schedule: Schedule<Ball, ()> = Schedule::new();
//! schedule.add("fall", move |world: &mut World<Ball>, _: &mut ()| {
//!     let (storage, shared) = world.split();
//!     with_rows!(storage.rows_mut(), |rows| {
//!         let mut commands = shared.commands.writer(0);
//!         rows.for_each(|b: ball::Mut| {
//!             *b.vy -= 9.8 * 0.1;
//!             *b.y += *b.vy * 0.1;
//!             if *b.y < 0.0 {
//!                 commands.despawn(*b.entity);
//!                 shared.counters.add(fall, 1);
//!             }
//!         })
//!     });
//! })?;
//!
//! schedule.run(&mut world, &mut (), 3);
//! assert_eq!(world.len(), 1);
//! assert!(world.get(first).is_some());
//! assert_eq!(world.counters().total(fall), 1);
//! assert!(world.times().get("fall").is_some());
//! # Ok(())
//! # }
//! ```
//!
//! # Invariants
//! - Determinism: what a step does depends only on the world's data and the schedule, not
//!   on the strategy: commands are applied in a fixed order ([`commands`]), chunk boundaries
//!   depend only on row counts, and systems see the same rows whatever the layout.
//! - No loss on switch: a switch changes where and how data is kept, never the data; it is
//!   applied between steps, never mid-step.
//! - The strategy has one owner: the world keeps the strategy asked for
//!   ([`World::desired`]) and the one in effect ([`World::strategy`]).

pub mod commands;
pub mod previous;
mod schedule;

pub use commands::{Applied, CommandWriter, Commands};
pub use previous::{Previous, PreviousView};
pub use schedule::{APPLY, Schedule, SystemFn};

use crate::arena::{AllocMode, Arena, ArenaStats, FrameArenas};
use crate::counters::{CounterId, Counters, Padding};
use crate::entity::Entity;
use crate::error::ParamError;
use crate::parallel::PARALLEL_MIN_ROWS;
use crate::storage::{Bundle, Layout, RowsRef, Storage};
use crate::sync::{Contention, LockStrategy};
use crate::timer::{SystemTimes, Timers};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most worker threads a world accepts.
pub const MAX_THREADS: usize = 256;

/// The memory and concurrency strategies a world runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Strategy {
    /// SoA or AoS storage.
    pub layout: Layout,
    /// How workers share the command buffer and shared parameters.
    pub lock: LockStrategy,
    /// Whether per-thread counters are cache-padded.
    pub padding: Padding,
    /// Worker threads, 1 to [`MAX_THREADS`].
    pub threads: usize,
    /// Where per-step scratch comes from: the frame arenas, or a fresh heap buffer per use.
    pub alloc: AllocMode,
}

impl Default for Strategy {
    /// SoA, sharded, padded, one thread per core, arena scratch.
    fn default() -> Self {
        Strategy {
            layout: Layout::Soa,
            lock: LockStrategy::Sharded,
            padding: Padding::Padded,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            alloc: AllocMode::Arena,
        }
    }
}

impl Strategy {
    /// `Ok(self)` if every field is in range.
    ///
    /// # Errors
    /// Names `threads` if it is 0 or above [`MAX_THREADS`].
    pub fn validate(self) -> Result<Strategy, ParamError> {
        if !(1..=MAX_THREADS).contains(&self.threads) {
            return Err(ParamError::new(
                "threads",
                self.threads,
                format!("1 to {MAX_THREADS}"),
            ));
        }
        Ok(self)
    }

    /// This strategy with `switch` applied.
    pub fn with(self, switch: Switch) -> Strategy {
        match switch {
            Switch::Layout(layout) => Strategy { layout, ..self },
            Switch::Lock(lock) => Strategy { lock, ..self },
            Switch::Padding(padding) => Strategy { padding, ..self },
            Switch::Threads(threads) => Strategy { threads, ..self },
            Switch::Alloc(alloc) => Strategy { alloc, ..self },
        }
    }
}

/// A change of one strategy, asked for while running and applied between steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    /// Convert the storage to this layout.
    Layout(Layout),
    /// Use this lock strategy.
    Lock(LockStrategy),
    /// Use this counter padding.
    Padding(Padding),
    /// Run on this many threads.
    Threads(usize),
    /// Take per-step scratch from the frame arenas or the heap.
    Alloc(AllocMode),
}

/// Memory in use, for soak tests and the HUD.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryStats {
    /// Both frame arenas.
    pub frame_arenas: ArenaStats,
    /// Rows the storage can hold before reallocating.
    pub storage_capacity: usize,
    /// Heap bytes of the storage.
    pub storage_bytes: usize,
    /// Entity slots ever created.
    pub entity_slots: usize,
}

/// Calls to the global allocator made for a step's scratch (see [`World::step_allocations`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepAllocations {
    /// Allocations.
    pub count: u64,
    /// Bytes asked for.
    pub bytes: usize,
}

/// What a system can use while it holds the storage mutably (see [`World::split`]).
pub struct Shared<'w, B: Bundle> {
    /// The current frame's arena: scratch that lives until the step after next. An arena
    /// is not `Sync`: allocate from it in the serial part of a system (before or after
    /// [`for_each_chunk`](crate::parallel::for_each_chunk)); inside workers use
    /// [`with_thread_scratch`](crate::arena::with_thread_scratch).
    pub frame: &'w Arena,
    /// Both frame arenas, to read what the previous step stashed.
    pub frames: &'w FrameArenas,
    /// The per-thread counters.
    pub counters: &'w Counters,
    /// The command buffer: queue spawns and despawns here from parallel code.
    pub commands: &'w Commands<B>,
    /// Timers: `shared.timers.scope("name")` times part of a system under its own name.
    pub timers: &'w Timers,
    /// Rows per parallel chunk (pass to [`for_each_chunk`](crate::parallel::for_each_chunk)).
    /// The default, [`PARALLEL_MIN_ROWS`], suits cheap per-row work; a world smaller than
    /// that runs serially. Work that is heavy per row (neighbour queries) pays with smaller
    /// chunks: divide it (the particle preset uses an eighth) or set
    /// [`World::set_chunk_rows`].
    pub chunk_rows: usize,
    /// The strategy in effect.
    pub strategy: Strategy,
    /// Steps completed before this one.
    pub steps: u64,
}

/// Entities of one bundle type and the resources their systems share.
pub struct World<B: Bundle> {
    storage: Storage<B>,
    frames: FrameArenas,
    counters: Counters,
    commands: Commands<B>,
    timers: Timers,
    pool: Arc<rayon::ThreadPool>,
    desired: Strategy,
    strategy: Strategy,
    chunk_rows: usize,
    steps: u64,
}

impl<B: Bundle> World<B> {
    /// An empty world running with `strategy`.
    ///
    /// # Errors
    /// If a field of `strategy` is out of range, or the OS refuses to start the threads.
    pub fn new(strategy: Strategy) -> Result<World<B>, ParamError> {
        let strategy = strategy.validate()?;
        let mut frames = FrameArenas::new();
        frames.set_mode(strategy.alloc);
        let mut commands =
            Commands::with_padding(strategy.lock, strategy.threads, strategy.padding);
        commands.set_mode(strategy.alloc);
        Ok(World {
            storage: Storage::new(strategy.layout),
            frames,
            counters: Counters::new(strategy.padding, strategy.threads),
            commands,
            timers: Timers::default(),
            pool: Arc::new(build_pool(strategy.threads)?),
            desired: strategy,
            strategy,
            chunk_rows: PARALLEL_MIN_ROWS,
            steps: 0,
        })
    }

    /// Sets the rows per parallel chunk (default [`PARALLEL_MIN_ROWS`]): smaller chunks
    /// spread small worlds over threads (useful to test), larger ones cut fork-join costs.
    ///
    /// # Errors
    /// If `rows` is 0.
    pub fn set_chunk_rows(&mut self, rows: usize) -> Result<(), ParamError> {
        if rows == 0 {
            return Err(ParamError::new("chunk_rows", rows, "at least 1"));
        }
        self.chunk_rows = rows;
        Ok(())
    }

    /// Rows per parallel chunk.
    pub fn chunk_rows(&self) -> usize {
        self.chunk_rows
    }

    /// Creates an entity with `bundle` now (between systems; parallel systems queue spawns
    /// through [`Shared::commands`] instead).
    pub fn spawn(&mut self, bundle: B) -> Entity {
        self.storage.spawn(bundle)
    }

    /// Removes `entity` now; `None` if it was not alive.
    pub fn despawn(&mut self, entity: Entity) -> Option<B> {
        self.storage.despawn(entity)
    }

    /// A copy of `entity`'s bundle, if alive.
    pub fn get(&self, entity: Entity) -> Option<B> {
        self.storage.get(entity)
    }

    /// `entity`'s fields, mutable, if alive.
    pub fn get_mut(&mut self, entity: Entity) -> Option<B::Mut<'_>> {
        self.storage.get_mut(entity)
    }

    /// Whether `entity` is alive.
    pub fn contains(&self, entity: Entity) -> bool {
        self.storage.contains(entity)
    }

    /// Live entities.
    pub fn len(&self) -> usize {
        self.storage.len()
    }

    /// Whether no entity is alive.
    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
    }

    /// The entities and their rows.
    pub fn storage(&self) -> &Storage<B> {
        &self.storage
    }

    /// All rows, shared, in the active layout; use with [`with_rows!`](crate::with_rows).
    pub fn rows(&self) -> RowsRef<'_, B> {
        self.storage.rows()
    }

    /// The storage, mutable, beside everything a system shares: the usual start of a
    /// system. The storage's layout is part of the strategy: change it with
    /// [`World::request`], not on the storage.
    pub fn split(&mut self) -> (&mut Storage<B>, Shared<'_, B>) {
        let shared = Shared {
            frame: self.frames.current(),
            frames: &self.frames,
            counters: &self.counters,
            commands: &self.commands,
            timers: &self.timers,
            chunk_rows: self.chunk_rows,
            strategy: self.strategy,
            steps: self.steps,
        };
        (&mut self.storage, shared)
    }

    /// The command buffer, mutable: to [`Commands::reserve`] before a system queues.
    pub fn commands_mut(&mut self) -> &mut Commands<B> {
        &mut self.commands
    }

    /// Applies the queued commands now (a [`Schedule`] does this after every system but
    /// those added with [`Schedule::add_with_deferred_commands`]).
    pub fn apply_commands(&mut self) -> Applied {
        self.commands.apply(&mut self.storage)
    }

    /// The counter called `name`, registered (at zero) if new.
    pub fn register_counter(&mut self, name: &str) -> CounterId {
        self.counters.register(name.to_owned())
    }

    /// The per-thread counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Wall time of each system in the last step (and of what systems timed themselves
    /// through [`Shared::timers`]), exclusive of nested scopes.
    pub fn times(&self) -> SystemTimes {
        self.timers.times()
    }

    /// The frame arenas.
    pub fn frames(&self) -> &FrameArenas {
        &self.frames
    }

    /// The strategy in effect.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The strategy asked for: in effect from the next step on.
    pub fn desired(&self) -> Strategy {
        self.desired
    }

    /// Whether a requested switch has not been applied yet.
    pub fn pending(&self) -> bool {
        self.desired != self.strategy
    }

    /// Asks for `switch` from the next step on. Asking twice before a step keeps the last.
    ///
    /// # Errors
    /// If the switch is out of range (e.g. 0 threads); nothing changes then.
    pub fn request(&mut self, switch: Switch) -> Result<(), ParamError> {
        self.desired = self.desired.with(switch).validate()?;
        Ok(())
    }

    /// The thread pool steps run on (renderers may reuse it).
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// Steps completed.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// What the last step's scratch cost the global allocator: the current frame arena's
    /// chunks or blocks, and the command buffer's drains and row writes. Zero in steady state in
    /// [`AllocMode::Arena`]; one allocation per scratch buffer in [`AllocMode::Heap`].
    pub fn step_allocations(&self) -> StepAllocations {
        let frame = self.frames.current().stats();
        let drains = self.commands.allocations();
        StepAllocations {
            count: frame.allocations + drains.count,
            bytes: frame.allocated_bytes + drains.bytes,
        }
    }

    /// What sharing the command buffer cost in the last step under the active lock
    /// strategy: locks taken, waits, atomic pushes, spills, merges.
    pub fn contention(&self) -> Contention {
        self.commands.contention()
    }

    /// Memory held by arenas and storage.
    pub fn memory(&self) -> MemoryStats {
        MemoryStats {
            frame_arenas: self.frames.stats(),
            storage_capacity: self.storage.capacity(),
            storage_bytes: self.storage.heap_bytes(),
            entity_slots: self.storage.entities().slot_count(),
        }
    }

    /// Starts a step: applies the desired strategy, swaps the frame arenas, zeroes the
    /// timers.
    fn begin_step(&mut self) {
        self.apply_pending();
        self.frames.swap();
        self.commands.start_step();
        self.timers.clear();
    }

    /// Applies the requested switches now (a [`Schedule`] does this at the start of every
    /// step). A thread-count switch takes its new pool from the next pool entry.
    pub fn apply_pending(&mut self) {
        let (old, new) = (self.strategy, self.desired);
        if new == old {
            return;
        }
        self.storage.set_layout(new.layout);
        if new.lock != old.lock || new.threads != old.threads || new.padding != old.padding {
            // Between steps the queues are empty: nothing is lost by rebuilding them.
            self.commands.rebuild(new.lock, new.threads, new.padding);
        }
        if new.padding != old.padding || new.threads != old.threads {
            self.counters = self.counters.rebuilt(new.padding, new.threads);
        }
        self.frames.set_mode(new.alloc);
        self.commands.set_mode(new.alloc);
        if new.threads != old.threads {
            match build_pool(new.threads) {
                Ok(pool) => self.pool = Arc::new(pool),
                // Keep running on the old pool rather than stop; the strategy says so.
                Err(_) => self.desired.threads = old.threads,
            }
        }
        self.strategy = Strategy {
            threads: self.desired.threads,
            ..new
        };
    }

    fn end_step(&mut self) {
        self.steps += 1;
    }
}

fn build_pool(threads: usize) -> Result<rayon::ThreadPool, ParamError> {
    static POOLS: AtomicU64 = AtomicU64::new(0);
    let id = POOLS.fetch_add(1, Ordering::Relaxed);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("engine-{id}-worker-{i}"))
        .build()
        .map_err(|e| {
            ParamError::new(
                "threads",
                threads,
                format!("a count the OS can start ({e})"),
            )
        })
}

/// 64-bit FNV-1a: tiny, stable across Rust versions (unlike `DefaultHasher`). For state
/// hashes that must match across runs and builds.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Adds `value`'s little-endian bytes.
    pub fn write(&mut self, value: u64) {
        for byte in value.to_le_bytes() {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash of every live entity's handle and `fields(bundle)`, in entity order: equal
/// hashes mean bit-identical worlds, whatever the layout or row order.
pub fn state_hash<B: Bundle, I: IntoIterator<Item = u64>>(
    storage: &Storage<B>,
    fields: impl Fn(&B) -> I,
) -> u64 {
    let mut h = Fnv1a::default();
    let entities = storage.entities();
    for index in 0..entities.slot_count() as u32 {
        let Some(e) = entities.entity_at(index) else {
            continue;
        };
        let Some(row) = storage.get(e) else {
            continue;
        };
        h.write(e.to_bits());
        fields(&row).into_iter().for_each(|v| h.write(v));
    }
    h.write(entities.len() as u64);
    h.finish()
}
