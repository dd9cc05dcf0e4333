//! Every key the inspector takes, as data: one table per pane, each row
//! the keys, how the key bar and the help name them, and the action they
//! stand for. A pane's handler finds its action in the same table the key
//! bar and the help are drawn from, so hints cannot drift from handlers
//! (gitui's `commands()` and key config are the model).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One row of a key table.
#[derive(Debug)]
pub struct Binding<A: 'static> {
    pub keys: &'static [KeyCode],
    /// Ctrl must be held (and must not be, for the others).
    pub ctrl: bool,
    /// How the key bar names the keys: `↑↓`, `q`.
    pub label: &'static str,
    /// What they do, in a word or two, for the key bar.
    pub hint: &'static str,
    /// The help overlay's line; empty: the hint.
    pub help: &'static str,
    /// Shown in the key bar (all rows are in the help).
    pub bar: bool,
    pub action: A,
}

impl<A: Copy> Binding<A> {
    pub fn matches(&self, key: &KeyEvent) -> bool {
        self.keys.contains(&key.code) && key.modifiers.contains(KeyModifiers::CONTROL) == self.ctrl
    }

    /// The help overlay's description.
    pub fn described(&self) -> &'static str {
        if self.help.is_empty() {
            self.hint
        } else {
            self.help
        }
    }
}

/// The action `key` stands for in `table`.
pub fn find<A: Copy>(table: &[Binding<A>], key: &KeyEvent) -> Option<A> {
    table.iter().find(|b| b.matches(key)).map(|b| b.action)
}

/// The help overlay's `(keys, description)` lines of `table`.
pub fn help<A: Copy>(
    table: &'static [Binding<A>],
) -> impl Iterator<Item = (&'static str, &'static str)> {
    table
        .iter()
        .filter(|b| !b.label.is_empty())
        .map(|b| (b.label, b.described()))
}

/// The key bar's `(keys, hint)` pairs of `table`.
pub fn bar<A: Copy>(
    table: &'static [Binding<A>],
) -> impl Iterator<Item = (&'static str, &'static str)> {
    table.iter().filter(|b| b.bar).map(|b| (b.label, b.hint))
}

const fn row<A: Copy>(
    keys: &'static [KeyCode],
    label: &'static str,
    hint: &'static str,
    help: &'static str,
    action: A,
) -> Binding<A> {
    Binding {
        keys,
        ctrl: false,
        label,
        hint,
        help,
        bar: true,
        action,
    }
}

/// The other half of the row before (`↓` of `↑↓`): neither in the key bar
/// nor a line of its own in the help.
const fn twin<A: Copy>(keys: &'static [KeyCode], action: A) -> Binding<A> {
    Binding {
        keys,
        ctrl: false,
        label: "",
        hint: "",
        help: "",
        bar: false,
        action,
    }
}

/// A row in the help only.
const fn help_only<A: Copy>(
    keys: &'static [KeyCode],
    label: &'static str,
    help: &'static str,
    action: A,
) -> Binding<A> {
    Binding {
        keys,
        ctrl: false,
        label,
        hint: "",
        help,
        bar: false,
        action,
    }
}

use KeyCode::{
    BackTab, Char, Delete, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up,
};

/// Keys that work anywhere outside a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    Quit,
    Help,
    FocusNext,
    FocusBack,
    Full,
    Entities,
    Watches,
    Reboot,
    FreshReboot,
    Pause,
    Step,
    SaveParams,
    Snapshot,
    GameFocus,
    GoToTick,
    Record,
    NextEngine,
}

pub const GLOBAL: &[Binding<Global>] = &[
    row(&[Char('q')], "q", "quit", "quit (Ctrl-C too)", Global::Quit),
    help_only(
        &[Char('?')],
        "?",
        "these keys (the focused pane's, and these)",
        Global::Help,
    ),
    row(
        &[Tab],
        "Tab",
        "focus",
        "focus: side panel, frame, log (⇧Tab back)",
        Global::FocusNext,
    ),
    twin(&[BackTab], Global::FocusBack),
    row(&[Char('p')], "p", "pause", "pause or resume", Global::Pause),
    row(
        &[Char('r')],
        "r/R",
        "reboot",
        "reboot keeping progress (R: fresh, asks first)",
        Global::Reboot,
    ),
    twin(&[Char('R')], Global::FreshReboot),
    row(
        &[Char('e')],
        "e",
        "entities",
        "side panel: params or entities",
        Global::Entities,
    ),
    row(
        &[Char('f')],
        "f",
        "full",
        "the frame alone, full screen",
        Global::Full,
    ),
    row(
        &[Char('g')],
        "g",
        "game",
        "game focus: arrows and Space go to the game",
        Global::GameFocus,
    ),
    row(&[Char('.')], ".", "step", "a single step", Global::Step),
    help_only(
        &[Char('n')],
        "n",
        "the next engine, when several were given",
        Global::NextEngine,
    ),
    row(
        &[Char('s')],
        "s",
        "save",
        "save params to the engine's params file",
        Global::SaveParams,
    ),
    row(
        &[Char('S')],
        "S",
        "snap",
        "snapshot to a PNG here",
        Global::Snapshot,
    ),
    Binding {
        keys: &[Char('r')],
        ctrl: true,
        label: "^R",
        hint: "rec",
        help: "record a golden scenario; again to stop",
        bar: true,
        action: Global::Record,
    },
    row(
        &[Char('w')],
        "w",
        "watches",
        "side panel: watchpoints",
        Global::Watches,
    ),
    row(
        &[Char('G')],
        "G",
        "go to tick",
        "go to a tick typed (1500, -120, +60)",
        Global::GoToTick,
    ),
];

/// Keys that only send something to the engine (refused while disconnected).
pub fn is_command(a: Global) -> bool {
    matches!(
        a,
        Global::Reboot
            | Global::FreshReboot
            | Global::Pause
            | Global::Step
            | Global::SaveParams
            | Global::Snapshot
            | Global::GameFocus
            | Global::Watches
            | Global::GoToTick
    )
}

/// Moving through time, where the engine keeps history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    Back,
    Forward,
    SecondBack,
    SecondForward,
    Oldest,
    Newest,
}

pub const TIME: &[Binding<Time>] = &[
    row(
        &[Char('[')],
        "[ ]",
        "tick",
        "a tick back / forward (at the newest, ] steps)",
        Time::Back,
    ),
    twin(&[Char(']')], Time::Forward),
    row(
        &[Char('{')],
        "{ }",
        "second",
        "a second back / forward",
        Time::SecondBack,
    ),
    twin(&[Char('}')], Time::SecondForward),
    row(
        &[Home],
        "Home End",
        "oldest/newest",
        "the oldest / newest tick (outside the log)",
        Time::Oldest,
    ),
    twin(&[End], Time::Newest),
];

/// The params panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamsKey {
    Up,
    Down,
    Less,
    More,
    Edit,
    Toggle,
    Search,
    Default,
}

pub const PARAMS: &[Binding<ParamsKey>] = &[
    row(&[Up], "↑↓", "select", "select a param", ParamsKey::Up),
    twin(&[Down], ParamsKey::Down),
    row(
        &[Left],
        "←→",
        "adjust",
        "adjust (⇧: steps of ×10)",
        ParamsKey::Less,
    ),
    twin(&[Right], ParamsKey::More),
    row(
        &[Enter],
        "⏎",
        "edit",
        "type a value, or choose one",
        ParamsKey::Edit,
    ),
    help_only(&[Char(' ')], "␣", "toggle a bool", ParamsKey::Toggle),
    row(
        &[Char('/')],
        "/",
        "search",
        "search by name",
        ParamsKey::Search,
    ),
    row(
        &[Char('d')],
        "d",
        "default",
        "reset to its default",
        ParamsKey::Default,
    ),
];

/// The entity panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntitiesKey {
    Up,
    Down,
    Change,
}

pub const ENTITIES: &[Binding<EntitiesKey>] = &[
    row(
        &[Up],
        "↑↓",
        "select",
        "select (outlined in the frame)",
        EntitiesKey::Up,
    ),
    twin(&[Down], EntitiesKey::Down),
    row(
        &[Enter],
        "⏎",
        "change",
        "change its attributes (world.set)",
        EntitiesKey::Change,
    ),
];

/// The watch panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKey {
    Up,
    Down,
    Add,
    Remove,
}

pub const WATCHES: &[Binding<WatchKey>] = &[
    row(
        &[Char('a'), Enter],
        "a",
        "add",
        "add a condition to watch",
        WatchKey::Add,
    ),
    row(
        &[Char('d'), Delete],
        "d",
        "remove",
        "remove the selected one",
        WatchKey::Remove,
    ),
    row(&[Up], "↑↓", "select", "select a watchpoint", WatchKey::Up),
    twin(&[Down], WatchKey::Down),
];

/// The frame, with the pixel picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKey {
    Left,
    Right,
    Up,
    Down,
    ZoomIn,
    ZoomOut,
    Fit,
    Unpick,
}

pub const FRAME: &[Binding<FrameKey>] = &[
    row(
        &[Left],
        "←↑→↓",
        "pick (⇧×8)",
        "move the picker (⇧: 8 cells); pans when zoomed",
        FrameKey::Left,
    ),
    twin(&[Right], FrameKey::Right),
    twin(&[Up], FrameKey::Up),
    twin(&[Down], FrameKey::Down),
    row(
        &[Char('+'), Char('=')],
        "+/-",
        "zoom",
        "zoom in, out",
        FrameKey::ZoomIn,
    ),
    twin(&[Char('-')], FrameKey::ZoomOut),
    row(
        &[Char('z')],
        "z",
        "fit",
        "the whole frame again",
        FrameKey::Fit,
    ),
    help_only(&[Esc], "Esc", "put the picker away", FrameKey::Unpick),
];

/// The event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKey {
    Older,
    Newer,
    PageOlder,
    PageNewer,
    Top,
    Follow,
    Topic,
    Open,
}

pub const LOG: &[Binding<LogKey>] = &[
    row(&[Up], "↑↓", "scroll", "scroll", LogKey::Older),
    twin(&[Down], LogKey::Newer),
    row(
        &[PageUp],
        "PgUp/PgDn",
        "page",
        "a page at a time",
        LogKey::PageOlder,
    ),
    twin(&[PageDown], LogKey::PageNewer),
    row(
        &[Home],
        "Home/End",
        "top/follow",
        "the oldest line / follow new lines",
        LogKey::Top,
    ),
    twin(&[End], LogKey::Follow),
    row(
        &[Char('t')],
        "t",
        "topic",
        "one topic at a time",
        LogKey::Topic,
    ),
    row(
        &[Enter],
        "⏎",
        "open",
        "open the newest line shown, in full",
        LogKey::Open,
    ),
];

/// Game focus: keys go to the game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GameKey {
    Button(&'static str),
    /// A key the inspector does not use, sent under its own name.
    Char(char),
    Leave,
    Quit,
}

pub const GAME: &[Binding<GameKey>] = &[
    row(
        &[Left],
        "←↑→↓",
        "move",
        "the game's arrows",
        GameKey::Button("left"),
    ),
    twin(&[Right], GameKey::Button("right")),
    twin(&[Up], GameKey::Button("up")),
    twin(&[Down], GameKey::Button("down")),
    row(
        &[Char(' '), Enter],
        "Space",
        "action",
        "the game's action button",
        GameKey::Button("action"),
    ),
    row(
        &[Esc, Char('g')],
        "g/Esc",
        "back",
        "keys to the inspector again (other letters, digits and signs go to the game by name)",
        GameKey::Leave,
    ),
    row(&[Char('q')], "q", "quit", "quit", GameKey::Quit),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn every_key<A: Copy>(table: &[Binding<A>]) -> Vec<(KeyCode, bool)> {
        table
            .iter()
            .flat_map(|b| b.keys.iter().map(move |k| (*k, b.ctrl)))
            .collect()
    }

    #[test]
    fn no_key_is_bound_twice_in_one_table_and_every_row_is_described() {
        fn check<A: Copy>(name: &str, table: &[Binding<A>]) {
            let mut keys = every_key(table);
            let n = keys.len();
            keys.sort_by_key(|(k, c)| (format!("{k:?}"), *c));
            keys.dedup();
            assert_eq!(keys.len(), n, "{name}: a key bound twice");
            for (i, b) in table.iter().enumerate() {
                if b.label.is_empty() {
                    // A twin follows the row it completes.
                    assert!(i > 0 && !b.bar, "{name}: a twin with no row before it");
                    continue;
                }
                assert!(
                    !b.described().is_empty(),
                    "{name}: {} has no words",
                    b.label
                );
                assert!(
                    !b.bar || !b.hint.is_empty(),
                    "{name}: {} has no hint",
                    b.label
                );
            }
        }
        check("global", GLOBAL);
        check("time", TIME);
        check("params", PARAMS);
        check("entities", ENTITIES);
        check("watches", WATCHES);
        check("frame", FRAME);
        check("log", LOG);
        check("game", GAME);
    }

    #[test]
    fn ctrl_keys_do_not_match_their_plain_twins() {
        let ctrl_r = KeyEvent::new(Char('r'), KeyModifiers::CONTROL);
        let r = KeyEvent::new(Char('r'), KeyModifiers::NONE);
        assert_eq!(find(GLOBAL, &ctrl_r), Some(Global::Record));
        assert_eq!(find(GLOBAL, &r), Some(Global::Reboot));
        let shift_right = KeyEvent::new(Right, KeyModifiers::SHIFT);
        assert_eq!(find(FRAME, &shift_right), Some(FrameKey::Right));
    }
}
