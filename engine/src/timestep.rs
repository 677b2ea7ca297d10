//! The fixed-timestep accumulator from "Fix Your Timestep" (Glenn Fiedler).
//!
//! Wall-clock time goes in; a whole number of fixed steps and the interpolation alpha come
//! out. At most `max_steps` run per frame: when the simulation cannot keep up, the excess
//! time is dropped (and reported) instead of piling up into a spiral of death.

use crate::error::ParamError;

/// What one frame should do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameSteps {
    /// Fixed steps to run now.
    pub steps: u32,
    /// How far the clock is into the next step, in [0, 1): render at
    /// `previous + alpha * (current - previous)`.
    pub alpha: f32,
    /// Seconds of wall time thrown away by the clamp.
    pub dropped: f64,
}

/// Accumulates frame time and hands out fixed steps.
///
/// ```
/// use engine::timestep::FixedTimestep;
/// let mut clock = FixedTimestep::new(0.01, 4).unwrap();
/// let frame = clock.advance(0.025);
/// assert_eq!(frame.steps, 2);
/// assert!((frame.alpha - 0.5).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct FixedTimestep {
    dt: f64,
    max_steps: u32,
    accumulator: f64,
}

impl FixedTimestep {
    /// A clock stepping by `dt` seconds, at most `max_steps` per frame.
    ///
    /// # Errors
    /// If `dt` is not a positive finite number, or `max_steps` is 0.
    pub fn new(dt: f64, max_steps: u32) -> Result<FixedTimestep, ParamError> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(ParamError::new(
                "dt",
                dt,
                "a positive finite number of seconds",
            ));
        }
        if max_steps == 0 {
            return Err(ParamError::new("max_steps", max_steps, "at least 1"));
        }
        Ok(FixedTimestep {
            dt,
            max_steps,
            accumulator: 0.0,
        })
    }

    /// The fixed step in seconds.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Adds `elapsed` seconds of wall time and returns the steps to run.
    pub fn advance(&mut self, elapsed: f64) -> FrameSteps {
        self.accumulator += elapsed.max(0.0);
        let budget = self.dt * self.max_steps as f64;
        let mut dropped = 0.0;
        if self.accumulator >= budget + self.dt {
            dropped = self.accumulator - budget;
            self.accumulator = budget;
        }
        let steps = ((self.accumulator / self.dt) as u32).min(self.max_steps);
        self.accumulator -= steps as f64 * self.dt;
        FrameSteps {
            steps,
            alpha: (self.accumulator / self.dt).clamp(0.0, 1.0) as f32,
            dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parameters_are_refused() {
        assert_eq!(FixedTimestep::new(0.0, 4).unwrap_err().parameter(), "dt");
        assert_eq!(
            FixedTimestep::new(f64::NAN, 4).unwrap_err().parameter(),
            "dt"
        );
        assert_eq!(
            FixedTimestep::new(0.01, 0).unwrap_err().parameter(),
            "max_steps"
        );
    }

    #[test]
    fn accumulates_fractions_across_frames() {
        let mut clock = FixedTimestep::new(0.01, 4).unwrap();
        let a = clock.advance(0.004);
        assert_eq!((a.steps, a.dropped), (0, 0.0));
        let b = clock.advance(0.007);
        assert_eq!(b.steps, 1);
        assert!((b.alpha - 0.1).abs() < 1e-4, "{b:?}");
        let total: u32 = (0..100).map(|_| clock.advance(0.01).steps).sum();
        assert!((99..=101).contains(&total));
    }

    #[test]
    fn clamps_a_long_frame_and_reports_the_dropped_time() {
        let mut clock = FixedTimestep::new(0.01, 4).unwrap();
        let frame = clock.advance(1.0);
        assert_eq!(frame.steps, 4);
        assert!((frame.dropped - 0.96).abs() < 1e-9, "{frame:?}");
        assert_eq!(frame.alpha, 0.0);
        // And the next frame is back to normal: no debt carried over.
        assert_eq!(clock.advance(0.01).steps, 1);
    }

    #[test]
    fn negative_time_is_ignored() {
        let mut clock = FixedTimestep::new(0.01, 4).unwrap();
        assert_eq!(clock.advance(-5.0).steps, 0);
        assert_eq!(clock.advance(0.0105).steps, 1);
    }
}
