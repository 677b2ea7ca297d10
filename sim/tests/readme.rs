//! The README says what the program does: these tests keep it true. Its code example is
//! the `quickstart` example (compiled and run by `cargo test`), its hotkey table lists the
//! keys of the binding table (which also drives the key handling and the help overlay), and
//! its commands are the program's subcommands.

use clap::CommandFactory;
use sim::bindings::BINDINGS;
use sim::cli::Cli;
use std::collections::BTreeSet;
use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_code_example_is_the_quickstart_example() {
    let readme = read("README.md");
    let start = readme.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let end = start + readme[start..].find("```\n").expect("closed");
    assert_eq!(
        &readme[start..end],
        read("engine/examples/quickstart.rs"),
        "copy engine/examples/quickstart.rs into the README's rust block"
    );
}

/// The keys named in the README's hotkey table (backticked words and `mouse`).
fn readme_keys() -> BTreeSet<String> {
    let readme = read("README.md");
    let table = readme
        .split("## Hotkeys (window)")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a hotkey section");
    let mut keys = BTreeSet::new();
    for row in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| key"))
    {
        let first_cell = row.split('|').nth(1).unwrap_or_default();
        for (i, piece) in first_cell.split('`').enumerate() {
            if i % 2 == 1 {
                keys.insert(piece.replace('–', "-"));
            } else if piece.contains("mouse") {
                keys.insert("mouse".into());
            }
        }
    }
    keys
}

#[test]
fn the_hotkey_table_lists_every_key_binding() {
    let bound: BTreeSet<String> = BINDINGS.iter().map(|b| b.keys.to_owned()).collect();
    let mut readme = readme_keys();
    // The README writes the scene keys as `1`–`9`.
    if readme.remove("1") && readme.remove("9") {
        readme.insert("1-9".into());
    }
    assert_eq!(readme, bound, "README hotkeys vs sim::bindings::BINDINGS");
}

#[test]
fn the_commands_shown_are_the_programs_subcommands() {
    let readme = read("README.md");
    let shown: BTreeSet<&str> = readme
        .split("cargo run --release -- ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    let actual: BTreeSet<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|n| n != "help")
        .collect();
    let shown: BTreeSet<String> = shown.into_iter().map(str::to_owned).collect();
    assert_eq!(
        shown, actual,
        "README's `cargo run --release -- <command>` lines vs `sim --help`"
    );
}
