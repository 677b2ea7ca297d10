//! What each system of the preset reads and writes of a particle, and what that costs per
//! particle in each layout: the numbers that predict the AoS/SoA difference.
//!
//! [`SYSTEMS`] is the table, one [`SystemAccess`] per system of the schedule, read off the
//! systems' code. [`SystemCost::of`] turns an access and a [`BundleLayout`] into bytes:
//! - SoA streams one column per field used: the bytes read are the sizes of the fields
//!   read, the bytes written the sizes of the fields written (a field read and written
//!   counts in both);
//! - AoS drags the whole row through the cache for every row visited: the row size is read,
//!   and written back again if the system writes any field.
//!
//! Only the stored rows count: scratch a system writes elsewhere (a copy in the frame arena,
//! queued commands) costs the same in either layout.
//!
//! The module also holds one sentence per strategy on what it does to memory, for the
//! window's help and `sim layout` ([`teaches`]).
//!
//! ```
//! use engine::particles::access::SystemCost;
//! use engine::storage::Layout;
//! let integrate = SystemCost::particle("integrate").unwrap();
//! assert_eq!(integrate.traffic(Layout::Soa).total(), 32); // position + velocity, read and written
//! assert_eq!(integrate.traffic(Layout::Aos).total(), 80); // the 40-byte row, read and written
//! assert_eq!(integrate.ratio(), Some(2.5));
//! ```

use super::particle;
use super::scene::Scene;
use crate::arena::AllocMode;
use crate::storage::Layout;
use crate::storage::layout::{BundleLayout, CACHE_LINE};
use crate::world::Strategy;
use std::time::Duration;

/// The fields one system touches per particle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemAccess {
    /// The system's name in the schedule.
    pub system: &'static str,
    /// Fields read for every row (`entity` is the entity column).
    pub reads: &'static [&'static str],
    /// Fields written for every row.
    pub writes: &'static [&'static str],
    /// Fields read for only a few rows (the entity of a particle that dies this step). Such
    /// a column is not streamed, so it is not counted per particle; AoS rows carry it anyway.
    pub rare_reads: &'static [&'static str],
    /// When it touches them at all (otherwise it returns before reading a row).
    pub when: When,
}

impl SystemAccess {
    /// Whether the system touches the rows under `conditions`.
    pub fn touches_rows(&self, conditions: Conditions) -> bool {
        !(self.reads.is_empty() && self.writes.is_empty()) && self.when.holds(conditions)
    }
}

/// When a system touches the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Every step.
    EveryStep,
    /// Only when a force applies: an attractor, neighbour repulsion, or the mouse held.
    ForcesApply,
    /// Only when a step's starting positions are kept for a renderer
    /// ([`ParticleSim::keep_previous_positions`](super::ParticleSim::keep_previous_positions);
    /// the window keeps them for a frame's last step only).
    PositionsKept,
}

impl When {
    /// Whether it holds under `conditions`.
    pub fn holds(self, conditions: Conditions) -> bool {
        match self {
            When::EveryStep => true,
            When::ForcesApply => conditions.forces_apply,
            When::PositionsKept => conditions.positions_kept,
        }
    }

    /// The condition in a few words; `None` for every step.
    pub fn note(self) -> Option<&'static str> {
        match self {
            When::EveryStep => None,
            When::ForcesApply => Some("when a force applies"),
            When::PositionsKept => Some("when positions are kept for drawing"),
        }
    }
}

/// Which of the conditions of [`When`] hold in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// A force applies (the `forces` system has work).
    pub forces_apply: bool,
    /// The step's starting positions are kept (the `stash` system has work).
    pub positions_kept: bool,
    /// Counters are added every few particles (repulsion's neighbour tallies, once per
    /// cell's particles), not once per chunk of rows: only then does counter padding change
    /// the time.
    pub fine_grained_counts: bool,
}

impl Conditions {
    /// Every condition holds: every system at work.
    pub const ALL: Conditions = Conditions {
        forces_apply: true,
        positions_kept: true,
        fine_grained_counts: true,
    };

    /// The conditions of a run of `scene`: a force applies with an attractor, neighbour
    /// repulsion or the mouse held; `positions_kept` as the runner set it.
    pub fn new(scene: &Scene, mouse_held: bool, positions_kept: bool) -> Conditions {
        Conditions {
            forces_apply: mouse_held
                || !scene.attractors.is_empty()
                || scene.forces.repulsion.is_some(),
            positions_kept,
            fine_grained_counts: scene.forces.repulsion.is_some(),
        }
    }
}

/// The preset's systems in schedule order, with what each touches.
pub const SYSTEMS: [SystemAccess; 5] = [
    // `Previous::capture` (when kept): copies the position column (SoA) or gathers it from
    // the rows (AoS) into the frame arena.
    SystemAccess {
        system: "stash",
        reads: &["position"],
        writes: &[],
        rare_reads: &[],
        when: When::PositionsKept,
    },
    // `systems::forces`: `velocity += accel(position) * dt / mass`.
    SystemAccess {
        system: "forces",
        reads: &["position", "velocity", "mass"],
        writes: &["velocity"],
        rare_reads: &[],
        when: When::ForcesApply,
    },
    // `Motion::apply`: gravity, drag, motion and walls on position and velocity.
    SystemAccess {
        system: "integrate",
        reads: &["position", "velocity"],
        writes: &["position", "velocity"],
        rare_reads: &[],
        when: When::EveryStep,
    },
    // `systems::age`: `age += dt`; past `lifetime`, the entity is queued for despawn.
    SystemAccess {
        system: "age",
        reads: &["age", "lifetime"],
        writes: &["age"],
        rare_reads: &["entity"],
        when: When::EveryStep,
    },
    // Emitters queue spawns: no stored particle is read or written (the command buffer
    // writes the new rows after the system).
    SystemAccess {
        system: "emit",
        reads: &[],
        writes: &[],
        rare_reads: &[],
        when: When::EveryStep,
    },
];

/// Bytes of stored rows moved through the cache per particle in one call of a system.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes loaded.
    pub read: usize,
    /// Bytes written back.
    pub written: usize,
}

impl Traffic {
    /// Read and written together.
    pub fn total(self) -> usize {
        self.read + self.written
    }
}

/// What one system costs per particle in each layout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SystemCost {
    /// What it touches.
    pub access: SystemAccess,
    /// SoA columns it streams.
    pub columns: usize,
    /// Bytes of the fields it uses (each field once).
    pub used: usize,
    /// Bytes of one AoS row.
    pub row: usize,
    /// Per particle in SoA.
    pub soa: Traffic,
    /// Per particle in AoS.
    pub aos: Traffic,
}

impl SystemCost {
    /// The cost of `access` on rows of `layout`; `None` if it names a column `layout` lacks.
    pub fn of(layout: &BundleLayout, access: &SystemAccess) -> Option<SystemCost> {
        let sizes =
            |names: &[&str]| -> Option<usize> { names.iter().map(|n| layout.column_size(n)).sum() };
        let (read, written) = (sizes(access.reads)?, sizes(access.writes)?);
        sizes(access.rare_reads)?;
        let mut used: Vec<&str> = access.reads.iter().chain(access.writes).copied().collect();
        used.sort_unstable();
        used.dedup();
        let row = layout.row.size;
        let aos = match (used.is_empty(), access.writes.is_empty()) {
            (true, _) => Traffic::default(),
            (false, true) => Traffic {
                read: row,
                written: 0,
            },
            (false, false) => Traffic {
                read: row,
                written: row,
            },
        };
        Some(SystemCost {
            access: *access,
            columns: used.len(),
            used: sizes(&used)?,
            row,
            soa: Traffic { read, written },
            aos,
        })
    }

    /// The cost of the preset's system called `system` on particles.
    pub fn particle(system: &str) -> Option<SystemCost> {
        particle_costs()
            .into_iter()
            .find(|c| c.access.system == system)
    }

    /// Its traffic in `layout`.
    pub fn traffic(&self, layout: Layout) -> Traffic {
        match layout {
            Layout::Soa => self.soa,
            Layout::Aos => self.aos,
        }
    }

    /// AoS traffic over SoA traffic: the slowdown the bytes predict. `None` when SoA moves
    /// nothing.
    pub fn ratio(&self) -> Option<f64> {
        let soa = self.soa.total();
        (soa > 0).then(|| self.aos.total() as f64 / soa as f64)
    }

    /// One sentence on what the system does to memory in `layout`, from the numbers.
    pub fn teaches(&self, layout: Layout) -> String {
        let a = &self.access;
        let t = self.traffic(layout);
        if t.total() == 0 {
            return format!(
                "{}: {} touches no stored particle",
                layout_label(layout),
                a.system
            );
        }
        let sentence = match layout {
            Layout::Soa => {
                let plural = if self.columns == 1 { "" } else { "s" };
                let writes = if t.written > 0 {
                    format!(" and writing {}", t.written)
                } else {
                    String::new()
                };
                format!(
                    "SoA: {} streams {} column{plural}, reading {} bytes{writes} per particle",
                    a.system, self.columns, t.read
                )
            }
            Layout::Aos => {
                let writes = if t.written > 0 {
                    format!(", and writes all {} back", t.written)
                } else {
                    String::new()
                };
                format!(
                    "AoS: {} drags all {} bytes of each particle through the cache to use {}{writes}",
                    a.system, t.read, self.used
                )
            }
        };
        match a.when.note() {
            Some(note) => format!("{sentence} ({note})"),
            None => sentence,
        }
    }
}

fn layout_label(layout: Layout) -> &'static str {
    match layout {
        Layout::Soa => "SoA",
        Layout::Aos => "AoS",
    }
}

/// The cost of every system of [`SYSTEMS`] on particles, in schedule order.
pub fn particle_costs() -> Vec<SystemCost> {
    SYSTEMS
        .iter()
        .map(|a| {
            SystemCost::of(&particle::LAYOUT, a).expect("the table names particle fields (tested)")
        })
        .collect()
}

/// Bytes per particle per step in `layout` over the systems that touch rows under
/// `conditions`.
pub fn bytes_per_particle_step(
    costs: &[SystemCost],
    layout: Layout,
    conditions: Conditions,
) -> usize {
    costs
        .iter()
        .filter(|c| c.access.touches_rows(conditions))
        .map(|c| c.traffic(layout).total())
        .sum()
}

/// The bandwidth `bytes` per particle over `particles` particles and `steps` steps in
/// `time` amount to, in GB/s (10^9 bytes); `None` for no time.
pub fn gigabytes_per_second(
    bytes: usize,
    particles: usize,
    steps: u64,
    time: Duration,
) -> Option<f64> {
    let seconds = time.as_secs_f64();
    (seconds > 0.0).then(|| bytes as f64 * particles as f64 * steps as f64 / seconds / 1e9)
}

/// What `layout` does to the particles' memory, in one sentence.
pub fn teaches_layout(layout: Layout) -> String {
    let l = particle::LAYOUT;
    match layout {
        Layout::Soa => format!(
            "soa: one Vec per field ({} columns with the entities): a system streams only the \
             columns it uses, so no byte it skips enters the cache",
            l.columns().count()
        ),
        Layout::Aos => format!(
            "aos: one Vec of {}-byte rows, {:.1} to a {CACHE_LINE}-byte cache line: a system \
             drags whole rows through the cache, whichever fields it uses",
            l.row.size,
            l.row.rows_per_line()
        ),
    }
}

/// What `mode` does to the per-step scratch memory, in one sentence.
pub fn teaches_alloc(mode: AllocMode) -> &'static str {
    match mode {
        AllocMode::Arena => {
            "arena: per-step scratch is bump-allocated from chunks kept across steps: the \
             steady state never calls the allocator and reuses memory still warm in cache"
        }
        AllocMode::Heap => {
            "heap: every scratch buffer is a fresh global allocation, freed at the next reset, \
             as code without an arena does: allocator calls every step for memory an arena reuses"
        }
    }
}

/// What running on `threads` worker threads does to memory, in one sentence.
pub fn teaches_threads(threads: usize) -> String {
    if threads <= 1 {
        "threads 1: one core streams every row, so one core's share of the memory bandwidth \
         bounds the streaming systems"
            .to_owned()
    } else {
        format!(
            "threads {threads}: the rows are cut into chunks, one worker streaming each: the \
             cores add up their memory bandwidth and write disjoint rows"
        )
    }
}

/// Said after the padding sentence where counters are added once per chunk of rows.
pub const PADDING_IDLE_HERE: &str = "; here counters are added once per chunk of rows, so \
     padding changes nothing measurable: load the swarm, where every cell's particles count \
     their neighbours";

/// Said after the alloc sentence: what the toggle can show in this preset.
pub const ALLOC_IN_THIS_PRESET: &str = "; this preset takes only a few large buffers a step \
     (the HUD counts them) and the allocator hands them back warm, so the median step barely \
     moves and the worst steps show it: the arena's win is on many small allocations \
     (cargo bench -p benches -- arena)";

/// One sentence per strategy of `strategy` (layout, lock, padding, threads, alloc), each
/// with the strategy's name, and where a strategy cannot matter in this run (`conditions`),
/// where it does.
pub fn teaches(strategy: &Strategy, conditions: Conditions) -> [(&'static str, String); 5] {
    let mut padding = strategy.padding.teaches().to_owned();
    if !conditions.fine_grained_counts {
        padding += PADDING_IDLE_HERE;
    }
    [
        ("layout", teaches_layout(strategy.layout)),
        ("lock", strategy.lock.teaches().to_owned()),
        ("padding", padding),
        ("threads", teaches_threads(strategy.threads)),
        (
            "alloc",
            teaches_alloc(strategy.alloc).to_owned() + ALLOC_IN_THIS_PRESET,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Padding;
    use crate::particles::ParticleSim;
    use crate::sync::LockStrategy;

    fn cost(system: &str) -> SystemCost {
        SystemCost::particle(system).unwrap()
    }

    #[test]
    fn the_table_names_every_system_of_the_schedule_in_order() {
        let scene = Scene::default_scene().with_particles(10).unwrap();
        let sim = ParticleSim::new(scene, Strategy::default()).unwrap();
        let scheduled: Vec<&str> = sim.systems().collect();
        let table: Vec<&str> = SYSTEMS.iter().map(|a| a.system).collect();
        assert_eq!(table, scheduled, "one row of access::SYSTEMS per system");
        assert_eq!(
            particle_costs().len(),
            SYSTEMS.len(),
            "every name is a column"
        );
    }

    #[test]
    fn the_particles_bytes_per_system() {
        let bytes = |s: &str| {
            let c = cost(s);
            (c.soa, c.aos)
        };
        let t = |read, written| Traffic { read, written };
        assert_eq!(bytes("stash"), (t(8, 0), t(40, 0)));
        assert_eq!(bytes("forces"), (t(20, 8), t(40, 40)));
        assert_eq!(bytes("integrate"), (t(16, 16), t(40, 40)));
        assert_eq!(bytes("age"), (t(8, 4), t(40, 40)));
        assert_eq!(bytes("emit"), (t(0, 0), t(0, 0)));
        assert_eq!(cost("stash").ratio(), Some(5.0));
        assert_eq!(cost("integrate").ratio(), Some(2.5));
        assert_eq!(cost("forces").ratio(), Some(80.0 / 28.0));
        assert_eq!(cost("age").ratio(), Some(80.0 / 12.0));
        assert_eq!(cost("emit").ratio(), None);
        assert_eq!((cost("forces").columns, cost("forces").used), (3, 20));
    }

    #[test]
    fn a_step_moves_the_sum_of_the_systems_that_touch_rows() {
        let costs = particle_costs();
        let bytes = |layout, forces_apply, positions_kept| {
            let conditions = Conditions {
                forces_apply,
                positions_kept,
                fine_grained_counts: false,
            };
            bytes_per_particle_step(&costs, layout, conditions)
        };
        assert_eq!(bytes(Layout::Soa, false, false), 32 + 12);
        assert_eq!(bytes(Layout::Aos, false, false), 80 + 80);
        assert_eq!(bytes(Layout::Soa, false, true), 8 + 32 + 12);
        assert_eq!(bytes(Layout::Soa, true, true), 8 + 28 + 32 + 12);
        assert_eq!(bytes(Layout::Aos, true, true), 40 + 80 + 80 + 80);
        assert_eq!(
            bytes_per_particle_step(&costs, Layout::Aos, Conditions::ALL),
            bytes(Layout::Aos, true, true)
        );
    }

    #[test]
    fn forces_apply_with_attractors_repulsion_or_the_mouse() {
        let forces = |scene: &Scene, mouse| Conditions::new(scene, mouse, false).forces_apply;
        let default = Scene::default_scene();
        assert!(!forces(&default, false));
        assert!(forces(&default, true));
        let galaxy = include_str!("../../../assets/scenes/galaxy.toml");
        let swarm = include_str!("../../../assets/scenes/swarm.toml");
        for (name, text) in [("galaxy", galaxy), ("swarm", swarm)] {
            assert!(forces(&Scene::parse(name, text).unwrap(), false), "{name}");
        }
        assert!(Conditions::new(&default, false, true).positions_kept);
    }

    #[test]
    fn sentences_say_the_numbers() {
        assert_eq!(
            cost("integrate").teaches(Layout::Aos),
            "AoS: integrate drags all 40 bytes of each particle through the cache to use 16, \
             and writes all 40 back"
        );
        assert_eq!(
            cost("integrate").teaches(Layout::Soa),
            "SoA: integrate streams 2 columns, reading 16 bytes and writing 16 per particle"
        );
        assert_eq!(
            cost("stash").teaches(Layout::Soa),
            "SoA: stash streams 1 column, reading 8 bytes per particle \
             (when positions are kept for drawing)"
        );
        assert_eq!(
            cost("stash").teaches(Layout::Aos),
            "AoS: stash drags all 40 bytes of each particle through the cache to use 8 \
             (when positions are kept for drawing)"
        );
        assert!(
            cost("forces")
                .teaches(Layout::Aos)
                .ends_with("(when a force applies)")
        );
        assert_eq!(
            cost("emit").teaches(Layout::Aos),
            "AoS: emit touches no stored particle"
        );
        assert!(teaches_layout(Layout::Aos).contains("40-byte rows, 1.6 to a 64-byte"));
        assert!(teaches_layout(Layout::Soa).contains("7 columns"));
    }

    #[test]
    fn every_strategy_has_its_own_sentence() {
        let mut seen = std::collections::BTreeSet::new();
        for layout in Layout::ALL {
            assert!(seen.insert(teaches_layout(layout)));
        }
        for lock in LockStrategy::ALL {
            assert!(seen.insert(lock.teaches().to_owned()), "{lock}");
            assert!(lock.teaches().starts_with(lock.name()));
        }
        for padding in Padding::ALL {
            assert!(seen.insert(padding.teaches().to_owned()), "{padding}");
            assert!(padding.teaches().starts_with(padding.name()));
        }
        for mode in AllocMode::ALL {
            assert!(seen.insert(teaches_alloc(mode).to_owned()), "{mode}");
            assert!(teaches_alloc(mode).starts_with(mode.name()));
        }
        assert!(seen.insert(teaches_threads(1)));
        assert!(seen.insert(teaches_threads(2)));
        let names = teaches(&Strategy::default(), Conditions::ALL).map(|(name, _)| name);
        assert_eq!(names, ["layout", "lock", "padding", "threads", "alloc"]);
    }

    #[test]
    fn where_padding_cannot_matter_the_help_says_where_it_does() {
        let swarm = Scene::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/scenes/swarm.toml"
        )))
        .unwrap();
        for (scene, idle) in [(Scene::default_scene(), true), (swarm, false)] {
            let conditions = Conditions::new(&scene, false, true);
            let [_, _, (_, padding), _, _] = teaches(&Strategy::default(), conditions);
            assert_eq!(
                padding.ends_with(PADDING_IDLE_HERE),
                idle,
                "{}: {padding}",
                scene.name
            );
        }
    }

    #[test]
    fn bandwidth_is_bytes_over_time() {
        let gb = gigabytes_per_second(32, 1_000_000, 2, Duration::from_millis(4)).unwrap();
        assert!((gb - 16.0).abs() < 1e-9, "{gb}");
        assert_eq!(gigabytes_per_second(32, 10, 1, Duration::ZERO), None);
    }
}
