//! Per-system wall time, recorded by an RAII [`ScopeTimer`] when it drops.

use std::time::{Duration, Instant};

/// The systems of one step, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum System {
    /// Spawn requests from emitters.
    Emit,
    /// Binning positions into the spatial grid.
    Grid,
    /// Attractors and neighbour repulsion.
    Forces,
    /// Gravity, drag, motion, walls.
    Integrate,
    /// Lifetimes; deaths to the event sink.
    Age,
    /// Despawns, then spawns.
    Apply,
}

impl System {
    /// Every system, in run order.
    pub const ALL: [System; 6] = [
        System::Emit,
        System::Grid,
        System::Forces,
        System::Integrate,
        System::Age,
        System::Apply,
    ];

    /// A short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            System::Emit => "emit",
            System::Grid => "grid",
            System::Forces => "forces",
            System::Integrate => "integrate",
            System::Age => "age",
            System::Apply => "apply",
        }
    }
}

/// Wall time of each system in the last step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SystemTimes {
    times: [Duration; 6],
}

impl SystemTimes {
    /// The time `system` took.
    pub fn get(&self, system: System) -> Duration {
        self.times[system as usize]
    }

    /// The sum over all systems.
    pub fn total(&self) -> Duration {
        self.times.iter().sum()
    }

    /// Starts timing `system`; the time is stored when the guard drops (also on panic).
    pub fn scope(&mut self, system: System) -> ScopeTimer<'_> {
        ScopeTimer {
            slot: &mut self.times[system as usize],
            start: Instant::now(),
        }
    }
}

/// Records the time since its creation into a slot when dropped.
///
/// ```
/// use engine::timer::{System, SystemTimes};
/// let mut times = SystemTimes::default();
/// {
///     let _t = times.scope(System::Grid);
///     std::thread::sleep(std::time::Duration::from_millis(2));
/// }
/// assert!(times.get(System::Grid).as_millis() >= 2);
/// ```
pub struct ScopeTimer<'a> {
    slot: &'a mut Duration,
    start: Instant,
}

impl Drop for ScopeTimer<'_> {
    fn drop(&mut self) {
        *self.slot = self.start.elapsed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_even_when_the_scope_panics() {
        let mut times = SystemTimes::default();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _t = times.scope(System::Age);
            std::thread::sleep(Duration::from_millis(1));
            panic!("system failed");
        }));
        assert!(result.is_err());
        assert!(times.get(System::Age) >= Duration::from_millis(1));
        assert_eq!(times.total(), times.get(System::Age));
    }
}
