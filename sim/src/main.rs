//! `sim`: opens the window by default; `run`, `bench`, `snapshot`, `layout` and `replay` work headless.

use clap::Parser;
use engine::pages::HugePageAlloc;
use sim::cli::{Cli, Command, use_pages};
use sim::{Failure, app, bench, headless, layout, replay, snapshot};
use std::process::ExitCode;

/// The system allocator, with big blocks on 2 MiB pages unless `--pages small` (or the kernel)
/// says otherwise.
#[global_allocator]
static ALLOC: HugePageAlloc = HugePageAlloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and exit 0; bad flags exit 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    // `bench` sets the page size row by row; the others hold one for the whole run
    // (`layout` allocates nothing big).
    let result: Result<(), Failure> = match &cli.command {
        Some(Command::Run(args)) => {
            use_pages(args.strategy.pages).and_then(|()| headless::run(args))
        }
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Snapshot(args)) => {
            use_pages(args.strategy.pages).and_then(|()| snapshot::run(args))
        }
        Some(Command::Layout(args)) => layout::run(args),
        Some(Command::Replay(args)) => use_pages(args.pages).and_then(|()| replay::run(args)),
        None => use_pages(cli.window.strategy.pages).and_then(|()| app::run(&cli.window)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("sim: {failure}");
            ExitCode::from(failure.code)
        }
    }
}
