//! An ordered list of named systems, run one step at a time.

use super::World;
use crate::error::ParamError;
use crate::storage::Bundle;
use std::sync::Arc;
use std::time::Instant;

/// A system: user code that runs once per step with the world and the schedule's
/// resources `R` (whatever state the systems share beyond the world: parameters, RNGs,
/// buffers).
pub type SystemFn<B, R> = Box<dyn FnMut(&mut World<B>, &mut R) + Send>;

/// The name under which a schedule books applying the command buffer.
pub const APPLY: &str = "apply";

/// Named systems in the order they run. Each step: the world applies the desired strategy
/// and swaps its frame arenas; then every system runs, each followed by the commands it
/// queued (booked as [`APPLY`]), unless it was added with
/// [`Schedule::add_with_deferred_commands`]. Each system's wall time is kept under its name
/// ([`World::times`]).
///
/// See [the module](crate::world) for an example.
pub struct Schedule<B: Bundle, R> {
    systems: Vec<System<B, R>>,
}

/// A named system and when its commands are applied.
struct System<B: Bundle, R> {
    name: String,
    run: SystemFn<B, R>,
    /// Whether its commands wait for the next system's apply.
    defer: bool,
}

impl<B: Bundle, R> Default for Schedule<B, R> {
    fn default() -> Self {
        Schedule {
            systems: Vec::new(),
        }
    }
}

impl<B: Bundle, R> Schedule<B, R> {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `system` under `name`.
    ///
    /// # Errors
    /// If `name` is empty, is [`APPLY`], or is already taken.
    pub fn add(
        &mut self,
        name: &str,
        system: impl FnMut(&mut World<B>, &mut R) + Send + 'static,
    ) -> Result<&mut Self, ParamError> {
        self.push(name, Box::new(system), false)
    }

    /// Like [`Schedule::add`], but the commands `system` queues wait and are applied
    /// together with the next system's (after the next system that is not deferred itself,
    /// or at the end of the step). Despawns and spawns applied together share rows ([`Commands::apply`]): a
    /// system that despawns, followed by one that spawns as many, moves no row at all. The
    /// next system still sees the entities queued for despawn, alive.
    ///
    /// [`Commands::apply`]: crate::world::Commands::apply
    ///
    /// # Errors
    /// As [`Schedule::add`].
    pub fn add_with_deferred_commands(
        &mut self,
        name: &str,
        system: impl FnMut(&mut World<B>, &mut R) + Send + 'static,
    ) -> Result<&mut Self, ParamError> {
        self.push(name, Box::new(system), true)
    }

    fn push(
        &mut self,
        name: &str,
        run: SystemFn<B, R>,
        defer: bool,
    ) -> Result<&mut Self, ParamError> {
        if name.is_empty() || name == APPLY || self.names().any(|n| n == name) {
            return Err(ParamError::new(
                "name",
                format!("{name:?}"),
                format!("a system name that is not empty, not {APPLY:?} and not already taken"),
            ));
        }
        self.systems.push(System {
            name: name.to_owned(),
            run,
            defer,
        });
        Ok(self)
    }

    /// The systems' names, in run order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.systems.iter().map(|s| s.name.as_str())
    }

    /// Runs one step on the world's thread pool.
    pub fn step(&mut self, world: &mut World<B>, resources: &mut R)
    where
        R: Send,
    {
        self.run(world, resources, 1);
    }

    /// Runs `n` steps, entering the world's thread pool once for all of them (entering
    /// costs an allocation now and then; stepping does not). A thread-count switch applies
    /// its new pool from the next call.
    pub fn run(&mut self, world: &mut World<B>, resources: &mut R, n: u64)
    where
        R: Send,
    {
        let pool = Arc::clone(&world.pool);
        pool.install(|| (0..n).for_each(|_| self.step_on_pool(world, resources)));
    }

    fn step_on_pool(&mut self, world: &mut World<B>, resources: &mut R) {
        world.begin_step();
        let last = self.systems.len().saturating_sub(1);
        for (k, system) in self.systems.iter_mut().enumerate() {
            let start = Instant::now();
            (system.run)(world, resources);
            world.timers.record_exclusive(&system.name, start.elapsed());
            if system.defer && k < last {
                continue;
            }
            let start = Instant::now();
            world.apply_commands();
            world.timers.record_exclusive(APPLY, start.elapsed());
        }
        world.end_step();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::particles::Particle;
    use crate::world::Strategy;
    use glam::Vec2;

    #[test]
    fn deferred_commands_wait_for_the_next_system_and_share_rows() {
        let mut world: World<Particle> = World::new(Strategy::default()).unwrap();
        let p = Particle::at(Vec2::ZERO, Vec2::ONE);
        let [a, b] = [1.0, 2.0].map(|mass| world.spawn(Particle { mass, ..p }));
        let mut schedule: Schedule<Particle, Vec<bool>> = Schedule::new();
        schedule
            .add_with_deferred_commands("kill", move |w: &mut World<Particle>, _: &mut _| {
                w.commands_mut().writer(0).despawn(a);
            })
            .and_then(|s| {
                s.add(
                    "birth",
                    move |w: &mut World<Particle>, seen: &mut Vec<bool>| {
                        seen.push(w.get(a).is_some());
                        let (_, shared) = w.split();
                        shared.commands.writer(0).spawn(Particle { mass: 3.0, ..p });
                    },
                )
            })
            .unwrap();
        let mut seen = Vec::new();
        schedule.step(&mut world, &mut seen);
        assert_eq!(seen, [true], "the despawn waited for birth's apply");
        assert!(world.get(a).is_none());
        assert_eq!(world.len(), 2);
        let storage = world.storage();
        let (newcomer, bundle) = storage.row(0).unwrap();
        assert_eq!(bundle.mass, 3.0, "the spawn took a's row");
        assert_eq!(newcomer.index(), a.index());
        assert_eq!(storage.slot_of(b), Some(1), "b did not move");
    }

    #[test]
    fn a_last_system_with_deferred_commands_is_applied_at_the_end_of_the_step() {
        let mut world: World<Particle> = World::new(Strategy::default()).unwrap();
        let a = world.spawn(Particle::at(Vec2::ZERO, Vec2::ONE));
        let mut schedule: Schedule<Particle, ()> = Schedule::new();
        schedule
            .add_with_deferred_commands("kill", move |w: &mut World<Particle>, _: &mut ()| {
                w.commands_mut().writer(0).despawn(a);
            })
            .unwrap();
        schedule.step(&mut world, &mut ());
        assert!(world.get(a).is_none());
        assert_eq!(world.len(), 0);
    }
}
