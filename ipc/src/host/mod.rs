//! The engine-side API any game loop embeds: one call to start, and the
//! host answers every generic method itself — `hello`, `auth`,
//! `rpc.discover`, `params.*`, pause, resume, step, stats,
//! `frame.snapshot`, events and shutdown. The game handles only what is
//! its own ([`Request`]): reboot, input, entities, and the methods it
//! registers.
//!
//! ```no_run
//! use advkit_ipc::{Host, HostConfig, Request};
//! use advkit_params::{Params, Spec};
//! use std::time::Instant;
//!
//! let params = Params::new(vec![Spec::float("speed", 0.0, 10.0, 0.5, "px", 2.0)]);
//! let mut host = Host::start(HostConfig::new("mygame", 320, 180).with_params(params))?;
//! let (mut tick, mut pixels) = (0, vec![0u8; 320 * 180 * 4]);
//! let mut deadline = Instant::now();
//! while host.running() {
//!     while let Some(req) = host.next_request(deadline) {
//!         req.unsupported(); // this game registered no methods of its own
//!     }
//!     for _ in 0..host.ticks_due() {
//!         tick += 1; // update with host.params() …
//!     }
//!     // draw into `pixels` …
//!     host.publish(tick, &pixels)?;
//!     deadline = host.next_deadline(deadline);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Host::next_request`] *waits on the mailbox* until the deadline, so a
//! command is answered within microseconds whatever the tick rate.
//! `docs/embedding.md` walks through a whole game.

mod config;
mod debugger;
mod frame;
mod history;
mod params;
mod request;
mod snapshot;
mod stats;
mod steps;

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use advkit_params::Params;
use tokio::sync::oneshot;

use crate::api::schema;
use crate::api::{
    Event, FramesInfo, HelloResult, PROTOCOL_VERSION, PauseState, RpcError, ShutdownResult,
    StepParams, Tier, Topic, codes, method,
};
use crate::region::{FrameWriter, WrongSize};
use crate::runtime::validate_name;
use crate::server::{self, Command, Mailbox, Shared, parse};
use crate::system;

pub use config::{HostConfig, HostError, read_token_file};
pub use frame::HostFrame;
use frame::{AfterPublish, Stepping};
pub use history::HistoryConfig;
pub use params::{read_params_file, write_atomically};
pub use request::{Request, Responder};

/// Ends a [`Host::next_request`] wait from another thread (see
/// [`Host::waker`]). A wake sent while the host is not waiting ends its
/// next wait. Wakes do not pile up: while one is on its way, more are
/// nothing (so they never take the clients' room in the mailbox); one
/// sent after the host closed is dropped.
#[derive(Debug, Clone)]
pub struct Waker {
    mailbox: Mailbox,
    on_its_way: Arc<AtomicBool>,
}

impl Waker {
    pub fn wake(&self) {
        if !self.on_its_way.swap(true, Ordering::AcqRel)
            && self.mailbox.try_send(Command::wake()).is_err()
        {
            self.on_its_way.store(false, Ordering::Release);
        }
    }

    /// The host took the wake out of its mailbox.
    fn arrived(&self) {
        self.on_its_way.store(false, Ordering::Release);
    }
}

/// How many requests may wait for the game loop before clients hear "busy".
pub const MAILBOX: usize = 256;

/// A game's connection to the world: its frame region, control socket,
/// params and event stream. Dropping it stops the server and removes its
/// files.
#[derive(Debug)]
pub struct Host {
    name: String,
    writer: FrameWriter,
    shared: Arc<Shared>,
    mailbox: Receiver<Command>,
    waker: Waker,
    server: Option<JoinHandle<()>>,
    shutdown: Option<oneshot::Sender<()>>,
    socket_path: PathBuf,
    token_path: Option<PathBuf>,
    /// Device and inode of the socket and token files as made: on exit
    /// the host removes them only if they are still its own (another
    /// engine may have taken the name while this one's region was gone).
    own_files: Vec<(PathBuf, (u64, u64))>,
    tcp_addr: Option<SocketAddr>,
    params_file: Option<PathBuf>,
    params: Params,
    paused: bool,
    /// `engine.step` calls waiting to run, in order.
    steps: VecDeque<(u64, Responder)>,
    /// The step whose ticks the game is running; answered at `publish`,
    /// or when the game next calls the host without publishing.
    stepping: Option<Stepping>,
    /// History, seek, run-until and watchpoints.
    debug: debugger::Debugger,
    stopping: bool,
    signalled: Arc<AtomicBool>,
    stats: stats::Stats,
    snapshots: snapshot::SelfReader,
    /// [`FrameWriter::regions_recreated`] when last reported.
    regions_seen: u64,
}

impl Host {
    /// Creates the frame region (refusing if an engine of that name lives),
    /// binds `<name>.sock` (mode 0600), optionally TCP with a fresh token,
    /// and starts the server thread.
    pub fn start(cfg: HostConfig) -> Result<Host, HostError> {
        validate_name(&cfg.name)?;
        if !cfg.unknown_standard.is_empty() {
            return Err(HostError::UnknownStandard {
                names: cfg.unknown_standard.clone(),
            });
        }
        let methods =
            schema::with_game_methods(&cfg.methods).map_err(HostError::DuplicateMethod)?;
        cfg.dir.create()?;
        if cfg.dir.on_disk() {
            // Once per process, however many engines it hosts.
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::Relaxed) {
                eprintln!("advkit: warning: {}", cfg.dir.disk_warning());
            }
        }
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

        let (tcp, tokens, token_path) = match cfg.tcp {
            None => (None, Vec::new(), None),
            Some(addr) => {
                if !addr.ip().is_loopback() && !cfg.allow_remote {
                    let _ = fs::remove_file(&socket_path);
                    return Err(HostError::NotLoopback { addr });
                }
                let listener = std::net::TcpListener::bind(addr)
                    .map_err(|source| HostError::Tcp { addr, source })?;
                listener
                    .set_nonblocking(true)
                    .map_err(|source| HostError::Tcp { addr, source })?;
                if !cfg.tokens.is_empty() {
                    (Some(listener), cfg.tokens.clone(), None)
                } else {
                    let token =
                        format!("{:016x}{:016x}", system::random_u64(), system::random_u64());
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
                    (Some(listener), vec![(Tier::Admin, token)], Some(path))
                }
            }
        };
        let tcp_addr = tcp.as_ref().and_then(|l| l.local_addr().ok());

        let g = writer.geometry();
        let hello = HelloResult {
            protocol: PROTOCOL_VERSION,
            engine: cfg.engine.clone(),
            advkit: env!("CARGO_PKG_VERSION").to_owned(),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
            name: cfg.name.clone(),
            pid: system::current_pid(),
            frames: FramesInfo {
                path: writer.path().to_owned(),
                width: g.width,
                height: g.height,
                stride: g.stride,
                slots: g.slot_count,
                format: "rgba8".to_owned(),
            },
            socket: socket_path.clone(),
            tcp: tcp_addr,
            topics: Topic::ALL.map(|t| t.name().to_owned()).to_vec(),
            authenticated: false,
            tier: None,
            params: Vec::new(),
            revision: 0,
            methods: methods.iter().map(|m| m.name.clone()).collect(),
        };
        let shared = Arc::new(Shared::new(
            hello,
            methods,
            cfg.params.clone(),
            cfg.limits,
            tokens,
        ));

        let signalled = Arc::new(AtomicBool::new(false));
        if cfg.handle_signals {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal_hook::flag::register(sig, Arc::clone(&signalled))
                    .map_err(HostError::Signals)?;
            }
        }

        let (mailbox_tx, mailbox) = sync_channel(MAILBOX);
        let waker = Waker {
            mailbox: mailbox_tx.clone(),
            on_its_way: Arc::new(AtomicBool::new(false)),
        };
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

        let debug = debugger::Debugger::new(cfg.history, &shared.hello.methods);
        let mut host = Host {
            debug,
            name: cfg.name,
            snapshots: snapshot::SelfReader::new(writer.path().to_owned()),
            regions_seen: 0,
            writer,
            shared,
            mailbox,
            waker,
            server: Some(server),
            shutdown: Some(stop_tx),
            own_files: [Some(&socket_path), token_path.as_ref()]
                .into_iter()
                .flatten()
                .filter_map(|p| file_id(p).map(|id| (p.clone(), id)))
                .collect(),
            socket_path,
            token_path,
            tcp_addr,
            params_file: cfg.params_file,
            params: cfg.params,
            paused: cfg.paused,
            steps: VecDeque::new(),
            stepping: None,
            stopping: false,
            signalled,
            stats: stats::Stats::new(cfg.fps),
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

    /// The tick of the last published frame, stamped on replies and events.
    pub fn tick(&self) -> u64 {
        self.shared.tick()
    }

    /// Stamps replies and events with `tick` before a frame shows it.
    pub fn set_tick(&self, tick: u64) {
        self.shared.tick.store(tick, Ordering::Relaxed);
    }

    /// The game's params, as clients last set them.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Changes the params from the game's side (clients see the result).
    pub fn update_params<R>(&mut self, f: impl FnOnce(&mut Params) -> R) -> R {
        let r = f(&mut self.params);
        self.sync_params();
        r
    }

    /// Applies pending (reboot-only) params, for a game's reboot; returns
    /// the names that took effect.
    pub fn apply_pending_params(&mut self) -> Vec<String> {
        self.update_params(Params::apply_pending)
    }

    fn sync_params(&self) {
        let mut shared = self
            .shared
            .params
            .write()
            .unwrap_or_else(|p| p.into_inner());
        shared.clone_from(&self.params);
    }

    /// False once `engine.shutdown` was called or a stop signal arrived:
    /// leave the loop and drop the host.
    pub fn running(&self) -> bool {
        !self.stopping && !self.signalled.load(Ordering::Relaxed)
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Pauses or resumes from the game's side, as `engine.pause` does.
    pub fn set_paused(&mut self, paused: bool) {
        if self.paused != paused {
            self.paused = paused;
            self.emit(&if paused {
                Event::Paused
            } else {
                Event::Resumed
            });
            self.refresh_stats();
        }
    }

    /// The deadline of the tick after the one due at `prev`, at the
    /// configured rate; after a long stall (a suspended process) it
    /// restarts from now instead of bursting to catch up.
    pub fn next_deadline(&self, prev: Instant) -> Instant {
        let period = Duration::from_secs_f64(1.0 / self.stats.target_fps.max(0.001));
        let next = prev + period;
        let now = Instant::now();
        if next + period * 4 < now { now } else { next }
    }

    /// Lends the next slot of the frame region for the game to draw into
    /// in place (see [`FrameWriter::loan`]): no buffer of the game's own and
    /// no copy. Draw through [`Canvas`](advkit_frame::Canvas) or [`HostFrame::rows_mut`], then
    /// [`HostFrame::publish`] it, which does what [`publish`](Self::publish)
    /// does. Dropped unpublished, the slot is simply not shown.
    pub fn frame(&mut self) -> HostFrame<'_> {
        self.note_new_region();
        let mut loan = self.writer.loan();
        self.debug.prepare(&mut loan);
        HostFrame {
            loan,
            after: AfterPublish {
                shared: &self.shared,
                fps: self.stats.target_fps,
                stats: &mut self.stats,
                stepping: &mut self.stepping,
                paused: self.paused,
                debug: &mut self.debug,
            },
        }
    }

    /// Publishes a frame from the game's own buffer (one copy; see
    /// [`FrameWriter::publish`]) shown at `tick`, answers a finished
    /// `engine.step`, and sends the `tick` event.
    pub fn publish(&mut self, tick: u64, pixels: &[u8]) -> Result<u64, WrongSize> {
        let mut frame = self.frame();
        frame.loan.copy_from(pixels)?;
        Ok(frame.publish(tick))
    }

    /// Says so (stderr and a `log` event) when the writer has made the
    /// frame region anew since the last look, because another process
    /// truncated its file, and reopens the host's own reader on it.
    fn note_new_region(&mut self) {
        let recreated = self.writer.regions_recreated();
        if recreated != self.regions_seen {
            self.regions_seen = recreated;
            let path = self.writer.path().to_owned();
            self.snapshots = snapshot::SelfReader::new(path.clone());
            let msg = format!(
                "the frame region {} was {} by another process; made it anew \
                 (readers reattach to a new session)",
                path.display(),
                self.writer.lost_how()
            );
            eprintln!("advkit: {msg}");
            self.log(&msg);
        }
    }

    /// Records how long one update + render took, for p50/p99 in stats.
    pub fn record_tick_time(&mut self, d: Duration) {
        self.stats.tick_took(d);
    }

    /// Changes the tick rate (stats, `advkit ls` and [`next_deadline`](Self::next_deadline)).
    pub fn set_fps(&mut self, fps: f64) {
        self.stats.target_fps = fps;
        self.writer.set_fps(fps);
    }

    /// Sends an event to subscribers of its topic; never blocks. While a
    /// seek or diff replays the past, the game's events are not sent (they
    /// happened already).
    pub fn emit(&self, event: &Event) {
        if self.debug.replaying() {
            return;
        }
        self.debug.note_event(event);
        self.shared.emit(event);
    }

    /// A `log` event with a line of text.
    pub fn log(&self, message: &str) {
        self.emit(&Event::Log {
            message: message.to_owned(),
        });
    }

    /// Waits until `deadline` for a request that is the game's own,
    /// answering every generic one meanwhile; `None` once the deadline has
    /// passed, at once when a step is waiting to run or the host is
    /// stopping. Keeps the frame region's heartbeat fresh while waiting.
    pub fn next_request(&mut self, deadline: Instant) -> Option<Request> {
        self.settle_step();
        loop {
            match self.debug_turn() {
                debugger::Turn::Hand(req) => return Some(req),
                debugger::Turn::Tick => return None,
                debugger::Turn::TickServing => {
                    // Run-until lets clients in between its ticks.
                    while let Ok(cmd) = self.mailbox.try_recv() {
                        if cmd.wake {
                            self.waker.arrived();
                            continue;
                        }
                        if let Some(req) = self.handle(cmd) {
                            return Some(req);
                        }
                    }
                    return None;
                }
                debugger::Turn::Live => {}
            }
            if self.tick_wanted() || !self.running() {
                return None;
            }
            let now = Instant::now();
            let cmd = if now >= deadline {
                self.mailbox.try_recv().ok()?
            } else {
                let slice = (deadline - now).min(Duration::from_millis(100));
                match self.mailbox.recv_timeout(slice) {
                    Ok(cmd) => cmd,
                    Err(RecvTimeoutError::Timeout) => {
                        self.writer.heartbeat();
                        self.note_new_region();
                        self.maybe_refresh_stats();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        std::thread::sleep(slice);
                        self.writer.heartbeat();
                        self.note_new_region();
                        continue;
                    }
                }
            };
            if cmd.wake {
                self.waker.arrived();
                return None;
            }
            if let Some(req) = self.handle(cmd) {
                return Some(req);
            }
        }
    }

    /// A handle another thread can use to end this host's wait for a
    /// request ([`Host::next_request`] returns `None` at once): for a
    /// loop that waits on something else too, such as a child process's
    /// frames, read by a thread of its own.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// A request of the game's own if one is waiting, without blocking
    /// (generic ones waiting are answered).
    pub fn try_request(&mut self) -> Option<Request> {
        self.next_request(Instant::now())
    }

    /// Answers a generic method, or returns the game's request.
    fn handle(&mut self, cmd: Command) -> Option<Request> {
        let Command {
            method: name,
            params,
            client,
            reply,
            wake: _,
        } = cmd;
        let mut reply = Responder::new(name.clone(), client, reply);
        let drives = matches!(
            name.as_str(),
            method::RESUME | method::STEP | method::SEEK | method::RUN_UNTIL | method::WORLD_DIFF
        );
        if drives && self.debug.busy() {
            reply.err(RpcError::new(
                codes::BUSY,
                "the engine is seeking or running until a condition; try again when it is done \
                 (engine.pause stops a run-until)",
            ));
            return None;
        }
        match name.as_str() {
            method::PARAMS_SET => {
                let r = parse(params).and_then(|p| self.params_set(p, client));
                if r.is_ok() {
                    self.log_params_change();
                }
                reply.send(r)
            }
            method::PARAMS_RESET => {
                let r = parse(params).and_then(|p| self.params_reset(p, client));
                if r.is_ok() {
                    self.log_params_change();
                }
                reply.send(r)
            }
            method::PARAMS_SAVE => reply.send(self.params_save()),
            method::PARAMS_LOAD => {
                let r = self.params_load(client);
                if r.is_ok() {
                    self.log_params_change();
                }
                reply.send(r)
            }
            method::PAUSE | method::RESUME => {
                let pause = name == method::PAUSE;
                if pause {
                    self.interrupt_until();
                }
                let dropped = if pause { None } else { self.branch_if_past() };
                self.set_paused(pause);
                reply.ok(PauseState {
                    paused: self.paused,
                    tick: self.tick(),
                    dropped,
                });
            }
            method::STEP => match parse::<StepParams>(params) {
                Ok(p) => {
                    self.set_paused(true);
                    self.steps.push_back((p.count, reply));
                }
                Err(e) => reply.err(e),
            },
            method::HISTORY => reply.send(self.history_info()),
            method::SEEK => self.seek(params, reply),
            method::RUN_UNTIL => self.run_until(params, reply),
            method::WATCH => reply.send(self.watch(params)),
            method::WORLD_DIFF => self.world_diff(params, reply),
            method::SNAPSHOT => reply.send(parse(params).and_then(|p| self.snapshot(p))),
            method::SHUTDOWN => {
                self.stopping = true;
                self.emit(&Event::Shutdown);
                reply.ok(ShutdownResult { stopping: true });
            }
            _ => {
                if self.shared.method(&name).is_some_and(|m| !m.read_only) {
                    reply.announce_when_applied(Arc::clone(&self.shared), params.clone());
                }
                return match Request::new(name, params, reply) {
                    Ok(req) => Some(req),
                    Err((reply, err)) => {
                        reply.err(err);
                        None
                    }
                };
            }
        }
        None
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // Requests still pending are answered "engine gone" at once, not
        // after the server's 10 s loop timeout: steps not yet run, and the
        // mailbox, whose receiver goes first, so whatever is queued (or sent
        // from now on, such as requests pipelined after `engine.shutdown`)
        // fails at once.
        let gone = || RpcError::engine_gone("the engine is shutting down");
        for (_, reply) in self.steps.drain(..) {
            reply.err(gone());
        }
        if let Some(s) = self.stepping.take() {
            s.reply.err(gone());
        }
        drop(std::mem::replace(&mut self.mailbox, sync_channel(0).1));
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
        for (path, id) in &self.own_files {
            if file_id(path) == Some(*id) {
                let _ = fs::remove_file(path);
            }
        }
        // The FrameWriter removes the region itself.
    }
}

/// A file's device and inode, if it exists.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}
