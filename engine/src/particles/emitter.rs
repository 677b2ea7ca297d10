//! Emitters: turn a scene's emitter description into spawn requests, deterministically.

use super::particle::Particle;
use super::scene::{self, Shape};
use glam::Vec2;
use rand::Rng;
use std::f32::consts::TAU;

/// An emitter ready to run: its description plus parsed colours and the fractional
/// particle carried between steps.
#[derive(Clone, Debug)]
pub struct EmitterState {
    desc: scene::Emitter,
    colors: Vec<[u8; 4]>,
    carry: f64,
}

impl EmitterState {
    /// Prepares a validated emitter.
    pub fn new(desc: &scene::Emitter) -> EmitterState {
        let colors = desc
            .colors
            .iter()
            .map(|c| scene::parse_color(c).unwrap_or([255; 4]))
            .collect();
        EmitterState {
            desc: desc.clone(),
            colors,
            carry: 0.0,
        }
    }

    /// The initial burst, pre-aged: each particle gets a random age within its lifetime and
    /// is moved ballistically (under `gravity`) to where it would be by then, so a scene
    /// starts looking as if it had been running.
    pub fn burst(
        &self,
        rng: &mut impl Rng,
        gravity: Vec2,
        bounds: Vec2,
        mut out: impl FnMut(Particle),
    ) {
        for _ in 0..self.desc.burst {
            let mut s = self.sample(rng);
            if s.lifetime.is_finite() {
                s.age = rng.random::<f32>() * s.lifetime;
                s.position += s.velocity * s.age + 0.5 * gravity * s.age * s.age;
                s.position = s.position.clamp(Vec2::ZERO, bounds);
                s.velocity += gravity * s.age;
            }
            out(s);
        }
    }

    /// Spawns for one step of `dt` seconds, at most `room` of them; returns how many.
    pub fn emit(
        &mut self,
        rng: &mut impl Rng,
        dt: f32,
        room: usize,
        mut out: impl FnMut(Particle),
    ) -> usize {
        self.carry += f64::from(self.desc.rate) * f64::from(dt);
        let wanted = self.carry.floor();
        self.carry -= wanted;
        let n = (wanted as usize).min(room);
        for _ in 0..n {
            out(self.sample(rng));
        }
        n
    }

    fn sample(&self, rng: &mut impl Rng) -> Particle {
        let d = &self.desc;
        let center = Vec2::from(d.position);
        let offset = match d.shape {
            Shape::Point => Vec2::ZERO,
            Shape::Disc { radius } => {
                let r = radius * rng.random::<f32>().sqrt();
                Vec2::from_angle(rng.random::<f32>() * TAU) * r
            }
            Shape::Rect { width, height } => Vec2::new(
                (rng.random::<f32>() - 0.5) * width,
                (rng.random::<f32>() - 0.5) * height,
            ),
        };
        let angle = (d.direction + d.spread * (2.0 * rng.random::<f32>() - 1.0)).to_radians();
        let speed = lerp(d.speed[0], d.speed[1], rng.random());
        let swirl = offset.perp().normalize_or_zero() * d.swirl;
        let lifetime = if d.lifetime[1].is_finite() {
            lerp(d.lifetime[0], d.lifetime[1], rng.random())
        } else {
            f32::INFINITY
        };
        Particle {
            position: center + offset,
            velocity: Vec2::from_angle(angle) * speed + swirl,
            color: ramp(&self.colors, rng.random()),
            age: 0.0,
            lifetime,
            mass: 1.0,
        }
    }
}

fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// The colour at `t` in [0, 1) along a ramp of evenly spaced stops.
fn ramp(stops: &[[u8; 4]], t: f32) -> [u8; 4] {
    match stops {
        [] => [255; 4],
        [only] => *only,
        _ => {
            let x = t * (stops.len() - 1) as f32;
            let i = (x as usize).min(stops.len() - 2);
            let f = x - i as f32;
            std::array::from_fn(|k| {
                lerp(f32::from(stops[i][k]), f32::from(stops[i + 1][k]), f).round() as u8
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn emitter(toml: &str) -> EmitterState {
        let scene = scene::Scene::parse(
            "t.toml",
            &format!(
                "[world]\nwidth = 100.0\nheight = 100.0\nparticles = 1000\n[[emitters]]\n{toml}"
            ),
        )
        .unwrap();
        EmitterState::new(&scene.emitters[0])
    }

    #[test]
    fn rate_accumulates_fractional_particles() {
        // 0.75 particles per step, exact in binary floating point.
        let mut e = emitter("position = [50.0, 50.0]\nrate = 96.0");
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
        let mut out = Vec::new();
        let total: usize = (0..128)
            .map(|_| e.emit(&mut rng, 1.0 / 128.0, usize::MAX, |p| out.push(p)))
            .sum();
        assert_eq!(total, 96);
        assert_eq!(out.len(), 96);
        assert_eq!(
            e.emit(&mut rng, 1.0, 5, |p| out.push(p)),
            5,
            "room caps the count"
        );
    }

    #[test]
    fn samples_stay_in_shape_cone_and_ranges() {
        let e = emitter(
            "position = [50.0, 50.0]\nshape = { kind = \"disc\", radius = 10.0 }\n\
             direction = 90.0\nspread = 10.0\nspeed = [5.0, 6.0]\nlifetime = [1.0, 2.0]\n\
             colors = [\"#000000\", \"#ff0000\"]",
        );
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2);
        for _ in 0..1000 {
            let s = e.sample(&mut rng);
            assert!(s.position.distance(Vec2::splat(50.0)) <= 10.0 + 1e-4);
            let speed = s.velocity.length();
            assert!((5.0 - 1e-3..=6.0 + 1e-3).contains(&speed));
            let angle = s.velocity.y.atan2(s.velocity.x).to_degrees();
            assert!((80.0 - 1e-3..=100.0 + 1e-3).contains(&angle), "{angle}");
            assert!((1.0..=2.0).contains(&s.lifetime));
            assert_eq!([s.color[1], s.color[2], s.color[3]], [0, 0, 255]);
        }
    }

    #[test]
    fn same_seed_same_spawns() {
        let e = emitter(
            "position = [50.0, 50.0]\nburst = 100\nspeed = [1.0, 9.0]\nlifetime = [1.0, 3.0]",
        );
        let run = |seed| {
            let mut out = Vec::new();
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            e.burst(&mut rng, Vec2::new(0.0, -10.0), Vec2::splat(100.0), |p| {
                out.push(p)
            });
            out
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
        assert!(run(3).iter().all(|s| s.age < s.lifetime && s.age >= 0.0));
    }

    #[test]
    fn ramp_interpolates_between_stops() {
        let stops = [[0, 0, 0, 255], [200, 100, 0, 255]];
        assert_eq!(ramp(&stops, 0.0), [0, 0, 0, 255]);
        assert_eq!(ramp(&stops, 0.5), [100, 50, 0, 255]);
        assert_eq!(ramp(&[[1, 2, 3, 4]], 0.7), [1, 2, 3, 4]);
    }
}
