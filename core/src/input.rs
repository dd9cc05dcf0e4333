//! The game's inputs and the timeline that drives a run deterministically.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the game's buttons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Button {
    Up,
    Down,
    Left,
    Right,
    Action,
}

impl Button {
    pub const ALL: [Button; 5] = [
        Button::Up,
        Button::Down,
        Button::Left,
        Button::Right,
        Button::Action,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Button::Up => "up",
            Button::Down => "down",
            Button::Left => "left",
            Button::Right => "right",
            Button::Action => "action",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Button {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Button {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Button::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown button `{s}`: expected one of up, down, left, right, action")
            })
    }
}

/// A set of buttons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Buttons(u8);

impl Buttons {
    pub const NONE: Buttons = Buttons(0);

    pub fn contains(self, b: Button) -> bool {
        self.0 & b.bit() != 0
    }

    pub fn insert(&mut self, b: Button) {
        self.0 |= b.bit();
    }

    pub fn remove(&mut self, b: Button) {
        self.0 &= !b.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: Buttons) -> Buttons {
        Buttons(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Button> {
        Button::ALL.into_iter().filter(move |b| self.contains(*b))
    }
}

/// What the world sees of the inputs on one tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputState {
    /// Buttons down during this tick.
    pub held: Buttons,
    /// Buttons that went down at the start of this tick (edges, for `action`).
    pub pressed: Buttons,
}

/// What happens to a button.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputAction {
    Press,
    Release,
    /// Down for exactly one tick.
    #[default]
    Tap,
}

impl InputAction {
    pub fn name(self) -> &'static str {
        match self {
            InputAction::Press => "press",
            InputAction::Release => "release",
            InputAction::Tap => "tap",
        }
    }
}

impl FromStr for InputAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "press" => Ok(InputAction::Press),
            "release" => Ok(InputAction::Release),
            "tap" => Ok(InputAction::Tap),
            _ => Err(format!(
                "unknown input action `{s}`: expected press, release or tap"
            )),
        }
    }
}

/// The buttons a host holds down for the engine between ticks.
#[derive(Clone, Debug, Default)]
pub struct Controls {
    held: Buttons,
    taps: Buttons,
    edges: Buttons,
}

impl Controls {
    pub fn apply(&mut self, button: Button, action: InputAction) {
        match action {
            InputAction::Press => {
                if !self.held.contains(button) {
                    self.edges.insert(button);
                }
                self.held.insert(button);
            }
            InputAction::Release => self.held.remove(button),
            InputAction::Tap => {
                self.taps.insert(button);
                self.edges.insert(button);
            }
        }
    }

    /// The state for the coming tick; taps and edges are used up by it.
    pub fn take_tick(&mut self) -> InputState {
        let state = InputState {
            held: self.held.union(self.taps),
            pressed: self.edges,
        };
        self.taps = Buttons::NONE;
        self.edges = Buttons::NONE;
        state
    }

    pub fn held(&self) -> Buttons {
        self.held
    }

    pub fn release_all(&mut self) {
        *self = Controls::default();
    }

    /// Holds `buttons` down as if pressed before the last tick (no edge:
    /// `action` does not fire again).
    pub fn hold(&mut self, buttons: impl IntoIterator<Item = Button>) {
        for b in buttons {
            self.held.insert(b);
        }
    }
}

/// One scripted input: at `tick`, do `action` to `button`. With `hold`, the
/// button is pressed at `tick` and released `hold` ticks later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputEvent {
    pub tick: u64,
    pub button: Button,
    #[serde(default)]
    pub action: InputAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<u64>,
}

/// A list of (tick, input) events, sorted by tick, that drives a run.
///
/// Events at tick `t` are applied just before the update that takes the
/// engine from tick `t` to `t + 1`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    events: Vec<(u64, Button, InputAction)>,
}

impl Timeline {
    pub fn new(events: &[InputEvent]) -> Timeline {
        let mut flat = Vec::with_capacity(events.len());
        for ev in events {
            match ev.hold {
                Some(hold) => {
                    flat.push((ev.tick, ev.button, InputAction::Press));
                    flat.push((ev.tick + hold.max(1), ev.button, InputAction::Release));
                }
                None => flat.push((ev.tick, ev.button, ev.action)),
            }
        }
        // Stable: events at one tick keep the order they were written in.
        flat.sort_by_key(|(tick, _, _)| *tick);
        Timeline { events: flat }
    }

    /// Parses a timeline file: a JSON array of events.
    pub fn parse(source_name: &str, text: &str) -> Result<Timeline, crate::SceneError> {
        let events: Vec<InputEvent> = serde_json::from_str(text)
            .map_err(|e| crate::SceneError::from_json(source_name, &e))?;
        Ok(Timeline::new(&events))
    }

    pub fn at(&self, tick: u64) -> impl Iterator<Item = (Button, InputAction)> + '_ {
        let start = self.events.partition_point(|(t, _, _)| *t < tick);
        self.events[start..]
            .iter()
            .take_while(move |(t, _, _)| *t == tick)
            .map(|(_, b, a)| (*b, *a))
    }

    /// Every `(tick, button, action)`, holds expanded, in tick order.
    pub fn events(&self) -> impl Iterator<Item = (u64, Button, InputAction)> + '_ {
        self.events.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_lasts_one_tick_and_press_until_release() {
        let mut c = Controls::default();
        c.apply(Button::Left, InputAction::Tap);
        let s = c.take_tick();
        assert!(s.held.contains(Button::Left) && s.pressed.contains(Button::Left));
        assert!(c.take_tick().held.is_empty());

        c.apply(Button::Up, InputAction::Press);
        assert!(c.take_tick().pressed.contains(Button::Up));
        let s = c.take_tick();
        assert!(s.held.contains(Button::Up) && !s.pressed.contains(Button::Up));
        c.apply(Button::Up, InputAction::Release);
        assert!(c.take_tick().held.is_empty());
    }

    #[test]
    fn timeline_expands_holds_and_sorts() {
        let t = Timeline::parse(
            "t.json",
            r#"[{"tick": 5, "button": "right", "hold": 3}, {"tick": 2, "button": "action"}]"#,
        )
        .expect("valid timeline");
        assert_eq!(
            t.at(2).collect::<Vec<_>>(),
            vec![(Button::Action, InputAction::Tap)]
        );
        assert_eq!(
            t.at(5).collect::<Vec<_>>(),
            vec![(Button::Right, InputAction::Press)]
        );
        assert_eq!(
            t.at(8).collect::<Vec<_>>(),
            vec![(Button::Right, InputAction::Release)]
        );
        assert_eq!(t.at(3).count(), 0);
    }

    #[test]
    fn timeline_errors_name_the_place() {
        let err = Timeline::parse("in.json", "[{\"tick\": 1, \"button\": \"jump\"}]")
            .expect_err("jump is not a button");
        let msg = err.to_string();
        assert!(msg.starts_with("in.json:1:"), "{msg}");
        assert!(msg.contains("jump"), "{msg}");
    }
}
