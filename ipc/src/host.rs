//! The engine-side API any game loop can embed: bind, declare params,
//! publish frames, drain commands, emit events.
//!
//! ```no_run
//! # use advkit_ipc::host::{Host, HostConfig};
//! # use advkit_core::{Params, Spec};
//! # use std::time::{Duration, Instant};
//! let mut params = Params::new(vec![Spec::float("speed", 0.0, 10.0, 0.5, "px", 2.0)]);
//! let mut host = Host::start(HostConfig::new("mygame", 320, 180)).expect("start");
//! host.sync_params(&params);
//! let mut next = Instant::now();
//! # let pixels = vec![0u8; 320 * 180 * 4];
//! for tick in 0.. {
//!     // ... update and draw ...
//!     host.publish(tick, &pixels).expect("right size");
//!     next += Duration::from_millis(33);
//!     while let Some(cmd) = host.next_command(next) {
//!         if let Some(cmd) = host.handle_params(&mut params, cmd) {
//!             cmd.reply(Err(advkit_ipc::protocol::RpcError::method_not_found("")));
//!         }
//!     }
//! }
//! ```
//!
//! [`Host::next_command`] *waits on the mailbox* until the deadline, so a
//! command is answered within microseconds whatever the tick rate.

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use advkit_core::{Applied, Params, Value as ParamValue};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use crate::protocol::{PROTOCOL_VERSION, RpcError, codes};
use crate::region::{CreateError, FrameWriter, WrongSize};
use crate::runtime::{RuntimeDir, RuntimeError, validate_name};
use crate::server::{self, Command, Shared};
use crate::system;

/// How many requests may wait for the game loop before clients hear "busy".
pub const MAILBOX: usize = 256;
/// Connections beyond this are refused with a clear error.
pub const MAX_CONNECTIONS: usize = 256;

/// What a [`Host`] needs to start.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub name: String,
    pub dir: RuntimeDir,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Reported by `hello`, e.g. `"mygame 1.2"`.
    pub engine: String,
    /// Also listen on TCP (token required).
    pub tcp: Option<SocketAddr>,
    /// Allow a TCP address that is not loopback.
    pub allow_remote: bool,
    /// Where `params.save` / `params.load` go.
    pub params_file: Option<PathBuf>,
    pub max_connections: usize,
}

impl HostConfig {
    pub fn new(name: &str, width: u32, height: u32) -> HostConfig {
        HostConfig {
            name: name.to_owned(),
            dir: RuntimeDir::from_env(),
            width,
            height,
            fps: 30.0,
            engine: format!("advkit-ipc {}", env!("CARGO_PKG_VERSION")),
            tcp: None,
            allow_remote: false,
            params_file: None,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Region(#[from] CreateError),
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "refusing to listen on {addr}, which is not loopback: anyone who can reach it could try the token; \
         add --allow-remote if that is what you want"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("could not listen on {addr}: {source}")]
    Tcp { addr: SocketAddr, source: io::Error },
    #[error("could not start the control server thread: {0}")]
    Thread(io::Error),
}

/// A game's connection to the world: its frame region, control socket
/// and event stream. Dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct Host {
    name: String,
    writer: FrameWriter,
    shared: Arc<Shared>,
    mailbox: Receiver<Command>,
    server: Option<JoinHandle<()>>,
    shutdown: Option<oneshot::Sender<()>>,
    socket_path: PathBuf,
    token_path: Option<PathBuf>,
    tcp_addr: Option<SocketAddr>,
    params_file: Option<PathBuf>,
    started: Instant,
    target_fps: f64,
    paused: bool,
    tick_times: VecDeque<Duration>,
    frame_times: VecDeque<Instant>,
    last_stats: Option<Instant>,
}

impl Host {
    /// Creates the frame region (refusing if an engine of that name lives),
    /// binds `<name>.sock` (mode 0600), optionally TCP with a fresh token,
    /// and starts the server thread.
    pub fn start(cfg: HostConfig) -> Result<Host, HostError> {
        validate_name(&cfg.name)?;
        cfg.dir.create()?;
        // The region's lock makes this engine the owner of the name, so the
        // socket and token files below can be replaced safely.
        let writer = FrameWriter::create(
            &cfg.dir.frames_path(&cfg.name),
            cfg.width,
            cfg.height,
            cfg.fps,
        )?;

        let socket_path = cfg.dir.socket_path(&cfg.name);
        let _ = fs::remove_file(&socket_path);
        let io_err = |what, path: &Path| {
            let path = path.to_owned();
            move |source| HostError::Io { what, path, source }
        };
        let unix = std::os::unix::net::UnixListener::bind(&socket_path)
            .map_err(io_err("bind", &socket_path))?;
        fs::set_permissions(&socket_path, fs::Permissions::from_mode(0o600))
            .map_err(io_err("chmod", &socket_path))?;
        unix.set_nonblocking(true)
            .map_err(io_err("configure", &socket_path))?;

        let (tcp, token, token_path) = match cfg.tcp {
            None => (None, None, None),
            Some(addr) => {
                if !addr.ip().is_loopback() && !cfg.allow_remote {
                    return Err(HostError::NotLoopback { addr });
                }
                let listener = std::net::TcpListener::bind(addr)
                    .map_err(|source| HostError::Tcp { addr, source })?;
                listener
                    .set_nonblocking(true)
                    .map_err(|source| HostError::Tcp { addr, source })?;
                let token = format!("{:016x}{:016x}", system::random_u64(), system::random_u64());
                let path = cfg.dir.token_path(&cfg.name);
                let _ = fs::remove_file(&path);
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io_err("create", &path))?;
                io::Write::write_all(&mut f, format!("{token}\n").as_bytes())
                    .map_err(io_err("write", &path))?;
                (Some(listener), Some(token), Some(path))
            }
        };
        let tcp_addr = tcp.as_ref().and_then(|l| l.local_addr().ok());

        let shared = Arc::new(Shared::new(cfg.max_connections, token));
        let g = writer.geometry();
        *shared.hello.write().unwrap_or_else(|p| p.into_inner()) = json!({
            "protocol": PROTOCOL_VERSION,
            "engine": cfg.engine,
            "advkit": env!("CARGO_PKG_VERSION"),
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "name": cfg.name,
            "pid": system::current_pid(),
            "frames": {
                "path": writer.path(),
                "width": g.width,
                "height": g.height,
                "stride": g.stride,
                "slots": g.slot_count,
                "format": "rgba8",
            },
            "socket": socket_path,
            "tcp": tcp_addr,
            "topics": crate::protocol::TOPICS,
        });

        let (mailbox_tx, mailbox) = sync_channel(MAILBOX);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread_shared = Arc::clone(&shared);
        let server = std::thread::Builder::new()
            .name(format!("advkit-control-{}", cfg.name))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("advkit: control server could not start: {e}");
                        return;
                    }
                };
                rt.block_on(async move {
                    let unix = match tokio::net::UnixListener::from_std(unix) {
                        Ok(l) => l,
                        Err(e) => return eprintln!("advkit: control socket: {e}"),
                    };
                    let tcp = tcp.and_then(|l| tokio::net::TcpListener::from_std(l).ok());
                    server::serve(unix, tcp, thread_shared, mailbox_tx, async {
                        let _ = stop_rx.await;
                    })
                    .await;
                });
            })
            .map_err(HostError::Thread)?;

        let mut host = Host {
            name: cfg.name,
            writer,
            shared,
            mailbox,
            server: Some(server),
            shutdown: Some(stop_tx),
            socket_path,
            token_path,
            tcp_addr,
            params_file: cfg.params_file,
            started: Instant::now(),
            target_fps: cfg.fps,
            paused: false,
            tick_times: VecDeque::with_capacity(512),
            frame_times: VecDeque::with_capacity(512),
            last_stats: None,
        };
        host.refresh_stats();
        Ok(host)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    pub fn frames_path(&self) -> &Path {
        self.writer.path()
    }

    pub fn token_path(&self) -> Option<&Path> {
        self.token_path.as_deref()
    }

    /// The TCP address actually bound (useful with port 0).
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    pub fn params_file(&self) -> Option<&Path> {
        self.params_file.as_deref()
    }

    pub fn tick(&self) -> u64 {
        self.shared.tick()
    }

    /// The tick stamped on replies and events.
    pub fn set_tick(&self, tick: u64) {
        self.shared
            .tick
            .store(tick, std::sync::atomic::Ordering::Relaxed);
    }

    /// Publishes a frame (see [`FrameWriter::publish`]) and updates the
    /// tick and fps statistics.
    pub fn publish(&mut self, tick: u64, pixels: &[u8]) -> Result<u64, WrongSize> {
        let n = self.writer.publish(tick, pixels)?;
        self.set_tick(tick);
        let now = Instant::now();
        if self.frame_times.len() == 512 {
            self.frame_times.pop_front();
        }
        self.frame_times.push_back(now);
        self.maybe_refresh_stats();
        Ok(n)
    }

    /// Records how long one update + render took, for p50/p99 in stats.
    pub fn record_tick_time(&mut self, d: Duration) {
        if self.tick_times.len() == 512 {
            self.tick_times.pop_front();
        }
        self.tick_times.push_back(d);
    }

    /// Tells stats (and `advkit ls`) the nominal rate.
    pub fn set_fps(&mut self, fps: f64) {
        self.target_fps = fps;
        self.writer.set_fps(fps);
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.refresh_stats();
    }

    /// Waits for a command until `deadline`; `None` once it has passed.
    /// Keeps the frame region's heartbeat fresh while waiting.
    pub fn next_command(&mut self, deadline: Instant) -> Option<Command> {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return self.mailbox.try_recv().ok();
            }
            let slice = (deadline - now).min(Duration::from_millis(100));
            match self.mailbox.recv_timeout(slice) {
                Ok(cmd) => return Some(cmd),
                Err(RecvTimeoutError::Timeout) => {
                    self.writer.heartbeat();
                    self.maybe_refresh_stats();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(slice);
                    self.writer.heartbeat();
                }
            }
        }
    }

    /// A command if one is waiting, without blocking.
    pub fn try_command(&mut self) -> Option<Command> {
        self.mailbox.try_recv().ok()
    }

    /// Sends an event to subscribers of `topic` (one of [`crate::protocol::TOPICS`]).
    pub fn emit(&self, topic: &'static str, kind: &str, data: &Value) {
        self.shared.emit(topic, kind, data);
    }

    /// A `log` event with a line of text.
    pub fn log(&self, message: &str) {
        self.emit("log", "line", &json!({"message": message}));
    }

    /// Publishes the param schema and values that `hello`, `params.list`
    /// and `params.get` answer with. Call after every change.
    pub fn sync_params(&self, params: &Params) {
        *self
            .shared
            .params
            .write()
            .unwrap_or_else(|p| p.into_inner()) = params_json(params);
    }

    /// Handles `params.set`, `params.reset`, `params.save` and
    /// `params.load` against `params`, emitting `params` events; returns
    /// any other command for the game to handle.
    pub fn handle_params(&mut self, params: &mut Params, cmd: Command) -> Option<Command> {
        let result = match cmd.method.as_str() {
            "params.set" => self.params_set(params, &cmd.params, cmd.client),
            "params.reset" => self.params_reset(params, &cmd.params, cmd.client),
            "params.save" => self.params_save(params),
            "params.load" => self.params_load(params, cmd.client),
            _ => return Some(cmd),
        };
        cmd.reply(result);
        None
    }

    fn params_set(&self, params: &mut Params, p: &Value, client: u64) -> Result<Value, RpcError> {
        if let Some(want) = p.get("if_revision").and_then(Value::as_u64)
            && want != params.revision()
        {
            return Err(RpcError::new(
                codes::CONFLICT,
                format!(
                    "params changed since revision {want} (now {}); re-read them and try again",
                    params.revision()
                ),
            )
            .with_data(json!({"revision": params.revision()})));
        }
        let mut changes: Vec<(String, &Value)> = Vec::new();
        match (p.get("name"), p.get("value"), p.get("values")) {
            (Some(Value::String(n)), Some(v), None) => changes.push((n.clone(), v)),
            (None, None, Some(Value::Object(map))) if !map.is_empty() => {
                changes.extend(map.iter().map(|(k, v)| (k.clone(), v)));
            }
            _ => {
                return Err(RpcError::invalid_params(
                    "params.set takes {\"name\": N, \"value\": V} or {\"values\": {N: V, ...}}",
                ));
            }
        }
        let typed = changes
            .iter()
            .map(|(name, v)| Ok((name.clone(), params.from_json(name, v)?)))
            .collect::<Result<Vec<(String, ParamValue)>, advkit_core::ParamError>>()
            .map_err(|e| RpcError::invalid_params(e.to_string()))?;
        let applied = params
            .set_many(&typed)
            .map_err(|e| RpcError::invalid_params(e.to_string()))?;
        Ok(self.after_change(params, &typed, &applied, client, "changed"))
    }

    fn params_reset(&self, params: &mut Params, p: &Value, client: u64) -> Result<Value, RpcError> {
        let name = p.get("name").and_then(Value::as_str);
        let reset = params
            .reset(name)
            .map_err(|e| RpcError::invalid_params(e.to_string()))?;
        let typed: Vec<(String, ParamValue)> = reset
            .iter()
            .filter_map(|(n, _)| Some((n.clone(), params.pending(n).or(params.get(n))?.clone())))
            .collect();
        let applied: Vec<Applied> = reset.iter().map(|(_, a)| *a).collect();
        Ok(self.after_change(params, &typed, &applied, client, "reset"))
    }

    fn after_change(
        &self,
        params: &Params,
        typed: &[(String, ParamValue)],
        applied: &[Applied],
        client: u64,
        kind: &str,
    ) -> Value {
        let mut results = Map::new();
        let mut values = Map::new();
        for ((name, value), how) in typed.iter().zip(applied) {
            let how = match how {
                Applied::Applied => "applied",
                Applied::PendingReboot => "pending_reboot",
            };
            results.insert(name.clone(), json!(how));
            values.insert(
                name.clone(),
                serde_json::to_value(value).unwrap_or(Value::Null),
            );
        }
        self.sync_params(params);
        let revision = params.revision();
        self.emit(
            "params",
            kind,
            &json!({"values": values, "results": results, "revision": revision, "by": client}),
        );
        json!({"revision": revision, "results": results, "values": values})
    }

    fn params_save(&self, params: &Params) -> Result<Value, RpcError> {
        let path = self.params_file.as_deref().ok_or_else(no_params_file)?;
        let mut values = Map::new();
        for (spec, value, pending) in params.iter() {
            let v = pending.unwrap_or(value);
            values.insert(
                spec.name.clone(),
                serde_json::to_value(v).unwrap_or(Value::Null),
            );
        }
        let text = serde_json::to_string_pretty(&Value::Object(values)).unwrap_or_default() + "\n";
        write_atomically(path, text.as_bytes()).map_err(|e| {
            RpcError::new(
                codes::FAILED,
                format!("could not write {}: {e}", path.display()),
            )
        })?;
        self.log(&format!("params saved to {}", path.display()));
        Ok(json!({"path": path, "saved": params.specs().len()}))
    }

    fn params_load(&self, params: &mut Params, client: u64) -> Result<Value, RpcError> {
        let path = self.params_file.as_deref().ok_or_else(no_params_file)?;
        let typed = read_params_file(path, params).map_err(|e| RpcError::new(codes::FAILED, e))?;
        let applied = params
            .set_many(&typed)
            .map_err(|e| RpcError::new(codes::FAILED, format!("{}: {e}", path.display())))?;
        Ok(self.after_change(params, &typed, &applied, client, "loaded"))
    }

    fn maybe_refresh_stats(&mut self) {
        if self
            .last_stats
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(200))
        {
            self.refresh_stats();
        }
    }

    fn refresh_stats(&mut self) {
        let now = Instant::now();
        self.last_stats = Some(now);
        let recent = self
            .frame_times
            .iter()
            .filter(|&&t| now.duration_since(t) <= Duration::from_secs(1))
            .count();
        let window = self
            .frame_times
            .iter()
            .find(|&&t| now.duration_since(t) <= Duration::from_secs(1))
            .map_or(Duration::ZERO, |&t| now.duration_since(t));
        let fps = if recent > 1 && !window.is_zero() {
            (recent - 1) as f64 / window.as_secs_f64()
        } else {
            0.0
        };
        let mut times: Vec<Duration> = self.tick_times.iter().copied().collect();
        times.sort();
        let pct = |q: f64| -> f64 {
            if times.is_empty() {
                return 0.0;
            }
            let i = ((times.len() - 1) as f64 * q).round() as usize;
            times[i].as_secs_f64() * 1000.0
        };
        *self.shared.stats.write().unwrap_or_else(|p| p.into_inner()) = json!({
            "tick": self.tick(),
            "fps": (fps * 10.0).round() / 10.0,
            "target_fps": self.target_fps,
            "tick_ms_p50": (pct(0.5) * 1000.0).round() / 1000.0,
            "tick_ms_p99": (pct(0.99) * 1000.0).round() / 1000.0,
            "frames_published": self.writer.frames_published(),
            "paused": self.paused,
            "uptime_s": self.started.elapsed().as_secs(),
        });
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
        let _ = fs::remove_file(&self.socket_path);
        if let Some(token) = &self.token_path {
            let _ = fs::remove_file(token);
        }
        // The FrameWriter removes the region itself.
    }
}

/// `params.list`'s result for a registry: `{revision, params: [spec +
/// value + pending]}`.
pub fn params_json(params: &Params) -> Value {
    let list: Vec<Value> = params
        .iter()
        .map(|(spec, value, pending)| {
            let mut v = serde_json::to_value(spec).unwrap_or(Value::Null);
            v["value"] = serde_json::to_value(value).unwrap_or(Value::Null);
            v["pending"] = serde_json::to_value(pending).unwrap_or(Value::Null);
            v
        })
        .collect();
    json!({"revision": params.revision(), "params": list})
}

fn no_params_file() -> RpcError {
    RpcError::new(
        codes::FAILED,
        "this engine has no params file; start it with --params FILE to save and load params",
    )
}

/// Reads a params file (`{"name": value, ...}`) into typed values, checking
/// every one; nothing is applied here.
pub fn read_params_file(path: &Path, params: &Params) -> Result<Vec<(String, ParamValue)>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?;
    let Value::Object(map) = json else {
        return Err(format!(
            "{}: expected an object of name: value",
            path.display()
        ));
    };
    map.iter()
        .map(|(k, v)| {
            params
                .from_json(k, v)
                .map(|t| (k.clone(), t))
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect()
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("params");
    let tmp = dir.join(format!(".{name}.{}.tmp", system::current_pid()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
