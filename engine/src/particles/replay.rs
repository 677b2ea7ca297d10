//! Recording and replaying sessions: what a person did in the window becomes a file that
//! replays to the same state, headless or in the window, under any strategy.
//!
//! The format and the player live in the engine, beside the preset they drive, so any
//! program built on [`ParticleSim`] can record and replay; the `sim` binary's window and its
//! `sim replay` command are one such program.
//!
//! A [`Recording`] holds the scene (embedded, so the file does not depend on the scene file
//! still existing), the strategy and budget it started with, and every input that changes the
//! simulation, each with the step of the current world at which it took effect (see
//! [`EventKind`]), plus the state hash every [`CHECKPOINT_EVERY`] steps and at the end. A
//! program applies each input in one place and notes it in a [`Recorder`] as it does; a
//! [`Player`] hands the same inputs back at the same steps, to go through that same code.
//! Because every strategy gives the same state, a replay may hold any strategy instead of
//! the recorded switches and must still end on the recorded hash.
//!
//! The file format is in [`file`](mod@file).

pub mod file;

use crate::particles::ParticleSim;
use crate::particles::scene::Scene;
use crate::world::{Strategy, Switch};
use glam::Vec2;

/// Steps between checkpoints (10 s of simulated time at the default 120 Hz).
pub const CHECKPOINT_EVERY: u64 = 1200;

/// A change to the simulation (or a checkpoint), as recorded.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// A strategy switch was asked for (in effect from the next step).
    Switch(Switch),
    /// The particle budget was set.
    Budget(u32),
    /// The mouse attractor was held at `at` (pushing if `repel`), or let go (`None`).
    Mouse {
        /// Where, in world units.
        at: Option<Vec2>,
        /// Pushes instead of pulls.
        repel: bool,
    },
    /// The scene was rebuilt from scratch: a new world, at step 0.
    Reset,
    /// Another scene was loaded (embedded): a new world, at step 0.
    Scene(Box<Scene>),
    /// The simulation was paused or resumed (the steps themselves tell the replay what ran).
    Pause(bool),
    /// One step was asked for while paused.
    SingleStep,
    /// The state at this step: a replay that differs here has diverged.
    Checkpoint {
        /// The state hash.
        state_hash: u64,
        /// Live particles.
        particles: usize,
    },
}

impl EventKind {
    /// The word the file uses for this kind of event.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Switch(_) => "switch",
            EventKind::Budget(_) => "budget",
            EventKind::Mouse { .. } => "mouse",
            EventKind::Reset => "reset",
            EventKind::Scene(_) => "scene",
            EventKind::Pause(_) => "pause",
            EventKind::SingleStep => "single_step",
            EventKind::Checkpoint { .. } => "checkpoint",
        }
    }

    /// Whether applying it starts a new world (whose steps count from 0 again).
    pub fn starts_a_world(&self) -> bool {
        matches!(self, EventKind::Reset | EventKind::Scene(_))
    }
}

/// An event at the step of the current world when it took effect: the world had run `step`
/// steps, and the event applies before the next one.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Steps the current world had run.
    pub step: u64,
    /// What happened.
    pub kind: EventKind,
}

/// Where a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    /// Steps the last world had run.
    pub steps: u64,
    /// Live particles.
    pub particles: usize,
    /// The state hash.
    pub state_hash: u64,
}

impl End {
    /// Where `world` is now.
    pub fn of(world: &ParticleSim) -> End {
        End {
            steps: world.steps(),
            particles: world.len(),
            state_hash: world.state_hash(),
        }
    }

    /// The line every runner ends with: `state_hash=<16 hex digits> particles=<live>
    /// steps=<n>` ([`ParticleSim::state_line`] is this line of the world now).
    pub fn line(&self) -> String {
        format!(
            "state_hash={:016x} particles={} steps={}",
            self.state_hash, self.particles, self.steps
        )
    }
}

/// A whole recorded session.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// The program that recorded it (e.g. `sim 0.1.0`).
    pub program: String,
    /// The scene it started with (particle and seed overrides applied).
    pub scene: Scene,
    /// The strategy it started with.
    pub strategy: Strategy,
    /// The particle budget it started with.
    pub budget: u32,
    /// Inputs and checkpoints, in order.
    pub events: Vec<Event>,
    /// Where it ended.
    pub end: End,
}

/// Builds a recording while a session runs.
#[derive(Debug)]
pub struct Recorder {
    recording: Recording,
    /// The last mouse state noted, so an attractor held still is one event, not one a frame.
    mouse: (Option<Vec2>, bool),
}

impl Recorder {
    /// Starts recording `world` as it is now, running `strategy`; `program` names the
    /// recording program and its version. A recording replays from its scene, so `world`
    /// must be fresh.
    ///
    /// # Errors
    /// If `world` has already run steps.
    pub fn start(
        world: &ParticleSim,
        strategy: Strategy,
        program: String,
    ) -> Result<Recorder, String> {
        if world.steps() > 0 {
            return Err(format!(
                "a recording starts from a fresh world, and this one has run {} steps",
                world.steps()
            ));
        }
        Ok(Recorder {
            recording: Recording {
                program,
                scene: world.scene().clone(),
                strategy,
                budget: world.budget(),
                events: Vec::new(),
                end: End::of(world),
            },
            mouse: (None, false),
        })
    }

    /// Notes `kind` at `step`; a mouse event equal to the last one is dropped.
    pub fn note(&mut self, step: u64, kind: EventKind) {
        let kind = match kind {
            EventKind::Mouse { at, repel } => {
                let state = (at, repel && at.is_some());
                if state == self.mouse {
                    return;
                }
                self.mouse = state;
                EventKind::Mouse {
                    at: state.0,
                    repel: state.1,
                }
            }
            other => other,
        };
        if kind.starts_a_world() {
            // A new world starts with the mouse let go.
            self.mouse = (None, false);
        }
        self.recording.events.push(Event { step, kind });
    }

    /// Takes a checkpoint if `world` has just reached one.
    pub fn after_step(&mut self, world: &ParticleSim) {
        if world.steps().is_multiple_of(CHECKPOINT_EVERY) {
            let kind = EventKind::Checkpoint {
                state_hash: world.state_hash(),
                particles: world.len(),
            };
            self.recording.events.push(Event {
                step: world.steps(),
                kind,
            });
        }
    }

    /// The recording so far, ending where `world` is now.
    pub fn snapshot(&self, world: &ParticleSim) -> Recording {
        Recording {
            end: End::of(world),
            ..self.recording.clone()
        }
    }
}

/// Where a replay first left the recorded states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Which world (0 the first; each reset or scene load starts another).
    pub world: usize,
    /// Its step.
    pub step: u64,
    /// The recorded state.
    pub expected: String,
    /// The replayed one.
    pub got: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "first divergence at step {} of world {}: recorded {}, replayed {}",
            self.step, self.world, self.expected, self.got
        )
    }
}

/// Feeds a recording's events back at their steps.
#[derive(Debug)]
pub struct Player {
    events: Vec<Event>,
    next: usize,
    end: End,
    /// Recorded strategy switches are skipped: the replay holds its own strategy.
    hold: bool,
    world: usize,
    divergence: Option<Divergence>,
}

impl Player {
    /// Plays `recording`; with `hold`, its strategy switches are ignored.
    pub fn new(recording: &Recording, hold: bool) -> Player {
        Player {
            events: recording.events.clone(),
            next: 0,
            end: recording.end,
            hold,
            world: 0,
            divergence: None,
        }
    }

    /// The next event if it is due now, at `world`'s step count. Checkpoints are compared
    /// here (against `world`) and never returned; held switches are skipped.
    pub fn due(&mut self, world: &ParticleSim) -> Option<EventKind> {
        loop {
            let event = self
                .events
                .get(self.next)
                .filter(|e| e.step == world.steps())?;
            self.next += 1;
            let kind = event.kind.clone();
            match kind {
                EventKind::Checkpoint {
                    state_hash,
                    particles,
                } => self.compare(world, state_hash, particles),
                EventKind::Switch(_) if self.hold => {}
                _ => {
                    if kind.starts_a_world() {
                        self.world += 1;
                    }
                    return Some(kind);
                }
            }
        }
    }

    /// The step the current world runs to before anything else is due: the next event's,
    /// or the end's once every event has been played.
    pub fn target(&self) -> u64 {
        self.events
            .get(self.next)
            .map_or(self.end.steps, |e| e.step)
    }

    /// Every event played and the world at the recorded end.
    pub fn finished(&self, world: &ParticleSim) -> bool {
        self.next == self.events.len() && world.steps() >= self.end.steps
    }

    /// Notes that an input due at `world`'s step could not be applied (`why`): the replay
    /// has left the recording there.
    pub fn input_failed(&mut self, world: &ParticleSim, why: &str) {
        if self.divergence.is_none() {
            self.divergence = Some(Divergence {
                world: self.world,
                step: world.steps(),
                expected: "an input that applies".into(),
                got: why.into(),
            });
        }
    }

    /// `Ok` if the replay reached the recorded end without leaving the recording.
    ///
    /// # Errors
    /// The first divergence (a checkpoint, an input that failed, or, failing those, the
    /// end).
    pub fn verdict(&self, world: &ParticleSim) -> Result<(), Divergence> {
        if let Some(d) = &self.divergence {
            return Err(d.clone());
        }
        let got = End::of(world);
        if got == self.end {
            return Ok(());
        }
        Err(Divergence {
            world: self.world,
            step: got.steps,
            expected: self.end.line(),
            got: got.line(),
        })
    }

    fn compare(&mut self, world: &ParticleSim, state_hash: u64, particles: usize) {
        let got = End::of(world);
        if self.divergence.is_none() && (got.state_hash, got.particles) != (state_hash, particles) {
            self.divergence = Some(Divergence {
                world: self.world,
                step: got.steps,
                expected: End {
                    steps: got.steps,
                    particles,
                    state_hash,
                }
                .line(),
                got: got.line(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::particles::scene::Scene;

    #[test]
    fn a_held_mouse_is_one_event_and_a_new_world_lets_go() {
        let world = ParticleSim::new(
            Scene::default_scene().with_particles(100).unwrap(),
            Strategy::default(),
        )
        .unwrap();
        let mut r = Recorder::start(&world, Strategy::default(), "test".into()).unwrap();
        let held = EventKind::Mouse {
            at: Some(Vec2::ONE),
            repel: false,
        };
        r.note(1, held.clone());
        r.note(2, held.clone());
        r.note(
            3,
            EventKind::Mouse {
                at: None,
                repel: true,
            },
        );
        r.note(4, EventKind::Reset);
        r.note(0, held.clone());
        let kinds: Vec<_> = r
            .snapshot(&world)
            .events
            .into_iter()
            .map(|e| e.kind)
            .collect();
        let released = EventKind::Mouse {
            at: None,
            repel: false,
        };
        assert_eq!(kinds, [held.clone(), released, EventKind::Reset, held]);
    }

    #[test]
    fn only_a_fresh_world_can_be_recorded() {
        let mut world = ParticleSim::new(
            Scene::default_scene().with_particles(100).unwrap(),
            Strategy::default(),
        )
        .unwrap();
        world.step();
        let e = Recorder::start(&world, Strategy::default(), "test".into()).unwrap_err();
        assert!(e.contains("has run 1 steps"), "{e}");
    }
}
