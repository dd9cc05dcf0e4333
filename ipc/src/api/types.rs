//! Params and results of the built-in methods, as they travel. Optional
//! members are `Option` or have serde defaults, so every form that worked
//! before these types existed still parses.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use advkit_params::{Applied, Entry, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::schema::MethodSpec;
use super::tier::Tier;

/// A method that takes no params: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoParams {}

/// Where and how the frame region is laid out, in `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FramesInfo {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub slots: u32,
    pub format: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloResult {
    pub protocol: u32,
    pub engine: String,
    pub advkit: String,
    pub build: String,
    pub name: String,
    pub pid: u32,
    pub frames: FramesInfo,
    pub socket: PathBuf,
    pub tcp: Option<SocketAddr>,
    pub topics: Vec<String>,
    pub authenticated: bool,
    /// What this connection may call: `admin` on the Unix socket, the
    /// token's tier over TCP once authenticated.
    #[serde(default)]
    pub tier: Option<Tier>,
    /// The full param schema with values, as in `params.list`.
    pub params: Vec<Entry>,
    pub revision: u64,
    /// The names of every method this engine answers.
    #[serde(default)]
    pub methods: Vec<String>,
}

impl HelloResult {
    /// Whether the engine answers `method`.
    pub fn answers(&self, method: &str) -> bool {
        self.methods.iter().any(|m| m == method)
    }

    /// Whether the game can save its state and load it back (`world.save`
    /// and `world.load`): a recording can start from where it is.
    pub fn can_save(&self) -> bool {
        self.answers(super::method::WORLD_SAVE) && self.answers(super::method::WORLD_LOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthParams {
    pub token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResult {
    pub authenticated: bool,
    /// The tier of the token given (see [`Tier`]).
    #[serde(default)]
    pub tier: Option<Tier>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoverResult {
    pub methods: Vec<MethodSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamsListResult {
    pub revision: u64,
    pub params: Vec<Entry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamsGetParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamValues {
    pub revision: u64,
    pub values: BTreeMap<String, Value>,
}

/// `params.set`: `{name, value}` or `{values: {name: value}}`. With
/// `from_text`, values are strings written as on a command line (`on`,
/// `pixel`, `hero,brave`) and the engine parses them with its own schema,
/// so a tool needs no second round trip to learn the types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamsSetParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `"value": null` is a value (which the param then refuses, by
    /// name), not a missing one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub value: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<BTreeMap<String, Json>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_revision: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_text: bool,
}

impl ParamsSetParams {
    /// The changes asked for, typed against `params`: what the host applies
    /// and what a headless replay applies, the one reading of `params.set`
    /// (`name` and `value`, or a non-empty `values`; with `from_text`,
    /// strings as a person types them). The error says what is wrong.
    pub fn typed(&self, params: &advkit_params::Params) -> Result<Vec<(String, Value)>, String> {
        let changes: Vec<(&String, &Json)> = match (&self.name, &self.value, &self.values) {
            (Some(n), Some(v), None) => vec![(n, v)],
            (None, None, Some(map)) if !map.is_empty() => map.iter().collect(),
            _ => {
                return Err(
                    "params.set takes {\"name\": N, \"value\": V} or {\"values\": {N: V, ...}}"
                        .into(),
                );
            }
        };
        changes
            .into_iter()
            .map(|(name, v)| {
                let value = match (self.from_text, v) {
                    (true, Json::String(text)) => params.parse(name, text),
                    (true, _) => Err(advkit_params::ParamError::Invalid {
                        name: name.clone(),
                        reason: "with from_text, values are strings".into(),
                    }),
                    (false, v) => params.from_json(name, v),
                };
                value
                    .map(|value| (name.clone(), value))
                    .map_err(|e| e.to_string())
            })
            .collect()
    }
}

/// A member that is there, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamsResetParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What `params.set`, `reset` and `load` changed; also the data of their
/// `params` events (with `by`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamsChange {
    pub revision: u64,
    pub results: BTreeMap<String, Applied>,
    pub values: BTreeMap<String, Value>,
    /// The connection that made the change (in events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamsSaved {
    pub path: PathBuf,
    pub saved: usize,
}

/// `data` of −32002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictData {
    pub revision: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseState {
    pub paused: bool,
    pub tick: u64,
    /// Resuming from a tick in the past (after `engine.seek`) started a
    /// new branch: this many ticks of the old future were dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepParams {
    #[serde(default = "one")]
    pub count: u64,
}

impl Default for StepParams {
    fn default() -> StepParams {
        StepParams { count: 1 }
    }
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    pub tick: u64,
    pub paused: bool,
    pub stepped: u64,
    /// Stepping from a tick in the past started a new branch: this many
    /// ticks of the old future were dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsResult {
    pub tick: u64,
    pub fps: f64,
    pub target_fps: f64,
    pub tick_ms_p50: f64,
    pub tick_ms_p99: f64,
    pub frames_published: u64,
    pub paused: bool,
    pub uptime_s: u64,
    pub clients: usize,
    /// What the host keeps for time travel (`engine.history`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryStats>,
}

/// The history in `engine.stats`: on or off (and why), what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryStats {
    pub on: bool,
    /// Why it is off, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How much it keeps at most.
    pub seconds: f64,
    pub max_bytes: u64,
    pub bytes: u64,
    /// Oldest and newest tick held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<[u64; 2]>,
}

/// `engine.history`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryResult {
    /// The oldest tick `engine.seek` can reach.
    pub oldest: u64,
    /// The newest tick the engine ran to (the tip of this branch).
    pub newest: u64,
    /// The tick the engine shows now (below `newest` after a seek back).
    pub now: u64,
    /// Ticks of the game's own `world.save`, every `keyframe_every` ticks.
    pub keyframes: Vec<u64>,
    pub keyframe_every: u64,
    /// Requests logged (inputs, param changes, the game's mutating methods).
    pub requests: u64,
    /// Frame checksums kept, one per tick shown.
    pub frames: u64,
    pub bytes: u64,
    pub max_bytes: u64,
    pub seconds: f64,
    /// Ticks at which watchpoints fired, within the span.
    pub watch_hits: Vec<u64>,
}

/// `engine.seek`'s params: an absolute tick, or one relative to now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeekParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick: Option<u64>,
    /// Ticks from the tick shown now (negative: back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<i64>,
}

/// `engine.seek`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeekResult {
    pub tick: u64,
    /// The keyframe it started from.
    pub keyframe: u64,
    /// Ticks re-simulated from the keyframe.
    pub simulated: u64,
    /// Frames whose checksum was compared with the one shown live.
    pub checked: u64,
    /// The sought tick's frame matched the one shown live.
    pub verified: bool,
    /// Ticks of this branch after `tick`: resuming drops them.
    pub future: u64,
    /// Milliseconds it took.
    pub ms: f64,
    pub paused: bool,
}

/// Data of the error `engine.seek` answers when the past does not replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotDeterministicData {
    /// The first tick whose frame differs from the one shown live.
    pub tick: u64,
    pub expected: u64,
    pub got: u64,
}

/// `engine.run_until`'s params.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunUntilParams {
    pub condition: String,
    #[serde(default = "default_max_ticks")]
    pub max_ticks: u64,
}

fn default_max_ticks() -> u64 {
    100_000
}

/// `engine.run_until`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunUntilResult {
    /// The condition held at `tick`.
    pub found: bool,
    pub tick: u64,
    pub ticks: u64,
    /// What the condition read at `tick`, by term.
    pub values: serde_json::Map<String, Json>,
    /// Ticks per second it ran at.
    pub rate: f64,
    /// Stopped by `engine.pause` before the condition held.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Ticks of the old future dropped, when it started in the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<u64>,
}

/// `engine.watch`'s params: `{"add": COND}`, `{"remove": ID}` or `{}` to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove: Option<u64>,
}

/// One watchpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchInfo {
    pub id: u64,
    pub condition: String,
    pub hits: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_hit: Option<u64>,
}

/// `engine.watch`'s answer: every watchpoint now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchResult {
    pub watches: Vec<WatchInfo>,
    /// The one just added or removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// `world.diff`'s params: two ticks in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffParams {
    pub from: u64,
    pub to: u64,
}

/// One key of the flattened world that differs (`npc:2.tile`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffChange {
    pub key: String,
    /// Absent at `from`: added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Json>,
    /// Absent at `to`: removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Json>,
}

/// `world.diff`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffResult {
    pub from: u64,
    pub to: u64,
    /// Entities at `to` that were not at `from`, and the other way.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Every attribute that differs, in key order.
    pub changes: Vec<DiffChange>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotResult {
    pub tick: u64,
    pub width: u32,
    pub height: u32,
    /// XXH3-64 of the full-size pixels, 16 hex digits.
    pub hash: String,
    pub png_base64: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicsParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicsResult {
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownResult {
    pub stopping: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebootParams {
    #[serde(default = "yes")]
    pub keep_progress: bool,
    #[serde(default)]
    pub confirm: bool,
}

impl Default for RebootParams {
    fn default() -> RebootParams {
        RebootParams {
            keep_progress: true,
            confirm: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Whether a reboot kept the game's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    Keep,
    Discard,
}

/// What a reboot did; also the `rebooted` event's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RebootResult {
    pub tick: u64,
    pub progress: Progress,
    /// Reboot-only params whose pending values took effect.
    pub applied: Vec<String>,
    /// What the game carried over (its own shape); null on a fresh start.
    pub carried: Option<Json>,
    /// The scene (or level) now running, where the game has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<String>,
}

/// `data` of −32003: what a destructive call would throw away, in the
/// game's own words (`{"tile": [3, 4], "flags": ["met_ada"]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmData {
    pub would_lose: BTreeMap<String, Json>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputParams {
    pub button: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputResult {
    pub button: String,
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitiesResult {
    /// Each has at least `id`; the rest is the game's own.
    pub entities: Vec<Json>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityParams {
    pub id: String,
}

/// `world.pick`'s params: a pixel of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickParams {
    pub x: u32,
    pub y: u32,
}

/// `world.save`'s answer and `world.load`'s params: the game's whole
/// state (opaque to advkit) and the tick it was taken at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldState {
    pub tick: u64,
    pub state: Json,
}

/// `world.load`'s params: a state `world.save` gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldLoadParams {
    pub state: Json,
}

/// `world.load`'s answer: the tick the game is at now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldLoaded {
    pub tick: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldSetParams {
    pub id: String,
    pub attrs: serde_json::Map<String, Json>,
}

/// `frames.subscribe`: frames on this connection, the newest only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FramesSubscribeParams {
    /// At most this many frames a second (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fps: Option<f64>,
    /// At most this many frames sent and not yet acknowledged (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<u32>,
    /// Bits kept per colour channel, 1-8 (default 8): a viewer that shows
    /// fewer (the inspector's `--color-bits`) is sent fewer, and far fewer
    /// bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<u8>,
    /// `[width, height]` to send frames at, area-averaged down from the
    /// engine's (at most its size): what the viewer draws, for a slow link.
    /// Default: the engine's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<[u32; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FramesSubscribed {
    pub width: u32,
    pub height: u32,
    pub max_fps: f64,
    pub window: u32,
    pub bits: u8,
    /// The encodings frames may come in: `zstd-rows` (a whole frame),
    /// `zstd-rows-xor` (the XOR with frame `base`), both a row map and the
    /// tight RGBA8 rows it says are sent (docs/protocol.md).
    pub encodings: Vec<String>,
}

/// `frames.ack`: frame `seq` (and every one before it) arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FramesAckParams {
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FramesAcked {
    /// The newest frame acknowledged (0: none).
    pub acked: u64,
}

/// A `frame` notification's params: one encoded frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameMessage {
    /// This connection's frame count, from 1.
    pub seq: u64,
    /// The engine's frame number and the tick it shows.
    pub frame: u64,
    pub tick: u64,
    /// The size sent: the engine's, or the subscription's `size`.
    pub width: u32,
    pub height: u32,
    /// `zstd-rows`: `data` is the whole frame; `zstd-rows-xor`: its XOR
    /// with frame `base` (a `seq` this connection acknowledged).
    pub encoding: String,
    #[serde(default)]
    pub base: Option<u64>,
    /// zstd-compressed bytes, in base64.
    pub data: String,
}
