//! The inspector's loop, as a [`Runner`] whose steps have names: attach
//! to an engine (frame region + control socket, [`crate::link`]), pump
//! its replies and events into the [`App`], poll what is polled, read and
//! handle keys, run the recorder, let status messages expire, draw when
//! something changed and the terminal has caught up ([`crate::flow`]),
//! and measure each second. It reattaches by itself when the engine goes
//! away and comes back.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use advkit_ipc::RuntimeDir;
use advkit_ipc::api::{NoParams, SnapshotResult, WatchParams, method};
use base64::Engine as _;
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::Value as Json;

use crate::app::{App, Conn, RecordAsk, Side, Tag, ViewKey, req};
use crate::encode::encode;
use crate::flow::{Acks, Flow};
use crate::halfblock::ColorMode;
use crate::input::{self, Input, Parser, Raw};
use crate::link::{Link, Msg, attach};
use crate::recorder::{RecordWith, Recorder};
use crate::terminal::{Session, StopSignals};
use crate::view;

/// How `advkit inspect` was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub name: String,
    pub dir: RuntimeDir,
    /// Inspector frames per second at most.
    pub fps: u32,
    pub colors: ColorMode,
    /// At most this many bytes written in any one second.
    pub max_bandwidth: Option<u64>,
    /// Bits kept per colour channel (1-8). Fewer bits mean fewer cells
    /// change when the camera pans: `cargo bench --bench inspector`.
    pub color_bits: u8,
    /// How Ctrl-R records (`advkit record …`); none: it cannot.
    pub record: Option<RecordWith>,
    /// An engine on another machine, reached over TCP (frames too);
    /// `name` is then only what the status line calls it.
    pub remote: Option<RemoteTarget>,
    /// The other engines `n` moves to, in turn (the current one is `name`
    /// and `remote`).
    pub others: Vec<(String, Option<RemoteTarget>)>,
}

/// Where a remote engine listens, and the token to give it.
#[derive(Debug, Clone)]
pub struct RemoteTarget {
    pub addr: std::net::SocketAddr,
    pub token: Option<String>,
}

/// How long a status message stays.
const STATUS_FOR: Duration = Duration::from_secs(6);

/// Runs the inspector in this terminal until `q`, SIGTERM or SIGHUP.
pub fn run(opts: Options) -> std::io::Result<()> {
    let mut runner = Runner::start(opts)?;
    while runner.step()? {}
    runner.finish();
    Ok(())
}

/// When the next attach, liveness check and poll are due.
#[derive(Debug)]
struct Due {
    attach: Instant,
    check: Instant,
    poll: Instant,
}

/// What the terminal shows and when to draw again.
#[derive(Debug)]
struct Screen {
    /// The terminal's size; a resize clears it inside the next
    /// synchronized update.
    size: (u16, u16),
    /// What the terminal shows (as far as what was written goes).
    shown: Buffer,
    clear: bool,
    /// Something may look different: draw (if the screen really changed).
    dirty: bool,
    /// The redraw due is of the figures alone (not counted in them).
    figures_only: bool,
    last_change: Instant,
    next_draw: Instant,
    /// The frame, area, colour depth and view the picture was made for.
    image_key: (u64, Rect, u8, ViewKey),
}

/// Figures over the current second, and the colour depth they steer.
#[derive(Debug)]
struct Window {
    drawn: u32,
    start: Instant,
    written_at_start: u64,
    /// How long screens waited for the terminal this second (from when
    /// the flow first held one back), and calm seconds in a row.
    held: Duration,
    held_since: Option<Instant>,
    calm: u32,
    bits: u8,
    top_bits: u8,
}

/// The inspector's loop and everything it keeps between its steps.
struct Runner {
    opts: Options,
    fps: u32,
    stop: StopSignals,
    session: Session,
    raw: Receiver<Raw>,
    parser: Parser,
    last_input: Instant,
    app: App,
    recorder: Option<Recorder>,
    link: Option<Link>,
    due: Due,
    screen: Screen,
    window: Window,
    flow: Flow,
    status_seen: (String, Instant),
}

impl Runner {
    fn start(opts: Options) -> std::io::Result<Runner> {
        let stop = StopSignals::install()?;
        let mut session = Session::start()?;
        let (raw_tx, raw) = mpsc::channel();
        input::spawn(raw_tx)?;
        let mut app = App::new(&opts.name, opts.colors);
        app.can_record = opts.record.is_some() && opts.remote.is_none();
        app.is_remote = opts.remote.is_some();
        let size = crossterm::terminal::size()?;
        let now = Instant::now();
        let top_bits = opts.color_bits.clamp(1, 8);
        let mut flow = Flow::new(opts.max_bandwidth);
        // Hide the cursor and ask the terminal whether it answers at all.
        session.write_raw(b"\x1b[?25l\x1b[5n")?;
        flow.asked(now, session.written.load(Ordering::Relaxed));
        app.link = flow.describe(now);
        Ok(Runner {
            fps: opts.fps.clamp(1, 120),
            opts,
            stop,
            session,
            raw,
            parser: Parser::default(),
            last_input: now,
            app,
            recorder: None,
            link: None,
            due: Due {
                attach: now,
                check: now,
                poll: now,
            },
            screen: Screen {
                size,
                shown: Buffer::empty(Rect::new(0, 0, size.0, size.1)),
                clear: true,
                dirty: true,
                figures_only: false,
                last_change: now,
                next_draw: now,
                image_key: (0, Rect::default(), 0, ViewKey::default()),
            },
            window: Window {
                drawn: 0,
                start: now,
                written_at_start: 0,
                held: Duration::ZERO,
                held_since: None,
                calm: 0,
                bits: top_bits,
                top_bits,
            },
            flow,
            status_seen: (String::new(), now),
        })
    }

    /// One turn of the loop; false once the inspector should end.
    fn step(&mut self) -> std::io::Result<bool> {
        if self.app.quit || self.stop.requested() {
            return Ok(false);
        }
        self.attach_if_due();
        self.pump_link();
        for i in self.read_input() {
            self.handle_input(i)?;
        }
        if self.app.quit {
            return Ok(false);
        }
        if std::mem::take(&mut self.app.next_engine) {
            self.next_engine();
        }
        self.run_recorder();
        self.expire_status();
        let now = Instant::now();
        if now >= self.screen.next_draw && self.draw(now)? {
            self.measure_second(now);
        }
        Ok(true)
    }

    /// `n`: detaches, and attaches to the next engine it was given (the
    /// one left goes to the end of the turn), with a fresh screen.
    fn next_engine(&mut self) {
        if self.opts.others.is_empty() {
            self.app.status = "one engine only: give `advkit inspect` several \
                               (tcp://HOST:PORT or names) to switch with n"
                .into();
            return;
        }
        let (name, remote) = self.opts.others.remove(0);
        let left = (
            std::mem::replace(&mut self.opts.name, name),
            std::mem::replace(&mut self.opts.remote, remote),
        );
        self.opts.others.push(left);
        if let Some(r) = &mut self.opts.record
            && let Some(i) = r.args.iter().position(|a| a == "--name")
            && i + 1 < r.args.len()
        {
            r.args[i + 1] = self.opts.name.clone();
        }
        self.link = None;
        let mut app = App::new(&self.opts.name, self.opts.colors);
        app.can_record = self.opts.record.is_some() && self.opts.remote.is_none();
        app.is_remote = self.opts.remote.is_some();
        app.status = format!("now {}", self.opts.name);
        self.app = app;
        self.screen.image_key.0 = 0;
        self.screen.dirty = true;
        self.due.attach = Instant::now();
    }

    /// Attaches to the engine when there is no link and a try is due.
    fn attach_if_due(&mut self) {
        let now = Instant::now();
        if self.link.is_some() || now < self.due.attach {
            return;
        }
        match attach(&self.opts) {
            Ok(l) => {
                self.link = Some(l);
                self.screen.image_key.0 = 0;
            }
            Err((missing, why)) => {
                let app = &mut self.app;
                if missing
                    && app.conn != Conn::Connected
                    && !matches!(app.conn, Conn::Disconnected(_))
                {
                    app.conn = Conn::NoEngine(why);
                } else {
                    app.on_disconnect(why);
                }
            }
        }
        self.due.attach = now + Duration::from_millis(500);
    }

    /// Replies and events into the app, liveness, and the polls; a lost
    /// connection ends the link.
    fn pump_link(&mut self) {
        let now = Instant::now();
        let Some(l) = &mut self.link else {
            return;
        };
        let mut lost: Option<String> = None;
        let mut outgoing = Vec::new();
        while let Ok(m) = l.msgs.try_recv() {
            self.screen.dirty = true;
            match m {
                Msg::Reply(Tag::Snapshot, Ok(r)) => {
                    self.app.status = save_snapshot(&self.opts.name, r)
                }
                Msg::Reply(tag, r) => outgoing.extend(self.app.on_reply(tag, r)),
                Msg::Event(e) => outgoing.extend(self.app.on_event(e)),
                Msg::Lost(why) => {
                    // The frame region says best why (pid gone, stale).
                    lost = Some(l.source.check_alive().err().unwrap_or(why));
                }
            }
        }
        outgoing.into_iter().for_each(|r| l.send(r));
        if now >= self.due.check {
            self.due.check = now + Duration::from_millis(250);
            if let Some(line) = remote_line(&l.source) {
                self.app.remote = line;
            }
            if let Err(e) = l.source.check_alive() {
                lost = Some(e);
            } else if l.source.is_replaced() {
                lost = Some(format!("engine {} was restarted", self.opts.name));
            }
        }
        if now >= self.due.poll {
            self.due.poll = now + Duration::from_millis(500);
            poll(&mut self.app, l);
        }
        if let Some(why) = lost {
            self.screen.dirty = true;
            self.link = None;
            self.app.on_disconnect(why);
            self.due.attach = now + Duration::from_millis(300);
        }
    }

    /// Input, waiting at most until the next draw; after a second with
    /// nothing new on screen, up to 200 ms (a paused game, no engine: next
    /// to no CPU), so a game that starts again shows within that.
    fn read_input(&mut self) -> Vec<Input> {
        let idle = self.screen.last_change.elapsed() > Duration::from_secs(1);
        let mut wait = if idle && !self.screen.dirty {
            Duration::from_millis(200)
        } else {
            self.screen
                .next_draw
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(50))
        };
        if self.parser.is_waiting() {
            wait = wait.min(input::ESC_WAIT);
        }
        let mut inputs = Vec::new();
        let mut got = self.raw.recv_timeout(wait).ok();
        while let Some(r) = got {
            match r {
                Raw::Bytes(b) => {
                    self.last_input = Instant::now();
                    inputs.extend(self.parser.feed(&b));
                }
                Raw::Resize => inputs.push(Input::Resize),
                Raw::Hangup => inputs.push(Input::Hangup),
            }
            got = self.raw.try_recv().ok();
        }
        if self.parser.is_waiting() && self.last_input.elapsed() >= input::ESC_WAIT {
            inputs.extend(self.parser.flush());
        }
        inputs
    }

    /// A key, a click, a resize, the terminal's answer or a hangup.
    fn handle_input(&mut self, i: Input) -> std::io::Result<()> {
        let size = self.screen.size;
        let screen = Rect::new(0, 0, size.0, size.1);
        let requests = match i {
            Input::Ack => {
                let before = self.flow.acks;
                self.flow.answered(Instant::now());
                // A screen held back for this answer may go now, but no
                // sooner than --fps allows: the answer to every screen
                // must not pace the drawing itself.
                if self.window.held_since.is_some() {
                    let paced = self.screen.last_change + Duration::from_secs(1) / self.fps;
                    self.screen.next_draw = self.screen.next_draw.min(paced.max(Instant::now()));
                }
                if before != self.flow.acks {
                    self.app.link = self.flow.describe(Instant::now());
                    self.screen.dirty = true;
                }
                return Ok(());
            }
            Input::Hangup => {
                self.app.quit = true;
                return Ok(());
            }
            Input::Resize => {
                let size = crossterm::terminal::size()?;
                self.screen.size = size;
                self.screen.shown = Buffer::empty(Rect::new(0, 0, size.0, size.1));
                self.screen.clear = true;
                self.screen.image_key.0 = 0;
                Vec::new()
            }
            Input::Key(k) => {
                if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
                    self.app.quit = true;
                    Vec::new()
                } else {
                    self.app.handle_key(k)
                }
            }
            Input::Mouse(m) => self.app.handle_mouse(m, screen),
        };
        self.screen.dirty = true;
        match &self.link {
            Some(l) => requests.into_iter().for_each(|r| l.send(r)),
            None if !requests.is_empty() => {
                self.app.status = "not connected: the command was not sent".into()
            }
            None => {}
        }
        Ok(())
    }

    /// Starts or stops a recording as Ctrl-R asked, and logs what the
    /// recorder says.
    fn run_recorder(&mut self) {
        if let Some(ask) = self.app.record_ask.take() {
            self.screen.dirty = true;
            recording_key(&mut self.app, &self.opts, &mut self.recorder, ask);
        }
        let Some(r) = &mut self.recorder else {
            return;
        };
        let (lines, exited) = r.poll();
        self.screen.dirty |= !lines.is_empty() || exited.is_some();
        for line in lines {
            self.app.push_log_in("record", format!("record: {line}"));
        }
        if let Some(ok) = exited {
            self.app.status = if ok {
                format!("recorded {} (the log has its summary)", r.out.display())
            } else {
                "recording failed: the log says why".into()
            };
            self.app.recording = None;
            self.recorder = None;
        }
    }

    /// A status message says its piece for a few seconds, then goes.
    fn expire_status(&mut self) {
        if self.app.status != self.status_seen.0 {
            self.status_seen = (self.app.status.clone(), Instant::now());
        } else if !self.app.status.is_empty() && self.status_seen.1.elapsed() >= STATUS_FOR {
            self.app.status.clear();
            self.status_seen.0.clear();
            self.screen.dirty = true;
        }
    }

    /// Draws the newest frame when the terminal has caught up and the
    /// screen really differs; nothing new, not a byte. False when the
    /// screen waits for the terminal (the second is measured later).
    fn draw(&mut self, now: Instant) -> std::io::Result<bool> {
        let total = self.session.written.load(Ordering::Relaxed);
        // The terminal has not caught up (or the ceiling is reached): the
        // frame waits, and the newest one goes out when it has.
        if self.screen.dirty && !self.flow.may_write(now, 0, total) {
            self.hold(now);
            self.app.link = self.flow.describe(now);
            return Ok(false);
        }
        self.take_frame();
        let period = Duration::from_secs(1) / self.fps;
        self.screen.next_draw = (self.screen.next_draw + period).max(now);
        if self.screen.dirty {
            let size = self.screen.size;
            let area = Rect::new(0, 0, size.0, size.1);
            let mut next = Buffer::empty(area);
            ratatui::widgets::Widget::render(&self.app, area, &mut next);
            if next == self.screen.shown {
                self.screen.dirty = false;
            } else {
                self.write_screen(now, next, total)?;
            }
        }
        self.screen.figures_only = false;
        Ok(true)
    }

    /// Only the newest frame is ever read: a slow terminal skips frames.
    fn take_frame(&mut self) {
        let size = self.screen.size;
        let inner = view::frame_inner(Rect::new(0, 0, size.0, size.1), &self.app);
        let Some(l) = &mut self.link else {
            return;
        };
        let latest = l.frames.latest.lock().unwrap_or_else(|p| p.into_inner());
        let key = (latest.frame, inner, self.window.bits, self.app.view_key());
        if let crate::link::Source::Remote(r) = &l.source {
            let want = self.app.wanted_size((r.width, r.height), inner);
            *r.want.lock().unwrap_or_else(|p| p.into_inner()) = want;
        }
        if latest.frame > 0 && key != self.screen.image_key {
            self.screen.dirty = true;
            self.app.show_scaled_frame(
                latest.pixels.as_slice(),
                latest.size,
                l.source.size(),
                inner,
                self.window.bits,
            );
            self.app.frame.tick = latest.tick;
            self.screen.image_key = key;
        }
        drop(latest);
        l.frames.shown();
        if let Some(r) = self.app.pick_request() {
            l.send(r);
        }
    }

    /// Writes what changed from the screen shown to `next`, in one
    /// synchronized update, asking the terminal to answer after it.
    fn write_screen(&mut self, now: Instant, next: Buffer, total: u64) -> std::io::Result<()> {
        let mut out = b"\x1b[?2026h".to_vec();
        if self.screen.clear {
            out.extend_from_slice(b"\x1b[0m\x1b[2J");
        }
        encode(self.screen.shown.diff(&next), &mut out);
        out.extend_from_slice(b"\x1b[?2026l");
        let acking = self.flow.acks != Acks::Never;
        if acking {
            out.extend_from_slice(b"\x1b[5n");
        }
        let bytes = out.len() as u64;
        if !self.flow.may_write(now, bytes, total) {
            self.hold(now);
            return Ok(());
        }
        self.session.write_raw(&out)?;
        let now = Instant::now();
        if let Some(since) = self.window.held_since.take() {
            self.window.held += now.duration_since(since);
        }
        self.flow.wrote(now, bytes);
        if acking {
            self.flow.asked(now, total + bytes);
        }
        if self.screen.figures_only {
            self.window.written_at_start += bytes;
        } else {
            self.window.drawn += 1;
        }
        self.screen.shown = next;
        self.screen.clear = false;
        self.screen.last_change = now;
        self.screen.dirty = false;
        Ok(())
    }

    /// The screen waits for the link: try again when the flow allows.
    fn hold(&mut self, now: Instant) {
        self.window.held_since.get_or_insert(now);
        self.screen.next_draw = self
            .flow
            .retry_at(now)
            .min(now + Duration::from_millis(200));
    }

    /// Once a second: the inspector's fps and bytes, the link's figures,
    /// and the colour depth a slow link asks for.
    fn measure_second(&mut self, now: Instant) {
        let w = &mut self.window;
        let elapsed = now.duration_since(w.start);
        if elapsed < Duration::from_secs(1) {
            return;
        }
        let app = &mut self.app;
        let written = self.session.written.load(Ordering::Relaxed);
        let before = (app.ui_fps, app.bytes_per_sec, app.link.clone());
        app.ui_fps = f64::from(w.drawn) / elapsed.as_secs_f64();
        app.bytes_per_sec = ((written - w.written_at_start) as f64 / elapsed.as_secs_f64()) as u64;
        // The link figures move only with real screens (a redraw of the
        // figures alone gets answered too, and would move them again).
        if let Some(since) = w.held_since {
            w.held += now.duration_since(since);
            w.held_since = Some(now);
        }
        if w.drawn > 0 || !w.held.is_zero() {
            app.link = self.flow.describe(now);
            app.history.link(self.flow.link_rate().unwrap_or(0));
        }
        // The figures are news only when they moved; redrawing them alone
        // is not counted in them (or they would never settle).
        if before != (app.ui_fps, app.bytes_per_sec, app.link.clone()) && !self.screen.dirty {
            self.screen.figures_only = true;
            self.screen.dirty = true;
        }
        // Screens waited for the link (or the ceiling) for over a third of
        // the second: fewer colour levels make smaller screens, and three
        // calm seconds give one level back.
        if w.held > elapsed / 3 {
            w.bits = w.bits.saturating_sub(1).max(3);
            w.calm = 0;
        } else if w.held < elapsed / 10 {
            w.calm += 1;
            if w.calm >= 3 && w.bits < w.top_bits {
                w.bits += 1;
                w.calm = 0;
            }
        }
        app.fewer_bits = (w.bits < w.top_bits).then_some(w.bits);
        w.drawn = 0;
        w.held = Duration::ZERO;
        w.start = now;
        w.written_at_start = written;
    }

    /// Restores the terminal; quitting stops a recording, which still
    /// writes its scenario.
    fn finish(self) {
        let Runner {
            session, recorder, ..
        } = self;
        drop(session);
        if let Some(r) = recorder {
            eprintln!("stopping the recording to {} …", r.out.display());
            let done = r.finish(Duration::from_secs(60));
            for line in &done.lines {
                eprintln!("{line}");
            }
        }
    }
}

/// What is asked every half second: stats, the history, and what the
/// side panel shows.
fn poll(app: &mut App, l: &Link) {
    l.send(req(Tag::Stats, method::STATS, NoParams {}));
    if app.timeline.off.is_none() {
        l.send(req(Tag::History, method::HISTORY, NoParams {}));
    }
    if app.side == Side::Watches {
        l.send(req(Tag::Watch, method::WATCH, WatchParams::default()));
    }
    // The world moves under a still cursor: ask again.
    app.frame.pick_asked = None;
    if app.wants_entities() {
        l.send(req(Tag::Entities, method::ENTITIES, NoParams {}));
    }
}

/// Starts or stops a recording, as Ctrl-R asked.
fn recording_key(app: &mut App, opts: &Options, recorder: &mut Option<Recorder>, ask: RecordAsk) {
    match (ask, recorder.as_mut(), &opts.record) {
        (RecordAsk::Stop, Some(r), _) => {
            r.stop();
            if let Some(rec) = &mut app.recording {
                rec.stopping = true;
            }
            app.status = "stopping: the recorder writes the scenario and replays it".into();
        }
        (RecordAsk::Start(how), None, Some(with)) => match Recorder::start(with, &opts.name, how) {
            Ok(r) => {
                app.recording = Some(crate::app::Recording {
                    out: r.out.display().to_string(),
                    from_tick: app.tick,
                    stopping: false,
                });
                app.status = "Ctrl-R again stops".into();
                *recorder = Some(r);
            }
            Err(e) => app.status = format!("cannot start the recorder: {e}"),
        },
        _ => {}
    }
}

fn save_snapshot(name: &str, r: Json) -> String {
    let Some(snap) = serde_json::from_value::<SnapshotResult>(r).ok() else {
        return "snapshot: the engine sent no image".into();
    };
    let Ok(png) = base64::engine::general_purpose::STANDARD.decode(&snap.png_base64) else {
        return "snapshot: the engine sent an image that is not base64".into();
    };
    let path = PathBuf::from(format!("advkit-{name}-tick{}.png", snap.tick));
    match std::fs::write(&path, png) {
        Ok(()) => format!("snapshot saved to {}", path.display()),
        Err(e) => format!("snapshot not saved: {e}"),
    }
}

/// The status line's account of a remote link: bytes a second of frames,
/// the last call's round trip, frames the engine drew that never came.
fn remote_line(source: &crate::link::Source) -> Option<String> {
    use std::sync::atomic::Ordering::Relaxed;
    let crate::link::Source::Remote(r) = source else {
        return None;
    };
    Some(format!(
        "tcp {} rtt {} ms skipped {}",
        view::bytes(r.bytes.swap(0, Relaxed) * 4),
        r.rtt_us.load(Relaxed) / 1000,
        r.skipped.load(Relaxed)
    ))
}
