//! The inspector's state and how keys, replies and events change it.
//!
//! Nothing here does IO: a key press returns [`Request`]s for the runner to
//! send, and replies and events come back through `on_*` methods. That is
//! what lets TestBackend snapshots cover every screen.

use std::collections::VecDeque;

use advkit_ipc::api::event::{Notification, ParamsHow};
use advkit_ipc::api::{
    ConfirmData, Event, HelloResult, NoParams, ParamsChange, ParamsListResult, ParamsSaved,
    ParamsSetParams, PauseState, RebootParams, RebootResult, RpcError, StatsResult, StepParams,
    StepResult, codes, method,
};
use advkit_params::{Applied, Apply, Entry, Kind, Params, Value, show_json};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::halfblock::{CellImage, ColorMode};

/// Where the inspector is with its engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    Connecting,
    /// No engine of that name yet (retrying).
    NoEngine(String),
    Connected,
    /// It was connected, and the engine went away (retrying).
    Disconnected(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Params,
    Frame,
    Log,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    None,
    Help,
    /// Typing a value for a param (numbers and string lists).
    Edit {
        name: String,
        buffer: String,
    },
    /// Choosing one of an enum's choices.
    Pick {
        name: String,
        choices: Vec<String>,
        index: usize,
    },
    /// A fresh reboot, with what the engine says will be lost.
    ConfirmFresh {
        what: String,
    },
    /// A recording of a game that cannot save its state starts with a
    /// fresh reboot.
    ConfirmRecord,
}

/// What the recording key asks the runner to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordAsk {
    Start(crate::recorder::Start),
    Stop,
}

/// A recording under way, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The scenario file it will write.
    pub out: String,
    pub from_tick: u64,
    pub stopping: bool,
}

/// One param as the engine reported it.
pub type ParamRow = Entry;

/// What a request is for, so its reply lands in the right place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    Hello,
    ParamsList,
    Stats,
    Set(String),
    Reboot,
    FreshProbe,
    FreshConfirmed,
    Pause,
    Step,
    Save,
    Input,
    Snapshot,
}

/// A call for the runner to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub tag: Tag,
    pub method: &'static str,
    pub params: Json,
}

fn req(tag: Tag, method: &'static str, params: impl Serialize) -> Request {
    Request {
        tag,
        method,
        params: serde_json::to_value(params).unwrap_or_default(),
    }
}

/// A typed result, or `None` if the engine answered in another shape.
fn typed<T: DeserializeOwned>(r: Json) -> Option<T> {
    serde_json::from_value(r).ok()
}

#[derive(Debug)]
pub struct App {
    pub name: String,
    pub conn: Conn,
    pub params: Vec<ParamRow>,
    pub revision: u64,
    pub selected: usize,
    pub focus: Focus,
    pub modal: Modal,
    pub log: VecDeque<String>,
    pub log_scroll: usize,
    pub image: CellImage,
    pub frame_size: (u32, u32),
    pub tick: u64,
    pub engine_fps: f64,
    pub paused: bool,
    pub ui_fps: f64,
    pub bytes_per_sec: u64,
    /// The tick of the frame in the picture.
    pub frame_tick: u64,
    /// The link as flow control measures it (rate acknowledged, lag).
    pub link: String,
    /// Bits per colour channel the picture is drawn with now.
    pub color_bits: u8,
    pub colors: ColorMode,
    /// Arrow keys go to the game.
    pub game_input: bool,
    pub status: String,
    pub quit: bool,
    /// The game answers `world.save` and `world.load`: a recording can
    /// start from where it is.
    pub can_save: bool,
    /// Whether the inspector can record at all (it was given a command).
    pub can_record: bool,
    pub recording: Option<Recording>,
    /// For the runner: start or stop a recording.
    pub record_ask: Option<RecordAsk>,
}

const LOG_LINES: usize = 500;

impl App {
    pub fn new(name: &str, colors: ColorMode) -> App {
        App {
            name: name.to_owned(),
            conn: Conn::Connecting,
            params: Vec::new(),
            revision: 0,
            selected: 0,
            focus: Focus::Params,
            modal: Modal::None,
            log: VecDeque::new(),
            log_scroll: 0,
            image: CellImage::default(),
            frame_size: (0, 0),
            tick: 0,
            engine_fps: 0.0,
            paused: false,
            ui_fps: 0.0,
            bytes_per_sec: 0,
            frame_tick: 0,
            link: String::new(),
            color_bits: 8,
            colors,
            game_input: false,
            status: String::new(),
            quit: false,
            can_save: false,
            can_record: false,
            recording: None,
            record_ask: None,
        }
    }

    /// Adds a line to the event log, control characters made visible.
    pub fn push_log(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(printable(&line));
    }

    /// A param list as `hello` or `params.list` gives it.
    pub fn set_param_list(&mut self, rows: Vec<ParamRow>, revision: u64) {
        self.params = rows;
        self.revision = revision;
        self.selected = self.selected.min(self.params.len().saturating_sub(1));
    }

    /// Connected: `hello` carries everything needed to draw the panel.
    pub fn on_hello(&mut self, hello: HelloResult) {
        self.conn = Conn::Connected;
        self.status.clear();
        self.frame_size = (hello.frames.width, hello.frames.height);
        self.can_save = hello.can_save();
        self.set_param_list(hello.params, hello.revision);
        self.push_log(format!(
            "attached to engine {} ({})",
            self.name, hello.engine
        ));
    }

    pub fn on_disconnect(&mut self, why: String) {
        if matches!(self.conn, Conn::Connected) {
            self.push_log(format!("disconnected: {why}"));
        }
        self.conn = match self.conn {
            Conn::Connected | Conn::Disconnected(_) => Conn::Disconnected(why),
            _ => Conn::NoEngine(why),
        };
        self.game_input = false;
        self.engine_fps = 0.0;
    }

    /// A reply to a request made earlier.
    pub fn on_reply(&mut self, tag: Tag, result: Result<Json, RpcError>) -> Vec<Request> {
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                let would_lose = e
                    .data_as::<ConfirmData>()
                    .filter(|_| tag == Tag::FreshProbe && e.code == codes::CONFIRM_REQUIRED);
                if let Some(data) = would_lose {
                    // What the engine says a fresh reboot loses, from its
                    // data; the answer here is a key press.
                    let what: Vec<String> = data
                        .would_lose
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", lost_value(v)))
                        .collect();
                    self.modal = Modal::ConfirmFresh {
                        what: format!("A fresh reboot throws away {}.", what.join("; ")),
                    };
                } else {
                    self.status = format!("error: {}", e.message);
                    self.push_log(format!("error: {}", e.message));
                }
                return Vec::new();
            }
        };
        match tag {
            Tag::Hello => {
                if let Some(hello) = typed::<HelloResult>(r) {
                    self.on_hello(hello);
                }
            }
            Tag::ParamsList => {
                if let Some(list) = typed::<ParamsListResult>(r) {
                    self.set_param_list(list.params, list.revision);
                }
            }
            Tag::Stats => {
                if let Some(s) = typed::<StatsResult>(r) {
                    self.tick = s.tick;
                    self.engine_fps = s.fps;
                    self.paused = s.paused;
                }
            }
            Tag::Set(name) => {
                if let Some(change) = typed::<ParamsChange>(r) {
                    self.revision = change.revision;
                    self.status = if change.results.get(&name) == Some(&Applied::PendingReboot) {
                        format!("{name}: pending until the next reboot (r)")
                    } else {
                        format!("{name} set")
                    };
                    self.apply_change(&change);
                }
            }
            // The `rebooted` event that follows refreshes the params.
            Tag::Reboot | Tag::FreshConfirmed | Tag::FreshProbe => {
                if let Some(report) = typed::<RebootResult>(r) {
                    self.status = format!("rebooted at tick {}", report.tick);
                }
            }
            Tag::Pause => {
                if let Some(p) = typed::<PauseState>(r) {
                    self.paused = p.paused;
                    self.tick = p.tick;
                }
            }
            Tag::Step => {
                if let Some(p) = typed::<StepResult>(r) {
                    self.paused = p.paused;
                    self.tick = p.tick;
                }
            }
            Tag::Save => {
                if let Some(saved) = typed::<ParamsSaved>(r) {
                    self.status = format!("params saved to {}", saved.path.display());
                }
            }
            Tag::Input | Tag::Snapshot => {}
        }
        Vec::new()
    }

    fn apply_change(&mut self, change: &ParamsChange) {
        for (name, v) in &change.values {
            let Some(row) = self.params.iter_mut().find(|p| &p.spec.name == name) else {
                continue;
            };
            if change.results.get(name) == Some(&Applied::PendingReboot) {
                row.pending = (*v != row.value).then(|| v.clone());
            } else {
                row.value = v.clone();
                row.pending = None;
            }
        }
    }

    /// An event from the engine.
    pub fn on_event(&mut self, n: Notification) -> Vec<Request> {
        self.tick = n.tick;
        let tick = n.tick;
        match n.event {
            Event::Params { how, change } => {
                self.revision = change.revision;
                self.apply_change(&change);
                let changes: Vec<String> = change
                    .values
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let how = match how {
                    ParamsHow::Changed => "changed",
                    ParamsHow::Reset => "reset",
                    ParamsHow::Loaded => "loaded",
                };
                let by = change.by.map_or("?".to_owned(), |b| b.to_string());
                self.push_log(format!(
                    "[{tick}] params {how} by client {by}: {}",
                    changes.join(" ")
                ));
            }
            Event::Paused => {
                self.paused = true;
                self.push_log(format!("[{tick}] paused"));
            }
            Event::Resumed => {
                self.paused = false;
                self.push_log(format!("[{tick}] resumed"));
            }
            Event::Rebooted(r) => {
                self.push_log(format!(
                    "[{tick}] rebooted ({})",
                    if r.progress == advkit_ipc::api::Progress::Keep {
                        "progress kept"
                    } else {
                        "fresh"
                    }
                ));
                return vec![req(Tag::ParamsList, method::PARAMS_LIST, NoParams {})];
            }
            Event::Lagged { missed } => self.push_log(format!("[{tick}] missed {missed} events")),
            Event::Rebooting { .. } | Event::Stepped { .. } | Event::Tick => {}
            Event::Log { message } => self.push_log(format!("[{tick}] {message}")),
            Event::World { kind, data } if kind == "event" => {
                self.push_log(format!("[{tick}] world: {}", compact(&data)))
            }
            other => {
                let (topic, kind, _) = other.encode(tick);
                self.push_log(format!("[{tick}] {topic} {kind}"));
            }
        }
        Vec::new()
    }

    fn connected(&self) -> bool {
        self.conn == Conn::Connected
    }

    /// A key press; returns the requests it causes.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Request> {
        match &mut self.modal {
            Modal::Help => {
                self.modal = Modal::None;
                return Vec::new();
            }
            Modal::ConfirmFresh { .. } => {
                let yes = matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y'));
                self.modal = Modal::None;
                if yes {
                    return vec![req(
                        Tag::FreshConfirmed,
                        method::REBOOT,
                        RebootParams {
                            keep_progress: false,
                            confirm: true,
                        },
                    )];
                }
                self.status = "fresh reboot cancelled".into();
                return Vec::new();
            }
            Modal::ConfirmRecord => {
                self.modal = Modal::None;
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    self.record_ask = Some(RecordAsk::Start(crate::recorder::Start::Fresh));
                } else {
                    self.status = "not recording".into();
                }
                return Vec::new();
            }
            Modal::Edit { name, buffer } => {
                match key.code {
                    KeyCode::Esc => self.modal = Modal::None,
                    KeyCode::Backspace => {
                        buffer.pop();
                    }
                    KeyCode::Char(c) => buffer.push(c),
                    KeyCode::Enter => {
                        let (name, text) = (name.clone(), buffer.clone());
                        return match self.parse(&name, &text) {
                            Ok(v) => {
                                self.modal = Modal::None;
                                vec![self.set(&name, v)]
                            }
                            Err(e) => {
                                self.status = e;
                                Vec::new()
                            }
                        };
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Modal::Pick {
                name,
                choices,
                index,
            } => {
                match key.code {
                    KeyCode::Esc => self.modal = Modal::None,
                    KeyCode::Up => *index = index.saturating_sub(1),
                    KeyCode::Down => *index = (*index + 1).min(choices.len().saturating_sub(1)),
                    KeyCode::Enter => {
                        let (name, choice) = (name.clone(), choices[*index].clone());
                        self.modal = Modal::None;
                        return vec![self.set(&name, Value::Text(choice))];
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Modal::None => {}
        }
        if self.game_input {
            let button = match key.code {
                KeyCode::Up => "up",
                KeyCode::Down => "down",
                KeyCode::Left => "left",
                KeyCode::Right => "right",
                KeyCode::Char(' ') | KeyCode::Enter => "action",
                KeyCode::Esc | KeyCode::Char('g') => {
                    self.game_input = false;
                    self.status = "keys control the inspector again".into();
                    return Vec::new();
                }
                KeyCode::Char('q') => {
                    self.quit = true;
                    return Vec::new();
                }
                _ => return Vec::new(),
            };
            return vec![req(
                Tag::Input,
                method::INPUT,
                advkit_ipc::api::InputParams {
                    button: button.to_owned(),
                    action: Some("tap".to_owned()),
                },
            )];
        }
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        if key.code == KeyCode::Char('r') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.toggle_recording();
            return Vec::new();
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.modal = Modal::Help,
            KeyCode::Tab => {
                self.focus = match self.focus {
                    Focus::Params => Focus::Frame,
                    Focus::Frame => Focus::Log,
                    Focus::Log => Focus::Params,
                }
            }
            KeyCode::Up if self.focus == Focus::Log => self.log_scroll += 1,
            KeyCode::Down if self.focus == Focus::Log => {
                self.log_scroll = self.log_scroll.saturating_sub(1)
            }
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.params.len().saturating_sub(1))
            }
            KeyCode::Left => return self.adjust(-1, shift),
            KeyCode::Right => return self.adjust(1, shift),
            KeyCode::Enter => return self.edit(),
            KeyCode::Char(' ') => return self.toggle(),
            KeyCode::Char('r') if self.connected() => {
                return vec![req(Tag::Reboot, method::REBOOT, RebootParams::default())];
            }
            // Ask the engine first: its refusal says what a fresh reboot loses.
            KeyCode::Char('R') if self.connected() => {
                return vec![req(
                    Tag::FreshProbe,
                    method::REBOOT,
                    RebootParams {
                        keep_progress: false,
                        confirm: false,
                    },
                )];
            }
            KeyCode::Char('p') if self.connected() => {
                let m = if self.paused {
                    method::RESUME
                } else {
                    method::PAUSE
                };
                return vec![req(Tag::Pause, m, NoParams {})];
            }
            KeyCode::Char('.') if self.connected() => {
                return vec![req(Tag::Step, method::STEP, StepParams { count: 1 })];
            }
            KeyCode::Char('s') if self.connected() => {
                return vec![req(Tag::Save, method::PARAMS_SAVE, NoParams {})];
            }
            KeyCode::Char('S') if self.connected() => {
                return vec![req(
                    Tag::Snapshot,
                    method::SNAPSHOT,
                    advkit_ipc::api::SnapshotParams::default(),
                )];
            }
            KeyCode::Char('g') if self.connected() => {
                self.game_input = true;
                self.status =
                    "game focus: arrows and Space go to the game; g or Esc to leave".into();
            }
            _ => {}
        }
        Vec::new()
    }

    /// Ctrl-R: stops the recording under way, or starts one: from where
    /// the game is when it can save its state, else (asking first) from a
    /// fresh reboot.
    fn toggle_recording(&mut self) {
        if !self.can_record {
            self.status = "recording needs the advkit command (advkit inspect)".into();
        } else if self.recording.is_some() {
            self.record_ask = Some(RecordAsk::Stop);
        } else if !self.connected() {
            self.status = "not connected: nothing to record".into();
        } else if self.can_save {
            self.record_ask = Some(RecordAsk::Start(crate::recorder::Start::FromNow));
        } else {
            self.modal = Modal::ConfirmRecord;
        }
    }

    /// Mouse: wheel moves the selection, a click on a param selects it.
    pub fn handle_mouse(&mut self, m: MouseEvent, screen: Rect) -> Vec<Request> {
        let areas = crate::view::areas(screen);
        let inside = |r: Rect| {
            m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
        };
        match m.kind {
            MouseEventKind::ScrollUp if inside(areas.log) => self.log_scroll += 1,
            MouseEventKind::ScrollDown if inside(areas.log) => {
                self.log_scroll = self.log_scroll.saturating_sub(1)
            }
            MouseEventKind::ScrollUp => self.selected = self.selected.saturating_sub(1),
            MouseEventKind::ScrollDown => {
                self.selected = (self.selected + 1).min(self.params.len().saturating_sub(1));
            }
            MouseEventKind::Down(_) if inside(areas.params) => {
                let row = usize::from(m.row.saturating_sub(areas.params.y + 1));
                if row < self.params.len() {
                    self.selected = row;
                    self.focus = Focus::Params;
                }
            }
            MouseEventKind::Down(_) if inside(areas.frame) => self.focus = Focus::Frame,
            MouseEventKind::Down(_) if inside(areas.log) => self.focus = Focus::Log,
            _ => {}
        }
        Vec::new()
    }

    fn schema(&self) -> Params {
        Params::from_entries(self.params.clone(), self.revision)
    }

    fn parse(&self, name: &str, text: &str) -> Result<Value, String> {
        self.schema().parse(name, text).map_err(|e| e.to_string())
    }

    fn set(&mut self, name: &str, value: Value) -> Request {
        let p = ParamsSetParams {
            name: Some(name.to_owned()),
            value: serde_json::to_value(&value).ok(),
            if_revision: Some(self.revision),
            ..ParamsSetParams::default()
        };
        req(Tag::Set(name.to_owned()), method::PARAMS_SET, p)
    }

    fn current(&self) -> Option<&ParamRow> {
        self.params.get(self.selected)
    }

    /// The value an edit starts from: the pending one if there is one.
    fn shown(row: &ParamRow) -> &Value {
        row.pending.as_ref().unwrap_or(&row.value)
    }

    fn adjust(&mut self, dir: i64, big: bool) -> Vec<Request> {
        if !self.connected() {
            self.status = "not connected: nothing was changed".into();
            return Vec::new();
        }
        let Some(row) = self.current() else {
            return Vec::new();
        };
        let mult = if big { 10 } else { 1 };
        let new = match (&row.spec.kind, Self::shown(row)) {
            (Kind::Float { min, max, step, .. }, v) => {
                let cur = v.as_f64().unwrap_or(*min);
                Value::Float(snap(cur + step * (dir * mult) as f64, *step).clamp(*min, *max))
            }
            (Kind::Int { min, max, step, .. }, v) => {
                let cur = v.as_i64().unwrap_or(*min);
                Value::Int((cur + step * dir * mult).clamp(*min, *max))
            }
            (Kind::Bool, v) => Value::Bool(!v.as_bool().unwrap_or(false)),
            (Kind::Enum { choices }, v) => {
                let i = choices
                    .iter()
                    .position(|c| Some(c.as_str()) == v.as_str())
                    .unwrap_or(0) as i64;
                let n = choices.len() as i64;
                Value::Text(choices[((i + dir).rem_euclid(n.max(1))) as usize].clone())
            }
            (Kind::StringList { .. }, _) => return Vec::new(),
        };
        if &new == Self::shown(row) {
            return Vec::new();
        }
        let name = row.spec.name.clone();
        vec![self.set(&name, new)]
    }

    fn toggle(&mut self) -> Vec<Request> {
        match self.current().map(|r| &r.spec.kind) {
            Some(Kind::Bool) => self.adjust(1, false),
            _ => Vec::new(),
        }
    }

    fn edit(&mut self) -> Vec<Request> {
        if !self.connected() {
            return Vec::new();
        }
        let Some(row) = self.current() else {
            return Vec::new();
        };
        let name = row.spec.name.clone();
        match &row.spec.kind {
            Kind::Bool => return self.adjust(1, false),
            Kind::Enum { choices } => {
                let index = choices
                    .iter()
                    .position(|c| Some(c.as_str()) == Self::shown(row).as_str())
                    .unwrap_or(0);
                self.modal = Modal::Pick {
                    name,
                    choices: choices.clone(),
                    index,
                };
            }
            _ => {
                self.modal = Modal::Edit {
                    name,
                    buffer: Self::shown(row).to_string(),
                };
            }
        }
        Vec::new()
    }

    /// Is this param waiting for a reboot?
    pub fn is_reboot_only(row: &ParamRow) -> bool {
        row.spec.apply == Apply::Reboot
    }
}

/// One thing a fresh reboot would lose, for people: `23, 25`, `none`.
fn lost_value(v: &Json) -> String {
    match v {
        Json::Array(items) if items.is_empty() => "none".to_owned(),
        Json::Array(items) => items.iter().map(show_json).collect::<Vec<_>>().join(", "),
        other => show_json(other),
    }
}

/// `text` with every control character (ESC, BEL, NUL, newlines …) shown
/// as an escape such as `\u{1b}`: an engine's text never reaches the
/// terminal raw, and what ratatui would silently drop stays visible.
pub fn printable(text: &str) -> String {
    if !text.contains(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn compact(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// `value` on the nearest multiple of `step`, written with no more
/// decimals than `step` has: 0.1 + 0.05 is 0.15, not 0.15000000000000002.
pub fn snap(value: f64, step: f64) -> f64 {
    if step.is_nan() || step <= 0.0 || !value.is_finite() {
        return value;
    }
    let on = (value / step).round() * step;
    let decimals = (0..=12)
        .find(|d| {
            let scaled = step * 10f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-9
        })
        .unwrap_or(12);
    let p = 10f64.powi(decimals);
    (on * p).round() / p
}

#[cfg(test)]
mod snap_tests {
    use super::snap;

    #[test]
    fn floats_snap_to_their_step_without_binary_noise() {
        assert_eq!(snap(0.1 + 0.05, 0.05), 0.15);
        assert_eq!(snap(0.15000000000000002, 0.05), 0.15);
        assert_eq!(snap(1.26, 0.25), 1.25);
        assert_eq!(snap(3.0, 1.0), 3.0);
        assert_eq!(snap(0.7, 0.0), 0.7, "no step: unchanged");
    }
}
