//! Recordings in the sim, and `sim replay PATH`: the recorded session, headless, under the recorded strategy or one
//! held throughout, or (`--bench`) under a strategy matrix with `sim bench`'s table.

use crate::Failure;
use crate::app::session::Session;
use crate::bench::{self, Samples};
use crate::cli::{OneOrAll, ReplayArgs, expand};
use engine::arena::AllocMode;
use engine::counters::Padding;
use engine::particles::replay::{Recording, file};
use engine::storage::Layout;
use engine::sync::LockStrategy;
use engine::world::Strategy;

/// Runs `sim replay`.
pub fn run(args: &ReplayArgs) -> Result<(), Failure> {
    let recording = file::load(&args.path).map_err(|e| Failure::runtime(e.to_string()))?;
    if recording.program != crate::program() {
        eprintln!(
            "note: recorded by {}, replayed by {}",
            recording.program,
            crate::program()
        );
    }
    if args.bench {
        return bench_matrix(args, &recording);
    }
    let hold = held(args, recording.strategy)?;
    let mut session = Session::replaying(&recording, hold).map_err(Failure::runtime)?;
    let progress = crate::progress::bar(total_steps(&recording), "steps");
    let verdict = session.play_to_end(|_, _| progress.inc(1));
    progress.finish_and_clear();
    let how = hold.map_or("the recorded strategy and switches".into(), |s| {
        format!("{} held", bench::describe(s))
    });
    match verdict {
        Ok(()) => {
            crate::out!("replay: matches the recording ({how})");
            crate::out!("{}", session.world().state_line());
            Ok(())
        }
        Err(d) => {
            crate::out!("replay: MISMATCH ({how}): {d}");
            crate::out!("{}", session.world().state_line());
            Err(Failure::runtime(format!(
                "{}: the replay did not reach the recorded state ({d})",
                args.path.display()
            )))
        }
    }
}

/// The strategy to hold: `None` if no strategy flag was given. One value per flag.
fn held(args: &ReplayArgs, recorded: Strategy) -> Result<Option<Strategy>, Failure> {
    let one = |flag: &str, n: usize| {
        if n > 1 {
            Err(Failure::usage(format!(
                "--{flag}: one value without --bench (a list compares strategies with --bench)"
            )))
        } else {
            Ok(())
        }
    };
    let c = Choices::of(args, recorded);
    one("layout", c.layouts.len())?;
    one("lock", c.locks.len())?;
    one("padding", c.paddings.len())?;
    one("threads", c.threads.len())?;
    one("alloc", c.allocs.len())?;
    let any = !(args.layout.is_empty()
        && args.lock.is_empty()
        && args.padding.is_empty()
        && args.threads.is_empty()
        && args.alloc.is_empty());
    Ok(any.then(|| c.strategies()[0]))
}

/// Each strategy flag's values, or the recorded value where the flag is absent.
struct Choices {
    layouts: Vec<Layout>,
    locks: Vec<LockStrategy>,
    paddings: Vec<Padding>,
    threads: Vec<usize>,
    allocs: Vec<AllocMode>,
}

impl Choices {
    fn of(args: &ReplayArgs, recorded: Strategy) -> Choices {
        fn or<T: Copy + PartialEq>(given: &[OneOrAll<T>], all: &[T], recorded: T) -> Vec<T> {
            if given.is_empty() {
                vec![recorded]
            } else {
                expand(given, all)
            }
        }
        let threads: Vec<OneOrAll<usize>> =
            args.threads.iter().map(|&t| OneOrAll::One(t)).collect();
        Choices {
            layouts: or(&args.layout, &Layout::ALL, recorded.layout),
            locks: or(&args.lock, &LockStrategy::ALL, recorded.lock),
            paddings: or(&args.padding, &Padding::ALL, recorded.padding),
            threads: or(&threads, &[], recorded.threads),
            allocs: or(&args.alloc, &AllocMode::ALL, recorded.alloc),
        }
    }

    fn strategies(&self) -> Vec<Strategy> {
        bench::strategies(
            &self.layouts,
            &self.locks,
            &self.paddings,
            &self.threads,
            &self.allocs,
        )
    }
}

/// `--bench`: the session replayed once per combination, each held, timed step by step.
fn bench_matrix(args: &ReplayArgs, recording: &Recording) -> Result<(), Failure> {
    let combos = Choices::of(args, recording.strategy).strategies();
    let steps = (combos.len() as u64).saturating_mul(total_steps(recording));
    let progress = crate::progress::bar(steps, "steps");
    let name = recording.scene.display_name().into_owned();
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for strategy in combos {
        progress.set_message(bench::describe(strategy));
        let mut session =
            Session::replaying(recording, Some(strategy)).map_err(Failure::runtime)?;
        let mut samples = Samples::default();
        let verdict = session.play_to_end(|world, took| {
            samples.record(world, took);
            progress.inc(1);
        });
        if let Err(d) = verdict {
            failed.push(format!("{}: {d}", bench::describe(strategy)));
        }
        let world = session.world();
        rows.push(samples.into_row(name.clone(), recording.budget, strategy, world, None));
    }
    progress.finish_and_clear();
    bench::set_ratios(&mut rows);
    bench::print_table(&rows);
    let hashes = bench::check_hashes(&rows);
    if let Some(path) = &args.json {
        bench::write_json(&rows, path)?;
    }
    if !failed.is_empty() {
        for f in &failed {
            crate::out!("replay: MISMATCH under {f}");
        }
        return Err(Failure::runtime(format!(
            "{}: {} of {} replays did not reach the recorded state",
            args.path.display(),
            failed.len(),
            rows.len()
        )));
    }
    crate::out!(
        "replay: all {} replays match the recording: {}",
        rows.len(),
        recording.end.line()
    );
    hashes
}

/// Every step the session ran, over all its worlds, for the progress bar.
fn total_steps(recording: &Recording) -> u64 {
    let ended_worlds: u64 = (recording.events.iter())
        .filter(|e| e.kind.starts_a_world())
        .fold(0u64, |sum, e| sum.saturating_add(e.step));
    ended_worlds.saturating_add(recording.end.steps)
}
