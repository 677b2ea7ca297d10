//! The contenders (the table in the crate docs), the particle and thread counts they run
//! over, the pools they run on, and the check that they all agree before anything is timed.

use crate::bevy::{self, Bevy};
use crate::kernels::{BOUNCES, BOUNDS};
use crate::worlds::{Engine, Hand, Hecs, Legion, Run, Threads};
use benches::Particles;
use engine::parallel::PARALLEL_MIN_ROWS;
use engine::storage::Layout;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// Particle counts benched.
pub const SIZES: [usize; 4] = [10_000, 100_000, 1_000_000, 4_000_000];
/// Thread counts benched.
const THREADS: [usize; 2] = [1, 2];

/// One way of running the step over N particles; the crate docs say what each runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    EngineSoa,
    EngineAos,
    HecsQuery,
    HecsColumns,
    LegionQuery,
    LegionColumns,
    BevyQuery,
    BevyQueryNocd,
    BevySlices,
    BevySlicesNocd,
    HandSoa,
    Stream,
}

impl Contender {
    /// Every contender, in table order.
    pub const ALL: [Self; 12] = [
        Self::EngineSoa,
        Self::EngineAos,
        Self::HecsQuery,
        Self::HecsColumns,
        Self::LegionQuery,
        Self::LegionColumns,
        Self::BevyQuery,
        Self::BevyQueryNocd,
        Self::BevySlices,
        Self::BevySlicesNocd,
        Self::HandSoa,
        Self::Stream,
    ];

    /// The id in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::EngineSoa => "engine_soa",
            Self::EngineAos => "engine_aos",
            Self::HecsQuery => "hecs_query",
            Self::HecsColumns => "hecs_columns",
            Self::LegionQuery => "legion_query",
            Self::LegionColumns => "legion_columns",
            Self::BevyQuery => "bevy_query",
            Self::BevyQueryNocd => "bevy_query_nocd",
            Self::BevySlices => "bevy_slices",
            Self::BevySlicesNocd => "bevy_slices_nocd",
            Self::HandSoa => "hand_soa",
            Self::Stream => "stream",
        }
    }

    /// A peer: neither the engine nor the memory bound.
    pub fn is_peer(self) -> bool {
        !matches!(self, Self::EngineSoa | Self::EngineAos | Self::Stream)
    }

    /// Builds the contender over a copy of `particles`, stepping on `on`.
    pub fn build<'p>(self, particles: &Particles, on: Threads<'p>, pools: &'p Pools) -> Built<'p> {
        let run: Box<dyn Run + Send + 'p> = match self {
            Self::EngineSoa => Box::new(Engine::new(particles, Layout::Soa, on.pool)),
            Self::EngineAos => Box::new(Engine::new(particles, Layout::Aos, on.pool)),
            Self::HecsQuery => Box::new(Hecs::new(particles, false, on)),
            Self::HecsColumns => Box::new(Hecs::new(particles, true, on)),
            Self::LegionQuery => Box::new(Legion::new(particles, false, on)),
            Self::LegionColumns => Box::new(Legion::new(particles, true, on)),
            Self::BevyQuery => Box::new(Bevy::new(particles, true, false, on.count)),
            Self::BevyQueryNocd => Box::new(Bevy::new(particles, false, false, on.count)),
            Self::BevySlices => Box::new(Bevy::new(particles, true, true, on.count)),
            Self::BevySlicesNocd => Box::new(Bevy::new(particles, false, true, on.count)),
            Self::HandSoa => Box::new(Hand::new(particles, false, on)),
            Self::Stream => Box::new(Hand::new(particles, true, on)),
        };
        // bevy brings its own task pool and only needs a thread to run its schedule on.
        let bevy = matches!(
            self,
            Self::BevyQuery | Self::BevyQueryNocd | Self::BevySlices | Self::BevySlicesNocd
        );
        Built {
            run,
            home: if bevy { pools.single() } else { on.pool },
        }
    }
}

/// A contender built for one particle count and thread count, and the pool its timing loop
/// runs on.
pub struct Built<'p> {
    run: Box<dyn Run + Send + 'p>,
    home: &'p rayon::ThreadPool,
}

impl Built<'_> {
    /// `steps` steps, timed on a worker of the home pool, as in `Schedule::run(.., n)`:
    /// entering a pool from outside wakes a sleeping worker, which costs more than a whole
    /// 10k-particle step here, so it is paid once per call, not per step.
    pub fn time(&mut self, steps: u64) -> Duration {
        let run = &mut self.run;
        self.home.install(|| {
            let start = Instant::now();
            for _ in 0..steps {
                run.step();
            }
            start.elapsed()
        })
    }
}

/// One rayon pool per entry of [`THREADS`], in that order.
pub struct Pools([rayon::ThreadPool; THREADS.len()]);

impl Pools {
    /// Builds the pools, and bevy's global compute pool, then checks that the contenders
    /// agree on them.
    pub fn checked() -> Self {
        bevy::init_compute_pool();
        let pools = Self(THREADS.map(benches::pool));
        check_contenders_agree(&pools);
        pools
    }

    /// Each pool, as the threads a contender steps on, in the order of [`THREADS`].
    pub fn each(&self) -> impl Iterator<Item = Threads<'_>> {
        self.0.iter().map(Threads::of)
    }

    /// The 1-thread pool.
    fn single(&self) -> &rayon::ThreadPool {
        self.0
            .iter()
            .find(|pool| pool.current_num_threads() == 1)
            .expect("a 1-thread pool")
    }
}

/// Before timing anything: from the same particles, every contender but `stream` must end
/// in bit-identical state with the same bounce count after some steps, at each thread count.
/// So they all do the same arithmetic, and the parallel versions cover every particle once.
fn check_contenders_agree(pools: &Pools) {
    let n = 3 * PARALLEL_MIN_ROWS + 123;
    let particles = Particles::random(n, BOUNDS);
    let mut reference = None;
    for on in pools.each() {
        for contender in Contender::ALL
            .into_iter()
            .filter(|&c| c != Contender::Stream)
        {
            let mut c = contender.build(&particles, on, pools).run;
            BOUNCES.store(0, Relaxed);
            for _ in 0..500 {
                c.step();
            }
            let outcome = (BOUNCES.load(Relaxed), c.state());
            match &reference {
                None => reference = Some(outcome),
                Some(r) => assert!(
                    *r == outcome,
                    "{} at {} threads disagrees with engine_soa at 1 thread",
                    contender.name(),
                    on.count
                ),
            }
        }
    }
    let bounces = reference.map_or(0, |r| r.0);
    assert!(bounces > 0, "the check steps must exercise the walls");
    eprintln!(
        "ecs_integrate: all contenders agree bit for bit after 500 steps of {n} particles \
         ({bounces} bounces), at 1 and 2 threads"
    );
}
