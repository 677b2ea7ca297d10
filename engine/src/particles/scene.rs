//! Scene descriptions: parsed from TOML with serde, then validated.
//!
//! Every error names the file, where it is (line and column for syntax and type errors),
//! the field, and what was expected; unknown fields are rejected. Nothing here panics on
//! any input.
//!
//! ```
//! let scene = engine::particles::scene::Scene::parse("inline.toml", r#"
//!     [world]
//!     width = 800.0
//!     height = 600.0
//!     particles = 1000
//!     [[emitters]]
//!     position = [400.0, 300.0]
//!     burst = 1000
//! "#).unwrap();
//! assert_eq!(scene.world.particles, 1000);
//! assert!(engine::particles::scene::Scene::parse("bad.toml", "[world]\nwidth = -1").is_err());
//! ```

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::path::Path;

/// More particles than this would not fit a sensible memory budget (about 2 GiB of storage).
pub const MAX_PARTICLES: u32 = 50_000_000;
/// The largest world side, in world units; keeps grid sizes bounded.
pub const MAX_WORLD_SIDE: f32 = 1.0e6;
/// The most grid cells a neighbour grid may have.
pub const MAX_GRID_CELLS: f64 = 16.0e6;

/// A whole scene: world, forces, emitters.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Shown in the window title and bench tables.
    #[serde(default)]
    pub name: String,
    /// RNG seed; the same seed gives the same run.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Size, budget and timestep.
    pub world: WorldConfig,
    /// Global forces.
    #[serde(default)]
    pub forces: Forces,
    /// Fixed point attractors (the mouse adds one more at run time).
    #[serde(default)]
    pub attractors: Vec<Attractor>,
    /// Where particles come from.
    #[serde(default)]
    pub emitters: Vec<Emitter>,
}

/// World size, particle budget and timestep.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WorldConfig {
    /// Width in world units (the window maps it to its width).
    pub width: f32,
    /// Height in world units.
    pub height: f32,
    /// The particle budget: live particles never exceed it.
    pub particles: u32,
    /// Fixed step in seconds.
    #[serde(default = "default_dt")]
    pub dt: f32,
    /// At most this many steps per rendered frame (no spiral of death).
    #[serde(default = "default_max_steps")]
    pub max_steps_per_frame: u32,
}

/// Forces applied to every particle.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Forces {
    /// Acceleration, world units/s² (y points up).
    pub gravity: [f32; 2],
    /// Linear drag per second (velocity shrinks by `drag * dt` each step).
    pub drag: f32,
    /// Fraction of speed kept when bouncing off a wall.
    pub restitution: f32,
    /// Strength of the mouse attractor (negative repels).
    pub mouse_strength: f32,
    /// Short-range repulsion between neighbours, through the grid.
    pub repulsion: Option<Repulsion>,
}

impl Default for Forces {
    fn default() -> Self {
        Forces {
            gravity: [0.0, 0.0],
            drag: 0.0,
            restitution: 0.8,
            mouse_strength: 400_000.0,
            repulsion: None,
        }
    }
}

/// Neighbour repulsion: particles closer than `radius` push apart.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Repulsion {
    /// Interaction radius, also the grid cell size.
    pub radius: f32,
    /// Scale of the push: a neighbour at distance `|d|` adds an acceleration of about
    /// `strength * (1 - |d|/radius)` away from itself (strongest at contact, zero at and
    /// beyond `radius`; softened within `radius/100`).
    pub strength: f32,
}

/// A point that pulls (or, with negative strength, pushes) particles.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Attractor {
    /// Where it is.
    pub position: [f32; 2],
    /// The acceleration is `strength * d / (d² + softening²)` towards the point, at
    /// distance `d` (a 1/d law: orbits far out all have speed `sqrt(strength)`).
    pub strength: f32,
    /// Softening length that avoids infinite pull at the centre.
    #[serde(default = "default_softening")]
    pub softening: f32,
}

/// The shape particles are spawned in, around the emitter's position.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum Shape {
    /// All at the emitter's position.
    #[default]
    Point,
    /// Uniformly in a disc.
    Disc {
        /// Disc radius.
        radius: f32,
    },
    /// Uniformly in an axis-aligned rectangle centred on the position.
    Rect {
        /// Full width.
        width: f32,
        /// Full height.
        height: f32,
    },
}

/// A source of particles.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Emitter {
    /// Centre of the spawn shape.
    pub position: [f32; 2],
    /// Particles per second, while under budget.
    #[serde(default)]
    pub rate: f32,
    /// Particles spawned at the start, with ages spread over their lifetime so they do not
    /// all die at once.
    #[serde(default)]
    pub burst: u32,
    /// Spawn shape.
    #[serde(default)]
    pub shape: Shape,
    /// Mean direction of the initial velocity, degrees (0 = +x, 90 = up).
    #[serde(default = "default_direction")]
    pub direction: f32,
    /// Half-angle of the velocity cone, degrees.
    #[serde(default)]
    pub spread: f32,
    /// Initial speed range [min, max].
    #[serde(default)]
    pub speed: [f32; 2],
    /// Lifetime range [min, max] in seconds; `inf` lives forever.
    #[serde(default = "default_lifetime")]
    pub lifetime: [f32; 2],
    /// Colours, as "#rrggbb"; each particle gets a point on this ramp at random.
    #[serde(default = "default_colors")]
    pub colors: Vec<String>,
    /// Spin: adds this tangential speed (counter-clockwise) around the emitter's position.
    #[serde(default)]
    pub swirl: f32,
}

impl Default for Scene {
    /// An empty 1000 x 1000 world with a budget of 10 000 particles, no forces, attractors
    /// or emitters: a starting point for scenes built in code.
    fn default() -> Self {
        Scene {
            name: String::new(),
            seed: default_seed(),
            world: WorldConfig::default(),
            forces: Forces::default(),
            attractors: Vec::new(),
            emitters: Vec::new(),
        }
    }
}

impl Default for WorldConfig {
    /// 1000 x 1000 world units, 10 000 particles, 1/120 s steps, at most 4 per frame.
    fn default() -> Self {
        WorldConfig {
            width: 1000.0,
            height: 1000.0,
            particles: 10_000,
            dt: default_dt(),
            max_steps_per_frame: default_max_steps(),
        }
    }
}

impl Default for Emitter {
    /// A white point emitter at the origin, aimed up, no rate or burst, immortal particles.
    fn default() -> Self {
        Emitter {
            position: [0.0, 0.0],
            rate: 0.0,
            burst: 0,
            shape: Shape::Point,
            direction: default_direction(),
            spread: 0.0,
            speed: [0.0, 0.0],
            lifetime: default_lifetime(),
            colors: default_colors(),
            swirl: 0.0,
        }
    }
}

fn default_seed() -> u64 {
    1
}
fn default_dt() -> f32 {
    1.0 / 120.0
}
fn default_max_steps() -> u32 {
    4
}
fn default_softening() -> f32 {
    10.0
}
fn default_direction() -> f32 {
    90.0
}
fn default_lifetime() -> [f32; 2] {
    [f32::INFINITY, f32::INFINITY]
}
fn default_colors() -> Vec<String> {
    vec!["#ffffff".into()]
}

/// Why a scene was rejected.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneError {
    /// The file (or source name) it came from.
    pub file: String,
    /// 1-based line and column, where known.
    pub location: Option<(usize, usize)>,
    /// The field, as a path like `emitters[0].rate`, where known.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub reason: String,
}

impl fmt::Display for SceneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.location {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for SceneError {}

/// The default scene, embedded so the binary runs from any folder.
pub const DEFAULT_SCENE: &str = include_str!("../../scenes/default.toml");

impl Scene {
    /// Parses and validates `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Scene, SceneError> {
        let scene: Scene = toml::from_str(text).map_err(|e| {
            let location = e.span().map(|span| line_col(text, span.start));
            let field = e.span().and_then(|span| key_on_line(text, span.start));
            SceneError {
                file: file.to_string(),
                location,
                field,
                reason: e.message().trim().to_string(),
            }
        })?;
        scene.validate().map_err(|e| SceneError {
            file: file.to_string(),
            ..e
        })?;
        Ok(scene)
    }

    /// Reads, parses and validates a scene file.
    pub fn load(path: &Path) -> Result<Scene, SceneError> {
        let file = path.display().to_string();
        if path.is_dir() {
            return Err(SceneError {
                file,
                location: None,
                field: None,
                reason: "is a directory, expected a scene .toml file".into(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| SceneError {
            file: file.clone(),
            location: None,
            field: None,
            reason: format!("cannot read: {e}"),
        })?;
        Scene::parse(&file, &text)
    }

    /// The scene as TOML that [`Scene::parse`] reads back to an equal scene (floats
    /// written as the shortest decimal that round-trips), e.g. to embed it in a recording.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scene has only TOML-representable values")
    }

    /// The embedded default scene.
    pub fn default_scene() -> Scene {
        Scene::parse("assets/scenes/default.toml", DEFAULT_SCENE)
            .expect("the embedded default scene is valid (tested)")
    }

    /// The name to show: the `name` field, or a fallback.
    pub fn display_name(&self) -> Cow<'_, str> {
        if self.name.is_empty() {
            Cow::Owned("unnamed scene".to_string())
        } else {
            Cow::Borrowed(&self.name)
        }
    }

    /// Scales the particle budget to `particles`, keeping the scene's look: emitter bursts
    /// and rates scale in proportion, and the neighbour-repulsion radius shrinks as
    /// `1/sqrt(scale)`, so each particle keeps about as many neighbours (more, smaller
    /// particles, not a denser crowd).
    ///
    /// # Errors
    /// If the scene is not valid to begin with (the error names the field), if `particles`
    /// is out of range, or if scaling would push a value out of its range.
    pub fn with_particles(mut self, particles: u32) -> Result<Scene, SceneError> {
        self.validate()?;
        check_range("", particles as f64, 1.0, MAX_PARTICLES as f64)
            .map_err(|reason| in_code("world.particles".into(), reason))?;
        let scale = particles as f64 / self.world.particles.max(1) as f64;
        self.world.particles = particles;
        for e in &mut self.emitters {
            e.burst = ((e.burst as f64 * scale).round() as u32).min(particles);
            e.rate = (e.rate as f64 * scale) as f32;
        }
        if let Some(r) = &mut self.forces.repulsion {
            r.radius = (r.radius as f64 / scale.sqrt()) as f32;
        }
        self.validate_fields().map_err(|(field, reason)| {
            in_code(
                "world.particles".into(),
                format!("{particles} particles would make `{field}` {reason}"),
            )
        })?;
        Ok(self)
    }

    /// Checks every value's range, as loading a file does; for scenes built in code.
    ///
    /// # Errors
    /// Names the first field out of range, its value and the accepted range (the file is
    /// given as `(in code)`; [`Scene::parse`] puts the file name in).
    pub fn validate(&self) -> Result<(), SceneError> {
        self.validate_fields()
            .map_err(|(field, reason)| in_code(field, reason))
    }

    /// Checks every value's range; returns the field path and the reason.
    fn validate_fields(&self) -> Result<(), (String, String)> {
        let w = &self.world;
        check_range("", w.width as f64, 1.0, MAX_WORLD_SIDE as f64).map_err(at("world.width"))?;
        check_range("", w.height as f64, 1.0, MAX_WORLD_SIDE as f64).map_err(at("world.height"))?;
        check_range("", w.particles as f64, 1.0, MAX_PARTICLES as f64)
            .map_err(at("world.particles"))?;
        check_range("", w.dt as f64, 1.0e-5, 0.1).map_err(at("world.dt"))?;
        check_range("", w.max_steps_per_frame as f64, 1.0, 64.0)
            .map_err(at("world.max_steps_per_frame"))?;
        let f = &self.forces;
        for (i, g) in f.gravity.iter().enumerate() {
            check_range("", *g as f64, -1.0e6, 1.0e6)
                .map_err(at(&format!("forces.gravity[{i}]")))?;
        }
        check_range("", f.drag as f64, 0.0, 10.0).map_err(at("forces.drag"))?;
        check_range("", f.restitution as f64, 0.0, 1.0).map_err(at("forces.restitution"))?;
        check_range("", f.mouse_strength as f64, -1.0e9, 1.0e9)
            .map_err(at("forces.mouse_strength"))?;
        if let Some(r) = f.repulsion {
            check_range("", r.radius as f64, 0.01, w.width.min(w.height) as f64)
                .map_err(at("forces.repulsion.radius"))?;
            check_range("", r.strength as f64, 0.0, 1.0e9)
                .map_err(at("forces.repulsion.strength"))?;
            let cells = (w.width / r.radius).ceil() as f64 * (w.height / r.radius).ceil() as f64;
            if cells > MAX_GRID_CELLS {
                return Err(at("forces.repulsion.radius")(format!(
                    "gives a grid of {cells:.0} cells for a {}x{} world; at most {MAX_GRID_CELLS:.0} allowed (use a radius of at least {:.3})",
                    w.width,
                    w.height,
                    ((w.width as f64 * w.height as f64) / MAX_GRID_CELLS).sqrt()
                )));
            }
        }
        for (i, a) in self.attractors.iter().enumerate() {
            let p = |name: &str| format!("attractors[{i}].{name}");
            check_point(a.position, w).map_err(at(&p("position")))?;
            check_range("", a.strength as f64, -1.0e12, 1.0e12).map_err(at(&p("strength")))?;
            check_range("", a.softening as f64, 0.01, 1.0e6).map_err(at(&p("softening")))?;
        }
        for (i, e) in self.emitters.iter().enumerate() {
            let p = |name: &str| format!("emitters[{i}].{name}");
            check_point(e.position, w).map_err(at(&p("position")))?;
            check_range("", e.rate as f64, 0.0, 1.0e9).map_err(at(&p("rate")))?;
            check_range("", e.burst as f64, 0.0, w.particles as f64)
                .map_err(|r| (p("burst"), format!("{r} (the world's particle budget)")))?;
            match e.shape {
                Shape::Point => {}
                Shape::Disc { radius } => {
                    check_range("", radius as f64, 0.0, MAX_WORLD_SIDE as f64)
                        .map_err(at(&p("shape.radius")))?
                }
                Shape::Rect { width, height } => {
                    check_range("", width as f64, 0.0, MAX_WORLD_SIDE as f64)
                        .map_err(at(&p("shape.width")))?;
                    check_range("", height as f64, 0.0, MAX_WORLD_SIDE as f64)
                        .map_err(at(&p("shape.height")))?;
                }
            }
            check_range("", e.direction as f64, -360.0, 360.0).map_err(at(&p("direction")))?;
            check_range("", e.spread as f64, 0.0, 180.0).map_err(at(&p("spread")))?;
            check_ordered_range(e.speed, 0.0, 1.0e6).map_err(at(&p("speed")))?;
            check_lifetime(e.lifetime).map_err(at(&p("lifetime")))?;
            check_range("", e.swirl as f64, -1.0e5, 1.0e5).map_err(at(&p("swirl")))?;
            if e.colors.is_empty() {
                return Err((
                    p("colors"),
                    "is empty; expected at least one \"#rrggbb\"".into(),
                ));
            }
            for (j, c) in e.colors.iter().enumerate() {
                parse_color(c).map_err(at(&format!("emitters[{i}].colors[{j}]")))?;
            }
        }
        Ok(())
    }
}

/// An error about `field` of a scene built in code.
fn in_code(field: String, reason: String) -> SceneError {
    SceneError {
        file: "(in code)".into(),
        location: None,
        field: Some(field),
        reason,
    }
}

/// Attaches a field path to a reason, for `map_err`.
fn at(field: &str) -> impl FnOnce(String) -> (String, String) + '_ {
    move |reason| (field.to_string(), reason)
}

/// `Err` unless `lo <= value <= hi` (NaN is never in range).
///
/// `value` is one of the scene's `u32` counts or `f32` numbers, widened to `f64` (exactly);
/// the bounds are decimal literals. Most decimals have no exact `f32`: writing `0.01` gives
/// the `f32` 0.0099999998, below the `f64` 0.01. So a fractional value (only `f32` fields
/// have those) is compared with the bounds rounded to `f32`, as the user's own number was:
/// a value written as a bound is in range. Whole values compare exactly (a count may need
/// more than the 24 bits of an `f32`).
fn check_range(name: &str, value: f64, lo: f64, hi: f64) -> Result<(), String> {
    let in_range = if value.fract() == 0.0 {
        lo <= value && value <= hi
    } else {
        let v = value as f32;
        lo as f32 <= v && v <= hi as f32
    };
    if in_range {
        return Ok(());
    }
    let prefix = if name.is_empty() {
        String::new()
    } else {
        format!("{name} ")
    };
    Err(format!(
        "{prefix}is {}; expected a number from {} to {}",
        shown(value),
        shown(lo),
        shown(hi)
    ))
}

/// A number for a message, as short as it can be and still mean the value: whole numbers in
/// a count's range as integers; an `f32` field's value (widened) as the shortest decimal that
/// gives the same `f32` back, which is what the user wrote unless they wrote more digits
/// than an `f32` holds; anything else as the shortest decimal of the `f64`.
fn shown(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() <= f64::from(u32::MAX) {
        format!("{x}")
    } else if f64::from(x as f32) == x {
        format!("{}", x as f32)
    } else {
        format!("{x}")
    }
}

fn check_point(p: [f32; 2], w: &WorldConfig) -> Result<(), String> {
    if (0.0..=w.width).contains(&p[0]) && (0.0..=w.height).contains(&p[1]) {
        return Ok(());
    }
    Err(format!(
        "is [{}, {}]; expected a point inside the world [0, {}] x [0, {}]",
        p[0], p[1], w.width, w.height
    ))
}

fn check_ordered_range(r: [f32; 2], lo: f64, hi: f64) -> Result<(), String> {
    check_range("min", r[0] as f64, lo, hi)?;
    check_range("max", r[1] as f64, lo, hi)?;
    if r[0] > r[1] {
        return Err(format!("is [{}, {}]; expected min <= max", r[0], r[1]));
    }
    Ok(())
}

fn check_lifetime(r: [f32; 2]) -> Result<(), String> {
    if r[0].is_nan() || r[1].is_nan() || r[0] <= 0.0 || r[0] > r[1] {
        return Err(format!(
            "is [{}, {}]; expected 0 < min <= max (seconds, `inf` for forever)",
            r[0], r[1]
        ));
    }
    Ok(())
}

/// Parses `#rrggbb` into opaque RGBA.
pub fn parse_color(text: &str) -> Result<[u8; 4], String> {
    let hex = text.strip_prefix('#').filter(|h| h.len() == 6);
    let parsed = hex.and_then(|h| {
        let byte = |i: usize| u8::from_str_radix(h.get(i..i + 2)?, 16).ok();
        Some([byte(0)?, byte(2)?, byte(4)?, 255])
    });
    parsed.ok_or_else(|| format!("is \"{text}\"; expected a colour like \"#ff8800\""))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line, col)
}

/// The `key` of a `key = value` line containing `offset`, if the line has one.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[world]\nwidth = 100.0\nheight = 50.0\nparticles = 10\n";

    fn err(text: &str) -> SceneError {
        Scene::parse("s.toml", text).unwrap_err()
    }

    #[test]
    fn shipped_scenes_are_valid() {
        for entry in
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/scenes")).unwrap()
        {
            let path = entry.unwrap().path();
            if let Err(e) = Scene::load(&path) {
                panic!("{e}");
            }
        }
        assert_eq!(Scene::default_scene().name, "default");
    }

    #[test]
    fn scenes_round_trip_through_toml() {
        for entry in
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/scenes")).unwrap()
        {
            let scene = Scene::load(&entry.unwrap().path()).unwrap();
            let scaled = scene.clone().with_particles(123_457).unwrap();
            for s in [scene, scaled] {
                let text = s.to_toml();
                assert_eq!(Scene::parse("again.toml", &text).unwrap(), s, "{text}");
            }
        }
    }

    #[test]
    fn malformed_toml_names_line_and_column() {
        let e = err("[world]\nwidth = 100.0\nheight = = 3\n");
        assert_eq!(e.location.map(|l| l.0), Some(3), "{e}");
        assert!(e.to_string().starts_with("s.toml:3:"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = err("[world]\nwidth = \"wide\"\nheight = 50.0\nparticles = 10\n");
        assert_eq!(e.field.as_deref(), Some("width"), "{e}");
        assert_eq!(e.location.map(|l| l.0), Some(2));
        assert!(e.reason.contains("invalid type"), "{e}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = err(&format!("{MINIMAL}colour = 3\n"));
        assert!(e.reason.contains("unknown field `colour`"), "{e}");
        let e = err(&format!(
            "{MINIMAL}[[emitters]]\nposition = [1.0, 1.0]\nrat = 5.0\n"
        ));
        assert!(e.reason.contains("unknown field `rat`"), "{e}");
    }

    #[test]
    fn missing_required_field() {
        let e = err("[world]\nwidth = 100.0\nheight = 50.0\n");
        assert!(e.reason.contains("missing field `particles`"), "{e}");
    }

    #[test]
    fn negative_count_is_rejected() {
        let e = err("[world]\nwidth = 100.0\nheight = 50.0\nparticles = -5\n");
        assert_eq!(e.location.map(|l| l.0), Some(4), "{e}");
    }

    #[test]
    fn nan_is_rejected_with_the_range() {
        let e = err(&format!("{MINIMAL}[forces]\ndrag = nan\n"));
        assert_eq!(e.field.as_deref(), Some("forces.drag"));
        assert!(e.reason.contains("expected a number from 0 to 10"), "{e}");
    }

    #[test]
    fn zero_size_world_is_rejected() {
        let e = err("[world]\nwidth = 0.0\nheight = 50.0\nparticles = 10\n");
        assert_eq!(e.field.as_deref(), Some("world.width"), "{e}");
    }

    #[test]
    fn absurd_particle_count_is_rejected() {
        let e = err("[world]\nwidth = 10.0\nheight = 50.0\nparticles = 4000000000\n");
        assert_eq!(e.field.as_deref(), Some("world.particles"), "{e}");
        assert!(e.reason.contains("50000000"), "{e}");
    }

    #[test]
    fn bad_emitter_values_name_the_emitter() {
        let e = err(&format!(
            "{MINIMAL}[[emitters]]\nposition = [1.0, 1.0]\nspeed = [5.0, 1.0]\n"
        ));
        assert_eq!(e.field.as_deref(), Some("emitters[0].speed"));
        let e = err(&format!("{MINIMAL}[[emitters]]\nposition = [500.0, 1.0]\n"));
        assert_eq!(e.field.as_deref(), Some("emitters[0].position"));
        let e = err(&format!(
            "{MINIMAL}[[emitters]]\nposition = [1.0, 1.0]\ncolors = [\"red\"]\n"
        ));
        assert_eq!(e.field.as_deref(), Some("emitters[0].colors[0]"));
        let e = err(&format!(
            "{MINIMAL}[[emitters]]\nposition = [1.0, 1.0]\nburst = 11\n"
        ));
        assert_eq!(e.field.as_deref(), Some("emitters[0].burst"));
        let e = err(&format!(
            "{MINIMAL}[[emitters]]\nposition = [1.0, 1.0]\nlifetime = [0.0, 1.0]\n"
        ));
        assert_eq!(e.field.as_deref(), Some("emitters[0].lifetime"));
    }

    #[test]
    fn too_fine_a_grid_is_rejected() {
        let e = err(&format!(
            "{MINIMAL}[forces.repulsion]\nradius = 0.01\nstrength = 1.0\n"
        ));
        assert_eq!(e.field.as_deref(), Some("forces.repulsion.radius"), "{e}");
    }

    #[test]
    fn a_value_at_a_documented_bound_is_accepted() {
        // 0.01, 0.1 and 1e-5 have no exact f32: the f32 a user gets by writing one must still
        // pass the check against that bound. A 10 x 10 world keeps the grid of radius 0.01
        // within MAX_GRID_CELLS.
        let world = "[world]\nwidth = 10.0\nheight = 10.0\nparticles = 10\n";
        for text in [
            format!("{world}[forces.repulsion]\nradius = 0.01\nstrength = 1.0\n"),
            format!("{world}[forces.repulsion]\nradius = 10.0\nstrength = 1.0\n"),
            format!(
                "{world}[[attractors]]\nposition = [5.0, 5.0]\nstrength = 1.0\nsoftening = 0.01\n"
            ),
            world.replace("particles = 10\n", "particles = 10\ndt = 0.1\n"),
            world.replace("particles = 10\n", "particles = 10\ndt = 1e-5\n"),
            world.replace("particles = 10\n", "particles = 50000000\n"),
        ] {
            if let Err(e) = Scene::parse("s.toml", &text) {
                panic!("{text}\n{e}");
            }
        }
        // Just past a bound is still refused.
        for (text, field) in [
            (
                format!("{world}[forces.repulsion]\nradius = 0.0099\nstrength = 1.0\n"),
                "forces.repulsion.radius",
            ),
            (
                world.replace("particles = 10\n", "particles = 10\ndt = 0.1000001\n"),
                "world.dt",
            ),
            (
                world.replace("particles = 10\n", "particles = 50000001\n"),
                "world.particles",
            ),
        ] {
            assert_eq!(err(&text).field.as_deref(), Some(field), "{text}");
        }
    }

    #[test]
    fn messages_show_numbers_as_written() {
        let world = "[world]\nwidth = 10.0\nheight = 10.0\nparticles = 10\n";
        let e = err(&format!(
            "{world}[forces.repulsion]\nradius = 0.005\nstrength = 1.0\n"
        ));
        assert_eq!(
            e.reason, "is 0.005; expected a number from 0.01 to 10",
            "{e}"
        );
        let e = err(&world.replace("particles = 10\n", "particles = 10\ndt = 0.3\n"));
        assert_eq!(
            e.reason, "is 0.3; expected a number from 0.00001 to 0.1",
            "{e}"
        );
        let e = err(&format!("{world}[forces]\ndrag = 10.7\n"));
        assert_eq!(e.reason, "is 10.7; expected a number from 0 to 10", "{e}");
        let e = err("[world]\nwidth = 3e38\nheight = 10.0\nparticles = 10\n");
        assert!(
            e.reason
                .starts_with("is 300000000000000000000000000000000000000;"),
            "{e}"
        );
        let e = err("[world]\nwidth = 10.0\nheight = 10.0\nparticles = 4000000000\n");
        assert_eq!(
            e.reason, "is 4000000000; expected a number from 1 to 50000000",
            "{e}"
        );
    }

    #[test]
    fn missing_file_and_directory() {
        let e = Scene::load(Path::new("/no/such/scene.toml")).unwrap_err();
        assert!(e.reason.starts_with("cannot read"), "{e}");
        let e = Scene::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_err();
        assert!(e.reason.contains("directory"), "{e}");
    }

    #[test]
    fn scaling_particles_scales_emitters() {
        let scene = Scene::default_scene();
        let half = scene
            .clone()
            .with_particles(scene.world.particles / 2)
            .unwrap();
        assert_eq!(half.world.particles, scene.world.particles / 2);
        assert!(half.emitters[0].rate < scene.emitters[0].rate);
        assert!(scene.clone().with_particles(0).is_err());
        assert!(scene.with_particles(MAX_PARTICLES + 1).is_err());
        let swarm = Scene::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/scenes/swarm.toml"
        )))
        .unwrap();
        let r = swarm.forces.repulsion.unwrap().radius;
        let quadrupled = swarm
            .clone()
            .with_particles(swarm.world.particles * 4)
            .unwrap();
        assert_eq!(
            quadrupled.forces.repulsion.unwrap().radius,
            r / 2.0,
            "same neighbours per particle"
        );
        let e = swarm.with_particles(MAX_PARTICLES).unwrap_err();
        assert!(e.to_string().contains("forces.repulsion.radius"), "{e}");
    }

    #[test]
    fn scenes_built_in_code_are_checked_like_files() {
        assert_eq!(Scene::default().validate(), Ok(()));
        let mut scene = Scene::default();
        scene.world.width = f32::NAN;
        let e = scene.validate().unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.field.as_deref()),
            ("(in code)", Some("world.width"))
        );
        let mut scene = Scene::default();
        scene.world.dt = 0.0;
        let e = scene.with_particles(100).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("world.dt"),
            "blames dt, not the count: {e}"
        );
        let e = Scene::default().with_particles(0).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("world.particles"), "{e}");
    }

    #[test]
    fn colors_parse() {
        assert_eq!(parse_color("#ff8000"), Ok([255, 128, 0, 255]));
        assert!(parse_color("#ff80").is_err());
        assert!(parse_color("#ggggggg").is_err());
        assert!(parse_color("#ééé").is_err());
    }
}
