//! Command-line interface: subcommands, flags, and how they become a scene and a strategy.
//!
//! Flag values are checked by clap (a bad value names the flag and the accepted values,
//! exit code 2); scene files are checked by [`engine::particles::scene`] (exit code 1).

use clap::{Args, Parser, Subcommand};
use engine::arena::AllocMode;
use engine::counters::Padding;
use engine::pages::PageSize;
use engine::particles::scene::{MAX_PARTICLES, Scene};
use engine::storage::Layout;
use engine::sync::LockStrategy;
use engine::world::Strategy;
use std::path::PathBuf;
use std::str::FromStr;

/// A particle engine that makes memory and concurrency strategies visible.
///
/// With no subcommand, opens a window on the default scene.
#[derive(Parser, Debug)]
#[command(name = "sim", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: open the window).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the window (when no subcommand is given).
    #[command(flatten)]
    pub window: WindowArgs,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run headless for a number of frames and print the final state hash.
    Run(RunArgs),
    /// Run the strategy matrix headless and print a comparison table.
    Bench(BenchArgs),
    /// Render the scene after some frames into a PNG, without a window.
    Snapshot(SnapshotArgs),
    /// Show the particle's bytes: fields, padding, the AoS row on cache lines, the SoA
    /// columns, and each system's bytes per particle beside its measured AoS/SoA time.
    Layout(LayoutArgs),
    /// Replay a recorded session headless and check it ends on the recorded state; with
    /// strategy flags, hold that strategy instead of the recorded switches; with --bench,
    /// time the session under every combination of them.
    Replay(ReplayArgs),
}

/// `sim replay`.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// The recording (written by `sim --record PATH` or F5 in the window).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Hold this layout (with --bench: layouts to compare, comma-separated or `all`).
    #[arg(long, value_name = "soa|aos|all", value_delimiter = ',')]
    pub layout: Vec<OneOrAll<Layout>>,
    /// Hold this lock strategy (with --bench: a list).
    #[arg(
        long,
        value_name = "mutex|rwlock|lockfree|sharded|all",
        value_delimiter = ','
    )]
    pub lock: Vec<OneOrAll<LockStrategy>>,
    /// Hold this counter padding (with --bench: a list).
    #[arg(long, value_name = "padded|packed|all", value_delimiter = ',')]
    pub padding: Vec<OneOrAll<Padding>>,
    /// Hold this thread count (with --bench: a list).
    #[arg(long, value_name = "T,...", value_delimiter = ',', value_parser = parse_threads)]
    pub threads: Vec<usize>,
    /// Hold this scratch allocation mode (with --bench: a list).
    #[arg(long, value_name = "arena|heap|all", value_delimiter = ',')]
    pub alloc: Vec<OneOrAll<AllocMode>>,
    /// Put blocks of 2 MiB and more on 4 KiB or 2 MiB pages, for the whole replay (every
    /// row with --bench; default: huge where the kernel offers them, else small).
    #[arg(long, value_name = "small|huge")]
    pub pages: Option<PageSize>,
    /// Replay once per combination of the strategy lists and print `sim bench`'s table for
    /// this exact workload (no list given: the recorded strategy, held).
    #[arg(long)]
    pub bench: bool,
    /// With --bench, also write the rows as JSON here.
    #[arg(long, value_name = "PATH", requires = "bench")]
    pub json: Option<PathBuf>,
}

/// Which scene, how many particles, which seed.
#[derive(Args, Debug, Clone)]
pub struct SceneArgs {
    /// Scene file (.toml); default: the embedded default scene.
    #[arg(long, value_name = "PATH")]
    pub scene: Option<PathBuf>,
    /// Particle budget (scales the scene's emitters to match).
    #[arg(long, value_name = "N", value_parser = parse_particles, allow_negative_numbers = true)]
    pub particles: Option<u32>,
    /// RNG seed (default: the scene's).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
}

/// The memory and concurrency strategies.
#[derive(Args, Debug, Clone)]
pub struct StrategyArgs {
    /// Particle storage layout.
    #[arg(long, value_name = "soa|aos", default_value = "soa")]
    pub layout: Layout,
    /// How worker threads share events and parameters.
    #[arg(
        long,
        value_name = "mutex|rwlock|lockfree|sharded",
        default_value = "sharded"
    )]
    pub lock: LockStrategy,
    /// Per-thread counters cache-padded or packed (`--counters` is an old spelling).
    #[arg(
        long,
        visible_alias = "counters",
        value_name = "padded|packed",
        default_value = "padded"
    )]
    pub padding: Padding,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "T", value_parser = parse_threads, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Per-step scratch from the frame arenas, or a fresh heap buffer per use.
    #[arg(long, value_name = "arena|heap", default_value = "arena")]
    pub alloc: AllocMode,
    /// Put blocks of 2 MiB and more (the particle columns, the grid) on 4 KiB pages or on
    /// 2 MiB transparent huge pages; for the whole run (default: huge where the kernel
    /// offers them, else small, saying why).
    #[arg(long, value_name = "small|huge")]
    pub pages: Option<PageSize>,
}

/// `sim run`.
#[derive(Args, Debug, Clone)]
#[group(id = "length", required = true, multiple = false, args = ["frames", "steps"])]
pub struct RunArgs {
    /// Display frames to simulate (each advances the clock by 1/60 s).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub frames: Option<u64>,
    /// Fixed steps to run, exactly (instead of --frames): e.g. to replay the steps a
    /// paused window took with N.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub steps: Option<u64>,
    /// `--scene`, `--particles`, `--seed`.
    #[command(flatten)]
    pub scene: SceneArgs,
    /// `--layout`, `--lock`, `--padding`, `--threads`, `--alloc`, `--pages`.
    #[command(flatten)]
    pub strategy: StrategyArgs,
    /// Print memory high-water marks (arena bytes, storage capacity, RSS) as it runs, and
    /// check handles and storage at each report.
    #[arg(long)]
    pub report_memory: bool,
    /// Switch layout and lock strategy every N frames (a soak of the live switches).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub switch_every: Option<u64>,
}

/// `sim bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Scene file (.toml); default: the embedded default scene.
    #[arg(long, value_name = "PATH")]
    pub scene: Option<PathBuf>,
    /// Particle budgets to compare, comma-separated (default: the scene's).
    #[arg(long, value_name = "N,...", value_delimiter = ',', value_parser = parse_particles)]
    pub particles: Vec<u32>,
    /// Measured steps per combination (after a warm-up). `--frames` is the old spelling:
    /// bench counts fixed steps, not display frames as `run` and `snapshot` do.
    #[arg(long, visible_alias = "frames", value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub steps: u64,
    /// Layouts to compare, comma-separated.
    #[arg(
        long,
        value_name = "soa|aos|all",
        value_delimiter = ',',
        default_value = "all"
    )]
    pub layout: Vec<OneOrAll<Layout>>,
    /// Lock strategies to compare, comma-separated.
    #[arg(
        long,
        value_name = "mutex|rwlock|lockfree|sharded|all",
        value_delimiter = ',',
        default_value = "all"
    )]
    pub lock: Vec<OneOrAll<LockStrategy>>,
    /// Counter paddings to compare, comma-separated (`--counters` is an old spelling).
    #[arg(
        long,
        visible_alias = "counters",
        value_name = "padded|packed|all",
        value_delimiter = ',',
        default_value = "all"
    )]
    pub padding: Vec<OneOrAll<Padding>>,
    /// Scratch allocation modes to compare, comma-separated.
    #[arg(
        long,
        value_name = "arena|heap|all",
        value_delimiter = ',',
        default_value = "arena"
    )]
    pub alloc: Vec<OneOrAll<AllocMode>>,
    /// Page sizes to compare, comma-separated: blocks of 2 MiB and more on 4 KiB pages or
    /// on 2 MiB transparent huge pages (column `pages`; default: huge where the kernel
    /// offers them, else small, saying why).
    #[arg(long, value_name = "small|huge|all", value_delimiter = ',')]
    pub pages: Vec<OneOrAll<PageSize>>,
    /// Thread counts to compare, comma-separated (default: all cores).
    #[arg(long, value_name = "T,...", value_delimiter = ',', value_parser = parse_threads)]
    pub threads: Vec<usize>,
    /// Also draw every measured step into a 1280x720 frame, as the window does (keeping
    /// the step's starting positions to interpolate from), and time it: column `render_ms`.
    #[arg(long)]
    pub render: bool,
    /// Also write the rows as JSON here.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also draw ns per particle per step by strategy and particle count, as SVG, here.
    #[arg(long, value_name = "PATH.svg")]
    pub plot: Option<PathBuf>,
}

/// `sim snapshot`.
#[derive(Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Display frames to simulate before rendering.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub frames: u64,
    /// Where to write the PNG.
    #[arg(long, value_name = "PATH.png")]
    pub out: PathBuf,
    /// Image width in pixels.
    #[arg(long, value_name = "W", default_value_t = 1280, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub width: u32,
    /// Image height in pixels.
    #[arg(long, value_name = "H", default_value_t = 720, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub height: u32,
    /// `--scene`, `--particles`, `--seed`.
    #[command(flatten)]
    pub scene: SceneArgs,
    /// `--layout`, `--lock`, `--padding`, `--threads`, `--alloc`, `--pages`.
    #[command(flatten)]
    pub strategy: StrategyArgs,
}

/// `sim layout`.
#[derive(Args, Debug, Clone)]
pub struct LayoutArgs {
    /// Scene file (.toml) of the measured runs; default: the embedded default scene.
    #[arg(long, value_name = "PATH")]
    pub scene: Option<PathBuf>,
    /// Particle budget of the measured runs.
    #[arg(long, value_name = "N", default_value_t = 200_000, value_parser = parse_particles, allow_negative_numbers = true)]
    pub particles: u32,
    /// Measured steps per layout (after a warm-up).
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=100_000), allow_negative_numbers = true)]
    pub steps: u64,
}

/// Options of the window.
#[derive(Args, Debug, Clone)]
pub struct WindowArgs {
    /// `--scene`, `--particles`, `--seed`.
    #[command(flatten)]
    pub scene: SceneArgs,
    /// `--layout`, `--lock`, `--padding`, `--threads`, `--alloc`, `--pages`.
    #[command(flatten)]
    pub strategy: StrategyArgs,
    /// Frames per second to pace to (0: uncapped, for measuring).
    #[arg(long, value_name = "FPS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=1000), allow_negative_numbers = true)]
    pub fps: u32,
    /// Start paused (Space resumes, N steps once).
    #[arg(long)]
    pub paused: bool,
    /// Record the session from its start to this file (written on quit, and on F5).
    #[arg(long, value_name = "PATH", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Watch a recorded session: its scene, strategy and inputs at their steps (the scene
    /// and strategy flags are not used); your keys are off but for Space, the HUD keys and
    /// Esc.
    #[arg(long, value_name = "PATH")]
    pub replay: Option<PathBuf>,
}

/// The display frame length headless commands advance the clock by.
pub const HEADLESS_FRAME_SECONDS: f64 = 1.0 / 60.0;

impl SceneArgs {
    /// Loads (or embeds) the scene and applies the particle and seed overrides.
    pub fn load(&self) -> Result<Scene, String> {
        let scene = match &self.scene {
            Some(path) => Scene::load(path).map_err(|e| e.to_string())?,
            None => Scene::default_scene(),
        };
        apply_overrides(scene, self.particles, self.seed)
    }
}

/// Applies `--particles` and `--seed` to a loaded scene.
pub fn apply_overrides(
    scene: Scene,
    particles: Option<u32>,
    seed: Option<u64>,
) -> Result<Scene, String> {
    let mut scene = match particles {
        Some(n) => scene
            .with_particles(n)
            .map_err(|e| format!("--particles: {e}"))?,
        None => scene,
    };
    if let Some(seed) = seed {
        scene.seed = seed;
    }
    Ok(scene)
}

impl StrategyArgs {
    /// The strategy these flags ask for.
    pub fn strategy(&self) -> Strategy {
        Strategy {
            layout: self.layout,
            lock: self.lock,
            padding: self.padding,
            threads: self.threads.unwrap_or_else(default_threads),
            alloc: self.alloc,
        }
    }
}

/// Asks for `pages` for the rest of the run (`--pages`), or for [`default_pages`] when
/// none was given.
pub fn use_pages(pages: Option<PageSize>) -> Result<(), crate::Failure> {
    engine::pages::set_page_size(pages.unwrap_or_else(default_pages))
        .map_err(|e| crate::Failure::runtime(format!("--pages: {e}")))
}

/// The page size when `--pages` is not given: huge, where the kernel offers transparent
/// huge pages, because random rows (a despawned particle, a grid cell's neighbours) then
/// miss the TLB far less and every step is faster (see the README's toggle table);
/// otherwise small, and stderr says why.
pub fn default_pages() -> PageSize {
    match engine::pages::huge_pages_available() {
        Ok(()) => PageSize::Huge,
        Err(why) => {
            eprintln!("sim: --pages not given and huge pages cannot be had, so small ones: {why}");
            PageSize::Small
        }
    }
}

/// All cores (the engine's default strategy decides what that is).
pub fn default_threads() -> usize {
    engine::world::Strategy::default().threads
}

fn parse_particles(s: &str) -> Result<u32, String> {
    let n: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number (expected 1 to {MAX_PARTICLES})"))?;
    if !(1..=u64::from(MAX_PARTICLES)).contains(&n) {
        return Err(format!(
            "{n} is out of range (expected 1 to {MAX_PARTICLES})"
        ));
    }
    Ok(n as u32)
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number (expected 1 to 256)"))?;
    if !(1..=256).contains(&n) {
        return Err(format!("{n} is out of range (expected 1 to 256)"));
    }
    Ok(n)
}

/// A flag value that is one choice or `all` of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OneOrAll<T> {
    /// This choice.
    One(T),
    /// Every choice.
    All,
}

impl<T: FromStr<Err = String>> FromStr for OneOrAll<T> {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(OneOrAll::All);
        }
        s.parse().map(OneOrAll::One)
    }
}

/// Expands a list of choices (with `all`) into distinct values, in first-seen order.
pub fn expand<T: Copy + PartialEq>(choices: &[OneOrAll<T>], all: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for choice in choices {
        let values = match choice {
            OneOrAll::One(v) => std::slice::from_ref(v),
            OneOrAll::All => all,
        };
        for v in values {
            if !out.contains(v) {
                out.push(*v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bench_lists_expand_all_without_duplicates() {
        let cli = Cli::try_parse_from([
            "sim",
            "bench",
            "--layout",
            "aos,all",
            "--lock",
            "sharded",
            "--threads",
            "1,2",
        ])
        .unwrap();
        let Some(Command::Bench(b)) = cli.command else {
            panic!("bench expected")
        };
        assert_eq!(expand(&b.layout, &Layout::ALL), [Layout::Aos, Layout::Soa]);
        assert_eq!(expand(&b.lock, &LockStrategy::ALL), [LockStrategy::Sharded]);
        assert_eq!(b.threads, [1, 2]);
    }

    #[test]
    fn run_takes_frames_or_steps_but_not_both() {
        for (args, frames, steps) in [
            (vec!["sim", "run", "--frames", "3"], Some(3), None),
            (vec!["sim", "run", "--steps", "4"], None, Some(4)),
        ] {
            let cli = Cli::try_parse_from(&args).unwrap();
            let Some(Command::Run(run)) = cli.command else {
                panic!("run expected")
            };
            assert_eq!((run.frames, run.steps), (frames, steps), "{args:?}");
        }
        for args in [
            vec!["sim", "run"],
            vec!["sim", "run", "--frames", "3", "--steps", "4"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains("--frames"), "{args:?}: {err}");
        }
    }

    #[test]
    fn the_window_can_start_paused() {
        assert!(!Cli::try_parse_from(["sim"]).unwrap().window.paused);
        assert!(
            Cli::try_parse_from(["sim", "--paused"])
                .unwrap()
                .window
                .paused
        );
    }

    #[test]
    fn bad_values_name_the_flag_and_the_choices() {
        for (args, needle) in [
            (
                vec!["sim", "run", "--frames", "1", "--layout", "diagonal"],
                "expected soa or aos",
            ),
            (
                vec!["sim", "run", "--frames", "1", "--lock", "spin"],
                "expected mutex, rwlock",
            ),
            (
                vec!["sim", "run", "--frames", "1", "--threads", "0"],
                "expected 1 to 256",
            ),
            (
                vec!["sim", "run", "--frames", "1", "--particles", "-4"],
                "expected 1 to",
            ),
            (vec!["sim", "run", "--frames", "x"], "--frames"),
            (
                vec!["sim", "bench", "--counters", "fat"],
                "expected padded or packed",
            ),
            (
                vec!["sim", "bench", "--padding", "fat"],
                "expected padded or packed",
            ),
            (
                vec!["sim", "run", "--frames", "1", "--alloc", "stack"],
                "expected arena or heap",
            ),
            (
                vec!["sim", "bench", "--alloc", "pool"],
                "expected arena or heap",
            ),
            (
                vec![
                    "sim", "snapshot", "--frames", "1", "--out", "a.png", "--width", "0",
                ],
                "--width",
            ),
            (vec!["sim", "layout", "--steps", "0"], "--steps"),
            (vec!["sim", "layout", "--particles", "0"], "expected 1 to"),
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            let text = err.to_string();
            assert!(text.contains(needle), "{args:?}: {text}");
        }
    }
}
