//! Key presses from winit, named the way the key bindings ([`crate::bindings`]) name them.

use crate::bindings::{self, Command, Pressed};
use winit::keyboard::{Key, NamedKey};

/// The command for a key press; `repeat` is true for auto-repeats, which only step.
pub fn command_for(key: &Key, repeat: bool) -> Option<Command> {
    bindings::command_for(pressed(key)?, repeat)
}

/// The key as the bindings name it. Space may arrive as a named key or as a character.
fn pressed(key: &Key) -> Option<Pressed> {
    match key {
        Key::Named(NamedKey::F1) => Some(Pressed::Named("F1")),
        Key::Named(NamedKey::F5) => Some(Pressed::Named("F5")),
        Key::Named(NamedKey::F12) => Some(Pressed::Named("F12")),
        Key::Named(NamedKey::Escape) => Some(Pressed::Named("Esc")),
        Key::Named(NamedKey::Space) => Some(Pressed::Named("Space")),
        Key::Character(text) => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(' '), None) => Some(Pressed::Named("Space")),
                (Some(c), None) => Some(Pressed::Char(c)),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::{SimAction, UiAction};

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
