//! The inspector's loop: attach to an engine (frame region + control
//! socket), feed keys, replies and events to the [`App`], draw when
//! something changed and the terminal has caught up ([`crate::flow`]),
//! and reattach by itself when the engine goes away and comes back.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use advkit_ipc::api::event::Notification;
use advkit_ipc::api::{NoParams, RpcError, SnapshotResult, Topic, TopicsParams, method};
use advkit_ipc::client::{Client, ClientError};
use advkit_ipc::{AlignedBuf, FrameReader, OpenError, ReadError, RuntimeDir};
use base64::Engine as _;
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::Value as Json;

use crate::app::{App, Conn, RecordAsk, Request, Tag, ViewKey, req};
use crate::encode::encode;
use crate::flow::{Acks, Flow};
use crate::halfblock::ColorMode;
use crate::input::{self, Input, Parser, Raw};
use crate::recorder::{RecordWith, Recorder};
use crate::terminal::Session;
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
}

enum Msg {
    Reply(Tag, Result<Json, RpcError>),
    Event(Notification),
    Lost(String),
}

/// A live attachment to one engine.
struct Link {
    reader: Arc<FrameReader>,
    calls: Sender<Request>,
    msgs: Receiver<Msg>,
    stop: Arc<AtomicBool>,
    frames: Arc<FrameFeed>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.frames.wanted.notify_all();
    }
}

/// The newest frame, copied by the link's frame thread as soon as the
/// engine publishes it (the thread sleeps on the region's futex until
/// then), but only once the screen has shown the previous copy: the
/// inspector copies no more frames than it draws.
struct FrameFeed {
    latest: Mutex<Copied>,
    wanted: Condvar,
}

/// The frame the thread copied last.
struct Copied {
    /// Its number (0: none yet).
    frame: u64,
    /// The engine tick it shows.
    tick: u64,
    pixels: AlignedBuf,
    /// The screen has drawn it, so the thread may fetch the next.
    shown: bool,
}

impl FrameFeed {
    /// Marks the copied frame as shown, so the thread fetches the next.
    fn shown(&self) {
        let mut l = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        l.shown = true;
        self.wanted.notify_all();
    }
}

/// The frame thread: wait until the screen wants a frame, then until the
/// engine publishes one newer than the last copied, and copy it.
fn feed_frames(reader: Arc<FrameReader>, feed: Arc<FrameFeed>, stop: Arc<AtomicBool>) {
    let mut spare = reader.buffer();
    let mut last = 0u64;
    while !stop.load(Ordering::Relaxed) {
        {
            let l = feed.latest.lock().unwrap_or_else(|p| p.into_inner());
            if !l.shown {
                // Not shown yet: sleep until it is (or the link ends).
                let _ = feed.wanted.wait_timeout(l, Duration::from_millis(250));
                continue;
            }
        }
        // Liveness and replacement are the loop's to judge; this thread
        // only naps when the engine is gone.
        match reader.wait_next(last, Duration::from_millis(250)) {
            Ok(_) => {}
            Err(ReadError::Timeout { .. }) => continue,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        }
        if let Ok(info) = reader.read_latest(&mut spare) {
            last = info.frame;
            let mut l = feed.latest.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::swap(&mut l.pixels, &mut spare);
            l.frame = info.frame;
            l.tick = info.tick;
            l.shown = false;
        }
    }
}

/// Why there is no link: no engine at all, or a failed attempt.
fn attach(opts: &Options) -> Result<Link, (bool, String)> {
    let reader = FrameReader::open(&opts.dir.frames_path(&opts.name)).map_err(|e| {
        let missing = matches!(e, OpenError::NotRunning { .. });
        (missing, e.to_string())
    })?;
    reader.check_alive().map_err(|e| (false, e.to_string()))?;
    let socket = opts.dir.socket_path(&opts.name);
    let mut calls_client = Client::connect_unix(&socket).map_err(|e| (false, e.to_string()))?;
    let mut events_client = Client::connect_unix(&socket).map_err(|e| (false, e.to_string()))?;
    let topics = [Topic::Params, Topic::Engine, Topic::Log, Topic::World];
    events_client
        .request::<method::Subscribe>(&TopicsParams {
            topics: Some(topics.map(|t| t.name().to_owned()).to_vec()),
        })
        .map_err(|e| (false, e.to_string()))?;

    let (calls, calls_rx) = mpsc::channel::<Request>();
    let (msgs_tx, msgs) = mpsc::channel::<Msg>();
    let stop = Arc::new(AtomicBool::new(false));
    let tx = msgs_tx.clone();
    std::thread::spawn(move || {
        for r in calls_rx {
            let result = calls_client.call(r.method, r.params);
            let msg = match result {
                Ok(reply) => Msg::Reply(r.tag, Ok(reply.result)),
                Err(ClientError::Rpc(e)) => Msg::Reply(r.tag, Err(e)),
                Err(e) => {
                    let _ = tx.send(Msg::Lost(e.to_string()));
                    return;
                }
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
    let flag = Arc::clone(&stop);
    std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            match events_client.next_event(Some(Duration::from_millis(250))) {
                Ok(Some(e)) => {
                    if msgs_tx.send(Msg::Event(e)).is_err() {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = msgs_tx.send(Msg::Lost(e.to_string()));
                    return;
                }
            }
        }
    });
    let _ = calls.send(Request {
        tag: Tag::Hello,
        method: method::HELLO,
        params: Json::Null,
    });
    let reader = Arc::new(reader);
    let frames = Arc::new(FrameFeed {
        latest: Mutex::new(Copied {
            frame: 0,
            tick: 0,
            pixels: reader.buffer(),
            shown: true,
        }),
        wanted: Condvar::new(),
    });
    {
        let (reader, frames, stop) = (Arc::clone(&reader), Arc::clone(&frames), Arc::clone(&stop));
        std::thread::spawn(move || feed_frames(reader, frames, stop));
    }
    Ok(Link {
        reader,
        calls,
        msgs,
        stop,
        frames,
    })
}

/// How long a status message stays.
const STATUS_FOR: Duration = Duration::from_secs(6);

/// Runs the inspector in this terminal until `q`, SIGTERM or SIGHUP.
pub fn run(opts: Options) -> std::io::Result<()> {
    let stop = crate::terminal::StopSignals::install()?;
    let mut session = Session::start()?;
    let (raw_tx, raw) = mpsc::channel();
    input::spawn(raw_tx)?;
    let mut parser = Parser::default();
    let mut last_input = Instant::now();
    let mut app = App::new(&opts.name, opts.colors);
    app.can_record = opts.record.is_some();
    let mut recorder: Option<Recorder> = None;
    let mut link: Option<Link> = None;
    let mut next_attach = Instant::now();
    let mut next_check = Instant::now();
    let mut next_stats = Instant::now();
    let fps = opts.fps.clamp(1, 120);
    let top_bits = opts.color_bits.clamp(1, 8);
    let mut bits = top_bits;
    let mut next_draw = Instant::now();
    let (mut drawn, mut window_start, mut written_at_start) = (0u32, Instant::now(), 0u64);
    let mut image_key = (0u64, Rect::default(), 0u8, ViewKey::default());
    // Something may look different: draw (if the screen really changed).
    let mut dirty = true;
    let mut figures_only = false;
    let mut last_change = Instant::now();
    // What the terminal shows (as far as what was written goes), and its
    // size; a resize clears it inside the next synchronized update.
    let mut size = crossterm::terminal::size()?;
    let mut shown = Buffer::empty(Rect::new(0, 0, size.0, size.1));
    let mut clear = true;
    let mut flow = Flow::new(opts.max_bandwidth);
    let mut status_seen = (String::new(), Instant::now());
    // How long screens waited for the terminal this second (from when the
    // flow first held one back), and calm seconds in a row.
    let mut held = Duration::ZERO;
    let mut held_since: Option<Instant> = None;
    let mut calm = 0u32;
    // Hide the cursor and ask the terminal whether it answers at all.
    session.write_raw(b"\x1b[?25l\x1b[5n")?;
    flow.asked(Instant::now(), session.written.load(Ordering::Relaxed));
    app.link = flow.describe(Instant::now());

    while !app.quit && !stop.requested() {
        let now = Instant::now();
        if link.is_none() && now >= next_attach {
            match attach(&opts) {
                Ok(l) => {
                    link = Some(l);
                    image_key.0 = 0;
                }
                Err((missing, why)) => {
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
            next_attach = now + Duration::from_millis(500);
        }

        // Replies and events; a lost connection ends the link.
        let mut lost: Option<String> = None;
        if let Some(l) = &mut link {
            let mut outgoing = Vec::new();
            while let Ok(m) = l.msgs.try_recv() {
                dirty = true;
                match m {
                    Msg::Reply(Tag::Snapshot, Ok(r)) => app.status = save_snapshot(&opts.name, r),
                    Msg::Reply(tag, r) => outgoing.extend(app.on_reply(tag, r)),
                    Msg::Event(e) => outgoing.extend(app.on_event(e)),
                    Msg::Lost(why) => {
                        // The frame region says best why (pid gone, stale).
                        lost = Some(l.reader.check_alive().err().map_or(why, |e| e.to_string()));
                    }
                }
            }
            for r in outgoing {
                let _ = l.calls.send(r);
            }
            if now >= next_check {
                next_check = now + Duration::from_millis(250);
                if let Err(e) = l.reader.check_alive() {
                    lost = Some(e.to_string());
                } else if l.reader.is_replaced() {
                    lost = Some(format!("engine {} was restarted", opts.name));
                }
            }
            if now >= next_stats {
                next_stats = now + Duration::from_millis(500);
                let _ = l.calls.send(req(Tag::Stats, method::STATS, NoParams {}));
                if app.timeline.off.is_none() {
                    let _ = l
                        .calls
                        .send(req(Tag::History, method::HISTORY, NoParams {}));
                }
                if app.side == crate::app::Side::Watches {
                    let _ = l.calls.send(req(
                        Tag::Watch,
                        method::WATCH,
                        advkit_ipc::api::WatchParams::default(),
                    ));
                }
                // The world moves under a still cursor: ask again.
                app.pick_asked = None;
                if app.wants_entities() {
                    let _ = l
                        .calls
                        .send(req(Tag::Entities, method::ENTITIES, NoParams {}));
                }
            }
        }
        if let Some(why) = lost {
            dirty = true;
            link = None;
            app.on_disconnect(why);
            next_attach = now + Duration::from_millis(300);
        }

        // Input, waiting at most until the next draw; after a second with
        // nothing new on screen, up to 200 ms (a paused game, no engine:
        // next to no CPU), so a game that starts again shows within that.
        let idle = last_change.elapsed() > Duration::from_secs(1);
        let mut wait = if idle && !dirty {
            Duration::from_millis(200)
        } else {
            next_draw
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(50))
        };
        if parser.is_waiting() {
            wait = wait.min(input::ESC_WAIT);
        }
        let mut inputs = Vec::new();
        let mut got = raw.recv_timeout(wait).ok();
        while let Some(r) = got {
            match r {
                Raw::Bytes(b) => {
                    last_input = Instant::now();
                    inputs.extend(parser.feed(&b));
                }
                Raw::Resize => inputs.push(Input::Resize),
                Raw::Hangup => inputs.push(Input::Hangup),
            }
            got = raw.try_recv().ok();
        }
        if parser.is_waiting() && last_input.elapsed() >= input::ESC_WAIT {
            inputs.extend(parser.flush());
        }
        for i in inputs {
            let screen = Rect::new(0, 0, size.0, size.1);
            let requests = match i {
                Input::Ack => {
                    let before = flow.acks;
                    flow.answered(Instant::now());
                    // A screen held back for this answer may go now.
                    next_draw = next_draw.min(Instant::now());
                    if before != flow.acks {
                        app.link = flow.describe(Instant::now());
                        dirty = true;
                    }
                    continue;
                }
                Input::Hangup => {
                    app.quit = true;
                    continue;
                }
                Input::Resize => {
                    size = crossterm::terminal::size()?;
                    shown = Buffer::empty(Rect::new(0, 0, size.0, size.1));
                    clear = true;
                    image_key.0 = 0;
                    Vec::new()
                }
                Input::Key(k) => {
                    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
                        app.quit = true;
                        Vec::new()
                    } else {
                        app.handle_key(k)
                    }
                }
                Input::Mouse(m) => app.handle_mouse(m, screen),
            };
            dirty = true;
            match &link {
                Some(l) => requests.into_iter().for_each(|r| {
                    let _ = l.calls.send(r);
                }),
                None if !requests.is_empty() => {
                    app.status = "not connected: the command was not sent".into()
                }
                None => {}
            }
        }
        if app.quit {
            break;
        }

        if let Some(ask) = app.record_ask.take() {
            dirty = true;
            recording_key(&mut app, &opts, &mut recorder, ask);
        }
        if let Some(r) = &mut recorder {
            let (lines, exited) = r.poll();
            dirty |= !lines.is_empty() || exited.is_some();
            for line in lines {
                app.push_log_in("record", format!("record: {line}"));
            }
            if let Some(ok) = exited {
                app.status = if ok {
                    format!("recorded {} (the log has its summary)", r.out.display())
                } else {
                    "recording failed: the log says why".into()
                };
                app.recording = None;
                recorder = None;
            }
        }

        // A status message says its piece for a few seconds, then goes.
        if app.status != status_seen.0 {
            status_seen = (app.status.clone(), Instant::now());
        } else if !app.status.is_empty() && status_seen.1.elapsed() >= STATUS_FOR {
            app.status.clear();
            status_seen.0.clear();
            dirty = true;
        }

        let now = Instant::now();
        if now < next_draw {
            continue;
        }
        let total = session.written.load(Ordering::Relaxed);
        // The terminal has not caught up (or the ceiling is reached): the
        // frame waits, and the newest one goes out when it has.
        if dirty && !flow.may_write(now, 0, total) {
            held_since.get_or_insert(now);
            next_draw = flow.retry_at(now).min(now + Duration::from_millis(200));
            app.link = flow.describe(now);
            continue;
        }
        // Only the newest frame is ever read: a slow terminal skips frames.
        let inner = view::frame_inner(Rect::new(0, 0, size.0, size.1), &app);
        if let Some(l) = &mut link {
            let latest = l.frames.latest.lock().unwrap_or_else(|p| p.into_inner());
            let key = (latest.frame, inner, bits, app.view_key());
            if latest.frame > 0 && key != image_key {
                dirty = true;
                let g = l.reader.geometry();
                app.show_frame(latest.pixels.as_slice(), g.width, g.height, inner, bits);
                app.frame_tick = latest.tick;
                image_key = key;
            }
            drop(latest);
            l.frames.shown();
            if let Some(r) = app.pick_request() {
                let _ = l.calls.send(r);
            }
        }
        let period = Duration::from_secs(1) / fps;
        next_draw = (next_draw + period).max(now);
        // Nothing new, or nothing that looks different: not a byte is
        // written (paused, no engine, an unchanged frame).
        if dirty {
            let area = Rect::new(0, 0, size.0, size.1);
            let mut next = Buffer::empty(area);
            ratatui::widgets::Widget::render(&app, area, &mut next);
            if next != shown {
                let mut out = b"\x1b[?2026h".to_vec();
                if clear {
                    out.extend_from_slice(b"\x1b[0m\x1b[2J");
                }
                encode(shown.diff(&next), &mut out);
                out.extend_from_slice(b"\x1b[?2026l");
                let acking = flow.acks != Acks::Never;
                if acking {
                    out.extend_from_slice(b"\x1b[5n");
                }
                let bytes = out.len() as u64;
                if flow.may_write(now, bytes, total) {
                    session.write_raw(&out)?;
                    let now = Instant::now();
                    if let Some(since) = held_since.take() {
                        held += now.duration_since(since);
                    }
                    flow.wrote(now, bytes);
                    if acking {
                        flow.asked(now, total + bytes);
                    }
                    if figures_only {
                        written_at_start += bytes;
                    } else {
                        drawn += 1;
                    }
                    shown = next;
                    clear = false;
                    last_change = now;
                    dirty = false;
                } else {
                    held_since.get_or_insert(now);
                    next_draw = flow.retry_at(now).min(now + Duration::from_millis(200));
                }
            } else {
                dirty = false;
            }
        }
        figures_only = false;

        let elapsed = now.duration_since(window_start);
        if elapsed >= Duration::from_secs(1) {
            let written = session.written.load(Ordering::Relaxed);
            let before = (app.ui_fps, app.bytes_per_sec, app.link.clone());
            app.ui_fps = f64::from(drawn) / elapsed.as_secs_f64();
            app.bytes_per_sec =
                ((written - written_at_start) as f64 / elapsed.as_secs_f64()) as u64;
            // The link figures move only with real screens (a redraw of the
            // figures alone gets answered too, and would move them again).
            if let Some(since) = held_since {
                held += now.duration_since(since);
                held_since = Some(now);
            }
            if drawn > 0 || !held.is_zero() {
                app.link = flow.describe(now);
                app.history.link(flow.link_rate().unwrap_or(0));
            }
            // The figures are news only when they moved; redrawing them
            // alone is not counted in them (or they would never settle).
            if before != (app.ui_fps, app.bytes_per_sec, app.link.clone()) && !dirty {
                figures_only = true;
                dirty = true;
            }
            // Screens waited for the link (or the ceiling) for over a third
            // of the second: fewer colour levels make smaller screens, and
            // three calm seconds give one level back.
            if held > elapsed / 3 {
                bits = bits.saturating_sub(1).max(3);
                calm = 0;
            } else if held < elapsed / 10 {
                calm += 1;
                if calm >= 3 && bits < top_bits {
                    bits += 1;
                    calm = 0;
                }
            }
            app.fewer_bits = (bits < top_bits).then_some(bits);
            drawn = 0;
            held = Duration::ZERO;
            window_start = now;
            written_at_start = written;
        }
    }
    drop(session);
    if let Some(r) = recorder {
        // Quitting stops the recording; it still writes its scenario.
        eprintln!("stopping the recording to {} …", r.out.display());
        let done = r.finish(Duration::from_secs(60));
        for line in &done.lines {
            eprintln!("{line}");
        }
    }
    Ok(())
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
