//! The inspector's attachment to one engine: its frame region, read by a
//! thread that copies the newest frame once the screen has shown the
//! last one, and two control connections (calls, and events), each on a
//! thread of its own, that report to the loop through one channel.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use advkit_ipc::api::event::Notification;
use advkit_ipc::api::{
    FramesSubscribeParams, FramesSubscribed, RpcError, Topic, TopicsParams, method,
};
use advkit_ipc::client::{Client, ClientError};
use advkit_ipc::stream::FrameDecoder;
use advkit_ipc::{AlignedBuf, FrameReader, OpenError, ReadError};
use serde_json::Value as Json;

use crate::app::{Request, Tag};
use crate::run::Options;

pub(crate) enum Msg {
    Reply(Tag, Result<Json, RpcError>),
    Event(Notification),
    Lost(String),
}

/// Where a link's frames come from: this machine's frame region, or a
/// frame stream over TCP from an engine elsewhere.
pub(crate) enum Source {
    Local(Arc<FrameReader>),
    Remote(Arc<Remote>),
}

/// A remote engine's frames as its link sees them.
pub(crate) struct Remote {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Why the frame connection ended (empty: it did not).
    lost: Mutex<String>,
    /// Bytes of frames received, frames the engine published that never
    /// came (the viewer was behind), and the last call's round trip.
    pub(crate) bytes: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) rtt_us: AtomicU64,
    /// The size the screen wants frames at (`None`: the engine's): what
    /// the picture draws, so a slow link carries no pixel it does not show.
    pub(crate) want: Mutex<Option<(u32, u32)>>,
}

impl Source {
    /// The engine is alive (locally: its pid and heartbeat; remotely: the
    /// frame connection stands).
    pub(crate) fn check_alive(&self) -> Result<(), String> {
        match self {
            Source::Local(r) => r.check_alive().map_err(|e| e.to_string()),
            Source::Remote(r) => {
                let lost = r.lost.lock().unwrap_or_else(|p| p.into_inner());
                if lost.is_empty() {
                    Ok(())
                } else {
                    Err(lost.clone())
                }
            }
        }
    }

    pub(crate) fn is_replaced(&self) -> bool {
        match self {
            Source::Local(r) => r.is_replaced(),
            Source::Remote(_) => false,
        }
    }

    /// The frame's width and height.
    pub(crate) fn size(&self) -> (u32, u32) {
        match self {
            Source::Local(r) => {
                let g = r.geometry();
                (g.width, g.height)
            }
            Source::Remote(r) => (r.width, r.height),
        }
    }
}

/// A live attachment to one engine.
pub(crate) struct Link {
    pub(crate) source: Source,
    pub(crate) calls: Sender<Request>,
    pub(crate) msgs: Receiver<Msg>,
    stop: Arc<AtomicBool>,
    pub(crate) frames: Arc<FrameFeed>,
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
pub(crate) struct FrameFeed {
    pub(crate) latest: Mutex<Copied>,
    wanted: Condvar,
}

/// The frame the thread copied last.
pub(crate) struct Copied {
    /// Its number (0: none yet).
    pub(crate) frame: u64,
    /// The engine tick it shows.
    pub(crate) tick: u64,
    /// The size of `pixels` (a remote engine's may come scaled down).
    pub(crate) size: (u32, u32),
    pub(crate) pixels: AlignedBuf,
    /// The screen has drawn it, so the thread may fetch the next.
    shown: bool,
}

impl FrameFeed {
    /// Marks the copied frame as shown, so the thread fetches the next.
    pub(crate) fn shown(&self) {
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
            l.size = (reader.geometry().width, reader.geometry().height);
            l.shown = false;
        }
    }
}

/// Why there is no link: no engine at all, or a failed attempt.
pub(crate) fn attach(opts: &Options) -> Result<Link, (bool, String)> {
    if let Some(remote) = &opts.remote {
        return attach_remote(remote, opts.fps);
    }
    let reader = FrameReader::open(&opts.dir.frames_path(&opts.name)).map_err(|e| {
        let missing = matches!(e, OpenError::NotRunning { .. });
        (missing, e.to_string())
    })?;
    reader.check_alive().map_err(|e| (false, e.to_string()))?;
    let socket = opts.dir.socket_path(&opts.name);
    let connect = || Client::connect_unix(&socket).map_err(|e| (false, e.to_string()));
    let (calls_client, events_client) = (connect()?, connect()?);
    let (calls, msgs, stop) = talk(calls_client, events_client, None)?;
    let reader = Arc::new(reader);
    let frames = Arc::new(FrameFeed {
        latest: Mutex::new(Copied {
            frame: 0,
            tick: 0,
            size: (reader.geometry().width, reader.geometry().height),
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
        source: Source::Local(reader),
        calls,
        msgs,
        stop,
        frames,
    })
}

/// A link to an engine on another machine: calls, events and frames over
/// three TCP connections, each authenticated with the token.
fn attach_remote(remote: &crate::run::RemoteTarget, fps: u32) -> Result<Link, (bool, String)> {
    // Never "no engine" (whose screen says to start one here): an engine
    // elsewhere is only out of reach, and the screen says it retries.
    let connect = || {
        Client::connect_tcp(remote.addr, remote.token.as_deref())
            .map_err(|e| (false, format!("{}: {e}", remote.addr)))
    };
    let (calls_client, events_client, mut frames_client) = (connect()?, connect()?, connect()?);
    let subscribed: FramesSubscribed = frames_client
        .request::<method::FramesSubscribe>(&FramesSubscribeParams {
            max_fps: Some(f64::from(fps)),
            // One frame in flight: each sent is the newest there is, so a
            // slow link shows the present late, never the past in order.
            window: Some(1),
            // Every bit: the screen averages pixels before it rounds
            // colours, so frames cut to fewer bits first would draw other
            // cells than the local inspector does.
            bits: None,
            size: None,
        })
        .map_err(|e| (false, e.to_string()))?
        .result;
    let feed = Arc::new(Remote {
        width: subscribed.width,
        height: subscribed.height,
        lost: Mutex::new(String::new()),
        bytes: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        rtt_us: AtomicU64::new(0),
        want: Mutex::new(None),
    });
    let (calls, msgs, stop) = talk(calls_client, events_client, Some(Arc::clone(&feed)))?;
    let size = subscribed.width as usize * subscribed.height as usize * 4;
    let frames = Arc::new(FrameFeed {
        latest: Mutex::new(Copied {
            frame: 0,
            tick: 0,
            size: (subscribed.width, subscribed.height),
            pixels: AlignedBuf::zeroed(size),
            shown: true,
        }),
        wanted: Condvar::new(),
    });
    {
        let (feed, frames, stop) = (Arc::clone(&feed), Arc::clone(&frames), Arc::clone(&stop));
        std::thread::spawn(move || receive_frames(frames_client, fps, feed, frames, stop));
    }
    Ok(Link {
        source: Source::Remote(feed),
        calls,
        msgs,
        stop,
        frames,
    })
}

/// The remote frame thread: each frame decoded as it comes, acknowledged
/// once the screen has shown the one before (so the engine sends no more
/// than the inspector draws: the newest, never a queue).
fn receive_frames(
    mut client: Client,
    fps: u32,
    feed: Arc<Remote>,
    frames: Arc<FrameFeed>,
    stop: Arc<AtomicBool>,
) {
    let mut decoder = FrameDecoder::default();
    let mut last_frame = 0u64;
    let mut sent_at: Option<(u32, u32)> = None;
    while !stop.load(Ordering::Relaxed) {
        // The screen wants another size: subscribe anew at it (a fresh
        // stream: its frames are numbered from 1 again, and none of the
        // old one's is a base any more).
        let want = *feed.want.lock().unwrap_or_else(|p| p.into_inner());
        if want != sent_at {
            let params = FramesSubscribeParams {
                max_fps: Some(f64::from(fps)),
                window: Some(1),
                bits: None,
                size: want.map(|(w, h)| [w, h]),
            };
            if let Err(e) = client.request::<method::FramesSubscribe>(&params) {
                *feed.lost.lock().unwrap_or_else(|p| p.into_inner()) =
                    format!("frames at {want:?}: {e}");
                return;
            }
            client.clear_frames();
            decoder = FrameDecoder::default();
            sent_at = want;
        }
        let msg = match client.next_frame(Some(Duration::from_millis(250))) {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(e) => {
                *feed.lost.lock().unwrap_or_else(|p| p.into_inner()) =
                    format!("the frame connection ended: {e}");
                return;
            }
        };
        feed.bytes
            .fetch_add(msg.data.len() as u64 + 160, Ordering::Relaxed);
        if last_frame > 0 {
            feed.skipped
                .fetch_add(msg.frame.saturating_sub(last_frame + 1), Ordering::Relaxed);
        }
        last_frame = msg.frame;
        let pixels = match decoder.decode(&msg) {
            Ok(p) => p,
            Err(e) => {
                *feed.lost.lock().unwrap_or_else(|p| p.into_inner()) = e;
                return;
            }
        };
        {
            let mut l = frames.latest.lock().unwrap_or_else(|p| p.into_inner());
            // The screen has not drawn the last one yet: wait (a frame not
            // acknowledged holds the engine's next back).
            while !l.shown && !stop.load(Ordering::Relaxed) {
                l = frames
                    .wanted
                    .wait_timeout(l, Duration::from_millis(250))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            if l.pixels.len() != pixels.len() {
                l.pixels.resize(pixels.len());
            }
            l.pixels.as_mut_slice().copy_from_slice(pixels);
            l.frame = msg.frame;
            l.tick = msg.tick;
            l.size = (msg.width, msg.height);
            l.shown = false;
        }
        if client.ack_frame(msg.seq).is_err() {
            *feed.lost.lock().unwrap_or_else(|p| p.into_inner()) =
                "the frame connection ended".to_owned();
            return;
        }
    }
}

/// The calls and events threads of a link; a remote one's calls measure
/// the round trip.
#[allow(clippy::type_complexity)]
fn talk(
    mut calls_client: Client,
    mut events_client: Client,
    remote: Option<Arc<Remote>>,
) -> Result<(Sender<Request>, Receiver<Msg>, Arc<AtomicBool>), (bool, String)> {
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
            let sent = std::time::Instant::now();
            let result = calls_client.call(r.method, r.params);
            if let Some(remote) = &remote {
                let us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                remote.rtt_us.store(us, Ordering::Relaxed);
            }
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
    Ok((calls, msgs, stop))
}

impl Link {
    /// Sends a call; a link whose thread ended drops it (the loop hears
    /// `Lost` and reattaches).
    pub(crate) fn send(&self, r: Request) {
        let _ = self.calls.send(r);
    }
}
