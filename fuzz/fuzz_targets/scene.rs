//! Any text given to the scene parser and validator: an `Ok` scene or an error message,
//! never a panic. A valid scene must also build a world and step it.
#![no_main]

use engine::scene::Scene;
use engine::world::{Strategy, World};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Scene::parse("fuzz.toml", text) {
        Ok(scene) => {
            // Keep runs fast: shrink what a valid scene may ask for.
            let Ok(scene) = scene.with_particles(200) else { return };
            let mut world = World::new(scene, Strategy { threads: 1, ..Strategy::default() });
            world.run(2);
            assert!(world.len() <= 200);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
