//! CPU rasteriser: draws particles into an RGBA frame, with or without a window.
//!
//! The world maps onto the whole frame (y up in the world, down in the image). Each particle
//! is one pixel, added to what is there (additive blending), so dense regions glow. Positions
//! are interpolated with the loop's alpha between the two real states of the last step: the
//! positions it started from, which the simulation keeps in its frame arena and matches to
//! the current rows ([`ParticleSim::previous_positions`]), and the positions now. A particle
//! spawned in that step is drawn where it is.
//!
//! Drawing runs in two parallel passes, so each particle is read once and the random pixel
//! writes stay within a cache-sized part of the frame:
//! 1. *bin*: the particles are cut into pieces, which the workers take as they free up;
//!    each worker turns its pieces' particles into splats (pixel, colour: 5 bytes) a block of
//!    64 at a time, and appends them to its own list per band of [`BAND_PIXELS`] pixels. A
//!    block's fields are read in place from the SoA columns (copied row by row in AoS), its
//!    start-of-step positions too where none of its rows has moved since
//!    ([`PreviousView::unmoved`]), else gathered in one pass ([`PreviousView::copy_into`]),
//!    and its pixels and colours computed in loops over the block that vectorise;
//! 2. *splat*: each band is cleared and gets the splats of every worker's list for it.
//!
//! Adding bytes with saturation gives `min(255, sum)` whatever the order, so the picture
//! depends neither on which worker binned which piece nor on the thread count (a test
//! checks it against a one-particle-at-a-time reference, byte for byte).

use engine::particles::ParticleSim;
use engine::particles::particle;
use engine::storage::{ByLayout, Rows};
use engine::world::PreviousView;
use glam::Vec2;
use rayon::prelude::*;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The background colour.
pub const BACKGROUND: [u8; 4] = [6, 7, 14, 255];

/// Pixels per band: the frame, row after row, is cut into bands of this many pixels (128 KiB,
/// well inside a core's L2 cache while its splats land; 29 bands at 1280×720), so a splat
/// names its pixel in 16 bits, whatever the frame's width. Bands of 32 rows (160 KiB at
/// 1280 pixels) had drawn 1M particles on 2 threads faster than 16, 64 or 128 rows
/// (2026-12-03, Intel Xeon host, 2 MiB L2, runs taking turns).
pub const BAND_PIXELS: u32 = 1 << 15;

// A band's pixel is found with a shift and a mask, and a splat holds it in 16 bits.
const _: () = assert!(BAND_PIXELS.is_power_of_two() && BAND_PIXELS <= 1 << 16);

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

    /// The frame's pixels, if the rasteriser can number them: both sides below 2^23 (where
    /// its float-to-pixel conversion is exact) and below 2^32 pixels in all.
    fn pixels(&self) -> Option<u32> {
        const SIDE: u32 = 1 << 23;
        if self.width >= SIDE || self.height >= SIDE {
            return None;
        }
        self.width.checked_mul(self.height)
    }
}

/// Fills `frame` (RGBA, `width * height * 4` bytes) with the background.
pub fn clear(frame: &mut [u8]) {
    for px in frame.chunks_exact_mut(4) {
        px.copy_from_slice(&BACKGROUND);
    }
}

/// Clears `frame` and draws every particle of `world`, interpolated by `alpha` in [0, 1]
/// (clamped; NaN draws the previous state).
/// A frame whose size does not match `view`, or too big to number its pixels in 32 bits
/// (a side of 2^23 pixels or more, or 2^32 pixels in all), is left alone.
pub fn draw(frame: &mut [u8], view: Viewport, world: &ParticleSim, alpha: f32) {
    Rasteriser::default().draw(frame, view, world, alpha);
}

/// One particle's contribution: a pixel (counted from its band's first pixel) and the
/// colour to add to it. Five bytes, unaligned: the splat lists are written and read back
/// once a frame, so their size is the drawing's memory traffic: 1M particles on 2 threads
/// drew in 2.93–3.08 ms with 8-byte splats and 2.68–2.83 with these (2026-12-03, Intel
/// Xeon host, runs taking turns).
#[derive(Clone, Copy, Debug)]
struct Splat {
    /// The pixel in its band, little-endian.
    pixel: [u8; 2],
    /// Red, green and blue to add.
    rgb: [u8; 3],
}

/// The drawing scratch (the splat lists), kept between frames: once the lists have grown, a
/// draw allocates only two short lists (the pieces of rows, and each worker's splat lists to
/// read from).
#[derive(Debug, Default)]
pub struct Rasteriser {
    /// `lists[worker][band]`; a worker locks its own for each piece it bins, so never waits.
    lists: Vec<Mutex<Vec<Vec<Splat>>>>,
}

impl Rasteriser {
    /// Clears `frame` and draws every particle of `world`, interpolated by `alpha` in
    /// [0, 1] (clamped; NaN draws the previous state). A frame whose size does not match
    /// `view`, or too big to number its pixels in 32 bits (a side of 2^23 pixels or more,
    /// or 2^32 pixels in all), is left alone.
    pub fn draw(&mut self, frame: &mut [u8], view: Viewport, world: &ParticleSim, alpha: f32) {
        let Some(pixels) = view.pixels().map(|p| p as usize) else {
            return;
        };
        if pixels.checked_mul(4) != Some(frame.len()) || frame.is_empty() {
            return;
        }
        let motion = Motion {
            previous: world.previous_positions(),
            // NaN would put every particle off the frame.
            alpha: if alpha.is_nan() {
                0.0
            } else {
                alpha.clamp(0.0, 1.0)
            },
        };
        let bands = pixels.div_ceil(BAND_PIXELS as usize);
        let workers = if world.len() < PARALLEL_MIN_PARTICLES {
            1
        } else {
            world.pool().current_num_threads()
        };
        self.lists.resize_with(workers, Mutex::default);
        for lists in &mut self.lists {
            let lists = unpoisoned(lists);
            lists.resize_with(bands, Vec::new);
            lists.iter_mut().for_each(Vec::clear);
        }
        let rows = world.rows();
        world.pool().install(|| {
            let lists = &self.lists;
            match rows {
                ByLayout::Soa(columns) => bin_all(columns, lists, view, motion, bin_columns),
                ByLayout::Aos(rows) => bin_all(rows, lists, view, motion, bin_rows),
            }
        });
        let lists: Vec<&[Vec<Splat>]> = self.lists.iter_mut().map(|l| &**unpoisoned(l)).collect();
        world.pool().install(|| splat_all(frame, &lists));
    }
}

/// Where to draw each particle between the last two states.
#[derive(Clone, Copy)]
struct Motion<'w> {
    /// Positions at the start of the last step, by current row (`None` before any step).
    previous: Option<PreviousView<'w, Vec2>>,
    /// How far into the next step the clock is: 0 draws the previous state, 1 the current.
    alpha: f32,
}

impl<'w> Motion<'w> {
    /// Where the `len` particles of `now` (rows `first..first + len`) were at the start of
    /// the step: read in place where none of the rows has moved since, else gathered into
    /// `scratch` (where they are now for rows spawned since); `now` itself when no positions
    /// were kept.
    #[inline]
    fn start_of_step<'b>(
        &self,
        first: usize,
        len: usize,
        now: &'b [Vec2; BLOCK],
        scratch: &'b mut [Vec2; BLOCK],
    ) -> &'b [Vec2; BLOCK]
    where
        'w: 'b,
    {
        let Some(previous) = self.previous else {
            return now;
        };
        if let Some(Ok(unmoved)) = previous.unmoved(first, len).map(<&[Vec2; BLOCK]>::try_from) {
            return unmoved;
        }
        scratch[..len].copy_from_slice(&now[..len]);
        previous.copy_into(first, &mut scratch[..len]);
        scratch
    }
}

/// Pass 1: splits `rows` into pieces of [`PIECE_ROWS`], which the workers take as they
/// free up, each adding its pieces' splats to its own lists with `bin` ([`bin_columns`] or
/// [`bin_rows`]). So the work evens out between them (one fixed half each took 2.8–3.8 ms
/// for the same 500k particles, and 1M took 1.55x as long on 2 threads), and a worker the
/// OS pauses, as a software renderer's threads do in the window, leaves the rest to the
/// others.
fn bin_all<'a, R: Rows<'a>>(
    rows: R,
    lists: &[Mutex<Vec<Vec<Splat>>>],
    view: Viewport,
    motion: Motion<'_>,
    bin: fn(R, usize, &mut [Vec<Splat>], Viewport, Motion<'_>),
) {
    if let [lists] = lists {
        return bin(rows, 0, &mut locked(lists), view, motion);
    }
    let mut pieces = Vec::with_capacity(rows.len().div_ceil(PIECE_ROWS));
    let (mut rest, mut first) = (rows, 0);
    while !rest.is_empty() {
        let len = PIECE_ROWS.min(rest.len());
        let (piece, tail) = rest.split_at(len);
        pieces.push((first, piece));
        first += len;
        rest = tail;
    }
    pieces.into_par_iter().for_each(|(first, piece)| {
        // Inside the pool (`install`), which has a worker per list.
        let worker = rayon::current_thread_index().unwrap_or(0) % lists.len();
        bin(piece, first, &mut locked(&lists[worker]), view, motion)
    });
}

/// A mutex's value, also after a panic while it was held (the lists are cleared each draw).
fn unpoisoned<T>(mutex: &mut Mutex<T>) -> &mut T {
    mutex.get_mut().unwrap_or_else(PoisonError::into_inner)
}

/// [`unpoisoned`], locked.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Rows a worker bins at a time: 31 pieces at 1M particles. Pieces of 8 192 and of 131 072
/// rows both drew 1M particles slower on 2 threads (Intel Xeon host, 2026-12-03).
const PIECE_ROWS: usize = 512 * BLOCK;

/// Turns each particle of SoA `columns` (the first of them being row `first`) into a splat
/// in the list of its band, [`BLOCK`] particles at a time, read in place from the columns
/// (the last, shorter block copied into a [`Block`]).
fn bin_columns(
    columns: particle::ColumnsRef<'_>,
    first: usize,
    lists: &mut [Vec<Splat>],
    view: Viewport,
    motion: Motion<'_>,
) {
    let mut scratch = [Vec2::ZERO; BLOCK];
    let (position, position_tail) = columns.position.as_chunks::<BLOCK>();
    let (age, age_tail) = columns.age.as_chunks::<BLOCK>();
    let (lifetime, lifetime_tail) = columns.lifetime.as_chunks::<BLOCK>();
    let (color, color_tail) = columns.color.as_chunks::<BLOCK>();
    let blocks = position.iter().zip(age).zip(lifetime).zip(color);
    for (k, (((position, age), lifetime), color)) in blocks.enumerate() {
        let fields = Fields {
            position,
            before: position,
            age,
            lifetime,
            color,
        };
        let start = first + k * BLOCK;
        bin_block(fields, start, BLOCK, &mut scratch, lists, view, motion);
    }
    let len = position_tail.len();
    let mut tail = Block::default();
    tail.position[..len].copy_from_slice(position_tail);
    tail.age[..len].copy_from_slice(age_tail);
    tail.lifetime[..len].copy_from_slice(lifetime_tail);
    tail.color[..len].copy_from_slice(color_tail);
    let start = first + position.len() * BLOCK;
    bin_block(tail.fields(), start, len, &mut scratch, lists, view, motion);
}

/// [`bin_columns`] for AoS rows, which are read one at a time.
fn bin_rows<'a>(
    rows: impl Rows<'a, Item = particle::Ref<'a>>,
    first: usize,
    lists: &mut [Vec<Splat>],
    view: Viewport,
    motion: Motion<'_>,
) {
    let (mut block, mut scratch) = (Block::default(), [Vec2::ZERO; BLOCK]);
    // Counters of their own, not fields of the block: the block's arrays are written
    // through a pointer, so a count kept beside them would go through memory every row.
    let (mut start, mut k) = (first, 0);
    rows.for_each(|p| {
        block.position[k] = *p.position;
        (block.age[k], block.lifetime[k]) = (*p.age, *p.lifetime);
        block.color[k] = *p.color;
        k += 1;
        if k == BLOCK {
            bin_block(
                block.fields(),
                start,
                BLOCK,
                &mut scratch,
                lists,
                view,
                motion,
            );
            (start, k) = (start + BLOCK, 0);
        }
    });
    bin_block(block.fields(), start, k, &mut scratch, lists, view, motion);
}

/// Particles turned into splats together.
const BLOCK: usize = 64;

/// The band of a particle outside the frame.
const OFF_FRAME: u32 = u32::MAX;

/// The fields [`BLOCK`] particles are drawn from, as whole arrays, so their pixels and
/// colours are computed in plain loops of fixed length, which the compiler vectorises (one
/// particle at a time, the float tests and conversions were most of the drawing).
#[derive(Clone, Copy)]
struct Fields<'b> {
    /// Where each particle is now.
    position: &'b [Vec2; BLOCK],
    /// Where it was at the start of the step: `position` until [`bin_block`] looks it up.
    before: &'b [Vec2; BLOCK],
    age: &'b [f32; BLOCK],
    lifetime: &'b [f32; BLOCK],
    color: &'b [[u8; 4]; BLOCK],
}

/// Up to [`BLOCK`] particles' fields, gathered where they are not stored as whole arrays
/// (AoS rows, the end of the SoA columns).
struct Block {
    position: [Vec2; BLOCK],
    age: [f32; BLOCK],
    lifetime: [f32; BLOCK],
    color: [[u8; 4]; BLOCK],
}

impl Default for Block {
    fn default() -> Self {
        Block {
            position: [Vec2::ZERO; BLOCK],
            age: [0.0; BLOCK],
            lifetime: [0.0; BLOCK],
            color: [[0; 4]; BLOCK],
        }
    }
}

impl Block {
    fn fields(&self) -> Fields<'_> {
        Fields {
            position: &self.position,
            before: &self.position,
            age: &self.age,
            lifetime: &self.lifetime,
            color: &self.color,
        }
    }
}

/// Per particle of a [`Block`]: its band ([`OFF_FRAME`] if outside the frame), its pixel in
/// the band, its colour to add (red, green, blue in the low three bytes), and both as the
/// bytes of its [`Splat`] (pixel in the low two, colour in the next three), packed in the
/// vectorised loop so that a push only stores them (1M particles on 2 threads drew in
/// 2.26–2.48 ms against 2.47–2.83 packing them per push; 2026-12-03, Intel Xeon host, runs
/// taking turns).
struct Lanes {
    band: [u32; BLOCK],
    pixel: [u32; BLOCK],
    rgb: [u32; BLOCK],
    splat: [u64; BLOCK],
}

/// `v as u32` for `v` in `[0, 2^23)`, in operations that vectorise (Rust's saturating `as`
/// does not): adding `2^23` rounds to the nearest integer, one too many where it rounded
/// up. Other values give an unspecified number (no panic).
#[inline(always)]
fn truncate(v: f32) -> u32 {
    const TWO_23: f32 = 8_388_608.0;
    let shifted = v + TWO_23;
    let nearest = shifted.to_bits().wrapping_sub(TWO_23.to_bits());
    nearest.wrapping_sub(u32::from(shifted - TWO_23 > v))
}

/// Fills `out` for every lane of `fields`, drawn `alpha` of the way from where the step
/// started to where it is (the lanes past a short block's too, on stale data: a
/// loop of fixed length vectorises whole). Compiled for baseline x86-64, for AVX2, which
/// vectorises the fade too, and for AVX-512, 16 lanes wide with mask registers (the best
/// the CPU has, picked at run time: 1M particles on 2 threads drew in 2.44–2.54 ms against
/// 2.90–2.94 with AVX2, Intel Xeon host, 2026-12-03). Same operations, no fused
/// multiply-adds, so the same bits in every clone (a test compares them, and the pixel
/// test runs the one the CPU picks against a one-particle-at-a-time reference).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx512bw+avx512dq", "x86_64+avx2"))]
fn block_lanes(fields: Fields<'_>, view: Viewport, alpha: f32, out: &mut Lanes) {
    block_lanes_baseline(fields, view, alpha, out);
}

/// The body of [`block_lanes`], inlined into each of its clones; called directly (as the
/// tests do), the baseline one.
#[inline(always)]
fn block_lanes_baseline(fields: Fields<'_>, view: Viewport, alpha: f32, out: &mut Lanes) {
    let scale = view.scale();
    let (w, h) = (view.width as f32, view.height as f32);
    for i in 0..BLOCK {
        let before = fields.before[i];
        let at = before + (fields.position[i] - before) * alpha;
        let x = at.x * scale.x;
        let y = h - at.y * scale.y;
        // Negative and NaN coordinates fail these tests, so `truncate` is exact where the
        // lane is kept.
        let inside = x >= 0.0 && x < w && y >= 0.0 && y < h;
        let (x, y) = (truncate(x), truncate(y).min(view.height - 1));
        // Below width × height where the lane is kept, which is below 2^32.
        let pixel = y.wrapping_mul(view.width).wrapping_add(x);
        out.band[i] = if inside {
            pixel >> BAND_PIXELS.trailing_zeros()
        } else {
            OFF_FRAME
        };
        out.pixel[i] = pixel & (BAND_PIXELS - 1);
    }
    for i in 0..BLOCK {
        let fade = if fields.lifetime[i].is_finite() {
            (1.0 - fields.age[i] / fields.lifetime[i]).clamp(0.15, 1.0)
        } else {
            1.0
        };
        // A third of the colour per particle: three on one pixel reach full brightness.
        // In 8.8 fixed point: one float conversion per particle, not three. `fade` is NaN
        // where age and lifetime are both 0, or the age is NaN.
        let g = fade * (0.34 * 256.0);
        let gain = if g.is_nan() { 0 } else { truncate(g) };
        // The channels as 32-bit lanes, so the loop vectorises.
        let c = u32::from_le_bytes(fields.color[i]);
        let tint = |shift: u32| (((c >> shift) & 0xFF) * gain) >> 8 << shift;
        out.rgb[i] = tint(0) | tint(8) | tint(16);
    }
    for i in 0..BLOCK {
        // The pixel is below BAND_PIXELS = 2^15, the colour below 2^24: five bytes.
        out.splat[i] = u64::from(out.pixel[i]) | u64::from(out.rgb[i]) << 16;
    }
}

/// Pushes the splats of the first `len` particles of `fields`, rows `first..first + len`,
/// onto the lists of their bands, in order; `scratch` receives their start-of-step positions.
fn bin_block(
    fields: Fields<'_>,
    first: usize,
    len: usize,
    scratch: &mut [Vec2; BLOCK],
    lists: &mut [Vec<Splat>],
    view: Viewport,
    motion: Motion<'_>,
) {
    let before = motion.start_of_step(first, len, fields.position, scratch);
    let fields = Fields { before, ..fields };
    let mut lanes = Lanes {
        band: [OFF_FRAME; BLOCK],
        pixel: [0; BLOCK],
        rgb: [0; BLOCK],
        splat: [0; BLOCK],
    };
    block_lanes(fields, view, motion.alpha, &mut lanes);
    for i in 0..len {
        if let Some(list) = lists.get_mut(lanes.band[i] as usize) {
            let [p0, p1, r, g, b, ..] = lanes.splat[i].to_le_bytes();
            list.push(Splat {
                pixel: [p0, p1],
                rgb: [r, g, b],
            });
        }
    }
}

/// Pass 2: clears each band of `frame` and adds every worker's splats for it.
fn splat_all(frame: &mut [u8], lists: &[&[Vec<Splat>]]) {
    frame
        .par_chunks_mut(BAND_PIXELS as usize * 4)
        .enumerate()
        .for_each(|(band, pixels)| {
            clear(pixels);
            for list in lists.iter().map(|lists| &lists[band]) {
                for s in list {
                    let i = usize::from(u16::from_le_bytes(s.pixel)) * 4;
                    if let Some(px) = pixels.get_mut(i..i + 3) {
                        for (out, add) in px.iter_mut().zip(s.rgb) {
                            *out = out.saturating_add(add);
                        }
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::particles::scene::Scene;
    use engine::storage::Layout;
    use engine::with_rows;
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
            let mut world = ParticleSim::new(
                scene.clone(),
                Strategy {
                    threads,
                    ..Strategy::default()
                },
            )
            .unwrap();
            world.run(3);
            let mut frame = vec![0u8; 320 * 180 * 4];
            draw(&mut frame, view, &world, 0.5);
            frames.push(frame);
        }
        assert!(lit_pixels(&frames[0]) > 1000, "particles are drawn");
        assert_eq!(frames[0], frames[1], "bands do not change the picture");
    }

    /// The picture as the first rasteriser drew it: one particle at a time, straight into
    /// the frame. The banded, blocked one must give the same bytes.
    fn reference_draw(frame: &mut [u8], view: Viewport, world: &ParticleSim, alpha: f32) {
        clear(frame);
        let previous = world.previous_positions();
        let alpha = alpha.clamp(0.0, 1.0);
        let scale = view.scale();
        let (w, h) = (view.width as f32, view.height as f32);
        let mut row = 0;
        with_rows!(world.rows(), |rows| rows.for_each(|p: particle::Ref| {
            let now = *p.position;
            let at = match previous.and_then(|p| p.get(row)) {
                Some(before) => before + (now - before) * alpha,
                None => now,
            };
            row += 1;
            let (x, y) = (at.x * scale.x, h - at.y * scale.y);
            if !(x >= 0.0 && x < w && y >= 0.0 && y < h) {
                return;
            }
            let (x, y) = (x as i32 as u32, (y as i32 as u32).min(view.height - 1));
            let fade = if p.lifetime.is_finite() {
                (1.0 - *p.age / *p.lifetime).clamp(0.15, 1.0)
            } else {
                1.0
            };
            let gain = (fade * (0.34 * 256.0)) as i32 as u32;
            let i = (y * view.width + x) as usize * 4;
            for c in 0..3 {
                let add = ((u32::from(p.color[c]) * gain) >> 8) as u8;
                frame[i + c] = frame[i + c].saturating_add(add);
            }
        }));
    }

    #[test]
    fn draws_the_same_bytes_as_one_particle_at_a_time() {
        let mut checked = 0;
        for (name, n) in [("default", 120_000), ("churn", 20_000), ("swarm", 30_000)] {
            let scene = match name {
                "default" => Scene::default_scene(),
                name => {
                    let path = format!(
                        "{}/../assets/scenes/{name}.toml",
                        env!("CARGO_MANIFEST_DIR")
                    );
                    Scene::load(std::path::Path::new(&path)).unwrap()
                }
            };
            let scene = scene.with_particles(n).unwrap();
            for layout in Layout::ALL {
                let strategy = Strategy {
                    layout,
                    threads: 2,
                    ..Strategy::default()
                };
                let mut world = ParticleSim::new(scene.clone(), strategy).unwrap();
                world.run(20);
                // No positions kept yet: every particle is drawn where it is.
                let view = Viewport {
                    width: 320,
                    height: 180,
                    world: Vec2::new(scene.world.width, scene.world.height),
                };
                let (mut got, mut want) = (vec![0u8; 320 * 180 * 4], vec![0u8; 320 * 180 * 4]);
                draw(&mut got, view, &world, 0.37);
                reference_draw(&mut want, view, &world, 1.0);
                assert!(got == want, "{name} {layout}: no previous positions");
                draw(&mut got, view, &world, f32::NAN);
                assert!(got == want, "{name} {layout}: a NaN alpha draws them too");
                world.keep_previous_positions(true);
                world.run(3);
                for (width, height) in [(1280, 720), (333, 177)] {
                    let view = Viewport {
                        width,
                        height,
                        world: Vec2::new(scene.world.width, scene.world.height),
                    };
                    for alpha in [0.0, 0.37, 1.0] {
                        let size = (width * height * 4) as usize;
                        let (mut got, mut want) = (vec![0u8; size], vec![0u8; size]);
                        draw(&mut got, view, &world, alpha);
                        reference_draw(&mut want, view, &world, alpha);
                        assert!(lit_pixels(&want) > 100, "{name}: something is drawn");
                        let first = got.iter().zip(&want).position(|(a, b)| a != b);
                        assert_eq!(first, None, "{name} {layout} {width}x{height} {alpha}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 36);
    }

    /// Lit pixels' coordinates.
    fn lit(frame: &[u8], width: u32) -> Vec<(u32, u32)> {
        let px = frame.chunks_exact(4).enumerate();
        px.filter(|(_, p)| p[..3] != BACKGROUND[..3])
            .map(|(i, _)| (i as u32 % width, i as u32 / width))
            .collect()
    }

    #[test]
    fn a_bounce_is_drawn_between_the_two_real_states() {
        // One particle, emitted at x = 4.5 in the first step, flying left at 10 units a step
        // into the wall at x = 0: the second step bounces it (onto the wall, heading right).
        // Drawn part-way through the third step, it must lie between the two real states of
        // the second, not at `position - velocity * lag` (the old guess, which ignores the
        // bounce and puts it outside the world).
        let scene = Scene::parse(
            "bounce.toml",
            r#"
            [world]
            width = 100.0
            height = 100.0
            particles = 1
            [forces]
            gravity = [0.0, 0.0]
            restitution = 1.0
            [[emitters]]
            position = [4.5, 50.5]
            rate = 120.0
            direction = 180.0
            spread = 0.0
            speed = [1200.0, 1200.0]
            lifetime = [100.0, 100.0]
            "#,
        )
        .unwrap();
        let mut world = ParticleSim::new(scene, Strategy::default()).unwrap();
        world.keep_previous_positions(true);
        let view = Viewport {
            width: 100,
            height: 100,
            world: Vec2::new(100.0, 100.0),
        };
        let mut frame = vec![0u8; 100 * 100 * 4];
        world.step();
        draw(&mut frame, view, &world, 0.5);
        assert_eq!(
            lit(&frame, 100),
            [(4, 49)],
            "spawned this step: drawn where it is"
        );
        world.step();
        let (position, velocity) = with_rows!(world.rows(), |rows| {
            let mut out = (Vec2::ZERO, Vec2::ZERO);
            rows.for_each(|p: particle::Ref| out = (*p.position, *p.velocity));
            out
        });
        assert!(velocity.x > 0.0, "it bounced: {velocity}");
        let before = world.previous_positions().unwrap().get(0).unwrap();
        assert_eq!(
            before,
            Vec2::new(4.5, 50.5),
            "the state the step started from"
        );
        for alpha in [0.0, 0.25, 0.5, 0.75, 1.0] {
            draw(&mut frame, view, &world, alpha);
            let x = before.x + (position.x - before.x) * alpha;
            assert_eq!(lit(&frame, 100), [(x as u32, 49)], "alpha {alpha}");
        }
        let old_guess = position - velocity * (0.5 * world.dt());
        let drawn = (before.x + position.x) / 2.0;
        assert!(
            (old_guess.x as u32) != (drawn as u32),
            "the old guess ({old_guess}) would draw it elsewhere than {drawn}"
        );
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn lanes_give_the_same_bits_in_every_clone() {
        /// [`block_lanes`] without its AVX-512 clone: the AVX2 one, on a CPU that has both.
        #[multiversion::multiversion(targets("x86_64+avx2"))]
        fn block_lanes_avx2(fields: Fields<'_>, view: Viewport, alpha: f32, out: &mut Lanes) {
            block_lanes_baseline(fields, view, alpha, out);
        }
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2, so only the baseline clone runs");
            return;
        }
        use std::arch::is_x86_feature_detected as has;
        if !(has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq")) {
            eprintln!("this CPU has no AVX-512: the AVX2 clone is compared with the baseline");
        }
        let view = Viewport {
            width: 333,
            height: 177,
            world: Vec2::new(100.0, 60.0),
        };
        let specials = [
            0.0,
            -0.0,
            -1e-7,
            59.999996,
            60.0,
            99.99999,
            100.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e30,
            0.5,
        ];
        let (mut block, mut before) = (Block::default(), [Vec2::ZERO; BLOCK]);
        let mut kept = 0;
        for round in 0..200 {
            for i in 0..BLOCK {
                let pick = |k: usize| specials[(i * 7 + round * 13 + k) % specials.len()];
                let spread = (i as f32 + round as f32 * 0.37) * 1.618;
                block.position[i].x = if i % 3 == 0 { pick(0) } else { spread % 101.0 };
                block.position[i].y = if i % 5 == 0 {
                    pick(1)
                } else {
                    (spread * 0.7) % 61.0
                };
                block.age[i] = if i % 4 == 0 { pick(2) } else { spread % 3.0 };
                block.lifetime[i] = if i % 6 == 0 { pick(3) } else { 2.5 };
                before[i] = if i % 7 == 0 {
                    Vec2::new(pick(4), pick(5))
                } else {
                    block.position[i] + Vec2::new(spread % 2.0 - 1.0, 0.5)
                };
                block.color[i] = [(i * 37 + round) as u8, (i * 11) as u8, 255, 255];
            }
            let alpha = [0.0, 0.37, 1.0][round % 3];
            let blank = || Lanes {
                band: [0; BLOCK],
                pixel: [0; BLOCK],
                rgb: [0; BLOCK],
                splat: [0; BLOCK],
            };
            let fields = Fields {
                before: &before,
                ..block.fields()
            };
            let mut baseline = blank();
            block_lanes_baseline(fields, view, alpha, &mut baseline);
            kept += baseline.band.iter().filter(|&&b| b != OFF_FRAME).count();
            type LanesFn = fn(Fields<'_>, Viewport, f32, &mut Lanes);
            let clones: [(&str, LanesFn); 2] = [("best", block_lanes), ("avx2", block_lanes_avx2)];
            for (clone, lanes) in clones {
                let mut got = blank();
                lanes(fields, view, alpha, &mut got);
                assert_eq!(got.band, baseline.band, "{clone}, round {round}");
                for i in (0..BLOCK).filter(|&i| baseline.band[i] != OFF_FRAME) {
                    let (got, want) = (
                        (got.pixel[i], got.splat[i]),
                        (baseline.pixel[i], baseline.splat[i]),
                    );
                    assert_eq!(got, want, "{clone}, round {round} lane {i}");
                }
                assert_eq!(got.rgb, baseline.rgb, "{clone}, round {round}");
            }
        }
        assert!(
            kept > 200 * BLOCK / 2,
            "most lanes land in the frame: {kept}"
        );
    }

    #[test]
    fn frames_it_cannot_number_or_of_another_size_are_left_alone() {
        let scene = Scene::default_scene().with_particles(1_000).unwrap();
        let mut world = ParticleSim::new(scene, Strategy::default()).unwrap();
        world.run(5);
        let world_size = world.bounds();
        for (width, height, len) in [(1 << 23, 1, 4 << 23), (64, 64, 64 * 63 * 4), (0, 0, 0)] {
            let mut frame = vec![0u8; len];
            let view = Viewport {
                width,
                height,
                world: world_size,
            };
            draw(&mut frame, view, &world, 0.5);
            assert!(
                frame.iter().all(|&b| b == 0),
                "{width}x{height}, {len} bytes"
            );
        }
        let mut frame = vec![0u8; 64 * 64 * 4];
        let view = Viewport {
            width: 64,
            height: 64,
            world: world_size,
        };
        draw(&mut frame, view, &world, 0.5);
        assert!(lit_pixels(&frame) > 0, "a 64x64 frame is drawn");
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
