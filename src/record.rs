//! Recording a live session as a golden scenario (`advkit record`), for
//! any game on advkit's `Host`.
//!
//! The recorder starts the engine from a known state (a fresh reboot, or
//! tick 0 of an engine started paused), then listens: the `applied` topic
//! names every request that changed the game's course with the tick the
//! loop applied it at, the `params` topic every param change; and it reads
//! every frame from the frame region, hashing the first frame of each tick
//! (what a headless run hashes after each update). A request stamped tick
//! `t` was applied after frame `t` and before the update to `t + 1`, which
//! is where a scenario's requests at `t` are replayed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use advkit_core::{Compression, Frame, Size, hash_pixels};
use advkit_golden::store::{Goldens, remove_file, write_file, write_png};
use advkit_golden::{Capture, Injected, KeepFrames, Scenario};
use advkit_ipc::api::event::Notification;
use advkit_ipc::api::{Event, HelloResult, RpcError, codes, method};
use advkit_ipc::client::{Client, ClientError};
use advkit_ipc::region::{AlignedBuf, FrameReader};
use serde_json::{Map, Value as Json, json};

use crate::golden::{describe_ranges, diverging_ranges, hashes_text};
use crate::launched::{describe_engine, engine_spec, launched_as, relative_to, scene_arg};

/// The engine string the built-in demo says in `hello`.
const DEMO_ENGINE: &str = "Elmbrook demo engine";

/// A connection to the engine before recording begins.
#[derive(Debug)]
pub struct Start {
    client: Client,
    hello: HelloResult,
    start_tick: Option<u64>,
    /// Wait for the `applied` event of our own reboot before recording.
    own_reboot: bool,
    /// The state `world.save` gave, with `--from-now`.
    state: Option<Json>,
}

impl Start {
    /// Says hello and subscribes to what the recording needs.
    pub fn new(mut client: Client) -> Result<Start, ClientError> {
        let hello: HelloResult =
            serde_json::from_value(client.call(method::HELLO, json!({}))?.result)
                .map_err(|e| ClientError::Protocol(format!("hello: {e}")))?;
        client.call(
            method::SUBSCRIBE,
            json!({"topics": ["params", "applied", "engine"]}),
        )?;
        Ok(Start {
            client,
            hello,
            start_tick: None,
            own_reboot: false,
            state: None,
        })
    }

    /// Starts from where the game is: pauses it for a moment, saves its
    /// state with `world.save` (embedded in the scenario) and lets it run
    /// on if it was running.
    pub fn from_now(&mut self) -> Result<(), ClientError> {
        if !self.hello.can_save() {
            // The game's answer, as if it had been asked.
            return Err(ClientError::Rpc(RpcError::new(
                codes::METHOD_NOT_FOUND,
                format!(
                    "`{}` answers no {} and {}, so it cannot be recorded from where it is; \
                     record from a fresh reboot (without --from-now)",
                    self.hello.name,
                    method::WORLD_SAVE,
                    method::WORLD_LOAD
                ),
            )));
        }
        let running = !self.client.call(method::STATS, json!({}))?.result["paused"]
            .as_bool()
            .unwrap_or(false);
        if running {
            self.client.call(method::PAUSE, json!({}))?;
        }
        let saved = self.client.call(method::WORLD_SAVE, json!({}));
        if running {
            self.client.call(method::RESUME, json!({}))?;
        }
        let saved = saved?.result;
        let tick = saved["tick"].as_u64().ok_or_else(|| {
            ClientError::Protocol(format!(
                "{} answered without a tick: {saved}",
                method::WORLD_SAVE
            ))
        })?;
        // Requests applied before the save are in the state already.
        while let Ok(Some(_)) = self.client.next_event(Some(Duration::ZERO)) {}
        self.start_tick = Some(tick);
        self.state = Some(saved["state"].clone());
        Ok(())
    }

    pub fn engine_name(&self) -> &str {
        &self.hello.name
    }

    /// Reboots the engine fresh (−32003 unless `confirm`, saying what it
    /// throws away). A game that answers no `engine.reboot` can still be
    /// recorded from tick 0, started paused.
    pub fn reboot_fresh(&mut self, confirm: bool) -> Result<(), ClientError> {
        if !self.hello.answers(method::REBOOT) {
            let paused = self.client.call(method::PAUSE, json!({}))?;
            let tick = paused.result["tick"].as_u64().unwrap_or(0);
            if tick != 0 {
                return Err(ClientError::Protocol(format!(
                    "`{}` answers no engine.reboot, so a recording cannot start it afresh at tick {tick}; \
                     start it paused (ADVKIT_PAUSED=1) and record from tick 0",
                    self.hello.name
                )));
            }
            self.start_tick = Some(0);
            return Ok(());
        }
        let r = self.client.call(
            method::REBOOT,
            json!({"keep_progress": false, "confirm": confirm}),
        )?;
        self.start_tick = Some(r.result["tick"].as_u64().unwrap_or(r.tick));
        self.own_reboot = true;
        Ok(())
    }

    /// Reads the params, opens the frame region and starts listening.
    pub fn begin(mut self) -> Result<Recording, ClientError> {
        let start_tick = self
            .start_tick
            .ok_or_else(|| ClientError::Protocol("begin before reboot_fresh".into()))?;
        let values = self.client.call(method::PARAMS_GET, json!({}))?.result["values"].clone();
        let params = match values {
            Json::Object(map) => map,
            other => {
                return Err(ClientError::Protocol(format!(
                    "params.get answered without values: {other}"
                )));
            }
        };
        let reader = FrameReader::open(&self.hello.frames.path)
            .map_err(|e| ClientError::Protocol(format!("cannot open the frames: {e}")))?;
        let buf = reader.buffer();
        // The frame of the start: the reboot's, or tick 0's. The next may
        // be out already; the ring still holds the last three.
        let latest = reader.latest_frame();
        let prev = (latest.saturating_sub(2)..=latest)
            .rev()
            .find_map(|n| reader.peek(n).filter(|i| i.tick == start_tick))
            .map(|i| (i.frame, i.tick));
        let (to_thread, sync_rx) = channel();
        let (tx, events) = channel();
        let listener = std::thread::Builder::new()
            .name("advkit-record-events".into())
            .spawn(move || listen(self.client, &tx, &sync_rx))
            .map_err(ClientError::Io)?;
        Ok(Recording {
            hello: self.hello,
            start_tick,
            params,
            reader,
            buf,
            next: prev.map_or(latest + 1, |(n, _)| n + 1),
            prev,
            events,
            sync: to_thread,
            listener: Some(listener),
            waiting_for_own_reboot: self.own_reboot,
            state: self.state,
            loaded_at: None,
            requests: Vec::new(),
            hashes: Vec::new(),
            frames: BTreeMap::new(),
            last: None,
            every: 60,
            warnings: Vec::new(),
        })
    }
}

/// What the listening thread passes on.
#[derive(Debug)]
enum Heard {
    Event(Notification),
    /// Every event sent before a sync request has been passed on.
    Synced,
    /// The connection ended: empty when the engine closed it, else why.
    Closed(String),
}

/// Passes events on until the connection closes or the receiver goes; on
/// a sync request, makes a round trip so every event the engine sent
/// before it has arrived.
fn listen(mut client: Client, tx: &Sender<Heard>, sync: &Receiver<()>) {
    use std::sync::mpsc::TryRecvError;
    loop {
        let heard = match sync.try_recv() {
            // The recording is over.
            Err(TryRecvError::Disconnected) => return,
            Ok(()) => {
                let _ = client.call(method::STATS, json!({}));
                while let Ok(Some(n)) = client.next_event(Some(Duration::from_millis(1))) {
                    if tx.send(Heard::Event(n)).is_err() {
                        return;
                    }
                }
                Heard::Synced
            }
            Err(TryRecvError::Empty) => match client.next_event(Some(Duration::from_millis(20))) {
                Ok(Some(n)) => Heard::Event(n),
                Ok(None) => continue,
                Err(ClientError::Closed) => Heard::Closed(String::new()),
                Err(e) => Heard::Closed(e.to_string()),
            },
        };
        let closed = matches!(heard, Heard::Closed(_));
        if tx.send(heard).is_err() || closed {
            return;
        }
    }
}

/// Why a recording stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Ticks,
    Signal,
    EngineGone,
    /// Another client loaded a saved state: the game jumped in time.
    Loaded,
}

/// A recording under way.
#[derive(Debug)]
pub struct Recording {
    hello: HelloResult,
    pub start_tick: u64,
    params: Map<String, Json>,
    reader: FrameReader,
    buf: AlignedBuf,
    /// The next frame number to read.
    next: u64,
    /// The last frame read: (number, tick).
    prev: Option<(u64, u64)>,
    events: Receiver<Heard>,
    sync: Sender<()>,
    listener: Option<JoinHandle<()>>,
    waiting_for_own_reboot: bool,
    /// The state recorded from, with `--from-now`.
    state: Option<Json>,
    /// The tick of a `world.load` by another client: the game jumped, so
    /// the recording ends before it.
    loaded_at: Option<u64>,
    requests: Vec<Injected>,
    hashes: Vec<(u64, u64)>,
    /// Frames kept for captures, by tick.
    frames: BTreeMap<u64, Frame>,
    /// The newest first-of-its-tick frame.
    last: Option<(u64, Frame)>,
    every: u64,
    warnings: Vec<String>,
}

/// What [`Recording::write`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub start_tick: u64,
    pub last_tick: u64,
    pub ticks: u64,
    pub requests: usize,
    pub hashes: usize,
    pub captures: usize,
    pub warnings: Vec<String>,
}

impl Recording {
    /// Records until `ticks` ticks have passed, `stop` is set (a signal) or
    /// the engine goes; keeps a frame every `every` ticks for captures.
    pub fn run(
        &mut self,
        ticks: Option<u64>,
        every: u64,
        stop: &AtomicBool,
    ) -> Result<StopReason, String> {
        self.every = every.max(1);
        let until = ticks.map(|n| self.start_tick + n);
        let reason = loop {
            if stop.load(Ordering::Relaxed) {
                break StopReason::Signal;
            }
            if self.loaded_at.is_some() {
                break StopReason::Loaded;
            }
            if let (Some(until), Some((t, _))) = (until, &self.last)
                && *t >= until
            {
                break StopReason::Ticks;
            }
            if self.take_events().is_err() {
                // Frames the engine published before it went still count.
                let _ = self.read_frames(until);
                break StopReason::EngineGone;
            }
            match self
                .reader
                .wait_next(self.next.saturating_sub(1), Duration::from_millis(50))
            {
                Ok(_) => {
                    if self.read_frames(until).is_err() {
                        break StopReason::EngineGone;
                    }
                }
                Err(advkit_ipc::region::ReadError::Timeout { .. }) => {}
                Err(_) => break StopReason::EngineGone,
            }
        };
        if reason != StopReason::EngineGone {
            // Every event sent before the last frame read must be in.
            let _ = self.sync.send(());
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.events.recv_timeout(left) {
                    Ok(Heard::Synced) => break,
                    Ok(Heard::Event(n)) => self.note(n),
                    Ok(Heard::Closed(_)) | Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) => {
                        self.warnings.push(
                            "the engine did not confirm its last events within 5 s; requests of the last moments may be missing"
                                .into(),
                        );
                        break;
                    }
                }
            }
        } else {
            while let Ok(heard) = self.events.try_recv() {
                if let Heard::Event(n) = heard {
                    self.note(n);
                }
            }
        }
        Ok(reason)
    }

    /// Takes the events that have arrived; `Err` once the engine is gone.
    fn take_events(&mut self) -> Result<(), ()> {
        loop {
            match self.events.try_recv() {
                Ok(Heard::Event(n)) => {
                    let gone = n.event == Event::Shutdown;
                    self.note(n);
                    if gone {
                        return Err(());
                    }
                }
                Ok(Heard::Synced) => {}
                Ok(Heard::Closed(why)) => {
                    if !why.is_empty() {
                        self.warnings.push(format!("the connection failed: {why}"));
                    }
                    return Err(());
                }
                Err(_) => return Ok(()),
            }
        }
    }

    fn note(&mut self, n: Notification) {
        let Notification { tick, event } = n;
        match event {
            Event::Applied {
                method: name,
                params,
                ..
            } => {
                if self.waiting_for_own_reboot {
                    if name == method::REBOOT && params["keep_progress"] == json!(false) {
                        self.waiting_for_own_reboot = false;
                    }
                    return;
                }
                if name == method::WORLD_LOAD {
                    self.loaded_at.get_or_insert(tick);
                    return;
                }
                self.requests.push(Injected {
                    tick,
                    method: name,
                    params,
                });
            }
            Event::Params { change, .. } if !self.waiting_for_own_reboot => {
                let values = serde_json::to_value(&change.values).unwrap_or_default();
                self.requests.push(Injected {
                    tick,
                    method: method::PARAMS_SET.into(),
                    params: json!({ "values": values }),
                });
            }
            Event::Lagged { missed } => self.warnings.push(format!(
                "{missed} event(s) were dropped because the recorder read too slowly; \
                 the recording may miss requests"
            )),
            _ => {}
        }
    }

    /// Reads every frame published since the last call.
    fn read_frames(&mut self, until: Option<u64>) -> Result<(), ()> {
        let latest = self.reader.latest_frame();
        while self.next <= latest {
            let n = self.next;
            self.next += 1;
            let info = match self.reader.read_frame(n, &mut self.buf) {
                Ok(Some(info)) => info,
                Ok(None) => {
                    // Overwritten before it was read: the next frame cannot
                    // be known to be the first of its tick.
                    self.prev = None;
                    continue;
                }
                Err(_) => return Err(()),
            };
            let first_of_tick = self
                .prev
                .is_some_and(|(pn, pt)| pn + 1 == n && pt < info.tick);
            self.prev = Some((n, info.tick));
            // A tick at or before the last one hashed is the game jumping
            // back (a `world.load`), never a new tick.
            let newer = self.hashes.last().is_none_or(|(t, _)| info.tick > *t);
            if !first_of_tick || !newer || info.tick <= self.start_tick {
                continue;
            }
            let pixels = self.buf.as_slice();
            self.hashes.push((info.tick, hash_pixels(pixels)));
            let Some(frame) = Frame::from_pixels(self.size(), pixels.to_vec()) else {
                continue;
            };
            if (info.tick - self.start_tick).is_multiple_of(self.every) {
                self.frames.insert(info.tick, frame.clone());
            }
            self.last = Some((info.tick, frame));
            if until.is_some_and(|u| info.tick >= u) {
                break;
            }
        }
        Ok(())
    }

    fn size(&self) -> Size {
        Size::new(self.hello.frames.width, self.hello.frames.height).unwrap_or(Size::DEFAULT)
    }

    /// Writes the scenario to `out` and its goldens (captures and
    /// `hashes.txt`) to `golden`, replacing an earlier recording's. The
    /// scenario keeps `keep_frames`; [`verify`]'s replay writes them.
    pub fn write(
        &mut self,
        out: &Path,
        golden: &Path,
        description: Option<&str>,
        keep_frames: KeepFrames,
    ) -> Result<Written, String> {
        if let Some(at) = self.loaded_at {
            // Nothing after the load can be replayed: end at the last
            // frame kept before it.
            self.last = self
                .frames
                .range(..=at)
                .next_back()
                .map(|(t, f)| (*t, f.clone()));
            self.frames.retain(|t, _| *t <= at);
            self.warnings.push(format!(
                "another client loaded a saved state ({}) at tick {at}, so the game jumped in time; \
                 the recording ends at tick {} (the last kept frame before it)",
                method::WORLD_LOAD,
                self.last.as_ref().map_or(self.start_tick, |(t, _)| *t)
            ));
        }
        let Some((last_tick, last_frame)) = self.last.clone() else {
            return Err(format!(
                "nothing to write: no frame after tick {} was published while recording \
                 (a paused engine records nothing until it is stepped or resumed)",
                self.start_tick
            ));
        };
        // Requests at the last tick would shape frames not recorded.
        let requests: Vec<Injected> = self
            .requests
            .iter()
            .filter(|r| r.tick >= self.start_tick && r.tick < last_tick)
            .cloned()
            .collect();
        let mut frames = self.frames.clone();
        frames.insert(last_tick, last_frame);
        let scenario_dir = out.parent().unwrap_or(Path::new("."));
        let mut scenario = Scenario {
            description: description.map_or_else(
                || {
                    format!(
                        "Recorded from `{}` ({}), ticks {} to {last_tick}.",
                        self.hello.name, self.hello.engine, self.start_tick
                    )
                },
                str::to_owned,
            ),
            engine: None,
            scene: None,
            seed: None,
            size: (self.size() != Size::DEFAULT)
                .then(|| format!("{}x{}", self.size().width, self.size().height)),
            params: self.params.clone(),
            start_tick: self.start_tick,
            state: self.state.clone(),
            inputs: Vec::new(),
            reboots: Vec::new(),
            requests,
            tolerance: Default::default(),
            mask: Vec::new(),
            record_hashes: true,
            check_world: false,
            keep_frames: Some(keep_frames),
            captures: frames
                .keys()
                .map(|t| Capture {
                    name: format!("tick-{t}"),
                    tick: *t,
                    size: None,
                    tolerance: None,
                    mask: Vec::new(),
                    xfail: None,
                })
                .collect(),
        };
        let launched = launched_as(self.hello.pid);
        if self.hello.engine.contains(DEMO_ENGINE) {
            scenario.scene = launched
                .as_ref()
                .and_then(|(args, cwd)| scene_arg(args, cwd))
                .map(|scene| relative_to(&scene, scenario_dir).display().to_string());
        } else {
            let (command, cwd) = launched.ok_or_else(|| {
                format!(
                    "cannot read how pid {} was started (/proc/{}/cmdline); add \"engine\": \
                     {{\"command\": [...]}} to the scenario by hand",
                    self.hello.pid, self.hello.pid
                )
            })?;
            scenario.engine = Some(engine_spec(command, &cwd, scenario_dir));
            let spec = scenario
                .engine
                .as_ref()
                .map(describe_engine)
                .unwrap_or_default();
            self.warnings.push(format!(
                "the scenario starts the game as {spec} (from the scenario's directory); edit \
                 \"engine\" in {} if that is not how it starts elsewhere",
                out.display()
            ));
        }
        let text = serde_json::to_string_pretty(&scenario).map_err(|e| e.to_string())? + "\n";
        // Whatever is written must read back as a scenario.
        Scenario::parse(&out.display().to_string(), &text).map_err(|e| e.to_string())?;
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        // An earlier recording's goldens would be stale.
        let _ = fs::remove_dir_all(golden);
        fs::create_dir_all(golden)
            .map_err(|e| format!("cannot create {}: {e}", golden.display()))?;
        let goldens = Goldens::at(golden);
        for (tick, frame) in &frames {
            write_png(
                &goldens.capture(&format!("tick-{tick}")),
                frame,
                Compression::Best,
            )?;
        }
        let hashes: Vec<(u64, u64)> = self
            .hashes
            .iter()
            .copied()
            .filter(|(t, _)| *t <= last_tick)
            .collect();
        // The states and kept frames are the verifying replay's
        // ([`verify`]): they belong to these hashes only once it agrees.
        write_file(
            &goldens.sequence(false).hashes,
            hashes_text(&hashes).as_bytes(),
        )?;
        fs::write(out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        let ticks = last_tick - self.start_tick;
        if (hashes.len() as u64) < ticks {
            self.warnings.push(format!(
                "{} of {ticks} tick(s) have no recorded hash (frames the engine did not publish, \
                 or published faster than they could be read); those ticks are not compared",
                ticks - hashes.len() as u64
            ));
        }
        Ok(Written {
            start_tick: self.start_tick,
            last_tick,
            ticks,
            requests: scenario.requests.len(),
            hashes: hashes.len(),
            captures: frames.len(),
            warnings: self.warnings.clone(),
        })
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        // The listener ends when its channels are gone (within 20 ms).
        let (_, dead) = channel();
        drop(std::mem::replace(&mut self.events, dead));
        let (dead, _) = channel();
        drop(std::mem::replace(&mut self.sync, dead));
        if let Some(t) = self.listener.take() {
            let _ = t.join();
        }
    }
}

/// Replays the scenario at `path` headless twice and compares the frame
/// hashes with each other and with the recorded ones in
/// `golden/hashes.txt`: the number of hashes compared, or where the
/// replays diverged, after what, and whether the game disagrees with
/// itself (two replays differ: it reads the clock or unseeded randomness)
/// or only with the live session. When all match, the replay's world
/// states (what `world.entities` lists after each tick, for a game that
/// answers it) are written beside them as `states.jsonl`, for divergence
/// reports later.
pub fn verify(path: &Path, golden: &Path) -> Result<usize, VerifyError> {
    replay_twice(path, golden).map_err(VerifyError::CouldNot)?
}

/// Why a recording did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Two headless replays disagree with each other: the game reads the
    /// clock or unseeded randomness.
    Nondeterministic(String),
    /// Two replays agree, but not with the live session.
    DiffersFromLive(String),
    /// The replay could not run (the engine did not start, a file…).
    CouldNot(String),
}

impl VerifyError {
    /// What happened, in a word: `nondeterministic`, `differs from the
    /// live session`, `could not verify`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::Nondeterministic(_) => "nondeterministic",
            VerifyError::DiffersFromLive(_) => "differs from the live session",
            VerifyError::CouldNot(_) => "could not verify",
        }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Nondeterministic(m)
            | VerifyError::DiffersFromLive(m)
            | VerifyError::CouldNot(m) => f.write_str(m),
        }
    }
}

/// [`verify`]'s work: `Err` when it could not run at all, else its verdict.
fn replay_twice(path: &Path, golden: &Path) -> Result<Result<usize, VerifyError>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let scenario =
        Scenario::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?;
    let base = path.parent().unwrap_or(Path::new("."));
    let launch = scenario
        .engine
        .as_ref()
        .map(|engine| crate::golden::launch(engine, base))
        .transpose()?;
    let scene = match launch {
        Some(_) => advkit_core::Scene::builtin(),
        None => crate::golden::scene_for(&scenario, base)?,
    };
    let replay =
        || crate::golden::run_scenario(&scenario, &scene, launch.as_ref(), true, |_, _, _| {});
    let ran = replay()?;
    let again = replay()?;
    let blessed = Goldens::at(golden).sequence(false);
    let recorded = blessed
        .read_hashes()?
        .ok_or_else(|| format!("{} is missing", blessed.hashes.display()))?;
    let itself = diverging_ranges(&ran.hashes, &again.hashes);
    let live = diverging_ranges(&recorded, &ran.hashes);
    if itself.is_empty() && live.is_empty() {
        // The replay drew the live frames: its world and frames are the
        // recording's.
        let states = crate::state::log_text(&crate::state::flatten_each(&ran.states));
        blessed.write(&recorded, &states, &ran.kept)?;
        return Ok(Ok(recorded.len()));
    }
    // Neither the states nor the frames of a replay that differs belong
    // to these hashes.
    remove_file(&blessed.states)?;
    remove_file(&blessed.frames)?;
    Ok(Err(if let Some(&(first, _)) = itself.first() {
        VerifyError::Nondeterministic(format!(
            "two headless replays of the recording disagree with each other at tick(s) {}; the \
             first is tick {first}; last applied before it: {}. The game is not deterministic: \
             it may read the clock or unseeded randomness, so no recording of it replays",
            describe_ranges(&itself),
            crate::golden::applied_before(&scenario, first)
        ))
    } else {
        let first = live[0].0;
        VerifyError::DiffersFromLive(format!(
            "replayed headless (twice, alike), the recording differs from the live session at \
             tick(s) {}; the first is tick {first}; last applied before it: {}. The game may \
             handle a request at another tick than its `applied` event says, or the live run \
             depended on something the recording does not hold (the clock, a file)",
            describe_ranges(&live),
            crate::golden::applied_before(&scenario, first)
        ))
    }))
}
