//! The recording file: TOML, human-readable and versioned.
//!
//! ```toml
//! format = "sim-replay"
//! version = 1
//! program = "sim 0.1.0"
//!
//! [start]                       # the strategy and budget it started with
//! layout = "soa"
//! lock = "sharded"
//! padding = "padded"
//! threads = 2
//! alloc = "arena"
//! budget = 200000
//!
//! [end]                         # where it ended: a replay must end here too
//! steps = 2400
//! particles = 199714
//! state_hash = "8b8d31fbbf48fe6f"
//! events = 37                   # how many [[events]] follow (a cut file is caught)
//!
//! [scene]                       # the whole scene, as a scene file writes it
//! name = "default"
//! # ...
//!
//! [[events]]                    # in order; `step` is the current world's step count
//! kind = "switch"
//! step = 240
//! what = "layout"               # layout, lock, padding, threads or alloc
//! to = "aos"
//!
//! [[events]]
//! kind = "mouse"
//! step = 300
//! at = [512.0, 380.5]           # world units; no `at`: let go
//! repel = false
//! ```
//!
//! Other kinds: `budget` (`to`), `reset`, `scene` (with a whole `scene` table; a reset or a
//! scene starts a new world at step 0), `pause` (`on`), `single_step`, and `checkpoint`
//! (`state_hash`, `particles`). Within a world, steps never decrease, and there is a
//! checkpoint at every multiple of [`CHECKPOINT_EVERY`] steps the
//! world reached (before the other events of that step): so a file's work is bounded by its
//! size.

use super::{CHECKPOINT_EVERY, End, Event, EventKind, Recording};
use crate::arena::AllocMode;
use crate::counters::Padding;
use crate::particles::scene::{MAX_PARTICLES, Scene, SceneError};
use crate::storage::Layout;
use crate::sync::LockStrategy;
use crate::world::{Strategy, Switch};
use glam::Vec2;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `format` line of every recording.
pub const FORMAT: &str = "sim-replay";
/// The format version this program writes and reads.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    format: String,
    version: u32,
    program: String,
    start: StartToml,
    end: EndToml,
    scene: Scene,
    #[serde(default)]
    events: Vec<EventToml>,
}

/// Just the header, read first so a future version is named as such, not as a parse error
/// of fields it may have changed.
#[derive(Deserialize)]
struct HeaderToml {
    format: Option<String>,
    version: Option<u32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartToml {
    layout: String,
    lock: String,
    padding: String,
    threads: usize,
    alloc: String,
    budget: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndToml {
    steps: u64,
    particles: usize,
    state_hash: String,
    events: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum EventToml {
    Switch {
        step: u64,
        what: String,
        to: String,
    },
    Budget {
        step: u64,
        to: u32,
    },
    Mouse {
        step: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<[f32; 2]>,
        #[serde(default)]
        repel: bool,
    },
    Reset {
        step: u64,
    },
    Scene {
        step: u64,
        scene: Box<Scene>,
    },
    Pause {
        step: u64,
        on: bool,
    },
    SingleStep {
        step: u64,
    },
    Checkpoint {
        step: u64,
        state_hash: String,
        particles: usize,
    },
}

/// Why a recording could not be read: the file and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayError {
    /// The file.
    pub file: String,
    /// What is wrong, naming the field or event.
    pub reason: String,
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.reason)
    }
}

impl std::error::Error for ReplayError {}

/// The recording as the file's text.
pub fn to_text(recording: &Recording) -> String {
    let s = recording.strategy;
    let file = FileToml {
        format: FORMAT.into(),
        version: VERSION,
        program: recording.program.clone(),
        start: StartToml {
            layout: s.layout.to_string(),
            lock: s.lock.to_string(),
            padding: s.padding.to_string(),
            threads: s.threads,
            alloc: s.alloc.to_string(),
            budget: recording.budget,
        },
        end: EndToml {
            steps: recording.end.steps,
            particles: recording.end.particles,
            state_hash: hex(recording.end.state_hash),
            events: recording.events.len(),
        },
        scene: recording.scene.clone(),
        events: recording.events.iter().map(event_toml).collect(),
    };
    toml::to_string(&file).expect("a recording has only TOML-representable values")
}

/// Writes `recording` to `path`.
///
/// # Errors
/// The path and the reason, if it cannot be written.
pub fn save(recording: &Recording, path: &Path) -> Result<(), ReplayError> {
    std::fs::write(path, to_text(recording)).map_err(|e| ReplayError {
        file: path.display().to_string(),
        reason: format!("cannot write: {e}"),
    })
}

/// Reads and checks the recording at `path`.
///
/// # Errors
/// The path and what is wrong: unreadable, not a recording, another version, a bad field,
/// an embedded scene that fails validation, events out of order.
pub fn load(path: &Path) -> Result<Recording, ReplayError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ReplayError {
        file: file.clone(),
        reason: format!("cannot read: {e}"),
    })?;
    parse(&file, &text)
}

/// Parses and checks a recording's text; `file` names it in errors.
///
/// # Errors
/// As [`load`].
pub fn parse(file: &str, text: &str) -> Result<Recording, ReplayError> {
    let fail = |reason: String| ReplayError {
        file: file.to_owned(),
        reason,
    };
    let header: HeaderToml = toml::from_str(text).map_err(|e| fail(toml_reason(text, &e)))?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(fail(format!(
            "not a recording (expected `format = \"{FORMAT}\"` at the top)"
        )));
    }
    match header.version {
        Some(VERSION) => {}
        Some(v) if v > VERSION => {
            return Err(fail(format!(
                "version {v} is newer than this program reads ({VERSION}): replay it with a newer sim"
            )));
        }
        v => {
            return Err(fail(format!(
                "version: {} is not a version this program reads (expected {VERSION})",
                v.map_or("missing".into(), |v| v.to_string())
            )));
        }
    }
    let raw: FileToml = toml::from_str(text).map_err(|e| fail(toml_reason(text, &e)))?;
    from_toml(raw).map_err(fail)
}

fn from_toml(raw: FileToml) -> Result<Recording, String> {
    let s = &raw.start;
    let strategy = Strategy {
        layout: field("start.layout", &s.layout)?,
        lock: field("start.lock", &s.lock)?,
        padding: field("start.padding", &s.padding)?,
        threads: s.threads,
        alloc: field("start.alloc", &s.alloc)?,
    }
    .validate()
    .map_err(|e| format!("start.{e}"))?;
    raw.scene.validate().map_err(|e| embedded("[scene]", e))?;
    budget("start.budget", raw.start.budget)?;
    let end = End {
        steps: raw.end.steps,
        particles: raw.end.particles,
        state_hash: parse_hash("end.state_hash", &raw.end.state_hash)?,
    };
    if raw.events.len() != raw.end.events {
        return Err(format!(
            "end.events says {} events but the file has {}: it is cut short or was edited",
            raw.end.events,
            raw.events.len()
        ));
    }
    let mut events = Vec::with_capacity(raw.events.len());
    let mut floor = 0;
    let mut checkpoint = CHECKPOINT_EVERY;
    for (i, e) in raw.events.into_iter().enumerate() {
        let n = i + 1;
        let event = event_from(e).map_err(|reason| format!("event {n}: {reason}"))?;
        let what = format!("event {n} ({}) at step {}", event.kind.name(), event.step);
        if event.step < floor {
            return Err(format!(
                "{what} comes after an event of the same world at step {floor}: events out of order"
            ));
        }
        if matches!(event.kind, EventKind::Checkpoint { .. }) {
            if event.step != checkpoint {
                return Err(format!(
                    "{what}: the next checkpoint is due at step {checkpoint}"
                ));
            }
            checkpoint += CHECKPOINT_EVERY;
        } else if event.step >= checkpoint {
            return Err(format!(
                "{what}: the checkpoint at step {checkpoint} is missing"
            ));
        }
        (floor, checkpoint) = if event.kind.starts_a_world() {
            (0, CHECKPOINT_EVERY)
        } else {
            (event.step, checkpoint)
        };
        events.push(event);
    }
    if end.steps < floor {
        return Err(format!(
            "end.steps is {} but the last world's events reach step {floor}",
            end.steps
        ));
    }
    if end.steps >= checkpoint {
        return Err(format!(
            "end.steps is {} but the checkpoint at step {checkpoint} is missing",
            end.steps
        ));
    }
    Ok(Recording {
        program: raw.program,
        scene: raw.scene,
        strategy,
        budget: raw.start.budget,
        events,
        end,
    })
}

fn event_toml(e: &Event) -> EventToml {
    let step = e.step;
    match &e.kind {
        EventKind::Switch(switch) => {
            let (what, to) = switch_words(*switch);
            EventToml::Switch {
                step,
                what: what.into(),
                to,
            }
        }
        EventKind::Budget(to) => EventToml::Budget { step, to: *to },
        EventKind::Mouse { at, repel } => EventToml::Mouse {
            step,
            at: at.map(|v| v.to_array()),
            repel: *repel,
        },
        EventKind::Reset => EventToml::Reset { step },
        EventKind::Scene(scene) => EventToml::Scene {
            step,
            scene: scene.clone(),
        },
        EventKind::Pause(on) => EventToml::Pause { step, on: *on },
        EventKind::SingleStep => EventToml::SingleStep { step },
        EventKind::Checkpoint {
            state_hash,
            particles,
        } => EventToml::Checkpoint {
            step,
            state_hash: hex(*state_hash),
            particles: *particles,
        },
    }
}

fn event_from(e: EventToml) -> Result<Event, String> {
    let (step, kind) = match e {
        EventToml::Switch { step, what, to } => (step, EventKind::Switch(switch_from(&what, &to)?)),
        EventToml::Budget { step, to } => (step, EventKind::Budget(budget("to", to)?)),
        EventToml::Mouse { step, at, repel } => {
            let at = at.map(Vec2::from_array);
            if at.is_some_and(|v| !v.is_finite()) {
                return Err("mouse: `at` must be finite".into());
            }
            (step, EventKind::Mouse { at, repel })
        }
        EventToml::Reset { step } => (step, EventKind::Reset),
        EventToml::Scene { step, scene } => {
            scene.validate().map_err(|e| embedded("its scene", e))?;
            (step, EventKind::Scene(scene))
        }
        EventToml::Pause { step, on } => (step, EventKind::Pause(on)),
        EventToml::SingleStep { step } => (step, EventKind::SingleStep),
        EventToml::Checkpoint {
            step,
            state_hash,
            particles,
        } => (
            step,
            EventKind::Checkpoint {
                state_hash: parse_hash("state_hash", &state_hash)?,
                particles,
            },
        ),
    };
    Ok(Event { step, kind })
}

/// The file's words for a switch: what is switched and its new value.
fn switch_words(switch: Switch) -> (&'static str, String) {
    match switch {
        Switch::Layout(v) => ("layout", v.to_string()),
        Switch::Lock(v) => ("lock", v.to_string()),
        Switch::Padding(v) => ("padding", v.to_string()),
        Switch::Threads(n) => ("threads", n.to_string()),
        Switch::Alloc(v) => ("alloc", v.to_string()),
    }
}

fn switch_from(what: &str, to: &str) -> Result<Switch, String> {
    let switch = match what {
        "layout" => Switch::Layout(field::<Layout>("to", to)?),
        "lock" => Switch::Lock(field::<LockStrategy>("to", to)?),
        "padding" => Switch::Padding(field::<Padding>("to", to)?),
        "alloc" => Switch::Alloc(field::<AllocMode>("to", to)?),
        "threads" => Switch::Threads(
            to.parse()
                .map_err(|_| format!("to: '{to}' is not a thread count"))?,
        ),
        other => {
            return Err(format!(
                "what: unknown switch '{other}' (expected layout, lock, padding, threads or alloc)"
            ));
        }
    };
    Strategy::default()
        .with(switch)
        .validate()
        .map_err(|e| format!("to: {e}"))?;
    Ok(switch)
}

/// A bad embedded scene's error, naming the table instead of a file.
fn embedded(table: &str, e: SceneError) -> String {
    SceneError {
        file: table.into(),
        ..e
    }
    .to_string()
}

fn budget(name: &str, n: u32) -> Result<u32, String> {
    if (1..=MAX_PARTICLES).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{name}: {n} is not a particle budget (expected 1 to {MAX_PARTICLES})"
        ))
    }
}

fn field<T: std::str::FromStr<Err = String>>(name: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|e| format!("{name}: {e}"))
}

fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

fn parse_hash(name: &str, text: &str) -> Result<u64, String> {
    if text.len() != 16 {
        return Err(format!("{name}: '{text}' is not 16 hex digits"));
    }
    u64::from_str_radix(text, 16).map_err(|_| format!("{name}: '{text}' is not 16 hex digits"))
}

/// A TOML error as one line: where, and what.
fn toml_reason(text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("line {line}, column {column}: ")
    });
    format!("{}{}", at.unwrap_or_default(), e.message().trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(events: Vec<Event>, steps: u64) -> Recording {
        Recording {
            program: "test".into(),
            scene: Scene::default_scene().with_particles(1000).unwrap(),
            strategy: Strategy {
                threads: 2,
                ..Strategy::default()
            },
            budget: 1000,
            events,
            end: End {
                steps,
                particles: 999,
                state_hash: 0x0123_4567_89ab_cdef,
            },
        }
    }

    fn at(step: u64, kind: EventKind) -> Event {
        Event { step, kind }
    }

    fn every_kind() -> Recording {
        let checkpoint = |h| EventKind::Checkpoint {
            state_hash: h,
            particles: 5,
        };
        recording(
            vec![
                at(3, EventKind::Switch(Switch::Layout(Layout::Aos))),
                at(3, EventKind::Switch(Switch::Threads(1))),
                at(
                    4,
                    EventKind::Mouse {
                        at: Some(Vec2::new(1.5, -2.0)),
                        repel: true,
                    },
                ),
                at(
                    9,
                    EventKind::Mouse {
                        at: None,
                        repel: false,
                    },
                ),
                at(9, EventKind::Budget(500)),
                at(10, EventKind::Pause(true)),
                at(10, EventKind::SingleStep),
                at(CHECKPOINT_EVERY, checkpoint(7)),
                at(CHECKPOINT_EVERY + 1, EventKind::Reset),
                at(2, EventKind::Scene(Box::new(Scene::default_scene()))),
                at(CHECKPOINT_EVERY, checkpoint(u64::MAX)),
            ],
            CHECKPOINT_EVERY + 5,
        )
    }

    fn refused(text: &str) -> String {
        parse("r.replay", text).unwrap_err().to_string()
    }

    #[test]
    fn every_kind_of_event_round_trips() {
        let r = every_kind();
        assert_eq!(parse("r.replay", &to_text(&r)), Ok(r));
    }

    #[test]
    fn bad_values_name_the_event_and_the_field() {
        let text = to_text(&every_kind());
        for (from, to, needle) in [
            (
                "to = \"aos\"",
                "to = \"diagonal\"",
                "event 1: to: unknown layout 'diagonal'",
            ),
            (
                "what = \"threads\"\nto = \"1\"",
                "what = \"threads\"\nto = \"0\"",
                "event 2: to: threads = 0",
            ),
            (
                "what = \"layout\"",
                "what = \"colour\"",
                "event 1: what: unknown switch 'colour'",
            ),
            (
                "to = 500",
                "to = 0",
                "event 5: to: 0 is not a particle budget",
            ),
            (
                "budget = 1000",
                "budget = 0",
                "start.budget: 0 is not a particle budget",
            ),
            ("threads = 2", "threads = 0", "start.threads = 0"),
            (
                "state_hash = \"0000000000000007\"",
                "state_hash = \"7\"",
                "event 8: state_hash: '7' is not 16 hex digits",
            ),
            (
                "events = 11",
                "events = 12",
                "end.events says 12 events but the file has 11",
            ),
            (
                "format = \"sim-replay\"",
                "format = \"png\"",
                "not a recording",
            ),
            ("version = 1", "version = 0", "version: 0 is not a version"),
            ("version = 1\n", "", "version: missing is not a version"),
            (
                "at = [1.5, -2.0]",
                "at = [nan, 0.0]",
                "event 3: mouse: `at` must be finite",
            ),
        ] {
            assert!(text.contains(from), "{from}");
            let message = refused(&text.replacen(from, to, 1));
            assert!(message.starts_with("r.replay: "), "{message}");
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }

    #[test]
    fn steps_must_not_go_back_and_checkpoints_must_not_be_missing() {
        let mut r = every_kind();
        r.events.swap(0, 2);
        assert!(refused(&to_text(&r)).contains(
            "event 2 (switch) at step 3 comes after an event of the same world at step 4"
        ));
        let mut r = every_kind();
        r.events.remove(7);
        assert!(
            refused(&to_text(&r))
                .contains("event 8 (reset) at step 1201: the checkpoint at step 1200 is missing")
        );
        let mut r = every_kind();
        r.end.steps = 5 * CHECKPOINT_EVERY; // would run for ever without checkpoints
        assert!(refused(&to_text(&r)).contains("the checkpoint at step 2400 is missing"));
        let mut r = every_kind();
        r.end.steps = 1;
        assert!(
            refused(&to_text(&r))
                .contains("end.steps is 1 but the last world's events reach step 1200")
        );
    }
}
