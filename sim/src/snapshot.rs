//! `sim snapshot`: simulate some frames headless and save the rendered frame as a PNG.

use crate::Failure;
use crate::cli::{HEADLESS_FRAME_SECONDS, SnapshotArgs};
use crate::render::{self, Viewport};
use engine::particles::ParticleSim;
use indicatif::ProgressBar;
use std::path::Path;

/// Runs `sim snapshot`.
pub fn run(args: &SnapshotArgs) -> Result<(), Failure> {
    let scene = args.scene.load().map_err(Failure::runtime)?;
    let mut world = ParticleSim::new(scene, args.strategy.strategy())
        .map_err(|e| Failure::runtime(e.to_string()))?;
    // Drawn between the last step's two states, as the window does.
    world.keep_previous_positions(true);
    let progress = crate::progress::bar(args.frames, "frames");
    let alpha = advance(&mut world, args.frames, &progress);
    progress.finish_and_clear();
    let view = Viewport {
        width: args.width,
        height: args.height,
        world: world.bounds(),
    };
    let mut frame = vec![0u8; args.width as usize * args.height as usize * 4];
    render::draw(&mut frame, view, &world, alpha);
    write_png(&args.out, args.width, args.height, &frame)?;
    crate::out!(
        "wrote {} ({}x{}, {} particles after {} steps)",
        args.out.display(),
        args.width,
        args.height,
        world.len(),
        world.steps()
    );
    Ok(())
}

/// Runs `frames` display frames of fixed steps, counting them on `progress`; returns the
/// final interpolation alpha.
pub fn advance(world: &mut ParticleSim, frames: u64, progress: &ProgressBar) -> f32 {
    let mut clock = world.clock();
    let mut alpha = 0.0;
    for _ in 0..frames {
        let frame = clock.advance(HEADLESS_FRAME_SECONDS);
        world.run(u64::from(frame.steps));
        alpha = frame.alpha;
        progress.inc(1);
    }
    alpha
}

/// Writes an RGBA frame as a PNG file.
pub fn write_png(path: &Path, width: u32, height: u32, rgba: &[u8]) -> Result<(), Failure> {
    let fail = |e: &dyn std::fmt::Display| {
        Failure::runtime(format!("{}: cannot write PNG: {e}", path.display()))
    };
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(&e))?;
    writer.write_image_data(rgba).map_err(|e| fail(&e))?;
    writer.finish().map_err(|e| fail(&e))
}
