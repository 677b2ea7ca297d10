//! CPU rasteriser: draws particles into an RGBA frame, with or without a window.
//!
//! The world maps onto the whole frame (y up in the world, down in the image). Each particle
//! is one pixel, added to what is there (additive blending), so dense regions glow. Positions
//! are interpolated between the last two steps with the loop's alpha, using
//! `previous = position - velocity * dt` (exact for the symplectic Euler step, except on
//! the step of a wall bounce).
//!
//! Large frames are drawn in parallel: the image is cut into horizontal bands, one per
//! worker, and each worker draws the particles that fall in its band. No two workers write
//! the same pixel, and the result does not depend on the thread count.

use engine::particle;
use engine::storage::Rows;
use engine::with_rows;
use engine::world::World;
use glam::Vec2;
use rayon::prelude::*;

/// The background colour.
pub const BACKGROUND: [u8; 4] = [6, 7, 14, 255];

/// Below this many particles, drawing stays on one thread.
const PARALLEL_MIN_PARTICLES: usize = 50_000;

/// How world coordinates map to pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// The world's size.
    pub world: Vec2,
}

impl Viewport {
    /// Pixels per world unit, per axis.
    fn scale(&self) -> Vec2 {
        Vec2::new(self.width as f32, self.height as f32) / self.world
    }

    /// The world position under pixel `(x, y)` (e.g. the mouse).
    pub fn to_world(&self, x: f64, y: f64) -> Vec2 {
        let s = self.scale();
        Vec2::new(x as f32 / s.x, (self.height as f32 - y as f32) / s.y)
    }
}

/// Fills `frame` (RGBA, `width * height * 4` bytes) with the background.
pub fn clear(frame: &mut [u8]) {
    for px in frame.chunks_exact_mut(4) {
        px.copy_from_slice(&BACKGROUND);
    }
}

/// Clears `frame` and draws every particle of `world`, interpolated by `alpha` in [0, 1].
pub fn draw(frame: &mut [u8], view: Viewport, world: &World, alpha: f32) {
    assert_eq!(
        frame.len(),
        view.width as usize * view.height as usize * 4,
        "frame size"
    );
    let lag = (1.0 - alpha.clamp(0.0, 1.0)) * world.dt();
    let row_bytes = view.width as usize * 4;
    let bands = if world.len() < PARALLEL_MIN_PARTICLES {
        1
    } else {
        world.pool().current_num_threads()
    };
    let band_rows = (view.height as usize).div_ceil(bands).max(1);
    let rows = world.rows();
    world.pool().install(|| {
        frame
            .par_chunks_mut(band_rows * row_bytes)
            .enumerate()
            .for_each(|(i, band)| {
                clear(band);
                let first_row = (i * band_rows) as u32;
                let rows_here = (band.len() / row_bytes) as u32;
                with_rows!(rows, |rows| draw_band(
                    rows, band, view, first_row, rows_here, lag
                ));
            });
    });
}

/// Draws the particles that land in image rows `[first_row, first_row + rows)` into `band`.
fn draw_band<'a>(
    rows: impl Rows<'a, Item = particle::Ref<'a>>,
    band: &mut [u8],
    view: Viewport,
    first_row: u32,
    rows_here: u32,
    lag: f32,
) {
    let scale = view.scale();
    let (w, h) = (view.width as f32, view.height as f32);
    rows.for_each(|p| {
        let at = *p.position - *p.velocity * lag;
        let x = at.x * scale.x;
        let y = h - at.y * scale.y;
        // Negative and NaN coordinates fail these tests, so the casts below are in range.
        if !(x >= 0.0 && x < w && y >= 0.0 && y < h) {
            return;
        }
        let (x, y) = (x as u32, (y as u32).min(view.height - 1));
        if y < first_row || y >= first_row + rows_here {
            return;
        }
        let fade = if p.lifetime.is_finite() {
            (1.0 - *p.age / *p.lifetime).clamp(0.15, 1.0)
        } else {
            1.0
        };
        let i = ((y - first_row) * view.width + x) as usize * 4;
        let px = &mut band[i..i + 3];
        for (c, out) in p.color[..3].iter().zip(px) {
            // A third of the colour per particle: three on one pixel reach full brightness.
            *out = out.saturating_add((f32::from(*c) * fade * 0.34) as u8);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::scene::Scene;
    use engine::world::Strategy;

    fn lit_pixels(frame: &[u8]) -> usize {
        frame
            .chunks_exact(4)
            .filter(|p| p[..3] != BACKGROUND[..3])
            .count()
    }

    #[test]
    fn draws_particles_and_is_independent_of_threads() {
        let scene = Scene::default_scene().with_particles(60_000).unwrap();
        let view = Viewport {
            width: 320,
            height: 180,
            world: Vec2::new(scene.world.width, scene.world.height),
        };
        let mut frames = Vec::new();
        for threads in [1, 2] {
            let mut world = World::new(
                scene.clone(),
                Strategy {
                    threads,
                    ..Strategy::default()
                },
            );
            world.run(3);
            let mut frame = vec![0u8; 320 * 180 * 4];
            draw(&mut frame, view, &world, 0.5);
            frames.push(frame);
        }
        assert!(lit_pixels(&frames[0]) > 1000, "particles are drawn");
        assert_eq!(frames[0], frames[1], "bands do not change the picture");
    }

    #[test]
    fn viewport_round_trips_the_mouse() {
        let view = Viewport {
            width: 200,
            height: 100,
            world: Vec2::new(400.0, 100.0),
        };
        assert_eq!(view.to_world(0.0, 100.0), Vec2::ZERO);
        assert_eq!(view.to_world(100.0, 50.0), Vec2::new(200.0, 50.0));
    }
}
