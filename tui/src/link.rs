//! The inspector's attachment to one engine: its frame region, read by a
//! thread that copies the newest frame once the screen has shown the
//! last one, and two control connections (calls, and events), each on a
//! thread of its own, that report to the loop through one channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use advkit_ipc::api::event::Notification;
use advkit_ipc::api::{RpcError, Topic, TopicsParams, method};
use advkit_ipc::client::{Client, ClientError};
use advkit_ipc::{AlignedBuf, FrameReader, OpenError, ReadError};
use serde_json::Value as Json;

use crate::app::{Request, Tag};
use crate::run::Options;

pub(crate) enum Msg {
    Reply(Tag, Result<Json, RpcError>),
    Event(Notification),
    Lost(String),
}

/// A live attachment to one engine.
pub(crate) struct Link {
    pub(crate) reader: Arc<FrameReader>,
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
            l.shown = false;
        }
    }
}

/// Why there is no link: no engine at all, or a failed attempt.
pub(crate) fn attach(opts: &Options) -> Result<Link, (bool, String)> {
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

impl Link {
    /// Sends a call; a link whose thread ended drops it (the loop hears
    /// `Lost` and reattaches).
    pub(crate) fn send(&self, r: Request) {
        let _ = self.calls.send(r);
    }
}
