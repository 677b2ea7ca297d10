//! Any text given to the scene parser and validator: an `Ok` scene or an error message,
//! never a panic. A valid scene must also build a world and step it.
#![no_main]

use engine::particles::ParticleSim;
use engine::particles::scene::Scene;
use engine::world::Strategy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Scene::parse("fuzz.toml", text) {
        Ok(scene) => {
            // Keep runs fast: shrink what a valid scene may ask for.
            let Ok(scene) = scene.with_particles(200) else { return };
            let strategy = Strategy { threads: 1, ..Strategy::default() };
            let mut world = ParticleSim::new(scene, strategy).expect("a valid scene builds");
            world.run(2);
            assert!(world.len() <= 200);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
