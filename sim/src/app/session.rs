//! The simulation behind the window: the world, its clock, and what each hotkey does to it.
//!
//! Strategy switches go through [`ParticleSim::request`], so they apply between steps. The
//! world keeps the strategy asked for ([`ParticleSim::desired`]) beside the one in effect, so
//! pressing a key twice before the next step toggles back instead of asking for the same
//! thing twice.

use super::scenes::Catalog;
use crate::bindings::SimAction;
use crate::cli::{apply_overrides, default_threads};
use engine::particles::ParticleSim;
use engine::particles::replay::{Divergence, EventKind, Player, Recorder, Recording};
use engine::particles::scene::{MAX_PARTICLES, Scene};
use engine::timer::SystemTimes;
use engine::timestep::FixedTimestep;
use engine::world::{Strategy, Switch};
use std::time::{Duration, Instant};

/// What an action did, as one log line (also shown as the on-screen notice).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The line, e.g. `switch: layout -> aos`.
    pub line: String,
    /// The action failed (shown in the warning colour).
    pub error: bool,
}

impl Outcome {
    /// A success.
    pub fn ok(line: String) -> Outcome {
        Outcome { line, error: false }
    }

    /// A failure.
    pub fn error(line: String) -> Outcome {
        Outcome { line, error: true }
    }
}

/// `--particles` and `--seed` from the command line, applied to every scene loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Particle budget.
    pub particles: Option<u32>,
    /// RNG seed.
    pub seed: Option<u64>,
}

/// The steps one frame ran and where their time went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tick {
    /// Fixed steps run.
    pub steps: u32,
    /// Time per system, summed over the steps, in run order.
    pub systems: SystemTimes,
}

/// A running simulation and the controls over it.
pub struct Session {
    world: ParticleSim,
    clock: FixedTimestep,
    paused: bool,
    queued_steps: u32,
    alpha: f32,
    overrides: Overrides,
    /// Notes every input while recording.
    recorder: Option<Recorder>,
    /// Feeds a recording's inputs back at their steps while replaying.
    player: Option<Player>,
    /// Set once when a replay reaches its end: the line saying whether it matched.
    replay_done: Option<Outcome>,
}

impl Session {
    /// Starts `scene` with `strategy`; `overrides` also apply to scenes loaded later.
    ///
    /// # Errors
    /// If the simulation cannot be built (a scene or strategy value out of range).
    pub fn new(scene: Scene, strategy: Strategy, overrides: Overrides) -> Result<Session, String> {
        let world = drawable(scene, strategy)?;
        Ok(Session {
            clock: world.clock(),
            world,
            paused: false,
            queued_steps: 0,
            alpha: 0.0,
            overrides,
            recorder: None,
            player: None,
            replay_done: None,
        })
    }

    /// A session that replays `recording`: its scene and budget, and its inputs at their
    /// steps. With `hold`, it runs on `hold` throughout and ignores the recorded switches;
    /// otherwise it starts on the recorded strategy.
    ///
    /// # Errors
    /// If the simulation cannot be built.
    pub fn replaying(recording: &Recording, hold: Option<Strategy>) -> Result<Session, String> {
        let mut session = Session::new(
            recording.scene.clone(),
            hold.unwrap_or(recording.strategy),
            Overrides::default(),
        )?;
        session
            .world
            .set_budget(recording.budget)
            .map_err(|e| format!("start.{e}"))?;
        session.player = Some(Player::new(recording, hold.is_some()));
        Ok(session)
    }

    /// The simulation, for rendering and the HUD.
    pub fn world(&self) -> &ParticleSim {
        &self.world
    }

    /// The strategy asked for (in effect from the next step on).
    pub fn target(&self) -> Strategy {
        self.world.desired()
    }

    /// Whether a requested switch has not been applied yet.
    pub fn pending(&self) -> bool {
        self.world.world().pending()
    }

    /// How far the clock is into the next step, in [0, 1): where to draw the particles
    /// between the last two steps.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }

    /// Whether the simulation is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Pauses or resumes without a log line (`--paused`); Space toggles with one.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Holds the mouse attractor at `at` (world units), repelling if `repel`; `None` lets go.
    /// Ignored while replaying: the recording's mouse is used.
    pub fn set_mouse(&mut self, at: Option<glam::Vec2>, repel: bool) {
        if self.player.is_none() {
            // Holding the mouse cannot fail.
            let _ = self.perform(EventKind::Mouse { at, repel });
        }
    }

    /// Whether a recording is being made.
    pub fn recording(&self) -> bool {
        self.recorder.is_some()
    }

    /// Whether a recording is being replayed.
    pub fn replaying_now(&self) -> bool {
        self.player.is_some()
    }

    /// Starts recording from a fresh start of the current scene (a recording replays from
    /// its scene, so it must begin at step 0).
    pub fn start_recording(&mut self) -> Outcome {
        if self.player.is_some() {
            return Outcome::error("record: not while replaying".into());
        }
        let reset = self.world.steps() > 0;
        if reset && let Err(e) = self.rebuild(self.world.scene().clone()) {
            return Outcome::error(format!("record: {e}"));
        }
        match Recorder::start(&self.world, self.target(), crate::program()) {
            Ok(recorder) => self.recorder = Some(recorder),
            Err(e) => return Outcome::error(format!("record: {e}")),
        }
        Outcome::ok(format!(
            "record: started on scene {}{}",
            self.describe_scene(),
            if reset { " (reset to step 0)" } else { "" }
        ))
    }

    /// The recording so far, ending now; `None` if not recording.
    pub fn recording_so_far(&self) -> Option<Recording> {
        self.recorder.as_ref().map(|r| r.snapshot(&self.world))
    }

    /// Stops recording and returns what was recorded.
    pub fn stop_recording(&mut self) -> Option<Recording> {
        let recording = self.recording_so_far();
        self.recorder = None;
        recording
    }

    /// The replay's verdict, once, when it has reached its recorded end.
    pub fn take_replay_done(&mut self) -> Option<Outcome> {
        self.replay_done.take()
    }

    /// Advances the clock by `elapsed` seconds of wall time (unless paused) and runs the
    /// steps due, plus any single steps queued while paused. A replay stops at its end.
    pub fn tick(&mut self, elapsed: f64) -> Tick {
        let mut due = std::mem::take(&mut self.queued_steps);
        if self.paused {
            // Paused, the picture is the state the step counter and hash describe.
            self.alpha = 1.0;
        } else {
            let frame = self.clock.advance(elapsed);
            self.alpha = frame.alpha;
            due += frame.steps;
        }
        let mut tick = Tick::default();
        for step in 0..due {
            // The picture interpolates across the last step only: the steps before it need
            // not copy their positions (system `stash`, a copy of the position column).
            self.world.keep_previous_positions(step + 1 == due);
            if !self.step_once() {
                break;
            }
            tick.steps += 1;
            for (name, time) in self.world.times().iter() {
                tick.systems.add(name, time);
            }
        }
        // A replay that ended part-way through the frame must not leave keeping off.
        self.world.keep_previous_positions(true);
        tick
    }

    /// Runs a replay to its recorded end as fast as it goes, calling `on_step` after each
    /// step with the time the step took.
    ///
    /// # Errors
    /// The first place the replay left the recorded states.
    pub fn play_to_end(
        &mut self,
        mut on_step: impl FnMut(&ParticleSim, Duration),
    ) -> Result<(), Divergence> {
        loop {
            let start = Instant::now();
            if !self.step_once() {
                break;
            }
            on_step(&self.world, start.elapsed());
        }
        match &self.player {
            Some(player) => player.verdict(&self.world),
            None => Ok(()),
        }
    }

    /// Applies the replay's inputs due now, then runs one step, unless the replay is over
    /// (then it says so once, pauses, and returns false).
    fn step_once(&mut self) -> bool {
        if self.player.is_some() {
            while let Some(kind) = self.player.as_mut().and_then(|p| p.due(&self.world)) {
                // Pauses and single steps are the recorded person's pacing: the step counts
                // already say what ran.
                if !matches!(kind, EventKind::Pause(_) | EventKind::SingleStep)
                    && let Err(e) = self.apply_event(kind)
                    && let Some(player) = &mut self.player
                {
                    player.input_failed(&self.world, &e);
                }
            }
            let player = self.player.as_ref().expect("still replaying");
            if player.finished(&self.world) || self.world.steps() >= player.target() {
                if self.replay_done.is_none() && !self.paused {
                    self.replay_done = Some(match player.verdict(&self.world) {
                        Ok(()) => Outcome::ok(format!(
                            "replay: finished, matches the recording: {}",
                            self.world.state_line()
                        )),
                        Err(d) => Outcome::error(format!("replay: MISMATCH, {d}")),
                    });
                }
                self.paused = true;
                return false;
            }
        }
        self.world.step();
        if let Some(recorder) = &mut self.recorder {
            recorder.after_step(&self.world);
        }
        true
    }

    /// Does what a hotkey asks; the outcome is the line to log and show. While replaying,
    /// only pausing is the person's own.
    pub fn apply(&mut self, action: SimAction, catalog: &Catalog) -> Outcome {
        if self.player.is_some() && action != SimAction::Pause {
            return Outcome::error(
                "replay: your input is off while watching a replay (Space pauses, Esc quits)"
                    .into(),
            );
        }
        let target = self.target();
        match action {
            SimAction::Layout => {
                let layout = target.layout.toggled();
                self.switch(Switch::Layout(layout), "layout", layout.name())
            }
            SimAction::Lock => {
                let lock = target.lock.next();
                self.switch(Switch::Lock(lock), "lock", lock.name())
            }
            SimAction::Padding => {
                let padding = target.padding.toggled();
                self.switch(Switch::Padding(padding), "padding", padding.name())
            }
            SimAction::Alloc => {
                let alloc = target.alloc.toggled();
                self.switch(Switch::Alloc(alloc), "alloc", alloc.name())
            }
            SimAction::Threads => {
                let threads = if target.threads == 1 {
                    default_threads()
                } else {
                    1
                };
                self.switch(Switch::Threads(threads), "threads", &threads.to_string())
            }
            SimAction::BudgetUp => self.set_budget(self.world.budget().saturating_mul(2)),
            SimAction::BudgetDown => self.set_budget(self.world.budget() / 2),
            SimAction::Pause => {
                let on = !self.paused;
                // Pausing cannot fail.
                let _ = self.perform(EventKind::Pause(on));
                Outcome::ok(format!(
                    "switch: pause -> {}",
                    if on { "on" } else { "off" }
                ))
            }
            SimAction::Step => self.queue_step(),
            SimAction::Reset => match self.perform(EventKind::Reset) {
                Ok(()) => Outcome::ok(format!("reset: scene {}", self.describe_scene())),
                Err(e) => Outcome::error(format!("reset: {e}")),
            },
            SimAction::Scene(n) => self.load_scene(n, catalog),
        }
    }

    /// Applies `kind` and, if it took and a recording is being made, notes it at the step
    /// it took effect.
    fn perform(&mut self, kind: EventKind) -> Result<(), String> {
        let step = self.world.steps();
        self.apply_event(kind.clone())?;
        if let Some(recorder) = &mut self.recorder {
            recorder.note(step, kind);
        }
        Ok(())
    }

    /// The one place an input changes the simulation, live or replayed.
    fn apply_event(&mut self, kind: EventKind) -> Result<(), String> {
        match kind {
            EventKind::Switch(switch) => self.world.request(switch).map_err(|e| e.to_string()),
            EventKind::Budget(budget) => self.world.set_budget(budget).map_err(|e| e.to_string()),
            EventKind::Mouse { at, repel } => {
                self.world.set_mouse(at, repel);
                Ok(())
            }
            EventKind::Reset => self.rebuild(self.world.scene().clone()),
            EventKind::Scene(scene) => self.rebuild(*scene),
            EventKind::Pause(on) => {
                self.paused = on;
                Ok(())
            }
            EventKind::SingleStep => {
                self.queued_steps += 1;
                Ok(())
            }
            EventKind::Checkpoint { .. } => Ok(()),
        }
    }

    fn switch(&mut self, switch: Switch, what: &str, value: &str) -> Outcome {
        match self.perform(EventKind::Switch(switch)) {
            Ok(()) => Outcome::ok(format!("switch: {what} -> {value}")),
            Err(e) => Outcome::error(format!("switch: {what}: {e}")),
        }
    }

    /// The budget keys stop at the ends of the range (the notice says where it is).
    fn set_budget(&mut self, budget: u32) -> Outcome {
        let budget = budget.clamp(1, MAX_PARTICLES);
        match self.perform(EventKind::Budget(budget)) {
            Ok(()) => Outcome::ok(format!("switch: budget -> {budget}")),
            Err(e) => Outcome::error(format!("budget: {e}")),
        }
    }

    fn queue_step(&mut self) -> Outcome {
        if !self.paused {
            return Outcome::error("step: only while paused (Space pauses)".into());
        }
        // Queueing a step cannot fail.
        let _ = self.perform(EventKind::SingleStep);
        Outcome::ok(format!(
            "step: {}",
            self.world.steps() + u64::from(self.queued_steps)
        ))
    }

    fn load_scene(&mut self, number: usize, catalog: &Catalog) -> Outcome {
        let loaded = catalog.load(number).and_then(|(path, scene)| {
            match apply_overrides(scene, self.overrides.particles, self.overrides.seed) {
                Ok(s) => Ok((path, s)),
                Err(e) => Err(format!("{}: {e}", path.display())),
            }
        });
        match loaded.and_then(|(path, scene)| {
            self.perform(EventKind::Scene(Box::new(scene)))
                .map(|()| path)
        }) {
            Ok(path) => Outcome::ok(format!(
                "scene: {number} -> {} from {}",
                self.describe_scene(),
                path.display()
            )),
            Err(e) => Outcome::error(format!("scene {number}: {e}")),
        }
    }

    /// A fresh world for `scene` with the target strategy; the budget resets to the scene's.
    /// On an error the running world is kept.
    fn rebuild(&mut self, scene: Scene) -> Result<(), String> {
        self.world = drawable(scene, self.target())?;
        self.clock = self.world.clock();
        self.queued_steps = 0;
        self.alpha = 0.0;
        Ok(())
    }

    fn describe_scene(&self) -> String {
        format!(
            "'{}' ({} particles)",
            self.world.scene().display_name(),
            self.world.budget()
        )
    }
}

/// A simulation that keeps each step's starting positions, so frames interpolate between
/// the two real states of the last step.
fn drawable(scene: Scene, strategy: Strategy) -> Result<ParticleSim, String> {
    let mut world = ParticleSim::new(scene, strategy).map_err(|e| e.to_string())?;
    world.keep_previous_positions(true);
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::arena::AllocMode;
    use engine::counters::Padding;
    use engine::storage::Layout;
    use engine::sync::LockStrategy;

    fn session() -> Session {
        let scene = Scene::default_scene().with_particles(2_000).unwrap();
        let strategy = Strategy {
            threads: 2,
            ..Strategy::default()
        };
        Session::new(scene, strategy, Overrides::default()).unwrap()
    }

    fn apply(s: &mut Session, action: SimAction) -> String {
        s.apply(action, &Catalog::locate()).line
    }

    #[test]
    fn switches_log_one_line_and_apply_at_the_next_step() {
        let mut s = session();
        assert_eq!(apply(&mut s, SimAction::Layout), "switch: layout -> aos");
        assert_eq!(apply(&mut s, SimAction::Lock), "switch: lock -> mutex");
        assert_eq!(
            apply(&mut s, SimAction::Padding),
            "switch: padding -> packed"
        );
        assert_eq!(apply(&mut s, SimAction::Threads), "switch: threads -> 1");
        assert_eq!(apply(&mut s, SimAction::Alloc), "switch: alloc -> heap");
        assert!(s.pending());
        assert_eq!(s.world().strategy().layout, Layout::Soa);
        s.tick(1.0 / 60.0);
        let now = s.world().strategy();
        assert_eq!(
            (now.layout, now.lock, now.padding, now.threads, now.alloc),
            (
                Layout::Aos,
                LockStrategy::Mutex,
                Padding::Packed,
                1,
                AllocMode::Heap
            )
        );
        assert!(
            s.world().world().step_allocations().count > 0,
            "heap mode allocates"
        );
        assert!(!s.pending());
    }

    #[test]
    fn a_frame_of_several_steps_keeps_where_its_last_step_started() {
        let mut s = session();
        let tick = s.tick(0.05);
        assert!(tick.steps >= 2, "{} steps", tick.steps);
        // A twin that keeps the positions at every step: the last capture is the same.
        let scene = s.world().scene().clone();
        let mut twin = ParticleSim::new(scene, s.world().strategy()).unwrap();
        twin.keep_previous_positions(true);
        twin.run(s.world().steps());
        let (got, want) = (s.world().previous_positions(), twin.previous_positions());
        let (got, want) = (got.expect("the last step kept them"), want.unwrap());
        assert_eq!(got.len(), want.len());
        assert!((0..got.len()).all(|row| got.get(row) == want.get(row)));
    }

    #[test]
    fn a_double_press_before_a_step_toggles_back() {
        let mut s = session();
        apply(&mut s, SimAction::Layout);
        assert_eq!(apply(&mut s, SimAction::Layout), "switch: layout -> soa");
        s.tick(1.0 / 60.0);
        assert_eq!(s.world().strategy().layout, Layout::Soa);
    }

    #[test]
    fn budget_doubles_and_halves_within_range() {
        let mut s = session();
        assert_eq!(apply(&mut s, SimAction::BudgetUp), "switch: budget -> 4000");
        for _ in 0..20 {
            apply(&mut s, SimAction::BudgetDown);
        }
        assert_eq!(s.world().budget(), 1);
        s.world.set_budget(MAX_PARTICLES).unwrap();
        apply(&mut s, SimAction::BudgetUp);
        assert_eq!(s.world().budget(), MAX_PARTICLES);
    }

    #[test]
    fn pause_stops_the_clock_and_n_steps_once() {
        let mut s = session();
        assert!(s.apply(SimAction::Step, &Catalog::locate()).error);
        apply(&mut s, SimAction::Pause);
        let before = s.world().steps();
        assert_eq!(s.tick(1.0).steps, 0);
        assert_eq!(
            apply(&mut s, SimAction::Step),
            format!("step: {}", before + 1)
        );
        let tick = s.tick(1.0);
        assert_eq!(tick.steps, 1);
        assert!(tick.systems.total() > std::time::Duration::ZERO);
        assert_eq!(s.world().steps(), before + 1);
        assert_eq!(apply(&mut s, SimAction::Pause), "switch: pause -> off");
        assert!(s.tick(0.05).steps > 0);
    }

    #[test]
    fn reset_rebuilds_the_same_scene_with_the_target_strategy() {
        let mut s = session();
        let start = s.world().state_hash();
        apply(&mut s, SimAction::Layout);
        s.tick(0.05);
        assert_eq!(
            apply(&mut s, SimAction::Reset),
            "reset: scene 'default' (2000 particles)"
        );
        assert_eq!(s.world().steps(), 0);
        assert_eq!(s.world().strategy().layout, Layout::Aos);
        assert_eq!(
            s.world().state_hash(),
            start,
            "layout does not change the state"
        );
    }

    #[test]
    fn scenes_load_by_number_with_the_overrides_and_fail_softly() {
        let mut s = session();
        s.overrides.particles = Some(1_000);
        let catalog = Catalog::locate();
        let churn = 1 + catalog
            .entries()
            .iter()
            .position(|p| p.ends_with("churn.toml"))
            .expect("assets/scenes/churn.toml");
        let out = s.apply(SimAction::Scene(churn), &catalog);
        assert!(!out.error, "{}", out.line);
        let expected = format!("scene: {churn} -> 'churn' (1000 particles)");
        assert!(out.line.starts_with(&expected), "{}", out.line);
        let out = s.apply(SimAction::Scene(9), &Catalog::locate());
        assert!(
            out.error && out.line.starts_with("scene 9: no scene 9"),
            "{}",
            out.line
        );
        assert_eq!(
            s.world().scene().name,
            "churn",
            "a failed load keeps the scene"
        );
    }
}
