//! `sim`: opens the window by default; `run`, `bench`, `snapshot`, `layout` and `replay` work headless.

use clap::Parser;
use sim::cli::{Cli, Command};
use sim::{Failure, app, bench, headless, layout, replay, snapshot};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and exit 0; bad flags exit 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let result: Result<(), Failure> = match &cli.command {
        Some(Command::Run(args)) => headless::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Snapshot(args)) => snapshot::run(args),
        Some(Command::Layout(args)) => layout::run(args),
        Some(Command::Replay(args)) => replay::run(args),
        None => app::run(&cli.window),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("sim: {failure}");
            ExitCode::from(failure.code)
        }
    }
}
