//! Helpers shared by the integration tests.

use engine::particles::scene::Scene;
use std::path::Path;

/// A shipped scene, scaled to `particles`.
pub fn scene(name: &str, particles: u32) -> Scene {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../assets/scenes/{name}.toml"));
    Scene::load(&path)
        .unwrap()
        .with_particles(particles)
        .unwrap()
}
