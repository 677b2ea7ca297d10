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
/// queued (booked as [`APPLY`]). Each system's wall time is kept under its name ([`World::times`]).
///
/// See [the module](crate::world) for an example.
pub struct Schedule<B: Bundle, R> {
    systems: Vec<(String, SystemFn<B, R>)>,
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
        if name.is_empty() || name == APPLY || self.systems.iter().any(|(n, _)| n == name) {
            return Err(ParamError::new(
                "name",
                format!("{name:?}"),
                format!("a system name that is not empty, not {APPLY:?} and not already taken"),
            ));
        }
        self.systems.push((name.to_owned(), Box::new(system)));
        Ok(self)
    }

    /// The systems' names, in run order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.systems.iter().map(|(n, _)| n.as_str())
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
        for (name, system) in &mut self.systems {
            let start = Instant::now();
            system(world, resources);
            world.timers.record_exclusive(name, start.elapsed());
            let start = Instant::now();
            world.apply_commands();
            world.timers.record_exclusive(APPLY, start.elapsed());
        }
        world.end_step();
    }
}
