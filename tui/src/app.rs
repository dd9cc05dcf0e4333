//! The inspector's state and how keys, replies and events change it.
//!
//! Nothing here does IO: a key press returns [`Request`]s for the runner to
//! send, and replies and events come back through `on_*` methods. That is
//! what lets TestBackend snapshots cover every screen.

use std::collections::VecDeque;

use advkit_ipc::api::event::{Notification, ParamsHow};
use advkit_ipc::api::{
    ConfirmData, EntitiesResult, Event, HelloResult, NoParams, ParamsChange, ParamsListResult,
    ParamsSaved, PauseState, PickParams, RebootParams, RebootResult, RpcError, StatsResult,
    StepParams, StepResult, WorldSetParams, codes, method,
};
use advkit_ipc::api::{HistoryResult, SeekResult, WatchParams, WatchResult};
use advkit_params::{Applied, Value, show_json};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::entities::{EntitiesAsk, EntitiesPane};
use crate::halfblock::ColorMode;
use crate::keys;
use crate::log::{LOG_TOPICS, LogPane};
use crate::params::{ParamRow, ParamsAsk, ParamsPane};
use crate::picture::FrameView;

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
    /// The side panel: params, or entities (see [`App::side`]).
    Params,
    Frame,
    Log,
}

/// What the side panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Params,
    Entities,
    /// The debugger's watchpoints (`w`).
    Watches,
}

/// What an edit dialog changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Param(String),
    /// A tick to go to (`G`): `1500`, `-120`, `+60`.
    Tick,
    /// A condition to watch.
    Watch,
    /// An entity's attributes (`world.set`), typed as `attr=value`.
    Entity(String),
}

/// Recent figures for the graphs: one sample per stats reply (2 a second)
/// for the engine, one a second for the link; the last minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub fps: VecDeque<f64>,
    pub tick_p50_ms: VecDeque<f64>,
    pub tick_p99_ms: VecDeque<f64>,
    pub link: VecDeque<u64>,
}

const HISTORY: usize = 120;

fn push_capped<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(v);
}

impl History {
    pub fn stats(&mut self, fps: f64, p50: f64, p99: f64) {
        push_capped(&mut self.fps, fps, HISTORY);
        push_capped(&mut self.tick_p50_ms, p50, HISTORY);
        push_capped(&mut self.tick_p99_ms, p99, HISTORY);
    }

    pub fn link(&mut self, bytes_per_sec: u64) {
        push_capped(&mut self.link, bytes_per_sec, HISTORY / 2);
    }
}

/// What decides how a frame is turned into the picture, besides the
/// frame itself and the area: a change means downsampling again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewKey {
    pub zoom: u32,
    pub center: (u32, u32),
    pub cursor: Option<(u16, u16)>,
}

/// What the pixel picker points at, filled in from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picked {
    /// Frame pixel under the cursor.
    pub x: u32,
    pub y: u32,
    pub rgb: [u8; 3],
}

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    None,
    Help,
    /// Typing a value for a param (numbers and string lists), or
    /// `attr=value` for an entity. An error stays in the dialog.
    Edit {
        target: Target,
        buffer: String,
        error: Option<String>,
        /// Sent; waiting for the engine's answer.
        sending: bool,
    },
    /// `/`: typing part of a param's name selects the first that has it.
    Search {
        query: String,
        /// The selection before the search (Esc goes back to it).
        was: usize,
    },
    /// A log entry in full.
    Entry(String),
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

/// What a request is for, so its reply lands in the right place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    Hello,
    ParamsList,
    Stats,
    Set(String),
    Reset(String),
    Entities,
    Pick,
    WorldSet(String),
    Reboot,
    FreshProbe,
    FreshConfirmed,
    Pause,
    Step,
    Save,
    Input,
    Snapshot,
    History,
    Seek,
    Watch,
}

/// A call for the runner to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub tag: Tag,
    pub method: &'static str,
    pub params: Json,
}

pub fn req(tag: Tag, method: &'static str, params: impl Serialize) -> Request {
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
    /// The params panel: rows, revision, selection.
    pub params: ParamsPane,
    pub focus: Focus,
    pub modal: Modal,
    /// The event log: its lines, scroll and filter.
    pub log: LogPane,
    pub side: Side,
    /// The frame alone, on the whole screen (`f`).
    pub fullscreen: bool,
    /// The picture: zoom, pan, the picker and what it picked.
    pub frame: FrameView,
    /// The entity panel: the list, the selection, what the game allows.
    pub entities: EntitiesPane,
    pub history: History,
    pub tick: u64,
    pub engine_fps: f64,
    pub paused: bool,
    pub ui_fps: f64,
    pub bytes_per_sec: u64,
    /// The link as flow control measures it (rate acknowledged, lag).
    pub link: String,
    /// A remote engine's link: frame bytes a second, round trip, frames
    /// skipped (empty for a local engine).
    pub remote: String,
    /// `n` was pressed: the runner moves to the next engine it was given.
    pub next_engine: bool,
    /// The engine is on another machine (`name` is its HOST:PORT).
    pub is_remote: bool,
    /// Fewer bits per colour channel than asked for, while a slow link
    /// holds screens back.
    pub fewer_bits: Option<u8>,
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
    /// The debugger: history, time keys, watchpoints.
    pub timeline: crate::timeline::Timeline,
}

impl App {
    pub fn new(name: &str, colors: ColorMode) -> App {
        App {
            name: name.to_owned(),
            conn: Conn::Connecting,
            params: ParamsPane::default(),
            focus: Focus::Params,
            modal: Modal::None,
            log: LogPane::default(),
            side: Side::Params,
            fullscreen: false,
            frame: FrameView::default(),
            entities: EntitiesPane::default(),
            history: History::default(),
            tick: 0,
            engine_fps: 0.0,
            paused: false,
            ui_fps: 0.0,
            bytes_per_sec: 0,
            link: String::new(),
            remote: String::new(),
            next_engine: false,
            is_remote: false,
            fewer_bits: None,
            colors,
            game_input: false,
            status: String::new(),
            quit: false,
            can_save: false,
            can_record: false,
            recording: None,
            record_ask: None,
            timeline: crate::timeline::Timeline::default(),
        }
    }

    pub fn view_key(&self) -> ViewKey {
        ViewKey {
            zoom: self.frame.zoom,
            center: self.frame.center,
            cursor: self.frame.cursor,
        }
    }

    /// The entity list is on screen (panel or picker): keep it fresh.
    pub fn wants_entities(&self) -> bool {
        self.entities.can_list
            && self.connected()
            && (self.side == Side::Entities
                || (self.focus == Focus::Frame && self.frame.cursor.is_some()))
    }

    /// Asks the game what is at the picked pixel, when it answers
    /// `world.pick` and has not been asked about this pixel yet.
    pub fn pick_request(&mut self) -> Option<Request> {
        let p = self
            .frame
            .picked
            .filter(|_| self.frame.can_pick && self.focus == Focus::Frame)?;
        if self.frame.pick_asked == Some((p.x, p.y)) {
            return None;
        }
        self.frame.pick_asked = Some((p.x, p.y));
        Some(req(
            Tag::Pick,
            method::WORLD_PICK,
            PickParams { x: p.x, y: p.y },
        ))
    }

    /// Adds a line of the inspector's own to the event log.
    pub fn push_log(&mut self, line: String) {
        self.push_log_in("inspector", line);
    }

    /// Adds a line to the event log under `topic`.
    pub fn push_log_in(&mut self, topic: &'static str, line: String) {
        self.log.push(topic, &line);
    }

    /// A param list as `hello` or `params.list` gives it.
    pub fn set_param_list(&mut self, rows: Vec<ParamRow>, revision: u64) {
        self.params.set_list(rows, revision);
    }

    /// Connected: `hello` carries everything needed to draw the panel.
    pub fn on_hello(&mut self, hello: HelloResult) {
        self.conn = Conn::Connected;
        self.status.clear();
        self.frame.size = (hello.frames.width, hello.frames.height);
        self.can_save = hello.can_save();
        self.entities.can_list = hello.answers(method::ENTITIES);
        self.entities.can_set = hello.answers(method::WORLD_SET);
        self.frame.can_pick = hello.answers(method::WORLD_PICK);
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
                    return self.on_error(tag, e);
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
            Tag::History => {
                if let Some(h) = typed::<HistoryResult>(r) {
                    self.timeline.on_history(h);
                }
            }
            Tag::Seek => {
                let done = typed::<SeekResult>(r);
                self.timeline.seek_done(done.map(|s| s.tick));
                if let Some(s) = done {
                    self.close_edit();
                    self.tick = s.tick;
                    self.paused = true;
                    let checked = if s.verified {
                        "its frame matches the live one"
                    } else {
                        "not shown live, not checked"
                    };
                    self.status = format!(
                        "at tick {} ({checked}; {} ms){}",
                        s.tick,
                        s.ms,
                        if s.future > 0 {
                            format!("; {} ahead, dropped on resume", ticks(s.future))
                        } else {
                            String::new()
                        }
                    );
                    return vec![req(Tag::History, method::HISTORY, NoParams {})];
                }
            }
            Tag::Watch => {
                if let Some(w) = typed::<WatchResult>(r) {
                    self.close_edit();
                    self.timeline.on_watches(w);
                }
            }
            Tag::Stats => {
                if let Some(s) = typed::<StatsResult>(r) {
                    self.timeline.tick_rate = s.target_fps;
                    if let Some(h) = &s.history
                        && !h.on
                    {
                        self.timeline.history = None;
                        self.timeline.off = h.reason.clone();
                    }
                    self.tick = s.tick;
                    self.engine_fps = s.fps;
                    self.paused = s.paused;
                    self.history.stats(s.fps, s.tick_ms_p50, s.tick_ms_p99);
                }
            }
            Tag::Entities => {
                if let Some(list) = typed::<EntitiesResult>(r) {
                    self.entities.set_list(list.entities);
                }
            }
            Tag::Pick => self.frame.pick_info = Some(r),
            Tag::WorldSet(id) => {
                self.close_edit();
                self.status = format!("{id} changed");
                return vec![req(Tag::Entities, method::ENTITIES, NoParams {})];
            }
            Tag::Set(name) | Tag::Reset(name) => {
                self.close_edit();
                if let Some(change) = typed::<ParamsChange>(r) {
                    self.status = if change.results.get(&name) == Some(&Applied::PendingReboot) {
                        format!("{name}: pending until the next reboot (r)")
                    } else if change.results.is_empty() {
                        format!("{name} was already at its default")
                    } else {
                        format!("{name} set")
                    };
                    self.params.apply_change(&change);
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

    /// An error reply: in the edit dialog when it came from one, with a
    /// conflict said in words (and the params fetched again).
    fn on_error(&mut self, tag: Tag, e: RpcError) -> Vec<Request> {
        let mut again = Vec::new();
        let text = match &tag {
            Tag::Set(name) | Tag::Reset(name) if e.code == codes::CONFLICT => {
                again.push(req(Tag::ParamsList, method::PARAMS_LIST, NoParams {}));
                format!(
                    "{name} was not changed: another client changed the params first. \
                     The panel now shows their values; try again."
                )
            }
            Tag::Set(name) | Tag::Reset(name) => format!("{name}: {}", e.message),
            Tag::WorldSet(id) => format!("{id}: {}", e.message),
            Tag::Seek => {
                self.timeline.seek_done(None);
                format!("seek: {}", e.message)
            }
            Tag::History => {
                self.timeline.history = None;
                self.timeline.off = Some(e.message.clone());
                return again;
            }
            _ => format!("error: {}", e.message),
        };
        match &mut self.modal {
            Modal::Edit { error, sending, .. } if *sending => {
                *error = Some(text.clone());
                *sending = false;
            }
            _ => self.status = text.clone(),
        }
        self.push_log(text);
        again
    }

    /// The edit dialog's change went through: close it.
    fn close_edit(&mut self) {
        if matches!(self.modal, Modal::Edit { sending: true, .. }) {
            self.modal = Modal::None;
        }
    }

    /// An event from the engine.
    pub fn on_event(&mut self, n: Notification) -> Vec<Request> {
        self.tick = n.tick;
        let tick = n.tick;
        match n.event {
            Event::Params { how, change } => {
                self.params.apply_change(&change);
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
                self.push_log_in(
                    "params",
                    format!(
                        "[{tick}] params {how} by client {by}: {}",
                        changes.join(" ")
                    ),
                );
            }
            Event::Paused => {
                self.paused = true;
                self.push_log_in("engine", format!("[{tick}] paused"));
            }
            Event::Resumed => {
                self.paused = false;
                self.push_log_in("engine", format!("[{tick}] resumed"));
            }
            Event::Rebooted(r) => {
                self.push_log_in(
                    "engine",
                    format!(
                        "[{tick}] rebooted ({})",
                        if r.progress == advkit_ipc::api::Progress::Keep {
                            "progress kept"
                        } else {
                            "fresh"
                        }
                    ),
                );
                return vec![req(Tag::ParamsList, method::PARAMS_LIST, NoParams {})];
            }
            Event::Watch {
                id,
                condition,
                values,
            } => {
                let shown = Json::Object(values);
                let line = format!("[{tick}] watch {id} fired: {condition}  {shown}");
                self.status = format!("watch {id} fired at tick {tick}: {condition} (paused)");
                self.paused = true;
                self.timeline.fired = Some((id, condition, tick));
                self.push_log_in("engine", line);
                return vec![
                    req(Tag::History, method::HISTORY, NoParams {}),
                    req(Tag::Watch, method::WATCH, WatchParams::default()),
                ];
            }
            Event::Seeked { tick: at, future } => {
                self.push_log_in("engine", format!("[{at}] seeked ({} ahead)", ticks(future)));
            }
            Event::Lagged { missed } => {
                self.push_log_in("engine", format!("[{tick}] missed {missed} events"))
            }
            Event::Rebooting { .. } | Event::Stepped { .. } | Event::Tick => {}
            Event::Log { message } => self.push_log_in("log", format!("[{tick}] {message}")),
            // Whole: Enter on it in the log shows all of it.
            Event::World { kind, data } if kind == "event" => {
                self.push_log_in("world", format!("[{tick}] world: {data}"))
            }
            other => {
                let (topic, kind, _) = other.encode(tick);
                let topic = LOG_TOPICS
                    .into_iter()
                    .find(|t| *t == topic)
                    .unwrap_or("engine");
                self.push_log_in(topic, format!("[{tick}] {topic} {kind}"));
            }
        }
        Vec::new()
    }

    fn connected(&self) -> bool {
        self.conn == Conn::Connected
    }

    /// A key press; returns the requests it causes. Each pane finds the
    /// key in its table ([`crate::keys`]), the one the key bar and the
    /// help are drawn from; then time, then the keys that work anywhere.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Request> {
        if let Some(out) = self.modal_key(key) {
            return out;
        }
        if self.game_input {
            return match keys::find(keys::GAME, &key) {
                Some(k) => self.game_key(k),
                // Any other letter, digit or sign goes to the game under
                // its own name (a pygame program's `a`, `1`, `/`…).
                None => match key.code {
                    KeyCode::Char(c)
                        if !key
                            .modifiers
                            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
                    {
                        self.game_key(keys::GameKey::Char(c))
                    }
                    _ => Vec::new(),
                },
            };
        }
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let focused = match self.focus {
            Focus::Params => match self.side {
                Side::Watches => keys::find(keys::WATCHES, &key).map(|k| self.watches_key(k)),
                Side::Entities => keys::find(keys::ENTITIES, &key).map(|k| self.entities_key(k)),
                Side::Params => keys::find(keys::PARAMS, &key).map(|k| self.params_key(k, shift)),
            },
            Focus::Frame => keys::find(keys::FRAME, &key).map(|k| self.frame_key(k, shift)),
            Focus::Log => keys::find(keys::LOG, &key).map(|k| self.log_key(k)),
        };
        if let Some(out) = focused {
            return out;
        }
        if let Some(t) = keys::find(keys::TIME, &key) {
            return self.time_key(t);
        }
        match keys::find(keys::GLOBAL, &key) {
            Some(g) => self.global_key(g),
            None => Vec::new(),
        }
    }

    /// A time key: a seek (or, past the newest tick, a step).
    fn time_key(&mut self, t: keys::Time) -> Vec<Request> {
        if !self.connected() {
            self.status = "not connected: nothing was sent".into();
            return Vec::new();
        }
        if self.timeline.history.is_none() {
            self.status = self
                .timeline
                .off
                .clone()
                .unwrap_or_else(|| "this engine keeps no history (yet)".to_owned());
            return Vec::new();
        }
        // A second of ticks at the rate the engine runs at, not the rate
        // measured (which is 0 while paused, as it is after a seek).
        let rate = if self.timeline.tick_rate > 0.0 {
            self.timeline.tick_rate
        } else {
            self.engine_fps
        };
        let fps = rate.round().max(1.0) as u64;
        self.timeline.time_key(t, fps)
    }

    /// A key that works anywhere.
    fn global_key(&mut self, g: keys::Global) -> Vec<Request> {
        use keys::Global as G;
        if !self.connected() && keys::is_command(g) {
            self.status = "not connected: nothing was sent".into();
            return Vec::new();
        }
        match g {
            G::Quit => self.quit = true,
            G::Help => self.modal = Modal::Help,
            G::FocusNext => self.focus_next(1),
            G::FocusBack => self.focus_next(2),
            G::Full => {
                self.fullscreen = !self.fullscreen;
                if self.fullscreen {
                    self.focus = Focus::Frame;
                }
            }
            G::Entities => {
                if self.side == Side::Entities {
                    self.side = Side::Params;
                } else if !self.connected() {
                    self.status = "not connected: no entities to show".into();
                } else if self.entities.can_list {
                    self.side = Side::Entities;
                    self.focus = Focus::Params;
                    return vec![req(Tag::Entities, method::ENTITIES, NoParams {})];
                } else {
                    self.status = "this game answers no world.entities".into();
                }
            }
            G::Watches => {
                if self.side == Side::Watches {
                    self.side = Side::Params;
                } else {
                    self.side = Side::Watches;
                    self.focus = Focus::Params;
                    return vec![req(Tag::Watch, method::WATCH, WatchParams::default())];
                }
            }
            G::Reboot => {
                return vec![req(Tag::Reboot, method::REBOOT, RebootParams::default())];
            }
            // Ask the engine first: its refusal says what a fresh reboot loses.
            G::FreshReboot => {
                return vec![req(
                    Tag::FreshProbe,
                    method::REBOOT,
                    RebootParams {
                        keep_progress: false,
                        confirm: false,
                    },
                )];
            }
            G::Pause => {
                let m = if self.paused {
                    method::RESUME
                } else {
                    method::PAUSE
                };
                return vec![req(Tag::Pause, m, NoParams {})];
            }
            G::Step => return vec![req(Tag::Step, method::STEP, StepParams { count: 1 })],
            G::SaveParams => return vec![req(Tag::Save, method::PARAMS_SAVE, NoParams {})],
            G::Snapshot => {
                return vec![req(
                    Tag::Snapshot,
                    method::SNAPSHOT,
                    advkit_ipc::api::SnapshotParams::default(),
                )];
            }
            G::GameFocus => {
                self.game_input = true;
                self.status =
                    "game focus: arrows and Space go to the game; g or Esc to leave".into();
            }
            G::GoToTick => {
                if self.timeline.history.is_some() {
                    self.modal = Modal::Edit {
                        target: Target::Tick,
                        buffer: String::new(),
                        error: None,
                        sending: false,
                    };
                } else {
                    self.status = self
                        .timeline
                        .off
                        .clone()
                        .unwrap_or_else(|| "this engine keeps no history (yet)".to_owned());
                }
            }
            G::Record => self.toggle_recording(),
            G::NextEngine => self.next_engine = true,
        }
        Vec::new()
    }

    /// Keys of the watch pane.
    fn watches_key(&mut self, k: keys::WatchKey) -> Vec<Request> {
        match self.timeline.pane_key(k) {
            crate::timeline::PaneKey::Done => Vec::new(),
            crate::timeline::PaneKey::Send(r) => vec![r],
            crate::timeline::PaneKey::Add => {
                self.modal = Modal::Edit {
                    target: Target::Watch,
                    buffer: String::new(),
                    error: None,
                    sending: false,
                };
                Vec::new()
            }
        }
    }

    fn focus_next(&mut self, by: usize) {
        const ORDER: [Focus; 3] = [Focus::Params, Focus::Frame, Focus::Log];
        let at = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ORDER[(at + by) % ORDER.len()];
        if self.focus == Focus::Frame && self.frame.cursor.is_none() && self.frame.image.width > 0 {
            self.frame.cursor = Some((self.frame.image.width / 2, self.frame.image.height / 4));
        }
    }

    /// A key while a dialog is open (`None`: no dialog).
    fn modal_key(&mut self, key: KeyEvent) -> Option<Vec<Request>> {
        match &mut self.modal {
            Modal::None => return None,
            Modal::Help | Modal::Entry(_) => self.modal = Modal::None,
            Modal::ConfirmFresh { .. } => {
                let yes = matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y'));
                self.modal = Modal::None;
                if yes {
                    return Some(vec![req(
                        Tag::FreshConfirmed,
                        method::REBOOT,
                        RebootParams {
                            keep_progress: false,
                            confirm: true,
                        },
                    )]);
                }
                self.status = "fresh reboot cancelled".into();
            }
            Modal::ConfirmRecord => {
                self.modal = Modal::None;
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    self.record_ask = Some(RecordAsk::Start(crate::recorder::Start::Fresh));
                } else {
                    self.status = "not recording".into();
                }
            }
            Modal::Search { query, was } => match key.code {
                KeyCode::Esc => {
                    self.params.select(*was);
                    self.modal = Modal::None;
                }
                KeyCode::Enter => self.modal = Modal::None,
                KeyCode::Backspace => {
                    query.pop();
                }
                KeyCode::Char(c) => {
                    query.push(c);
                    let q = query.clone();
                    self.params.find(&q);
                }
                _ => {}
            },
            Modal::Edit {
                target,
                buffer,
                error,
                sending,
            } => match key.code {
                KeyCode::Esc => self.modal = Modal::None,
                KeyCode::Backspace => {
                    buffer.pop();
                    *error = None;
                }
                KeyCode::Char(c) => {
                    buffer.push(c);
                    *error = None;
                }
                KeyCode::Enter if !*sending => {
                    let (target, text) = (target.clone(), buffer.clone());
                    let sent = match &target {
                        Target::Param(name) => self
                            .params
                            .parse(name, &text)
                            .map(|v| self.params.set(name, v)),
                        Target::Tick => self.timeline.goto(&text),
                        Target::Watch => Ok(crate::timeline::Timeline::add(&text)),
                        Target::Entity(id) => entity_attrs(&text).map(|attrs| {
                            req(
                                Tag::WorldSet(id.clone()),
                                method::WORLD_SET,
                                WorldSetParams {
                                    id: id.clone(),
                                    attrs,
                                },
                            )
                        }),
                    };
                    if let Modal::Edit { error, sending, .. } = &mut self.modal {
                        match sent {
                            Ok(r) => {
                                *sending = true;
                                return Some(vec![r]);
                            }
                            Err(e) => *error = Some(e),
                        }
                    }
                }
                _ => {}
            },
            Modal::Pick {
                name,
                choices,
                index,
            } => match key.code {
                KeyCode::Esc => self.modal = Modal::None,
                KeyCode::Up => *index = index.saturating_sub(1),
                KeyCode::Down => *index = (*index + 1).min(choices.len().saturating_sub(1)),
                KeyCode::Enter => {
                    let (name, choice) = (name.clone(), choices[*index].clone());
                    self.modal = Modal::None;
                    return Some(vec![self.params.set(&name, Value::Text(choice))]);
                }
                _ => {}
            },
        }
        Some(Vec::new())
    }

    fn game_key(&mut self, k: keys::GameKey) -> Vec<Request> {
        let button = match k {
            keys::GameKey::Button(b) => b.to_owned(),
            keys::GameKey::Char(c) => c.to_lowercase().to_string(),
            keys::GameKey::Leave => {
                self.game_input = false;
                self.status = "keys control the inspector again".into();
                return Vec::new();
            }
            keys::GameKey::Quit => {
                self.quit = true;
                return Vec::new();
            }
        };
        vec![req(
            Tag::Input,
            method::INPUT,
            advkit_ipc::api::InputParams {
                button,
                action: Some("tap".to_owned()),
            },
        )]
    }

    /// Keys of the params panel: what it asks for, sent or opened here.
    fn params_key(&mut self, k: keys::ParamsKey, shift: bool) -> Vec<Request> {
        let changes = !matches!(
            k,
            keys::ParamsKey::Up | keys::ParamsKey::Down | keys::ParamsKey::Search
        );
        if changes && !self.connected() {
            self.status = "not connected: nothing was changed".into();
            return Vec::new();
        }
        match self.params.key(k, shift) {
            ParamsAsk::Nothing => Vec::new(),
            ParamsAsk::Send(r) => vec![r],
            ParamsAsk::Open(m) => {
                self.modal = m;
                Vec::new()
            }
        }
    }

    fn entities_key(&mut self, k: keys::EntitiesKey) -> Vec<Request> {
        match self.entities.key(k, self.connected()) {
            EntitiesAsk::Nothing => {}
            EntitiesAsk::Say(what) => self.status = what.into(),
            EntitiesAsk::Change(id) => {
                self.modal = Modal::Edit {
                    target: Target::Entity(id),
                    buffer: String::new(),
                    error: None,
                    sending: false,
                };
            }
        }
        Vec::new()
    }

    /// In frame focus: the picker's cursor, zoom and pan.
    fn frame_key(&mut self, k: keys::FrameKey, shift: bool) -> Vec<Request> {
        if let Some(said) = self.frame.key(k, shift) {
            self.status = said;
        }
        Vec::new()
    }

    fn log_key(&mut self, k: keys::LogKey) -> Vec<Request> {
        if let Some(line) = self.log.key(k) {
            self.modal = Modal::Entry(line);
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
        let areas = crate::view::areas(screen, self);
        let inside = |r: Rect| {
            m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
        };
        match m.kind {
            MouseEventKind::ScrollUp if inside(areas.log) => self.log.wheel(true),
            MouseEventKind::ScrollDown if inside(areas.log) => self.log.wheel(false),
            MouseEventKind::ScrollUp => self.params.up(),
            MouseEventKind::ScrollDown => self.params.down(),
            MouseEventKind::Down(_) if inside(areas.side) && self.side == Side::Params => {
                let row = usize::from(m.row.saturating_sub(areas.side.y + 1));
                if row < self.params.rows.len() {
                    self.params.select(row);
                    self.focus = Focus::Params;
                }
            }
            MouseEventKind::Down(_) if inside(areas.side) => self.focus = Focus::Params,
            MouseEventKind::Down(_) if inside(areas.picture) => {
                self.focus = Focus::Frame;
                self.frame.cursor = Some((m.column - areas.picture.x, m.row - areas.picture.y));
            }
            MouseEventKind::Down(_) if inside(areas.frame) => self.focus = Focus::Frame,
            MouseEventKind::Down(_) if inside(areas.log) => self.focus = Focus::Log,
            _ => {}
        }
        Vec::new()
    }
}

/// `attr=value, attr=value` as `world.set` attributes: each value is
/// JSON when it reads as JSON (`3`, `true`, `[1,2]`, `"x"`), else text.
fn entity_attrs(text: &str) -> Result<serde_json::Map<String, Json>, String> {
    let mut attrs = serde_json::Map::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("`{part}`: write attr=value, for example speed=2"));
        };
        let v = v.trim();
        let value = serde_json::from_str(v).unwrap_or_else(|_| Json::String(v.to_owned()));
        attrs.insert(k.trim().to_owned(), value);
    }
    if attrs.is_empty() {
        return Err("nothing to set: write attr=value, for example speed=2".into());
    }
    Ok(attrs)
}

/// `1 tick`, `3 ticks`.
fn ticks(n: u64) -> String {
    if n == 1 {
        "1 tick".to_owned()
    } else {
        format!("{n} ticks")
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
