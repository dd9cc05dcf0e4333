//! The inspector's state and how keys, replies and events change it.
//!
//! Nothing here does IO: a key press returns [`Request`]s for the runner to
//! send, and replies and events come back through `on_*` methods. That is
//! what lets TestBackend snapshots cover every screen.

use std::collections::VecDeque;

use advkit_core::{Apply, Kind, Params, Spec, Value};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use serde_json::{Value as Json, json};

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
}

/// One param as the engine reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamRow {
    pub spec: Spec,
    pub value: Value,
    pub pending: Option<Value>,
}

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

fn req(tag: Tag, method: &'static str, params: Json) -> Request {
    Request {
        tag,
        method,
        params,
    }
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
    pub colors: ColorMode,
    /// Arrow keys go to the game.
    pub game_input: bool,
    pub status: String,
    pub quit: bool,
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
            colors,
            game_input: false,
            status: String::new(),
            quit: false,
        }
    }

    pub fn push_log(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    /// A param list as `hello` or `params.list` gives it.
    pub fn set_param_list(&mut self, list: &Json, revision: Option<u64>) {
        let rows: Vec<ParamRow> = list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some(ParamRow {
                            spec: serde_json::from_value(p.clone()).ok()?,
                            value: serde_json::from_value(p.get("value")?.clone()).ok()?,
                            pending: p
                                .get("pending")
                                .and_then(|v| serde_json::from_value(v.clone()).ok()),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.params = rows;
        if let Some(r) = revision {
            self.revision = r;
        }
        self.selected = self.selected.min(self.params.len().saturating_sub(1));
    }

    /// Connected: `hello` carries everything needed to draw the panel.
    pub fn on_hello(&mut self, hello: &Json) {
        self.conn = Conn::Connected;
        self.status.clear();
        if let (Some(w), Some(h)) = (
            hello["frames"]["width"].as_u64(),
            hello["frames"]["height"].as_u64(),
        ) {
            self.frame_size = (w as u32, h as u32);
        }
        self.set_param_list(&hello["params"], hello["revision"].as_u64());
        self.push_log(format!(
            "attached to engine {} ({})",
            self.name,
            hello["engine"].as_str().unwrap_or("?")
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
    pub fn on_reply(&mut self, tag: Tag, result: Result<Json, (i64, String)>) -> Vec<Request> {
        let r = match result {
            Ok(r) => r,
            Err((code, message)) => {
                if tag == Tag::FreshProbe && code == advkit_ipc::protocol::codes::CONFIRM_REQUIRED {
                    // The engine's message ends with protocol advice; here
                    // the answer is a key press.
                    let what = message.split("; call again").next().unwrap_or(&message);
                    self.modal = Modal::ConfirmFresh {
                        what: format!("{what}."),
                    };
                } else {
                    self.status = format!("error: {message}");
                    self.push_log(format!("error: {message}"));
                }
                return Vec::new();
            }
        };
        match tag {
            Tag::Hello => self.on_hello(&r),
            Tag::ParamsList => self.set_param_list(&r["params"], r["revision"].as_u64()),
            Tag::Stats => {
                self.tick = r["tick"].as_u64().unwrap_or(self.tick);
                self.engine_fps = r["fps"].as_f64().unwrap_or(0.0);
                self.paused = r["paused"].as_bool().unwrap_or(false);
            }
            Tag::Set(name) => {
                self.revision = r["revision"].as_u64().unwrap_or(self.revision);
                let how = r["results"][&name].as_str().unwrap_or("applied");
                self.status = if how == "pending_reboot" {
                    format!("{name}: pending until the next reboot (r)")
                } else {
                    format!("{name} set")
                };
                self.apply_values(&r["values"], &r["results"]);
            }
            // The `rebooted` event that follows refreshes the params.
            Tag::Reboot | Tag::FreshConfirmed | Tag::FreshProbe => {
                self.status = format!("rebooted at tick {}", r["tick"]);
            }
            Tag::Pause | Tag::Step => {
                self.paused = r["paused"].as_bool().unwrap_or(self.paused);
                self.tick = r["tick"].as_u64().unwrap_or(self.tick);
            }
            Tag::Save => {
                self.status = format!("params saved to {}", r["path"].as_str().unwrap_or("?"))
            }
            Tag::Input => {}
            Tag::Snapshot => {}
        }
        Vec::new()
    }

    fn apply_values(&mut self, values: &Json, results: &Json) {
        let Some(values) = values.as_object() else {
            return;
        };
        for (name, v) in values {
            let Some(row) = self.params.iter_mut().find(|p| &p.spec.name == name) else {
                continue;
            };
            let Ok(v) = serde_json::from_value::<Value>(v.clone()) else {
                continue;
            };
            if results[name] == "pending_reboot" {
                row.pending = (v != row.value).then_some(v);
            } else {
                row.value = v;
                row.pending = None;
            }
        }
    }

    /// An event notification from the engine.
    pub fn on_event(&mut self, event: &Json) -> Vec<Request> {
        let p = &event["params"];
        if let Some(t) = p["tick"].as_u64() {
            self.tick = t;
        }
        let topic = p["topic"].as_str().unwrap_or("");
        let kind = p["event"].as_str().unwrap_or("");
        let data = &p["data"];
        match (topic, kind) {
            ("params", _) => {
                self.revision = data["revision"].as_u64().unwrap_or(self.revision);
                self.apply_values(&data["values"], &data["results"]);
                let changes: Vec<String> = data["values"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| format!("{k}={}", show(v))).collect())
                    .unwrap_or_default();
                self.push_log(format!(
                    "[{}] params {kind} by client {}: {}",
                    self.tick,
                    data["by"],
                    changes.join(" ")
                ));
            }
            ("engine", "paused") => {
                self.paused = true;
                self.push_log(format!("[{}] paused", self.tick));
            }
            ("engine", "resumed") => {
                self.paused = false;
                self.push_log(format!("[{}] resumed", self.tick));
            }
            ("engine", "rebooted") => {
                self.push_log(format!(
                    "[{}] rebooted ({})",
                    self.tick,
                    if data["progress"] == "keep" {
                        "progress kept"
                    } else {
                        "fresh"
                    }
                ));
                return vec![req(Tag::ParamsList, "params.list", json!({}))];
            }
            ("engine", "lagged") => {
                self.push_log(format!("[{}] missed {} events", self.tick, data["missed"]))
            }
            ("engine", "rebooting" | "stepped") => {}
            ("log", _) => self.push_log(format!(
                "[{}] {}",
                self.tick,
                data["message"].as_str().unwrap_or("")
            )),
            ("world", "event") => {
                self.push_log(format!("[{}] world: {}", self.tick, compact(data)))
            }
            _ => self.push_log(format!("[{}] {topic} {kind}", self.tick)),
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
                        "engine.reboot",
                        json!({"keep_progress": false, "confirm": true}),
                    )];
                }
                self.status = "fresh reboot cancelled".into();
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
                "engine.input",
                json!({"button": button, "action": "tap"}),
            )];
        }
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
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
                return vec![req(
                    Tag::Reboot,
                    "engine.reboot",
                    json!({"keep_progress": true}),
                )];
            }
            // Ask the engine first: its refusal says what a fresh reboot loses.
            KeyCode::Char('R') if self.connected() => {
                return vec![req(
                    Tag::FreshProbe,
                    "engine.reboot",
                    json!({"keep_progress": false}),
                )];
            }
            KeyCode::Char('p') if self.connected() => {
                let m = if self.paused {
                    "engine.resume"
                } else {
                    "engine.pause"
                };
                return vec![req(Tag::Pause, m, json!({}))];
            }
            KeyCode::Char('.') if self.connected() => {
                return vec![req(Tag::Step, "engine.step", json!({"count": 1}))];
            }
            KeyCode::Char('s') if self.connected() => {
                return vec![req(Tag::Save, "params.save", json!({}))];
            }
            KeyCode::Char('S') if self.connected() => {
                return vec![req(Tag::Snapshot, "frame.snapshot", json!({}))];
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
        Params::new(self.params.iter().map(|p| p.spec.clone()).collect())
    }

    fn parse(&self, name: &str, text: &str) -> Result<Value, String> {
        self.schema().parse(name, text).map_err(|e| e.to_string())
    }

    fn set(&mut self, name: &str, value: Value) -> Request {
        let v = serde_json::to_value(&value).unwrap_or(Json::Null);
        req(
            Tag::Set(name.to_owned()),
            "params.set",
            json!({"name": name, "value": v, "if_revision": self.revision}),
        )
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
            return Vec::new();
        }
        let Some(row) = self.current() else {
            return Vec::new();
        };
        let mult = if big { 10 } else { 1 };
        let new = match (&row.spec.kind, Self::shown(row)) {
            (Kind::Float { min, max, step, .. }, v) => {
                let cur = v.as_f64().unwrap_or(*min);
                let next = ((cur + step * (dir * mult) as f64) / step).round() * step;
                Value::Float(next.clamp(*min, *max))
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
                    buffer: show_value(Self::shown(row)),
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

/// A value as a person types it.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::List(items) => items.join(","),
        Value::Text(s) => s.clone(),
        Value::Bool(b) => if *b { "on" } else { "off" }.to_owned(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f}"),
    }
}

fn show(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn compact(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}
