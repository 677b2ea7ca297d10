//! The scenes the number keys load: the `.toml` files of `assets/scenes`, sorted by name,
//! with `default.toml` always present (it is embedded in the binary).
//!
//! The folder is looked up at each key press (so new files show up without a restart), in
//! the current directory first, then beside the executable and in its parent folders (a
//! `target/release/sim` finds the workspace's `assets`). Every failure is a message, never a
//! panic.

use engine::particles::scene::{DEFAULT_SCENE, Scene};
use std::path::{Path, PathBuf};

/// The folder, relative to the directories searched.
const FOLDER: &str = "assets/scenes";
/// The embedded scene's file name.
const DEFAULT_FILE: &str = "default.toml";

/// Where the number keys find scenes.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    dir: Option<PathBuf>,
}

impl Catalog {
    /// Searches the current directory and the executable's folders for `assets/scenes`.
    pub fn locate() -> Catalog {
        let mut bases: Vec<PathBuf> = std::env::current_dir().into_iter().collect();
        if let Ok(exe) = std::env::current_exe() {
            bases.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
        }
        let dir = bases
            .into_iter()
            .map(|b| b.join(FOLDER))
            .find(|d| d.is_dir());
        Catalog { dir }
    }

    /// The scene files, sorted by file name; `default.toml` is always among them.
    pub fn entries(&self) -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = self
            .dir
            .as_ref()
            .and_then(|d| std::fs::read_dir(d).ok())
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        let default = self.path_of(DEFAULT_FILE);
        if !names.contains(&default) {
            names.push(default);
        }
        names.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        names
    }

    /// Loads scene `number` (1-based, in [`Catalog::entries`] order); `default.toml` comes
    /// from the binary. The error names the file and what is wrong.
    pub fn load(&self, number: usize) -> Result<(PathBuf, Scene), String> {
        let entries = self.entries();
        let Some(path) = number.checked_sub(1).and_then(|i| entries.get(i)) else {
            return Err(format!(
                "no scene {number}: {} has {} scene(s)",
                self.describe(),
                entries.len()
            ));
        };
        let scene = if path.file_name().is_some_and(|n| n == DEFAULT_FILE) {
            Scene::parse(&path.display().to_string(), DEFAULT_SCENE)
        } else {
            Scene::load(path)
        };
        scene.map(|s| (path.clone(), s)).map_err(|e| e.to_string())
    }

    fn path_of(&self, file: &str) -> PathBuf {
        match &self.dir {
            Some(dir) => dir.join(file),
            None => Path::new(FOLDER).join(file),
        }
    }

    fn describe(&self) -> String {
        match &self.dir {
            Some(dir) => dir.display().to_string(),
            None => format!("no {FOLDER} folder was found; the embedded default"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sim-scenes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn lists_sorted_with_the_embedded_default_and_fails_softly() {
        let dir = temp_dir("list");
        let good = DEFAULT_SCENE.replace("name = \"default\"", "name = \"zeta\"");
        std::fs::write(dir.join("zeta.toml"), good).unwrap();
        std::fs::write(dir.join("alpha.toml"), "[world]\nwidth = -1").unwrap();
        std::fs::write(dir.join("notes.txt"), "not a scene").unwrap();
        let catalog = Catalog {
            dir: Some(dir.clone()),
        };
        let names: Vec<_> = catalog
            .entries()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["alpha.toml", "default.toml", "zeta.toml"]);

        let bad = catalog.load(1).unwrap_err();
        assert!(bad.contains("alpha.toml"), "{bad}");
        assert_eq!(catalog.load(2).unwrap().1, Scene::default_scene());
        assert_eq!(catalog.load(3).unwrap().1.name, "zeta");
        let missing = catalog.load(9).unwrap_err();
        assert!(
            missing.contains("no scene 9") && missing.contains("3 scene"),
            "{missing}"
        );
        assert!(catalog.load(0).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_folder_still_has_the_default() {
        let catalog = Catalog { dir: None };
        assert_eq!(catalog.entries().len(), 1);
        assert_eq!(catalog.load(1).unwrap().1, Scene::default_scene());
        let dir = temp_dir("gone");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(Catalog { dir: Some(dir) }.entries().len(), 1);
    }

    #[test]
    fn the_workspace_scenes_are_found() {
        let catalog = Catalog::locate();
        assert!(catalog.entries().len() >= 2, "{catalog:?}");
    }
}
