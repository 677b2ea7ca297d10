//! Which key does what. The window turns a key press into a [`Command`]; what the command
//! does to the simulation lives in [`super::session`].

use winit::keyboard::{Key, NamedKey};

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
    /// F12: save the frame as a PNG.
    Screenshot,
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
    /// P: counters padded <-> packed.
    Padding,
    /// T: one thread <-> all cores.
    Threads,
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

/// The command for a key press; `repeat` is true for auto-repeats, which only step.
pub fn command_for(key: &Key, repeat: bool) -> Option<Command> {
    let command = match key {
        Key::Named(named) => named_command(*named)?,
        Key::Character(text) => char_command(text.as_str())?,
        _ => return None,
    };
    let repeats = command == Command::Sim(SimAction::Step);
    (!repeat || repeats).then_some(command)
}

fn named_command(key: NamedKey) -> Option<Command> {
    Some(match key {
        NamedKey::F1 => Command::Ui(UiAction::ToggleHud),
        NamedKey::F12 => Command::Ui(UiAction::Screenshot),
        NamedKey::Escape => Command::Ui(UiAction::Quit),
        NamedKey::Space => Command::Sim(SimAction::Pause),
        _ => return None,
    })
}

fn char_command(text: &str) -> Option<Command> {
    let mut chars = text.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    let sim = |a| Some(Command::Sim(a));
    match c.to_ascii_lowercase() {
        'h' => Some(Command::Ui(UiAction::ToggleHelp)),
        'l' => sim(SimAction::Layout),
        'k' => sim(SimAction::Lock),
        'p' => sim(SimAction::Padding),
        't' => sim(SimAction::Threads),
        'n' => sim(SimAction::Step),
        'r' => sim(SimAction::Reset),
        ' ' => sim(SimAction::Pause),
        '+' | '=' => sim(SimAction::BudgetUp),
        '-' | '_' => sim(SimAction::BudgetDown),
        '1'..='9' => sim(SimAction::Scene(c as usize - '0' as usize)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(s: &str) -> Key {
        Key::Character(s.into())
    }

    #[test]
    fn letters_in_either_case_and_named_keys_map() {
        let layout = Some(Command::Sim(SimAction::Layout));
        assert_eq!(command_for(&ch("l"), false), layout);
        assert_eq!(command_for(&ch("L"), false), layout);
        assert_eq!(
            command_for(&Key::Named(NamedKey::F1), false),
            Some(Command::Ui(UiAction::ToggleHud))
        );
        assert_eq!(
            command_for(&Key::Named(NamedKey::Space), false),
            Some(Command::Sim(SimAction::Pause))
        );
        assert_eq!(
            command_for(&ch("7"), false),
            Some(Command::Sim(SimAction::Scene(7)))
        );
        assert_eq!(
            command_for(&ch("="), false),
            Some(Command::Sim(SimAction::BudgetUp))
        );
    }

    #[test]
    fn unknown_keys_and_repeats_do_nothing_except_stepping() {
        assert_eq!(command_for(&ch("0"), false), None);
        assert_eq!(command_for(&ch("lk"), false), None);
        assert_eq!(command_for(&ch(""), false), None);
        assert_eq!(command_for(&Key::Named(NamedKey::F2), false), None);
        assert_eq!(command_for(&ch("l"), true), None);
        assert_eq!(
            command_for(&ch("n"), true),
            Some(Command::Sim(SimAction::Step))
        );
    }
}
