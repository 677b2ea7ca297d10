//! The key bindings: one table says which key does what. The window's key handling
//! ([`crate::app`]), the help overlay ([`crate::hud`]) and the README check
//! (`sim/tests/readme.rs`) all read it. Window-free, so the HUD and tests can use it.

/// A key as the bindings name it: a named key (`"F1"`, `"Space"`, `"Esc"`), or one
/// character (letters in either case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pressed {
    /// A named key, by its label.
    Named(&'static str),
    /// A character.
    Char(char),
}

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Something only the window knows about.
    Ui(UiAction),
    /// A change to the simulation.
    Sim(SimAction),
}

/// Window-only actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiAction {
    /// F1: show or hide the HUD.
    ToggleHud,
    /// H: show or hide the hotkey list.
    ToggleHelp,
    /// I: show or hide the memory layout panel.
    ToggleLayout,
    /// F12: save the frame as a PNG.
    Screenshot,
    /// F5: start recording (from a fresh start of the scene), or stop and write the file.
    Record,
    /// Esc: quit.
    Quit,
}

/// Changes to the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimAction {
    /// L: SoA <-> AoS.
    Layout,
    /// K: the next lock strategy.
    Lock,
    /// P: counter padding padded <-> packed.
    Padding,
    /// T: one thread <-> all cores.
    Threads,
    /// A: per-step scratch from the frame arenas <-> the heap.
    Alloc,
    /// Space: pause or resume.
    Pause,
    /// N: one step while paused.
    Step,
    /// +: double the particle budget.
    BudgetUp,
    /// -: halve the particle budget.
    BudgetDown,
    /// R: rebuild the scene from scratch.
    Reset,
    /// 1-9: load the n-th scene.
    Scene(usize),
}

/// What sets a binding off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A named key.
    Named(&'static str),
    /// Any of these characters (letters in either case).
    Chars(&'static str),
    /// A digit 1-9: the command gets the digit.
    Digits,
    /// The mouse (handled by the window, not through [`command_for`]).
    Mouse,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The keys as the help shows them.
    pub keys: &'static str,
    /// What they do, in a few words.
    pub does: &'static str,
    /// What sets it off.
    pub trigger: Trigger,
    /// What it asks for (`None` for the mouse and for `Scene`, which takes its digit).
    pub command: Option<Command>,
}

const fn sim(a: SimAction) -> Option<Command> {
    Some(Command::Sim(a))
}

const fn ui(a: UiAction) -> Option<Command> {
    Some(Command::Ui(a))
}

/// Every binding, in the order the help lists them.
pub const BINDINGS: [Binding; 18] = [
    Binding {
        keys: "L",
        does: "layout SoA <-> AoS",
        trigger: Trigger::Chars("l"),
        command: sim(SimAction::Layout),
    },
    Binding {
        keys: "K",
        does: "next lock strategy",
        trigger: Trigger::Chars("k"),
        command: sim(SimAction::Lock),
    },
    Binding {
        keys: "P",
        does: "counter padding on/off",
        trigger: Trigger::Chars("p"),
        command: sim(SimAction::Padding),
    },
    Binding {
        keys: "T",
        does: "threads 1 <-> all cores",
        trigger: Trigger::Chars("t"),
        command: sim(SimAction::Threads),
    },
    Binding {
        keys: "A",
        does: "scratch arena <-> heap",
        trigger: Trigger::Chars("a"),
        command: sim(SimAction::Alloc),
    },
    Binding {
        keys: "Space",
        does: "pause / resume",
        trigger: Trigger::Named("Space"),
        command: sim(SimAction::Pause),
    },
    Binding {
        keys: "N",
        does: "one step while paused",
        trigger: Trigger::Chars("n"),
        command: sim(SimAction::Step),
    },
    Binding {
        keys: "+",
        does: "particle budget x2",
        trigger: Trigger::Chars("+="),
        command: sim(SimAction::BudgetUp),
    },
    Binding {
        keys: "-",
        does: "particle budget /2",
        trigger: Trigger::Chars("-_"),
        command: sim(SimAction::BudgetDown),
    },
    Binding {
        keys: "R",
        does: "reset the scene",
        trigger: Trigger::Chars("r"),
        command: sim(SimAction::Reset),
    },
    Binding {
        keys: "1-9",
        does: "load scene (assets/scenes)",
        trigger: Trigger::Digits,
        command: None,
    },
    Binding {
        keys: "mouse",
        does: "left attracts, right repels",
        trigger: Trigger::Mouse,
        command: None,
    },
    Binding {
        keys: "F1",
        does: "HUD on/off",
        trigger: Trigger::Named("F1"),
        command: ui(UiAction::ToggleHud),
    },
    Binding {
        keys: "H",
        does: "this help",
        trigger: Trigger::Chars("h"),
        command: ui(UiAction::ToggleHelp),
    },
    Binding {
        keys: "I",
        does: "memory layout panel",
        trigger: Trigger::Chars("i"),
        command: ui(UiAction::ToggleLayout),
    },
    Binding {
        keys: "F5",
        does: "record from a reset / stop and save",
        trigger: Trigger::Named("F5"),
        command: ui(UiAction::Record),
    },
    Binding {
        keys: "F12",
        does: "screenshot to PNG",
        trigger: Trigger::Named("F12"),
        command: ui(UiAction::Screenshot),
    },
    Binding {
        keys: "Esc",
        does: "quit",
        trigger: Trigger::Named("Esc"),
        command: ui(UiAction::Quit),
    },
];

/// The command for a key press; `repeat` is true for auto-repeats, which only step.
pub fn command_for(key: Pressed, repeat: bool) -> Option<Command> {
    let command = BINDINGS.iter().find_map(|b| match (b.trigger, key) {
        (Trigger::Named(name), Pressed::Named(pressed)) if name == pressed => b.command,
        (Trigger::Chars(chars), Pressed::Char(c)) if chars.contains(c.to_ascii_lowercase()) => {
            b.command
        }
        (Trigger::Digits, Pressed::Char(c @ '1'..='9')) => {
            Some(Command::Sim(SimAction::Scene(c as usize - '0' as usize)))
        }
        _ => None,
    })?;
    let repeats = command == Command::Sim(SimAction::Step);
    (!repeat || repeats).then_some(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_bindings_share_a_key() {
        let mut chars = String::new();
        let mut named = Vec::new();
        for b in &BINDINGS {
            match b.trigger {
                Trigger::Chars(cs) => {
                    assert!(!cs.chars().any(|c| chars.contains(c)), "{}", b.keys);
                    chars.push_str(cs);
                }
                Trigger::Named(n) => {
                    assert!(!named.contains(&n), "{n}");
                    named.push(n);
                }
                Trigger::Digits | Trigger::Mouse => assert_eq!(b.command, None),
            }
        }
    }

    #[test]
    fn every_binding_with_a_command_is_reached_by_its_key() {
        for b in BINDINGS.iter().filter(|b| b.command.is_some()) {
            let key = match b.trigger {
                Trigger::Named(n) => Pressed::Named(n),
                Trigger::Chars(cs) => Pressed::Char(cs.chars().next().unwrap()),
                Trigger::Digits | Trigger::Mouse => unreachable!("no command"),
            };
            assert_eq!(command_for(key, false), b.command, "{}", b.keys);
        }
        assert_eq!(
            command_for(Pressed::Char('7'), false),
            Some(Command::Sim(SimAction::Scene(7)))
        );
    }
}
