//! The rasteriser's cost (criterion group `render`): drawing a stepped default scene into a
//! 1280x720 frame, as the window does, at 100k and 1M particles on the world's own 2-thread
//! pool and on 1 thread, with the previous positions kept (the window interpolates) and
//! without. `sim bench --render` reports the same cost per step as `render_ms`.
//!
//! `cargo bench -p sim --bench render`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use engine::particles::ParticleSim;
use engine::particles::scene::Scene;
use engine::world::Strategy;
use sim::render::{Rasteriser, Viewport};

/// A default-scene world of `particles`, stepped until its emitters have filled it.
fn world(particles: u32, threads: usize, previous: bool) -> ParticleSim {
    let scene = Scene::default_scene().with_particles(particles).unwrap();
    let strategy = Strategy {
        threads,
        ..Strategy::default()
    };
    let mut world = ParticleSim::new(scene, strategy).unwrap();
    world.run(240);
    world.keep_previous_positions(previous);
    world.step();
    world
}

fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("render");
    group.sample_size(30);
    for particles in [100_000, 1_000_000] {
        for (threads, previous) in [(2, true), (1, true), (2, false)] {
            let name = format!("{}t{}", threads, if previous { "" } else { "-still" });
            group.throughput(Throughput::Elements(u64::from(particles)));
            group.bench_function(BenchmarkId::new(name, particles), |b| {
                // Built here, so a filtered-out benchmark costs nothing.
                let world = world(particles, threads, previous);
                let view = Viewport {
                    width: 1280,
                    height: 720,
                    world: world.bounds(),
                };
                let mut frame = vec![0u8; 1280 * 720 * 4];
                let mut rasteriser = Rasteriser::default();
                b.iter(|| rasteriser.draw(&mut frame, view, &world, 0.5));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
