//! A particle engine whose memory and concurrency strategies are switchable and measurable.
//!
//! Each module holds one pattern, with its invariants written at the top:
//! - [`entity`]: generational handles that never alias;
//! - [`arena`]: bump arenas, double-buffered per frame, and per-thread scratch;
//! - [`storage`]: one bundle stored as SoA or AoS behind one API ([`bundle!`]);
//! - [`counters`]: per-thread tallies, cache-padded or deliberately packed;
//! - [`sync`]: interchangeable lock strategies for data shared by worker threads;
//! - [`parallel`]: splitting rows across rayon workers, serially when small.
//!
//! On top of them, the simulation: [`scene`] (TOML scenes, validated), [`emitter`],
//! [`grid`] (neighbour queries), [`systems`], [`timer`], [`timestep`] and [`world`].

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

pub mod arena;
pub mod counters;
pub mod emitter;
pub mod entity;
pub mod grid;
pub mod parallel;
pub mod particle;
pub mod scene;
pub mod storage;
pub mod sync;
pub mod systems;
pub mod timer;
pub mod timestep;
pub mod world;

/// Re-exports used by the [`bundle!`] macro's expansion; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use itertools::izip;
}
