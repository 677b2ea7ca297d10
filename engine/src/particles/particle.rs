//! The engine's particle bundle, declared with [`bundle!`](crate::bundle) like any user's.

use glam::Vec2;

// So users write `particles::particle::Mut` rather than `particles::particle::particle::Mut`.
pub use self::particle::{Columns, ColumnsMut, ColumnsRef, FIELDS, Fields, LAYOUT, Mut, Ref};

crate::bundle! {
    /// One particle: 32 bytes of fields; 40 with its entity as an AoS row, seven columns
    /// plus the entities as SoA.
    pub mod particle: Particle {
        /// Position in world units.
        pub position: Vec2,
        /// Velocity in world units per second.
        pub velocity: Vec2,
        /// RGBA colour.
        pub color: [u8; 4],
        /// Seconds since spawn.
        pub age: f32,
        /// Seconds it lives.
        pub lifetime: f32,
        /// Mass (scales forces).
        pub mass: f32,
    }
}

impl Particle {
    /// A white, unit-mass particle that lives forever.
    pub fn at(position: Vec2, velocity: Vec2) -> Particle {
        Particle {
            position,
            velocity,
            color: [255; 4],
            age: 0.0,
            lifetime: f32::INFINITY,
            mass: 1.0,
        }
    }

    /// The float fields' bit patterns (position, velocity, age, lifetime, mass), for exact
    /// comparisons and hashing: equal bits, bit-identical particles.
    pub fn float_bits(&self) -> [u32; 7] {
        [
            self.position.x,
            self.position.y,
            self.velocity.x,
            self.velocity.y,
            self.age,
            self.lifetime,
            self.mass,
        ]
        .map(f32::to_bits)
    }
}

const _: () = assert!(size_of::<Particle>() == 32);
const _: () = assert!(size_of::<crate::storage::AosRow<Particle>>() == 40);
