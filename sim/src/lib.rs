//! The simulator around the engine: a window with a HUD and hotkeys, and headless
//! commands (`run`, `bench`, `snapshot`, `layout`, `replay`) that run the very same simulation.
#![deny(missing_docs)]
#![deny(unsafe_code)]

// One unsafe call: parenting the canvas window to the main one (see `open_canvas`).
#[allow(unsafe_code)]
pub mod app;
pub mod bench;
pub mod bindings;
pub mod cli;
pub mod headless;
pub mod hud;
pub mod layout;
pub mod progress;
pub mod render;
pub mod replay;
pub mod snapshot;

use std::fmt;

/// The program name and version written into recordings.
pub fn program() -> String {
    format!("sim {}", env!("CARGO_PKG_VERSION"))
}

/// Prints a line on stdout. A closed pipe (`sim run | head -1`) is not an error worth a
/// panic: the line is dropped and the program carries on to its normal exit.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// A failure that ends the program: a message and the exit code.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// One line for the user.
    pub message: String,
    /// 2 for bad usage (flags), 1 for everything else.
    pub code: u8,
}

impl Failure {
    /// Something failed while running, or a scene file was bad: exit code 1.
    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }

    /// A flag combination clap could not check: exit code 2.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
