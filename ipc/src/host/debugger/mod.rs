//! Time travel, run-until and watchpoints, for any game that answers the
//! standard methods (docs/debugging.md).
//!
//! The host does not own the game, so it drives it through the same
//! three calls every game loop makes. [`Host::next_request`] hands the game
//! requests of the host's own (`world.save` for a keyframe, `world.load`,
//! logged requests again, `world.get` to read what a condition names),
//! whose answers come back to the host instead of a client;
//! [`Host::ticks_due`] grants one tick at a time while a job runs; and
//! `publish` compares a replayed frame's content hash with the one shown
//! live instead of showing it. A seek publishes only the frame it stops at.
//!
//! - here: the debugger's state, the requests it hands the game and the
//!   answers it collects, keyframes and the request log;
//! - [`answers`]: what the game answered to the host's own requests;
//! - [`travel`]: seek and diff;
//! - [`conditions`]: run-until and watchpoints.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use advkit_params::Params;
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;

use super::history::{History, HistoryConfig, Logged};
use super::{Host, Request, Responder};
use crate::api::{
    DiffParams, Event, HistoryResult, HistoryStats, NotDeterministicData, RpcError, codes, method,
};
use crate::debug::{Condition, Sample};
use crate::region::Loan;

mod answers;
mod conditions;
mod travel;
use crate::state::Flat;

/// How long the host waits for the game to answer a request of its own.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(super) struct Debugger {
    pub history: History,
    watches: Vec<Watch>,
    next_watch: u64,
    /// Requests of the host's own, to hand to the game in order.
    asks: VecDeque<Ask>,
    /// Handed out; their answers come back here.
    waiting: Vec<Waiting>,
    job: Option<Job>,
    /// The tick the engine shows.
    pub position: u64,
    /// The last frame number really published.
    pub last_frame: u64,
    keyframe_due: bool,
    /// A frame shown live, waiting for the entities its conditions read.
    sample: Option<Sample>,
    probes_due: bool,
    last_sample: Option<Sample>,
    /// Text of log lines and world events since the last sample, kept
    /// only while a condition reads `log`.
    log: Mutex<Vec<String>>,
    wants_log: bool,
    /// What the game answers, for probes.
    has_get: bool,
    has_entities: bool,
}

#[derive(Debug)]
struct Watch {
    id: u64,
    cond: Condition,
    hits: u64,
    last_hit: Option<u64>,
    /// A probe error already told (once).
    warned: bool,
}

#[derive(Debug)]
struct Ask {
    method: String,
    params: Json,
    purpose: Purpose,
}

#[derive(Debug)]
struct Waiting {
    purpose: Purpose,
    rx: oneshot::Receiver<Result<Json, RpcError>>,
    since: Instant,
}

#[derive(Debug)]
enum Purpose {
    Keyframe {
        params: Box<Params>,
        log_pos: u64,
    },
    /// The state to go back to after a diff, or after a failed seek.
    Return,
    Load,
    Replay {
        method: String,
        tick: u64,
    },
    /// `world.get` of one entity, or `world.entities` (`None`).
    Probe(Option<String>),
}

#[derive(Debug)]
enum Job {
    Travel(Box<Travel>),
    Until(Box<Until>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    SaveReturn,
    Load,
    Run,
    Returning,
}

#[derive(Debug)]
struct ReturnPoint {
    state: Option<Json>,
    params: Params,
    paused: bool,
    position: u64,
}

#[derive(Debug)]
struct Travel {
    diff: Option<DiffParams>,
    target: u64,
    keyframe: u64,
    current: u64,
    cursor: u64,
    delivered_at: Option<u64>,
    captured: BTreeMap<u64, Flat>,
    back: ReturnPoint,
    phase: Phase,
    checked: u64,
    verified: bool,
    failed: Option<RpcError>,
    started: Instant,
    reply: Responder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UntilPhase {
    Baseline,
    Run,
}

#[derive(Debug)]
struct Until {
    cond: Condition,
    max: u64,
    ticks: u64,
    phase: UntilPhase,
    before: Option<Sample>,
    started: Instant,
    dropped: Option<u64>,
    reply: Responder,
}

/// What the loop does next, by the debugger's word.
pub(super) enum Turn {
    /// Hand this request of the host's own to the game.
    Hand(Request),
    /// A job waits for a tick (or for the game's answer): return now.
    Tick,
    /// A job that lets clients in between ticks (run-until) waits for a tick.
    TickServing,
    /// Nothing of the debugger's: serve clients as usual.
    Live,
}

/// What becomes of a frame drawn during a replay.
pub(super) enum Fate {
    Publish,
    Drop,
}

impl Debugger {
    pub fn new(cfg: HistoryConfig, methods: &[String]) -> Debugger {
        let answers = |m: &str| methods.iter().any(|x| x == m);
        let off = if cfg.seconds <= 0.0 {
            Some(
                "history is off for this engine (started with --history 0 / HistoryConfig::history \
                 off); start it with a number of seconds to keep"
                    .to_owned(),
            )
        } else if !(answers(method::WORLD_SAVE) && answers(method::WORLD_LOAD)) {
            Some(
                "this game keeps no history: time travel needs it to answer world.save and \
                 world.load (register them with HostConfig::with_standard, or standard=[...] in \
                 Python, and answer them; docs/debugging.md)"
                    .to_owned(),
            )
        } else {
            None
        };
        Debugger {
            history: History::new(cfg, off),
            watches: Vec::new(),
            next_watch: 1,
            asks: VecDeque::new(),
            waiting: Vec::new(),
            job: None,
            position: 0,
            last_frame: 0,
            keyframe_due: false,
            sample: None,
            probes_due: false,
            last_sample: None,
            log: Mutex::new(Vec::new()),
            wants_log: false,
            has_get: answers(method::WORLD_GET),
            has_entities: answers(method::ENTITIES),
        }
    }

    /// While a seek or diff replays, the game's events are not the live
    /// game's: they are not sent.
    pub fn replaying(&self) -> bool {
        matches!(self.job, Some(Job::Travel(_)))
    }

    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Keeps a log line or world event for conditions that read `log`.
    pub fn note_event(&self, event: &Event) {
        if !self.wants_log {
            return;
        }
        let text = match event {
            Event::Log { message } => message.clone(),
            Event::World { kind, data } => format!("{kind} {data}"),
            _ => return,
        };
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(text);
    }

    pub fn stats(&self) -> HistoryStats {
        let h = &self.history;
        HistoryStats {
            on: h.on(),
            reason: h.off.clone(),
            seconds: h.cfg.seconds,
            max_bytes: h.cfg.max_bytes,
            bytes: h.bytes(),
            span: h.oldest().zip(h.newest()).map(|(a, b)| [a, b]),
        }
    }

    /// The pixels conditions read, from the frame about to be shown.
    pub fn pixels_of(&self, loan: &mut Loan<'_>) -> BTreeMap<(u32, u32), String> {
        let mut out = BTreeMap::new();
        let conds = self.conditions();
        for c in conds {
            for (x, y) in c.pixels() {
                let shown = loan.pixel(x, y).map_or_else(
                    || "outside the frame".to_owned(),
                    |[r, g, b, _]| format!("#{r:02x}{g:02x}{b:02x}"),
                );
                out.insert((x, y), shown);
            }
        }
        out
    }

    fn conditions(&self) -> Vec<&Condition> {
        let mut out: Vec<&Condition> = self.watches.iter().map(|w| &w.cond).collect();
        if let Some(Job::Until(u)) = &self.job {
            out.push(&u.cond);
        }
        out
    }

    fn sampling(&self) -> bool {
        match &self.job {
            Some(Job::Until(u)) => u.phase == UntilPhase::Run,
            Some(Job::Travel(_)) => false,
            None => !self.watches.is_empty(),
        }
    }

    /// A frame about to be shown while a seek or diff replays: its
    /// content hash against the one shown live at that tick.
    pub fn replayed(&mut self, tick: u64, checksum: u64) -> Fate {
        let Some(Job::Travel(t)) = &mut self.job else {
            return Fate::Publish;
        };
        if t.phase != Phase::Run || t.failed.is_some() {
            return Fate::Drop;
        }
        if tick == t.current {
            return Fate::Drop; // a redraw at the same tick (a reboot draws)
        }
        if tick != t.current + 1 {
            t.failed = Some(RpcError::failed(format!(
                "while replaying from tick {}, the game showed tick {tick} after tick {}: a game \
                 must advance one tick per tick granted",
                t.keyframe, t.current
            )));
            return Fate::Drop;
        }
        let live = self.history.frame(tick);
        if let Some(expected) = live
            && expected != checksum
        {
            t.failed = Some(
                RpcError::new(
                    codes::NOT_DETERMINISTIC,
                    format!(
                        "the game is not deterministic: replayed from the keyframe at tick {}, \
                         tick {tick} drew another frame than the one shown live (hash \
                         {checksum:016x}, live {expected:016x}); advkit shows no past it cannot \
                         reproduce. Seed every random source from the game's state and read no \
                         clock (docs/debugging.md)",
                        t.keyframe
                    ),
                )
                .with_data(NotDeterministicData {
                    tick,
                    expected,
                    got: checksum,
                }),
            );
            return Fate::Drop;
        }
        t.current = tick;
        if live.is_some() {
            t.checked += 1;
        }
        if tick == t.target && t.diff.is_none() {
            t.verified = live.is_some();
            Fate::Publish
        } else {
            Fate::Drop
        }
    }

    /// Whether frames shown must be hashed: for the history, or for a
    /// condition that reads `frame`.
    pub fn wants_hashes(&self) -> bool {
        self.history.on() || self.sampling()
    }

    /// Readies a frame about to be drawn: while frames are compared by
    /// content, its rows are hashed as the game puts them, in the cache.
    pub fn prepare(&self, loan: &mut Loan<'_>) {
        if self.wants_hashes() || self.replaying() {
            loan.hash_rows();
        }
    }

    /// A frame shown live at `tick` (or a seek's last frame), with its
    /// content hash when [`wants_hashes`](Self::wants_hashes).
    pub fn shown(
        &mut self,
        tick: u64,
        hash: Option<u64>,
        frame: u64,
        pixels: BTreeMap<(u32, u32), String>,
        fps: f64,
    ) {
        self.last_frame = frame;
        if self.replaying() {
            return;
        }
        if self.history.on() {
            if let Some(newest) = self.history.newest()
                && tick < newest
                && tick != self.position
            {
                // The game went back by itself (a client's world.load):
                // the history no longer leads here.
                self.history.clear();
            }
            if let Some(hash) = hash {
                self.history.record_frame(tick, hash);
            }
            let every = self.history.cfg.keyframe_ticks(fps);
            if self
                .history
                .last_keyframe()
                .is_none_or(|k| tick >= k + every)
            {
                self.keyframe_due = true;
            }
        }
        self.position = tick;
        if self.sampling() && self.sample.as_ref().is_none_or(|s| s.tick != tick) {
            self.sample = Some(Sample {
                tick,
                frame: hash,
                pixels,
                ..Sample::default()
            });
            self.probes_due = true;
        }
    }

    fn ask(&mut self, method: &str, params: Json, purpose: Purpose) {
        self.asks.push_back(Ask {
            method: method.to_owned(),
            params,
            purpose,
        });
    }

    /// Asks for what `conds` read of the world, now.
    fn probe(&mut self, entities: impl IntoIterator<Item = String>) -> Result<(), RpcError> {
        let ids: Vec<String> = entities.into_iter().collect();
        if ids.is_empty() {
            return Ok(());
        }
        if self.has_get {
            for id in ids {
                self.ask(
                    method::WORLD_GET,
                    json!({ "id": id }),
                    Purpose::Probe(Some(id)),
                );
            }
        } else if self.has_entities {
            self.ask(method::ENTITIES, json!({}), Purpose::Probe(None));
        } else {
            return Err(RpcError::new(
                codes::METHOD_NOT_FOUND,
                "a condition on entities needs the game to answer world.get or world.entities",
            ));
        }
        Ok(())
    }
}

fn no_history(h: &History) -> RpcError {
    RpcError::new(
        codes::NO_HISTORY,
        h.off.clone().unwrap_or_else(|| {
            "the history is empty yet: it starts with the first frame".to_owned()
        }),
    )
}

fn busy(job: &Job) -> RpcError {
    let what = match job {
        Job::Travel(t) if t.diff.is_some() => "world.diff is replaying the history",
        Job::Travel(_) => "engine.seek is replaying the history",
        Job::Until(_) => "engine.run_until is running (engine.pause stops it)",
    };
    RpcError::new(codes::BUSY, format!("{what}; try again when it is done"))
}

impl Host {
    /// The debugger's turn at the top of [`Host::next_request`]: collect the
    /// game's answers, hand out the next request of the host's own, move
    /// a job on.
    pub(super) fn debug_turn(&mut self) -> Turn {
        self.drain_applied();
        self.collect_answers();
        if self.debug.replaying() {
            // A long replay shows no frame until its last: readers must
            // still see the engine alive.
            self.writer.heartbeat();
        }
        if !self.debug.waiting.is_empty() {
            return Turn::Tick;
        }
        loop {
            if let Some(ask) = self.debug.asks.pop_front() {
                return Turn::Hand(self.hand(ask));
            }
            if self.debug.keyframe_due && self.debug.history.on() {
                self.debug.keyframe_due = false;
                let purpose = Purpose::Keyframe {
                    params: Box::new(self.params.clone()),
                    log_pos: self.debug.history.next_seq(),
                };
                self.debug.ask(method::WORLD_SAVE, json!({}), purpose);
                continue;
            }
            if self.debug.probes_due {
                self.debug.probes_due = false;
                let ids: std::collections::BTreeSet<String> = self
                    .debug
                    .conditions()
                    .iter()
                    .flat_map(|c| c.entities())
                    .collect();
                if let Err(e) = self.debug.probe(ids) {
                    self.probe_failed(None, &e);
                }
                continue;
            }
            if let Some(sample) = self.debug.sample.take() {
                self.sampled(sample);
                continue;
            }
            return match &self.debug.job {
                None => Turn::Live,
                Some(Job::Until(_)) => {
                    if self.debug.asks.is_empty() && self.debug.waiting.is_empty() {
                        Turn::TickServing
                    } else {
                        continue;
                    }
                }
                Some(Job::Travel(_)) => match self.travel_step() {
                    true => continue,
                    false => match &self.debug.job {
                        Some(Job::Travel(_)) => Turn::Tick,
                        _ => Turn::Live,
                    },
                },
            };
        }
    }

    /// Ticks a job wants now: `Some(1)` for its next tick, `Some(0)` while
    /// it waits for the game, `None` when no job runs.
    pub(super) fn debug_ticks_due(&mut self) -> Option<u64> {
        self.drain_applied();
        let idle = self.debug.asks.is_empty()
            && self.debug.waiting.is_empty()
            && !self.debug.keyframe_due
            && !self.debug.probes_due
            && self.debug.sample.is_none();
        match &self.debug.job {
            None => None,
            Some(Job::Until(u)) => Some(u64::from(idle && u.phase == UntilPhase::Run)),
            Some(Job::Travel(t)) => Some(u64::from(
                idle && t.phase == Phase::Run
                    && t.failed.is_none()
                    && t.delivered_at == Some(t.current)
                    && t.current < t.target,
            )),
        }
    }

    fn hand(&mut self, ask: Ask) -> Request {
        let (tx, rx) = oneshot::channel();
        self.debug.waiting.push(Waiting {
            purpose: ask.purpose,
            rx,
            since: Instant::now(),
        });
        let reply = Responder::new(ask.method.clone(), 0, tx);
        match Request::new(ask.method.clone(), ask.params, reply) {
            Ok(req) => req,
            // Params that were valid when logged always parse again; if
            // not, the game is handed the request untyped.
            Err((reply, _)) => Request::Custom {
                method: ask.method,
                params: Json::Null,
                reply,
            },
        }
    }

    /// Requests of the game's own that clients got applied: the log.
    fn drain_applied(&mut self) {
        let applied = std::mem::take(&mut *self.shared.applied_log());
        for (tick, method, params) in applied {
            if self.debug.history.on() {
                self.branch_if_past();
                self.debug
                    .history
                    .log(tick, Logged::Game { method, params });
            }
        }
    }

    pub(super) fn log_params_change(&mut self) {
        if self.debug.history.on() {
            self.branch_if_past();
            let tick = self.debug.position;
            self.debug
                .history
                .log(tick, Logged::Params(self.params.clone()));
        }
    }

    /// At a tick in the past, the old future goes: this is a new branch.
    /// Returns the ticks dropped, if any.
    pub(super) fn branch_if_past(&mut self) -> Option<u64> {
        if self.debug.replaying() {
            return None;
        }
        let dropped = self.debug.history.branch_at(self.debug.position);
        (dropped > 0).then(|| {
            let msg = format!(
                "a new branch starts at tick {}: {dropped} ticks of the old future were dropped",
                self.debug.position
            );
            self.log(&msg);
            dropped
        })
    }

    fn restore_params(&mut self, p: Params) {
        let revision = self.params.revision() + 1;
        self.params = Params::from_entries(p.entries(), revision);
        self.sync_params();
    }

    fn refresh_wants_log(&mut self) {
        self.debug.wants_log = self.debug.conditions().iter().any(|c| c.reads_log());
        if !self.debug.wants_log {
            self.debug
                .log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        }
    }

    // ---- the methods ----

    pub(super) fn history_info(&self) -> Result<HistoryResult, RpcError> {
        let h = &self.debug.history;
        let (Some(oldest), Some(newest)) = (h.oldest(), h.newest()) else {
            return Err(no_history(h));
        };
        Ok(HistoryResult {
            oldest,
            newest,
            now: self.debug.position,
            keyframes: h.keyframes.iter().map(|k| k.tick).collect(),
            keyframe_every: h.cfg.keyframe_ticks(self.stats.target_fps),
            requests: h.log.len() as u64,
            frames: h.frames.len() as u64,
            bytes: h.bytes(),
            max_bytes: h.cfg.max_bytes,
            seconds: h.cfg.seconds,
            watch_hits: h.hits.iter().copied().collect(),
        })
    }

    /// Whether watchpoints are set (steps then go one tick at a time, so
    /// one can stop them at the tick it fires).
    pub(super) fn watching(&self) -> bool {
        !self.debug.watches.is_empty()
    }
}
