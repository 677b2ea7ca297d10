//! Wall time per named system, recorded by an RAII [`ScopeTimer`] when it drops.
//!
//! A [`Schedule`](crate::world::Schedule) times each of its systems; a system may time parts
//! of itself under names of its own (the particle preset times its grid build inside
//! `forces`). Times are *exclusive*: time recorded by a nested scope is not counted again in
//! the system around it, so the times of one step add up to the step.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Wall time of each named system in the last step, in the order the names first appeared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemTimes {
    times: Vec<(String, Duration)>,
}

impl SystemTimes {
    /// The time `system` took, if it ran.
    pub fn get(&self, system: &str) -> Option<Duration> {
        self.times
            .iter()
            .find(|(n, _)| n == system)
            .map(|(_, d)| *d)
    }

    /// The sum over all systems.
    pub fn total(&self) -> Duration {
        self.times.iter().map(|(_, d)| *d).sum()
    }

    /// Every system's name and time, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.times.iter().map(|(n, d)| (n.as_str(), *d))
    }

    /// Adds `elapsed` to `system`'s time. A name seen before reuses its slot, so steady use
    /// does not allocate.
    pub fn add(&mut self, system: &str, elapsed: Duration) {
        match self.times.iter_mut().find(|(n, _)| n == system) {
            Some((_, d)) => *d += elapsed,
            None => self.times.push((system.to_owned(), elapsed)),
        }
    }

    /// Sets every time to zero, keeping the names (and the memory).
    pub fn clear(&mut self) {
        self.times.iter_mut().for_each(|(_, d)| *d = Duration::ZERO);
    }

    /// Every time divided by `n` (for means); unchanged for 0.
    pub fn divided(&self, n: u32) -> SystemTimes {
        let mut out = self.clone();
        if n > 0 {
            out.times.iter_mut().for_each(|(_, d)| *d /= n);
        }
        out
    }
}

impl<'a> FromIterator<(&'a str, Duration)> for SystemTimes {
    /// Adds up the times of each name, in the order names first appear.
    fn from_iter<I: IntoIterator<Item = (&'a str, Duration)>>(iter: I) -> Self {
        let mut times = SystemTimes::default();
        iter.into_iter().for_each(|(name, d)| times.add(name, d));
        times
    }
}

/// Times shared by the threads of a step: scopes can be opened through `&self`.
///
/// ```
/// use engine::timer::Timers;
/// let timers = Timers::default();
/// {
///     let _t = timers.scope("grid");
///     std::thread::sleep(std::time::Duration::from_millis(2));
/// }
/// assert!(timers.times().get("grid").unwrap().as_millis() >= 2);
/// ```
#[derive(Debug, Default)]
pub struct Timers {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    times: SystemTimes,
    /// Time recorded by scopes since the last [`Timers::take_nested`].
    nested: Duration,
}

impl Timers {
    /// Starts timing `name`; the time is added when the guard drops (also on panic).
    pub fn scope<'t>(&'t self, name: &'t str) -> ScopeTimer<'t> {
        ScopeTimer {
            timers: self,
            name,
            start: Instant::now(),
        }
    }

    /// A copy of the times so far.
    pub fn times(&self) -> SystemTimes {
        self.lock().times.clone()
    }

    /// Zeroes every time (between steps).
    pub fn clear(&mut self) {
        self.inner
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .times
            .clear();
    }

    /// Records `elapsed` under `name`, minus what nested scopes recorded since the last call:
    /// how a schedule books a system's own time.
    pub(crate) fn record_exclusive(&mut self, name: &str, elapsed: Duration) {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        let own = elapsed.saturating_sub(std::mem::take(&mut inner.nested));
        inner.times.add(name, own);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic inside a scope leaves plain durations behind: nothing to repair.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Adds the time since its creation to its name when dropped.
pub struct ScopeTimer<'t> {
    timers: &'t Timers,
    name: &'t str,
    start: Instant,
}

impl Drop for ScopeTimer<'_> {
    fn drop(&mut self) {
        let elapsed = self.start.elapsed();
        let mut inner = self.timers.lock();
        inner.times.add(self.name, elapsed);
        inner.nested += elapsed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_even_when_the_scope_panics() {
        let timers = Timers::default();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _t = timers.scope("age");
            std::thread::sleep(Duration::from_millis(1));
            panic!("system failed");
        }));
        assert!(result.is_err());
        let times = timers.times();
        assert!(times.get("age").unwrap() >= Duration::from_millis(1));
        assert_eq!(Some(times.total()), times.get("age"));
    }

    #[test]
    fn any_number_of_systems_keep_their_order_and_nested_time_counts_once() {
        let mut timers = Timers::default();
        let names: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        for n in &names {
            drop(timers.scope(n));
        }
        {
            let _inner = timers.scope("inner");
            std::thread::sleep(Duration::from_millis(2));
        }
        timers.record_exclusive("outer", Duration::from_millis(5));
        let times = timers.times();
        let outer = times.get("outer").unwrap();
        assert!(
            outer <= Duration::from_millis(3),
            "{outer:?}: the inner 2 ms excluded"
        );
        assert_eq!(times.iter().count(), 12);
        assert!(
            times
                .iter()
                .map(|(n, _)| n)
                .take(10)
                .eq(names.iter().map(String::as_str))
        );
        timers.clear();
        assert_eq!(timers.times().total(), Duration::ZERO);
    }
}
