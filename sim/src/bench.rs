//! `sim bench`: the strategy matrix, headless, in one process, so rows compare.
//!
//! Each combination gets a fresh world, a warm-up, then `--steps` individually timed steps.
//! The table shows median and p99 step time, ns per particle per step, per-system medians,
//! and each row's ratio to the fastest row of the same particle count. Rows of the same
//! particle count that end in different states fail the command (exit code 1).

mod plot;

use crate::Failure;
use crate::cli::{BenchArgs, apply_overrides, default_threads, expand};
use crate::render::{Rasteriser, Viewport};
use engine::arena::AllocMode;
use engine::counters::Padding;
use engine::pages::{self, PageSize};
use engine::particles::ParticleSim;
use engine::particles::scene::Scene;
use engine::storage::Layout;
use engine::sync::{Contention, LockStrategy};
use engine::world::Strategy;
use indicatif::ProgressBar;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One combination's measurements (also the JSON row).
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Scene name.
    pub scene: String,
    /// Particle budget.
    pub particles: u32,
    /// Live particles, averaged over the measured steps.
    pub live: usize,
    /// Storage layout.
    pub layout: String,
    /// Lock strategy.
    pub lock: String,
    /// Counter padding.
    pub padding: String,
    /// Worker threads.
    pub threads: usize,
    /// Where per-step scratch comes from (`arena` or `heap`).
    pub alloc: String,
    /// Calls to the global allocator per step for scratch, median over the measured steps.
    pub allocs_per_step: u64,
    /// The page size of blocks of 2 MiB and more (`small` or `huge`).
    pub pages: String,
    /// Bytes of the process on huge pages at the end of the run (`null` where the kernel
    /// does not say).
    pub huge_page_bytes: Option<u64>,
    /// What sharing the command buffer cost per step, mean over the measured steps.
    pub contention_per_step: ContentionRow,
    /// Measured steps.
    pub steps: u64,
    /// Median step time.
    pub step_ms_median: f64,
    /// 99th percentile step time.
    pub step_ms_p99: f64,
    /// Median step time per live particle.
    pub ns_per_particle_step: f64,
    /// Median time to draw a step's frame at 1280x720 (`--render`; `null` without).
    pub render_ms: Option<f64>,
    /// Median time of each system, in run order (a JSON object).
    #[serde(serialize_with = "as_map")]
    pub systems_ms: Vec<(String, f64)>,
    /// State hash after the run (equal across rows of the same particle count).
    pub state_hash: String,
    /// Median step time over the fastest row's, same particle count.
    pub ratio_to_fastest: f64,
}

impl Row {
    /// The row's strategy as the plot's legend and the determinism check name it:
    /// `soa / sharded / padded / 2t / arena / small`.
    pub fn label(&self) -> String {
        format!(
            "{} / {} / {} / {}t / {} / {}",
            self.layout, self.lock, self.padding, self.threads, self.alloc, self.pages
        )
    }
}

/// [`Contention`] per step, as the JSON row shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ContentionRow {
    /// Locks taken.
    pub locks: f64,
    /// Locks found held (the writer waited).
    pub waits: f64,
    /// Pushes into the lock-free queue.
    pub atomic_pushes: f64,
    /// Events sent to the overflow buffer.
    pub spills: f64,
    /// Buffers merged at the drains.
    pub merges: f64,
}

impl ContentionRow {
    fn mean(sum: Contention, steps: u64) -> ContentionRow {
        let per = |n: u64| n as f64 / steps.max(1) as f64;
        ContentionRow {
            locks: per(sum.locks),
            waits: per(sum.waits),
            atomic_pushes: per(sum.atomic_pushes),
            spills: per(sum.spills),
            merges: per(sum.merges),
        }
    }
}

fn as_map<S: serde::Serializer>(pairs: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// Runs `sim bench`.
pub fn run(args: &BenchArgs) -> Result<(), Failure> {
    let base = match &args.scene {
        Some(path) => Scene::load(path).map_err(|e| Failure::runtime(e.to_string()))?,
        None => Scene::default_scene(),
    };
    let particles = if args.particles.is_empty() {
        vec![base.world.particles]
    } else {
        args.particles.clone()
    };
    let threads = if args.threads.is_empty() {
        vec![default_threads()]
    } else {
        args.threads.clone()
    };
    let layouts = expand(&args.layout, &Layout::ALL);
    let locks = expand(&args.lock, &LockStrategy::ALL);
    let paddings = expand(&args.padding, &Padding::ALL);
    let allocs = expand(&args.alloc, &AllocMode::ALL);
    let page_sizes = if args.pages.is_empty() {
        vec![crate::cli::default_pages()]
    } else {
        expand(&args.pages, &PageSize::ALL)
    };
    let warmup = warmup_steps(args.steps);
    if let Some(path) = &args.plot {
        plot::check_path(path).map_err(Failure::runtime)?;
    }

    let combos: Vec<(u32, PageSize, Strategy)> = particles
        .iter()
        .flat_map(|&n| page_sizes.iter().map(move |&p| (n, p)))
        .flat_map(|(n, p)| {
            strategies(&layouts, &locks, &paddings, &threads, &allocs)
                .into_iter()
                .map(move |s| (n, p, s))
        })
        .collect();
    let progress = crate::progress::bar(combos.len() as u64 * (warmup + args.steps), "steps");
    let mut rows = Vec::new();
    for (n, page_size, strategy) in combos {
        let scene = apply_overrides(base.clone(), Some(n), None).map_err(Failure::usage)?;
        // Before the world is built, so its columns get the pages.
        crate::cli::use_pages(Some(page_size))?;
        progress.set_message(format!("{n} {} {page_size}", describe(strategy)));
        rows.push(measure(
            scene,
            strategy,
            warmup,
            args.steps,
            args.render,
            &progress,
        )?);
    }
    progress.finish_and_clear();
    set_ratios(&mut rows);
    print_table(&rows);
    // A mismatch fails the run, after the JSON and the plot are written: they show which
    // rows differ.
    let determinism = check_hashes(&rows);
    if let Some(path) = &args.json {
        write_json(&rows, path)?;
    }
    if let Some(path) = &args.plot {
        let series = plot_series(&rows);
        let title = format!(
            "sim bench, {} scene: ns per particle per step",
            rows.first().map_or("", |r| r.scene.as_str())
        );
        let chart = plot::Chart {
            title: &title,
            x_desc: "particles",
            y_desc: "ns per particle per step",
            legend_title: "layout / lock / padding / threads / alloc / pages",
            series: &series,
        };
        plot::render(&chart, path).map_err(Failure::runtime)?;
        crate::out!("wrote {}", path.display());
    }
    determinism
}

/// Every combination of the choices, layouts outermost and allocation modes innermost.
pub(crate) fn strategies(
    layouts: &[Layout],
    locks: &[LockStrategy],
    paddings: &[Padding],
    threads: &[usize],
    allocs: &[AllocMode],
) -> Vec<Strategy> {
    let mut out = Vec::new();
    for &layout in layouts {
        for &lock in locks {
            for &padding in paddings {
                for &threads in threads {
                    for &alloc in allocs {
                        out.push(Strategy {
                            layout,
                            lock,
                            padding,
                            threads,
                            alloc,
                        });
                    }
                }
            }
        }
    }
    out
}

/// A strategy in one short phrase, as progress bars and messages show it:
/// `soa sharded padded 2t arena`.
pub(crate) fn describe(s: Strategy) -> String {
    format!(
        "{} {} {} {}t {}",
        s.layout, s.lock, s.padding, s.threads, s.alloc
    )
}

/// Writes `rows` as a JSON array to `path`.
pub(crate) fn write_json(rows: &[Row], path: &std::path::Path) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(rows).map_err(|e| Failure::runtime(e.to_string()))?;
    std::fs::write(path, json + "\n")
        .map_err(|e| Failure::runtime(format!("{}: cannot write JSON: {e}", path.display())))?;
    crate::out!("wrote {}", path.display());
    Ok(())
}

/// The plot's lines: one per strategy, in the rows' order, through (particle budget, ns per
/// particle per step), sorted by particle budget.
fn plot_series(rows: &[Row]) -> Vec<plot::Series> {
    let mut out: Vec<plot::Series> = Vec::new();
    for r in rows {
        let label = r.label();
        let point = (f64::from(r.particles), r.ns_per_particle_step);
        match out.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(point),
            None => out.push(plot::Series {
                label,
                points: vec![point],
            }),
        }
    }
    for s in &mut out {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// Unmeasured steps before `measured` measured ones: a fifth of them, 3 to 60.
pub(crate) fn warmup_steps(measured: u64) -> u64 {
    (measured / 5).clamp(3, 60)
}

/// Runs `scene` with `strategy`: `warmup` steps, then `steps` individually timed steps,
/// ticking `progress` once a step.
pub(crate) fn measure(
    scene: Scene,
    strategy: Strategy,
    warmup: u64,
    steps: u64,
    render: bool,
    progress: &ProgressBar,
) -> Result<Row, Failure> {
    let name = scene.display_name().into_owned();
    let particles = scene.world.particles;
    let mut world =
        ParticleSim::new(scene, strategy).map_err(|e| Failure::runtime(e.to_string()))?;
    world.keep_previous_positions(render);
    let mut canvas = render.then(|| Canvas::new(world.bounds()));
    for _ in 0..warmup {
        world.step();
        progress.inc(1);
    }
    let mut samples = Samples::default();
    for _ in 0..steps {
        let start = Instant::now();
        world.step();
        samples.record(&world, start.elapsed());
        if let Some(canvas) = &mut canvas {
            canvas.draw(&world);
        }
        progress.inc(1);
    }
    let render_ms = canvas.map(|mut c| ms(percentile(&mut c.times, 0.5)));
    Ok(samples.into_row(name, particles, strategy, &world, render_ms))
}

/// What each measured step took and did, turned into a [`Row`] at the end.
#[derive(Default)]
pub(crate) struct Samples {
    steps: Vec<Duration>,
    /// Each system's times, keyed by name, in the order the names first appear.
    systems: Vec<(String, Vec<Duration>)>,
    live: usize,
    allocs: Vec<u64>,
    contention: Contention,
}

impl Samples {
    /// Adds a step that just ran on `world` and took `elapsed`.
    pub(crate) fn record(&mut self, world: &ParticleSim, elapsed: Duration) {
        self.steps.push(elapsed);
        self.live += world.len();
        self.allocs.push(world.world().step_allocations().count);
        self.contention = self.contention.plus(world.world().contention());
        for (name, time) in world.times().iter() {
            match self.systems.iter_mut().find(|(n, _)| n == name) {
                Some((_, times)) => times.push(time),
                None => self.systems.push((name.to_string(), vec![time])),
            }
        }
    }

    /// The row for these steps, which ran with `strategy` and ended in `world`.
    pub(crate) fn into_row(
        mut self,
        scene: String,
        particles: u32,
        strategy: Strategy,
        world: &ParticleSim,
        render_ms: Option<f64>,
    ) -> Row {
        let steps = self.steps.len() as u64;
        let live = self.live / self.steps.len().max(1);
        let median = percentile(&mut self.steps, 0.5);
        self.allocs.sort_unstable();
        Row {
            scene,
            particles,
            live,
            layout: strategy.layout.to_string(),
            lock: strategy.lock.to_string(),
            padding: strategy.padding.to_string(),
            threads: strategy.threads,
            alloc: strategy.alloc.to_string(),
            allocs_per_step: self.allocs.get(self.allocs.len() / 2).copied().unwrap_or(0),
            pages: pages::page_size()
                .map_or("default", PageSize::name)
                .to_owned(),
            huge_page_bytes: pages::huge_page_bytes(),
            contention_per_step: ContentionRow::mean(self.contention, steps),
            render_ms,
            steps,
            step_ms_median: ms(median),
            step_ms_p99: ms(percentile(&mut self.steps, 0.99)),
            ns_per_particle_step: median.as_nanos() as f64 / live.max(1) as f64,
            systems_ms: self
                .systems
                .into_iter()
                .map(|(name, mut times)| (name, ms(percentile(&mut times, 0.5))))
                .collect(),
            state_hash: format!("{:016x}", world.state_hash()),
            ratio_to_fastest: 1.0,
        }
    }
}

/// A window-sized frame drawn after every measured step, and how long each took.
struct Canvas {
    rasteriser: Rasteriser,
    frame: Vec<u8>,
    view: Viewport,
    times: Vec<Duration>,
}

impl Canvas {
    const WIDTH: u32 = 1280;
    const HEIGHT: u32 = 720;

    fn new(world: glam::Vec2) -> Canvas {
        Canvas {
            rasteriser: Rasteriser::default(),
            frame: vec![0; (Self::WIDTH * Self::HEIGHT * 4) as usize],
            view: Viewport {
                width: Self::WIDTH,
                height: Self::HEIGHT,
                world,
            },
            times: Vec::new(),
        }
    }

    /// Draws half-way between the step's two states, as a window between steps would.
    fn draw(&mut self, world: &ParticleSim) {
        let start = Instant::now();
        self.rasteriser.draw(&mut self.frame, self.view, world, 0.5);
        self.times.push(start.elapsed());
    }
}

/// The `q` quantile (nearest rank) of `values`; sorts them.
fn percentile(values: &mut [Duration], q: f64) -> Duration {
    values.sort_unstable();
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len().max(1));
    values.get(rank - 1).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn set_ratios(rows: &mut [Row]) {
    let fastest: BTreeMap<u32, f64> = rows.iter().fold(BTreeMap::new(), |mut m, r| {
        let best = m.entry(r.particles).or_insert(f64::INFINITY);
        *best = best.min(r.step_ms_median);
        m
    });
    for r in rows {
        r.ratio_to_fastest = r.step_ms_median / fastest[&r.particles];
    }
}

pub(crate) fn print_table(rows: &[Row]) {
    // The systems of the first row, in run order (every row runs the same schedule).
    let systems: Vec<&str> = rows.first().map_or(Vec::new(), |r| {
        r.systems_ms.iter().map(|(n, _)| n.as_str()).collect()
    });
    let mut header = format!(
        "{:<9} {:>9} {:>9} {:<6} {:<9} {:<7} {:>3} {:<5} {:>7} {:<5} {:>9} {:>9} {:>9}",
        "scene",
        "particles",
        "live",
        "layout",
        "lock",
        "padding",
        "thr",
        "alloc",
        "allocs",
        "pages",
        "median_ms",
        "p99_ms",
        "ns/p/step"
    );
    for s in &systems {
        header += &format!(" {s:>9}");
    }
    let rendered = rows.iter().any(|r| r.render_ms.is_some());
    if rendered {
        header += &format!(" {:>9}", "render_ms");
    }
    crate::out!("{header} {:>6}", "ratio");
    for r in rows {
        let mut line = format!(
            "{:<9} {:>9} {:>9} {:<6} {:<9} {:<7} {:>3} {:<5} {:>7} {:<5} {:>9.3} {:>9.3} {:>9.3}",
            r.scene,
            r.particles,
            r.live,
            r.layout,
            r.lock,
            r.padding,
            r.threads,
            r.alloc,
            r.allocs_per_step,
            r.pages,
            r.step_ms_median,
            r.step_ms_p99,
            r.ns_per_particle_step
        );
        for s in &systems {
            let ms = r
                .systems_ms
                .iter()
                .find(|(n, _)| n == s)
                .map_or(0.0, |(_, ms)| *ms);
            line += &format!(" {ms:>9.3}");
        }
        if rendered {
            line += &format!(" {:>9.3}", r.render_ms.unwrap_or(f64::NAN));
        }
        crate::out!("{line} {:>5.2}x", r.ratio_to_fastest);
    }
}

/// Every row of one particle count ran the same steps from the same seed: their hashes
/// must agree. Says so, or names the rows that differ and fails (exit code 1).
pub(crate) fn check_hashes(rows: &[Row]) -> Result<(), Failure> {
    let mut by_count: BTreeMap<u32, Vec<&Row>> = BTreeMap::new();
    rows.iter()
        .for_each(|r| by_count.entry(r.particles).or_default().push(r));
    let mut mismatches = 0;
    for (n, group) in by_count {
        let first = &group[0].state_hash;
        let odd: Vec<_> = group.iter().filter(|r| &r.state_hash != first).collect();
        if odd.is_empty() {
            crate::out!(
                "determinism: all {} rows at {n} particles end in state {first}",
                group.len()
            );
        } else {
            mismatches += odd.len();
            for r in odd {
                crate::out!(
                    "determinism: MISMATCH at {n} particles: {} ends in {} not {first}",
                    r.label(),
                    r.state_hash
                );
            }
        }
    }
    if mismatches == 0 {
        Ok(())
    } else {
        Err(Failure::runtime(format!(
            "determinism: {mismatches} row(s) end in another state than the first row of \
             their particle count (the MISMATCH lines above)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(particles: u32, layout: &str, threads: usize, ns: f64, hash: &str) -> Row {
        Row {
            scene: "default".into(),
            particles,
            live: particles as usize,
            layout: layout.into(),
            lock: "sharded".into(),
            padding: "padded".into(),
            threads,
            alloc: "arena".into(),
            allocs_per_step: 0,
            pages: "small".into(),
            huge_page_bytes: None,
            contention_per_step: ContentionRow::default(),
            render_ms: None,
            steps: 10,
            step_ms_median: ns * f64::from(particles) / 1e6,
            step_ms_p99: ns * f64::from(particles) / 1e6,
            ns_per_particle_step: ns,
            systems_ms: Vec::new(),
            state_hash: hash.into(),
            ratio_to_fastest: 1.0,
        }
    }

    #[test]
    fn rows_that_agree_pass() {
        let rows = [
            row(1000, "soa", 1, 3.0, "aa"),
            row(1000, "aos", 2, 5.0, "aa"),
            // Another count may end elsewhere.
            row(2000, "soa", 1, 3.0, "bb"),
            row(2000, "aos", 1, 3.0, "bb"),
        ];
        assert_eq!(check_hashes(&rows), Ok(()));
    }

    #[test]
    fn rows_that_disagree_fail_with_exit_code_1() {
        let rows = [
            row(1000, "soa", 1, 3.0, "aa"),
            row(1000, "aos", 2, 5.0, "ab"),
            row(2000, "soa", 1, 3.0, "bb"),
        ];
        let failure = check_hashes(&rows).unwrap_err();
        assert_eq!(failure.code, 1, "{failure}");
        assert!(
            failure.message.starts_with("determinism: 1 row(s)"),
            "{failure}"
        );
    }

    #[test]
    fn plot_series_are_one_per_strategy_sorted_by_count() {
        let mut rows = Vec::new();
        for n in [1_000_000, 100_000, 300_000] {
            for layout in ["soa", "aos"] {
                rows.push(row(n, layout, 2, f64::from(n) / 1e5, "0"));
            }
        }
        let series = plot_series(&rows);
        let labels: Vec<_> = series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "soa / sharded / padded / 2t / arena / small",
                "aos / sharded / padded / 2t / arena / small"
            ]
        );
        for s in &series {
            assert_eq!(
                s.points,
                [(100_000.0, 1.0), (300_000.0, 3.0), (1_000_000.0, 10.0)]
            );
        }
    }
}
