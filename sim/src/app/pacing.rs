//! Frame pacing and the periodic `perf:` log line.
//!
//! Vsync does not pace frames everywhere (not under Xvfb, for one), so the window paces
//! itself: frames are due every `1 / fps` seconds on a fixed rhythm, and a late frame makes
//! the next one due at once instead of piling up a debt.

use crate::hud::FrameSample;
use engine::world::Strategy;
use std::time::{Duration, Instant};

/// How often the `perf:` line is printed.
pub const PERF_EVERY: Duration = Duration::from_secs(5);

/// When the next frame is due.
#[derive(Clone, Copy, Debug)]
pub struct Pacer {
    period: Option<Duration>,
    next: Instant,
}

impl Pacer {
    /// Frames at `fps` per second; 0 means as fast as possible.
    pub fn new(fps: u32, now: Instant) -> Pacer {
        Pacer {
            period: (fps > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(fps))),
            next: now,
        }
    }

    /// The frame length paced to, in ms (0 when uncapped).
    pub fn period_ms(&self) -> f32 {
        self.period.map_or(0.0, |p| p.as_secs_f32() * 1000.0)
    }

    /// When the next frame should start, or `None` when uncapped.
    pub fn deadline(&self) -> Option<Instant> {
        self.period.map(|_| self.next)
    }

    /// Whether a frame should start at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.deadline().is_none_or(|d| now >= d)
    }

    /// Records that a frame started at `now` and schedules the next one.
    pub fn started(&mut self, now: Instant) {
        if let Some(period) = self.period {
            self.next += period;
            if self.next < now {
                self.next = now;
            }
        }
    }
}

/// Collects frames and makes the `perf:` line every [`PERF_EVERY`].
#[derive(Debug)]
pub struct PerfLog {
    since: Instant,
    samples: Vec<FrameSample>,
}

impl PerfLog {
    /// Starts collecting at `now`.
    pub fn new(now: Instant) -> PerfLog {
        PerfLog {
            since: now,
            samples: Vec::new(),
        }
    }

    /// Adds a frame; returns the line to print when the period is over.
    pub fn record(
        &mut self,
        sample: FrameSample,
        now: Instant,
        particles: usize,
        strategy: Strategy,
    ) -> Option<String> {
        self.samples.push(sample);
        if now.duration_since(self.since) < PERF_EVERY {
            return None;
        }
        let m = FrameSample::mean(&self.samples);
        let seconds = now.duration_since(self.since).as_secs_f64();
        let fps = self.samples.len() as f64 / seconds;
        self.samples.clear();
        self.since = now;
        Some(format!(
            "perf: fps={fps:.1} frame_ms={:.2} simulate_ms={:.2} render_ms={:.2} present_ms={:.2} \
             particles={particles} steps={} layout={} lock={} padding={} threads={} alloc={}",
            m.interval_ms,
            m.simulate_ms(),
            m.render_ms,
            m.present_ms,
            m.steps,
            strategy.layout,
            strategy.lock,
            strategy.padding,
            strategy.threads,
            strategy.alloc,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_a_rhythm_and_late_ones_do_not_pile_up() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut pacer = Pacer::new(50, t0);
        assert!(pacer.due(t0));
        pacer.started(t0);
        assert_eq!(pacer.deadline(), Some(t0 + ms(20)));
        assert!(!pacer.due(t0 + ms(19)));
        // Started 5 ms late: the next is still due on the rhythm.
        pacer.started(t0 + ms(25));
        assert_eq!(pacer.deadline(), Some(t0 + ms(40)));
        // Far behind: due at once, not several times in a row.
        pacer.started(t0 + ms(200));
        assert_eq!(pacer.deadline(), Some(t0 + ms(200)));
    }

    #[test]
    fn zero_fps_is_uncapped() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(0, t0);
        pacer.started(t0);
        assert_eq!(pacer.deadline(), None);
        assert!(pacer.due(t0));
        assert_eq!(pacer.period_ms(), 0.0);
    }

    #[test]
    fn perf_line_every_five_seconds_with_the_means() {
        let t0 = Instant::now();
        let mut log = PerfLog::new(t0);
        let sample = FrameSample {
            interval_ms: 20.0,
            systems: crate::hud::tests::systems(&[1.0, 0.0, 0.0, 2.0, 0.5, 0.5]),
            render_ms: 3.0,
            present_ms: 9.0,
            steps: 2,
        };
        let strategy = Strategy::default();
        assert_eq!(
            log.record(sample.clone(), t0 + Duration::from_secs(1), 10, strategy),
            None
        );
        let line = log
            .record(sample, t0 + Duration::from_secs(5), 10, strategy)
            .unwrap();
        assert!(
            line.starts_with(
                "perf: fps=0.4 frame_ms=20.00 simulate_ms=4.00 render_ms=3.00 present_ms=9.00 \
                 particles=10 steps=2 layout=soa"
            ),
            "{line}"
        );
    }
}
