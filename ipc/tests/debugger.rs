//! The host's debugger driven by a test's own game loops, with real
//! sockets: a game that cannot save its state, and one whose frames do
//! not follow from its saved state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use advkit_ipc::api::{WorldLoaded, WorldState, codes, method};
use advkit_ipc::client::{Client, ClientError};
use advkit_ipc::{Host, HostConfig, Request, RuntimeDir};
use serde_json::json;

/// A game on its own thread, stopped and joined when dropped.
struct Game {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    socket: std::path::PathBuf,
}

impl Drop for Game {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A 16x8 game whose pixel shade is `noise(tick)`; with `saves` it
/// answers world.save/world.load with its tick (and nothing else).
fn start(tmp: &tempfile::TempDir, name: &str, saves: bool, noise: fn(u64) -> u8) -> Game {
    let mut cfg = HostConfig {
        dir: RuntimeDir::at(tmp.path().join("advkit")),
        handle_signals: false,
        paused: true,
        ..HostConfig::new(name, 16, 8)
    };
    if saves {
        cfg = cfg.with_standard(&[method::WORLD_SAVE, method::WORLD_LOAD]);
    }
    let mut host = Host::start(cfg).expect("start");
    let socket = host.socket_path().to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let mut tick = 0u64;
        let draw = |tick: u64| [noise(tick), 0, 0, 255].repeat(16 * 8);
        host.publish(tick, &draw(tick)).expect("publish");
        let mut deadline = Instant::now();
        while !stopping.load(Ordering::Relaxed) {
            while let Some(req) = host.next_request(deadline) {
                match req {
                    Request::WorldSave { reply } => reply.ok(WorldState {
                        tick,
                        state: json!({ "tick": tick }),
                    }),
                    Request::WorldLoad { params, reply } => {
                        tick = params.state["tick"].as_u64().unwrap_or(tick);
                        reply.ok(WorldLoaded { tick });
                    }
                    other => other.unsupported(),
                }
            }
            let due = host.ticks_due();
            if due > 0 {
                tick += due;
                host.publish(tick, &draw(tick)).expect("publish");
            }
            deadline = host.next_deadline(deadline);
        }
    });
    Game {
        stop,
        thread: Some(thread),
        socket,
    }
}

fn client(g: &Game) -> Client {
    let mut c = Client::connect_unix(&g.socket).expect("connect");
    c.set_timeout(Duration::from_secs(30));
    c
}

#[test]
fn a_game_without_world_save_gets_a_refusal_that_names_what_is_missing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let game = start(&tmp, "nosave", false, |t| t as u8);
    let mut c = client(&game);
    c.call(method::STEP, json!({"count": 5})).expect("steps");
    for (m, p) in [
        (method::HISTORY, json!({})),
        (method::SEEK, json!({"tick": 2})),
        (method::WORLD_DIFF, json!({"from": 1, "to": 2})),
    ] {
        let err = c.call(m, p).expect_err("refused");
        let ClientError::Rpc(e) = err else {
            panic!("{m}: an error reply, not {err}")
        };
        assert_eq!(e.code, codes::NO_HISTORY, "{m}: {}", e.message);
        assert!(
            e.message.contains("world.save") && e.message.contains("world.load"),
            "{m}: {}",
            e.message
        );
    }
    let stats = c.call(method::STATS, json!({})).expect("stats").result;
    assert_eq!(stats["history"]["on"], false, "{stats}");
    // Run-until and watchpoints need no history.
    let r = c
        .call(method::RUN_UNTIL, json!({"condition": "tick == 9"}))
        .expect("runs")
        .result;
    assert_eq!(r["tick"], 9, "{r}");
}

static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[test]
fn a_game_whose_frames_do_not_follow_from_its_state_is_named_not_deterministic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Every frame drawn gets a new shade: a replay draws other ones.
    let game = start(&tmp, "noisy", true, |_| {
        CALLS.fetch_add(1, Ordering::Relaxed) as u8
    });
    let mut c = client(&game);
    for _ in 0..30 {
        c.call(method::STEP, json!({})).expect("step");
    }
    let h = c.call(method::HISTORY, json!({})).expect("history").result;
    assert_eq!(h["newest"], 30, "{h}");
    let err = c
        .call(method::SEEK, json!({"tick": 20}))
        .expect_err("not deterministic");
    let ClientError::Rpc(e) = err else {
        panic!("an error reply, not {err}")
    };
    assert_eq!(e.code, codes::NOT_DETERMINISTIC, "{}", e.message);
    let data: advkit_ipc::api::NotDeterministicData = e.data_as().expect("data");
    let keyframe = h["keyframes"]
        .as_array()
        .expect("keyframes")
        .iter()
        .filter_map(|k| k.as_u64())
        .filter(|&k| k < 20)
        .max()
        .expect("a keyframe before 20");
    assert_eq!(data.tick, keyframe + 1, "the first tick replayed differs");
    let stats = c.call(method::STATS, json!({})).expect("stats").result;
    assert_eq!(stats["tick"], 30, "the engine stays where it was: {stats}");
}

/// However a frame is drawn (rows put and repeated with or without hashing
/// them on the way, drawn in place, copied in whole), its content hash is
/// the fingerprint of the tight frame; and frames that differ in one pixel
/// of a repeated row, or only in shade, have different ones.
#[test]
fn a_frames_content_hash_is_its_fingerprint_however_it_was_drawn() {
    use advkit_ipc::Canvas;
    use advkit_ipc::region::{FrameWriter, frame_fingerprint};
    let tmp = tempfile::tempdir().expect("tempdir");
    // 17 px: rows padded inside the stride.
    let (w, h) = (17u32, 12u32);
    let row_bytes = (w * 4) as usize;
    let mut writer = FrameWriter::create(&tmp.path().join("f.frames"), w, h, 30.0).expect("create");
    let rows: Vec<Vec<u8>> = (0..h / 3)
        .map(|i| {
            (0..row_bytes)
                .map(|b| (b as u32 * 7 + i * 31) as u8)
                .collect()
        })
        .collect();
    let tight: Vec<u8> = (0..h as usize).flat_map(|y| rows[y / 3].clone()).collect();
    let want = frame_fingerprint(&tight, row_bytes);
    for (how, hashing) in [("put and repeated", true), ("put and repeated", false)] {
        let mut loan = writer.loan();
        if hashing {
            loan.hash_rows();
        }
        for (i, row) in rows.iter().enumerate() {
            let y = (i * 3) as u32;
            loan.put_row(y, row);
            loan.copy_row(y, y + 1);
            loan.copy_row(y, y + 2);
        }
        assert_eq!(loan.content_hash(), want, "{how}, hashing {hashing}");
        // One pixel of a repeated row drawn in place changes it.
        loan.row_mut(4)[0] ^= 1;
        assert_ne!(loan.content_hash(), want, "{how}: a changed pixel");
        loan.publish(1);
    }
    let mut loan = writer.loan();
    for (row, src) in loan.rows_mut().zip(tight.chunks(row_bytes)) {
        row.copy_from_slice(src);
    }
    assert_eq!(loan.content_hash(), want, "drawn in place");
    drop(loan);
    let mut loan = writer.loan();
    loan.hash_rows();
    loan.copy_from(&tight).expect("size");
    assert_eq!(loan.content_hash(), want, "copied in whole");
    let shaded: Vec<u8> = tight.iter().map(|b| b.wrapping_add(1)).collect();
    assert_ne!(frame_fingerprint(&shaded, row_bytes), want, "another shade");
}
