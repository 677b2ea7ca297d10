//! Group `user_bundle`: the SoA speed-up on a bundle declared here, as a user of the engine
//! would, not on the engine's own `Particle`. A `Ship` has two `Vec2` fields and four more;
//! the step (drag, motion, wrap-around) is a [`PairKernel`] written once over [`Lanes`]:
//! - `soa`: the position and velocity columns as [`Pairs`], two ships per `Vec4`;
//! - `aos`: the same kernel on one `Vec2` per ship, row by row (each row drags all 40 bytes
//!   of entity + ship through the cache to use 16).
//!
//! 2M ships, 1 thread. Before timing, both layouts run the same steps from the same ships
//! and must agree bit for bit.

use criterion::{BenchmarkId, Criterion, Throughput};
use engine::lanes::{Lanes, PairKernel, Pairs};
use engine::prelude::*;
use engine::storage::ByLayout;
use rand::Rng;
use std::hint::black_box;

engine::bundle! {
    /// A ship of a space game: what moves, and what the step does not touch.
    pub mod ship: Ship {
        /// Position in world units.
        pub position: Vec2,
        /// Velocity in world units per second.
        pub velocity: Vec2,
        /// Facing, radians.
        pub heading: f32,
        /// Fuel left.
        pub fuel: f32,
        /// Hit points.
        pub hull: u32,
        /// Owning player.
        pub team: u32,
    }
}

const ROWS: usize = 2_000_000;
/// The world `[0, SIZE)²` wraps around at its edges.
const SIZE: f32 = 4096.0;

/// Drag, motion and wrap-around.
#[derive(Clone, Copy)]
struct Cruise {
    dt: f32,
    damping: f32,
}

impl PairKernel for Cruise {
    type Params<L: Lanes> = (L, L, L);

    fn params<L: Lanes>(&self) -> (L, L, L) {
        let s = |v: f32| L::repeat(Vec2::splat(v));
        (s(self.dt), s(self.damping), s(SIZE))
    }

    #[inline(always)]
    fn apply<L: Lanes>(
        &(dt, damping, size): &(L, L, L),
        position: &mut L,
        velocity: &mut L,
    ) -> u32 {
        let v = *velocity * damping;
        let x = *position + v * dt;
        // Wrap: add or subtract the world size where the ship left it.
        let below = x.cmplt(L::ZERO);
        let above = size.cmplt(x);
        let wrapped = L::select(below, x + size, L::select(above, x - size, x));
        *position = wrapped;
        *velocity = v;
        L::count(below) + L::count(above)
    }
}

const CRUISE: Cruise = Cruise {
    dt: 1.0 / 120.0,
    damping: 0.999,
};

/// One step over every row of `storage`, on the calling thread.
fn step(storage: &mut Storage<Ship>, k: &Cruise) -> u64 {
    match storage.rows_mut() {
        ByLayout::Soa(columns) => Pairs::new(columns.position, columns.velocity)
            .expect("columns of one storage")
            .run(k),
        ByLayout::Aos(rows) => {
            let params = k.params::<Vec2>();
            let mut wraps = 0u64;
            rows.for_each(|s: ship::Mut| {
                wraps += u64::from(Cruise::apply(&params, s.position, s.velocity))
            });
            wraps
        }
    }
}

fn ships(layout: Layout) -> Storage<Ship> {
    let mut rng = benches::rng();
    let mut storage = Storage::new(layout);
    storage.reserve(ROWS);
    for i in 0..ROWS {
        storage.spawn(Ship {
            position: Vec2::new(rng.random(), rng.random()) * SIZE,
            velocity: Vec2::new(
                rng.random_range(-300.0..300.0),
                rng.random_range(-300.0..300.0),
            ),
            heading: rng.random(),
            fuel: 100.0,
            hull: 3,
            team: i as u32 % 4,
        });
    }
    storage
}

fn bits(storage: &Storage<Ship>) -> Vec<[u32; 4]> {
    (0..storage.len())
        .map(|i| {
            let (_, s) = storage.row(i).expect("i < len");
            [s.position.x, s.position.y, s.velocity.x, s.velocity.y].map(f32::to_bits)
        })
        .collect()
}

pub fn bench(c: &mut Criterion) {
    let mut soa = ships(Layout::Soa);
    let mut aos = ships(Layout::Aos);
    let wraps: Vec<(u64, u64)> = (0..20)
        .map(|_| (step(&mut soa, &CRUISE), step(&mut aos, &CRUISE)))
        .collect();
    assert!(
        wraps.iter().all(|(a, b)| a == b),
        "same wrap-arounds in both layouts"
    );
    assert!(
        bits(&soa) == bits(&aos),
        "SoA and AoS agree bit for bit after 20 steps"
    );

    let mut group = c.benchmark_group("user_bundle");
    group.throughput(Throughput::Elements(ROWS as u64));
    for (layout, storage) in [(Layout::Soa, &mut soa), (Layout::Aos, &mut aos)] {
        group.bench_function(BenchmarkId::new(layout.name(), ROWS), |b| {
            b.iter(|| step(storage, black_box(&CRUISE)))
        });
    }
    group.finish();
}
