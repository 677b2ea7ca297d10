//! A game-loop engine whose memory and concurrency strategies are switchable and
//! measurable, with a particle simulation built on it.
//!
//! Declare your own bundle of components with [`bundle!`], keep entities of it in a
//! [`World`](world::World), and run your own systems in a [`Schedule`](world::Schedule):
//! you get generational handles, SoA or AoS storage behind one API, double-buffered frame
//! arenas, per-thread counters (cache-padded or not), interchangeable lock strategies for
//! the command buffer, a thread pool, per-system timers, and live switches between all of
//! them. The particle simulation ([`particles`]) is one preset built that way.
//!
//! Each module holds one pattern, with its invariants written at the top:
//! - [`entity`]: generational handles that never alias;
//! - [`arena`]: bump arenas, double-buffered per frame, and per-thread scratch;
//! - [`storage`]: one bundle stored as SoA or AoS behind one API ([`bundle!`]);
//! - [`counters`]: per-thread tallies under your names, cache-padded or deliberately packed;
//! - [`sync`]: interchangeable lock strategies for data shared by worker threads;
//! - [`parallel`]: splitting rows across rayon workers, serially when small;
//! - [`lanes`]: two `Vec2` rows per `Vec4`, so SoA loops vectorise for any bundle;
//! - [`grid`]: a uniform grid for neighbour queries over any `Vec2` field;
//! - [`pages`]: a global allocator that can put big blocks on 2 MiB pages;
//! - [`world`]: the core that ties them together; [`timer`], [`timestep`].
//!
//! Generic code (`bundle!`, `Storage<B>`, your systems) is compiled at the opt-level of the
//! crate that uses it: build your program with optimisations (or set
//! `[profile.dev.package."*"] opt-level = 2` and an `opt-level` for your own crate) before
//! you compare layouts.
//!
//! ```
//! use engine::prelude::*;
//! use engine::particles::{ParticleSim, scene::Scene};
//!
//! let scene = Scene::default_scene().with_particles(2_000).unwrap();
//! let mut sim = ParticleSim::new(scene, Strategy { threads: 2, ..Strategy::default() }).unwrap();
//! sim.run(10);
//! println!("{:016x}", sim.state_hash());
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

/// Implements `Display` (the `name()`) and `FromStr` (any name in `ALL`, else an error
/// listing the accepted names) for a fieldless choice enum such as a layout or strategy.
macro_rules! named_choice {
    ($ty:ty, $what:literal, $expected:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|choice| choice.name() == s)
                    .ok_or_else(|| format!("unknown {} '{s}' (expected {})", $what, $expected))
            }
        }
    };
}
pub(crate) use named_choice;

#[allow(unsafe_code)]
pub mod arena;
pub mod counters;
pub mod entity;
#[cfg(test)]
mod entity_model;
pub mod error;
#[allow(unsafe_code)]
pub mod grid;
pub mod lanes;
#[allow(unsafe_code)]
pub mod pages;
pub mod parallel;
pub mod particles;
pub mod storage;
pub mod sync;
pub mod timer;
pub mod timestep;
pub mod world;

/// The math types in the engine's signatures.
pub use glam;

/// What a program built on the engine usually needs, in one `use engine::prelude::*`.
pub mod prelude {
    pub use crate::arena::{Arena, FrameArenas};
    pub use crate::bundle;
    pub use crate::counters::{CounterId, Padding};
    pub use crate::entity::Entity;
    pub use crate::error::ParamError;
    pub use crate::grid::{Grid, GridGeometry};
    pub use crate::lanes::{Lanes, PairKernel, Pairs};
    pub use crate::parallel::for_each_chunk;
    pub use crate::storage::{Layout, Rows, Storage};
    pub use crate::sync::LockStrategy;
    pub use crate::with_rows;
    pub use crate::world::{Schedule, Shared, Strategy, Switch, World};
    pub use glam::{Vec2, Vec4};
}

/// Re-exports used by the [`bundle!`] macro's expansion; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::parallel::join_all;
    pub use itertools::izip;
}
