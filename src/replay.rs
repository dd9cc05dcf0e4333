//! Replaying a scenario through the protocol, for any game on advkit's
//! `Host`: the game is started paused (`ADVKIT_PAUSED=1`) in a private
//! runtime directory, its params are set, and then, tick by tick, the
//! scenario's requests are sent and `engine.step` advances it; each frame
//! is read from the frame region (the reader checks the slot checksum)
//! and hashed as the in-process run hashes it. The loop itself is
//! `advkit_golden::run`, the same for every path; this file is its
//! protocol [`Driver`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use advkit_core::{Frame, Size};
use advkit_golden::{Action, Capture, Driver, Ran, Scenario};
use advkit_ipc::RuntimeDir;
use advkit_ipc::api::{HelloResult, method};
use advkit_ipc::client::Client;
use advkit_ipc::region::{AlignedBuf, FrameReader};
use serde_json::{Value as Json, json};

/// How long a game may take to start and open its socket.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The program to start and where.
#[derive(Debug, Clone)]
pub struct Launch {
    pub command: Vec<String>,
    /// `None`: the replay's private directory, so no params file or other
    /// stray file of the user's working directory is picked up.
    pub cwd: Option<PathBuf>,
}

impl Launch {
    /// The built-in demo: `advkit run` of the given executable, on the
    /// scenario's scene and size (its params are set through the protocol).
    pub fn builtin(advkit: &Path, scene: Option<&Path>, size: Size) -> Launch {
        let mut command = vec![
            advkit.display().to_string(),
            "run".into(),
            "--name".into(),
            "replay".into(),
            "--size".into(),
            format!("{}x{}", size.width, size.height),
        ];
        if let Some(scene) = scene {
            command.extend(["--scene".into(), scene.display().to_string()]);
        }
        Launch { command, cwd: None }
    }
}

/// A game process started for a replay, with its private runtime
/// directory; dropping it stops the game and removes the directory.
#[derive(Debug)]
pub struct Engine {
    child: Child,
    dir: PathBuf,
    client: Client,
    reader: FrameReader,
    buf: AlignedBuf,
    pub hello: HelloResult,
}

impl Engine {
    /// Starts `launch` paused and connects to it.
    pub fn start(launch: &Launch) -> Result<Engine, String> {
        static N: AtomicU64 = AtomicU64::new(0);
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "advkit-replay-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let (program, args) = launch
            .command
            .split_first()
            .ok_or("the scenario's engine command is empty")?;
        let cwd = launch.cwd.clone().unwrap_or_else(|| dir.clone());
        let stderr_path = dir.join("engine.stderr");
        let stderr = fs::File::create(&stderr_path)
            .map_err(|e| format!("cannot create {}: {e}", stderr_path.display()))?;
        let child = Command::new(program)
            .args(args)
            .current_dir(&cwd)
            .env("XDG_RUNTIME_DIR", &dir)
            .env("ADVKIT_PAUSED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                let _ = fs::remove_dir_all(&dir);
                let hint = if e.kind() == std::io::ErrorKind::NotFound {
                    " (build it first, e.g. `cargo build --example life` for the life example, \
                     or fix \"engine\" in the scenario)"
                } else {
                    ""
                };
                format!("cannot start `{program}` in {}: {e}{hint}", cwd.display())
            })?;
        let mut starting = Starting {
            child: Some(child),
            dir: dir.clone(),
        };
        let runtime = RuntimeDir::at(dir.join("advkit"));
        let started = Instant::now();
        // The socket file exists a moment before the engine listens on it:
        // wait until a connection is accepted, not until the file appears.
        let mut client = loop {
            if let Some(name) = runtime
                .engine_names()
                .ok()
                .and_then(|n| n.into_iter().next())
                && let Ok(client) = Client::connect_unix(&runtime.socket_path(&name))
            {
                break client;
            }
            if let Some(status) = starting.child().try_wait().ok().flatten() {
                return Err(format!(
                    "the engine `{}` exited ({status}) before it answered{}",
                    launch.command.join(" "),
                    tail(&stderr_path)
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "the engine `{}` accepted no connection within {} s; is it a game on advkit's Host?{}",
                    launch.command.join(" "),
                    START_TIMEOUT.as_secs(),
                    tail(&stderr_path)
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        client.set_timeout(Duration::from_secs(30));
        let hello: HelloResult = serde_json::from_value(
            client
                .call(method::HELLO, json!({}))
                .map_err(|e| format!("hello: {e}"))?
                .result,
        )
        .map_err(|e| format!("hello answered in an unexpected shape: {e}"))?;
        let reader = FrameReader::open(&hello.frames.path)
            .map_err(|e| format!("cannot open the engine's frames: {e}"))?;
        let buf = reader.buffer();
        Ok(Engine {
            child: starting.child.take().ok_or("engine vanished")?,
            dir,
            client,
            reader,
            buf,
            hello,
        })
    }

    pub fn size(&self) -> Size {
        Size::new(self.hello.frames.width, self.hello.frames.height).unwrap_or(Size::DEFAULT)
    }

    pub fn answers(&self, method: &str) -> bool {
        self.hello.answers(method)
    }

    /// Calls `method` and returns its result, or an error naming it.
    pub fn call(&mut self, method: &str, params: Json) -> Result<Json, String> {
        match self.client.call(method, params) {
            Ok(reply) => Ok(reply.result),
            Err(e) => {
                let e = e.to_string();
                let named = if e.starts_with(method) {
                    e
                } else {
                    format!("{method}: {e}")
                };
                Err(format!("{named}{}", self.exited()))
            }
        }
    }

    /// Advances `count` ticks; returns the tick the engine is on.
    pub fn step(&mut self, count: u64) -> Result<u64, String> {
        let r = self.call(method::STEP, json!({ "count": count }))?;
        r["tick"]
            .as_u64()
            .ok_or_else(|| format!("engine.step answered without a tick: {r}"))
    }

    /// Reads the newest frame (checked against the slot checksum by the
    /// reader) and returns its tick; [`pixels`](Self::pixels) has it.
    pub fn latest(&mut self) -> Result<u64, String> {
        let info = self
            .reader
            .read_latest(&mut self.buf)
            .map_err(|e| format!("reading the frame: {e}"))?;
        Ok(info.tick)
    }

    /// The pixels of the frame [`latest`](Self::latest) read last.
    pub fn pixels(&self) -> &[u8] {
        self.buf.as_slice()
    }

    /// Every entity, as `world.entities` lists them.
    pub fn entities(&mut self) -> Result<Vec<Json>, String> {
        let r = self.call(method::ENTITIES, json!({}))?;
        match r.get("entities") {
            Some(Json::Array(a)) => Ok(a.clone()),
            _ => Err(format!(
                "world.entities answered without a list of entities: {r}"
            )),
        }
    }

    /// ", and the engine exited (status): <last lines of its stderr>" when it did.
    fn exited(&mut self) -> String {
        match self.child.try_wait() {
            Ok(Some(status)) => format!(
                "; the engine exited ({status}){}",
                tail(&self.dir.join("engine.stderr"))
            ),
            _ => String::new(),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.client.call(method::SHUTDOWN, json!({}));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A child not yet connected to: killed and cleaned up if starting fails.
struct Starting {
    child: Option<Child>,
    dir: PathBuf,
}

impl Starting {
    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("present until taken")
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The last lines of an engine's stderr, as "\n  engine said: …".
fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let last = &lines[lines.len().saturating_sub(5)..];
    format!("\n  engine said: {}", last.join("\n  "))
}

/// Loads the scenario's saved state, which must put the game at `tick`.
fn load(engine: &mut Engine, state: &Json, tick: u64) -> Result<(), String> {
    if !engine.answers(method::WORLD_LOAD) {
        return Err(format!(
            "the scenario starts from a saved state, but the game answers no {}; record it \
             from a fresh reboot instead (advkit record without --from-now)",
            method::WORLD_LOAD
        ));
    }
    let loaded = engine
        .call(method::WORLD_LOAD, json!({ "state": state }))
        .map_err(|e| format!("loading the scenario's state: {e}"))?;
    let at = loaded["tick"].as_u64().unwrap_or(0);
    if at != tick {
        return Err(format!(
            "the scenario's state put the game at tick {at}, but its start_tick is {tick}"
        ));
    }
    Ok(())
}

/// The protocol request that does `action`.
pub fn request(action: &Action) -> (&str, Json) {
    match action {
        Action::Reboot { keep_progress } => (
            method::REBOOT,
            json!({"keep_progress": keep_progress, "confirm": true}),
        ),
        Action::Input { button, action } => (
            method::INPUT,
            json!({"button": button.name(), "action": action.name()}),
        ),
        Action::Request { method, params } => (method, params.clone()),
    }
}

/// `engine.input {"action":"press","button":"left"}`, for reports.
pub fn describe(action: &Action) -> String {
    let (name, params) = request(action);
    format!("{name} {params}")
}

/// Runs `scenario` on a game started by `launch`, through the protocol:
/// the one scenario loop (`advkit_golden::run`) on the `Protocol`
/// driver, so it makes the same frames, hashes and captures as
/// [`Scenario::run`] makes in-process for the built-in demo.
pub fn run(
    scenario: &Scenario,
    launch: &Launch,
    states: bool,
    capture: impl FnMut(&Capture, &Frame, &[Json]),
) -> Result<Ran, String> {
    let engine = Engine::start(launch)?;
    let size = engine.size();
    let mut game = Protocol {
        engine,
        frame: Frame::new(size),
        copied: false,
    };
    advkit_golden::run(scenario, &mut game, states, capture)
}

/// A game on advkit's Host, driven through the protocol: a [`Driver`] for
/// the one scenario loop (`advkit_golden::run`).
#[derive(Debug)]
struct Protocol {
    engine: Engine,
    /// The newest frame, once copied out of the reader's buffer.
    frame: Frame,
    copied: bool,
}

impl Driver for Protocol {
    fn start(&mut self, scenario: &Scenario) -> Result<(), String> {
        let engine = &mut self.engine;
        let paused = engine.call(method::PAUSE, json!({}))?;
        let at = paused["tick"].as_u64().unwrap_or(0);
        if at != 0 {
            return Err(format!(
                "the engine had run to tick {at} before it answered; a replay needs it to start \
                 paused at tick 0 (a game on advkit's Host does when ADVKIT_PAUSED=1 is set)"
            ));
        }
        let mut params = scenario.params.clone();
        if let Some(seed) = scenario.seed {
            params.insert("world_seed".into(), json!(seed));
        }
        if !params.is_empty() {
            engine
                .call(method::PARAMS_SET, json!({ "values": params }))
                .map_err(|e| format!("the scenario's params: {e}"))?;
        }
        // engine.step takes at most 10,000 ticks at a time, and the host
        // answers a request within 10 s: steps start at 100 ticks and
        // double while one takes under a second (halve over two), so a slow
        // game that ran for minutes before the recording started is still
        // caught up.
        let (mut at, mut chunk) = (0, 100u64);
        while scenario.state.is_none() && at < scenario.start_tick {
            let started = Instant::now();
            at = engine.step((scenario.start_tick - at).min(chunk))?;
            let took = started.elapsed();
            if took < Duration::from_secs(1) {
                chunk = (chunk * 2).min(10_000);
            } else if took > Duration::from_secs(2) {
                chunk = (chunk / 2).max(1);
            }
        }
        // A fresh world with every param in effect (reboot-only ones too),
        // as the in-process run starts.
        if engine.answers(method::REBOOT) {
            engine
                .call(
                    method::REBOOT,
                    json!({"keep_progress": false, "confirm": true}),
                )
                .map_err(|e| format!("starting fresh: {e}"))?;
        }
        if let Some(state) = &scenario.state {
            load(engine, state, scenario.start_tick)?;
        }
        Ok(())
    }

    fn act(&mut self, tick: u64, action: &Action) -> Result<(), String> {
        let (name, params) = request(action);
        self.engine
            .call(name, params)
            .map(drop)
            .map_err(|e| format!("tick {tick}: {}: {e}", describe(action)))
    }

    fn step(&mut self, tick: u64) -> Result<(), String> {
        let now = self.engine.step(1)?;
        if now != tick + 1 {
            return Err(format!(
                "engine.step from tick {tick} reached tick {now}, not {}",
                tick + 1
            ));
        }
        let shown = self.engine.latest()?;
        if shown != tick + 1 {
            return Err(format!(
                "after stepping to tick {} the newest frame shows tick {shown}; the game must \
                 publish a frame for every step",
                tick + 1
            ));
        }
        self.copied = false;
        Ok(())
    }

    fn frame(&mut self, size: Size) -> Result<&Frame, String> {
        let drawn = self.frame.size();
        if size != drawn {
            return Err(format!(
                "the scenario asks for a {}x{} frame, but the engine draws {}x{}; a frame of \
                 another size needs the built-in engine's in-process run",
                size.width, size.height, drawn.width, drawn.height
            ));
        }
        if !self.copied {
            let pixels = self.engine.pixels();
            if pixels.len() != self.frame.pixels().len() {
                return Err(format!(
                    "the engine's frame is {} bytes, not {}x{}",
                    pixels.len(),
                    drawn.width,
                    drawn.height
                ));
            }
            self.frame.pixels_mut().copy_from_slice(pixels);
            self.copied = true;
        }
        Ok(&self.frame)
    }

    fn world(&mut self) -> Result<Option<Vec<Json>>, String> {
        // A game that lists no entities has no world to compare.
        if !self.engine.answers(method::ENTITIES) {
            return Ok(None);
        }
        self.engine.entities().map(Some)
    }

    fn entities_in_frame(&mut self, _size: Size) -> Result<Vec<Json>, String> {
        self.engine.entities()
    }
}
