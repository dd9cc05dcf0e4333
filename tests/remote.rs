//! The inspector on an engine elsewhere: `advkit inspect tcp://HOST:PORT`
//! through tests/tcp_relay.py (a slow link with a deep buffer and a round
//! trip), against the same engine seen locally, in tmux.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use advkit_ipc::client::Client;
use serde_json::json;

use crate::util::{Runtime, Tmux};

const WAIT: Duration = Duration::from_secs(20);

/// tests/tcp_relay.py, killed when dropped.
struct Relay {
    child: Child,
    port: u16,
}

impl Relay {
    fn start(rate: u32, delay_ms: u32, to: std::net::SocketAddr) -> Relay {
        Relay::counting(rate, delay_ms, to, None)
    }

    /// A relay that writes the bytes it passed toward clients to `count`.
    fn counting(
        rate: u32,
        delay_ms: u32,
        to: std::net::SocketAddr,
        count: Option<&std::path::Path>,
    ) -> Relay {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tcp_relay.py");
        let mut command = Command::new("python3");
        command
            .args([script, &rate.to_string(), "--delay", &delay_ms.to_string()])
            .args(["--listen", "0", "--to", &to.to_string()]);
        if let Some(count) = count {
            command.arg("--count").arg(count);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the relay");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the relay says its port");
        let port = line.trim().parse().expect("a port");
        Relay { child, port }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The frame pane's picture as colours: each cell's top and bottom half
/// (`▀` in red on blue is the same picture as `▄` in blue on red, and the
/// encoder picks whichever needs fewer bytes after the cells before it,
/// so glyphs alone differ between screens that show one picture). Cells
/// between the pane's left border and the params pane; SGR state from
/// `capture-pane -e`.
fn picture_part(screen: &str) -> Vec<Vec<(String, String)>> {
    let mut rows = Vec::new();
    for line in screen.lines() {
        let (mut fg, mut bg) = ("fg".to_owned(), "bg".to_owned());
        let mut cells = Vec::new();
        let mut chars = line.chars().peekable();
        let mut column = 0usize;
        let mut inside = false;
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                // CSI ... m
                let mut seq = String::new();
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                    seq.push(d);
                }
                let params: Vec<&str> = seq.trim_start_matches('[').split(';').collect();
                let mut i = 0;
                while i < params.len() {
                    match params[i] {
                        "" | "0" => {
                            fg = "fg".into();
                            bg = "bg".into();
                        }
                        "39" => fg = "fg".into(),
                        "49" => bg = "bg".into(),
                        "38" | "48" if params.get(i + 1) == Some(&"5") => {
                            let v = format!("5;{}", params.get(i + 2).unwrap_or(&""));
                            if params[i] == "38" {
                                fg = v
                            } else {
                                bg = v
                            }
                            i += 2;
                        }
                        "38" | "48" if params.get(i + 1) == Some(&"2") => {
                            let v = params[i + 2..(i + 5).min(params.len())].join(";");
                            if params[i] == "38" {
                                fg = v
                            } else {
                                bg = v
                            }
                            i += 4;
                        }
                        p if p.len() == 2 && p.starts_with('3') => fg = p.into(),
                        p if p.len() == 2 && p.starts_with('4') => bg = p.into(),
                        p if p.len() == 2 && p.starts_with('9') => fg = p.into(),
                        p if p.len() == 3 && p.starts_with("10") => bg = p.into(),
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            if column == 0 && c == '│' {
                inside = true;
                column += 1;
                continue;
            }
            if inside && c == '│' {
                break; // the pane's right border
            }
            if inside {
                cells.push(match c {
                    '▀' => (fg.clone(), bg.clone()),
                    '▄' => (bg.clone(), fg.clone()),
                    '█' => (fg.clone(), fg.clone()),
                    _ => (bg.clone(), bg.clone()),
                });
            }
            column += 1;
        }
        if inside {
            rows.push(cells);
        }
    }
    rows
}

#[test]
fn a_remote_inspector_behind_a_slow_link_shows_the_local_picture_and_only_observes() {
    let rt = Runtime::new();
    let keys = tempfile::tempdir().expect("tempdir");
    let token_path = keys.path().join("viewer.token");
    std::fs::write(&token_path, "viewer-token-0123456789abcdef\n").expect("token");
    std::fs::set_permissions(&token_path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let observe = format!("observe={}", token_path.display());
    let _engine = rt.start("far", &["--tcp", "127.0.0.1:0", "--token", &observe]);
    let mut owner = Client::connect_unix(&rt.dir().join("far.sock")).expect("owner");
    let addr = owner.call("hello", json!({})).expect("hello").result["tcp"]
        .as_str()
        .expect("tcp")
        .parse()
        .expect("address");
    // 1 MB/s, 50 ms round trip.
    let relay = Relay::start(1_000_000, 25, addr);

    let exe = env!("CARGO_BIN_EXE_advkit");
    let xdg = rt.xdg().display().to_string();
    let local = Tmux::start(
        &format!(
            "XDG_RUNTIME_DIR={xdg} {exe} inspect --name far --colors 256; echo INSPECT-EXIT-$?; sleep 30"
        ),
        110,
        36,
    );
    let remote = Tmux::start(
        &format!(
            "XDG_RUNTIME_DIR={xdg} {exe} inspect tcp://127.0.0.1:{} far --token-file {} \
             --colors 256; echo INSPECT-EXIT-$?; sleep 30",
            relay.port,
            token_path.display()
        ),
        110,
        36,
    );
    let screen = remote.wait_for("● connected", WAIT);
    assert!(
        screen.contains(&format!("127.0.0.1:{}", relay.port)),
        "{screen}"
    );
    remote.wait_until("the link's figures", WAIT, |s| {
        s.contains("tcp ") && s.contains("rtt ")
    });
    local.wait_for("● connected", WAIT);

    // Paused, both show the paused frame, and the remote link carries no
    // frame bytes at all.
    owner.call("engine.pause", json!({})).expect("pause");
    let tick = owner.call("engine.stats", json!({})).expect("stats").result["tick"]
        .as_u64()
        .expect("tick");
    let at = format!("tick {tick}");
    local.wait_for(&at, WAIT);
    remote.wait_until("the paused frame, and no frame bytes", WAIT, |s| {
        s.contains(&at) && s.contains("tcp 0 B/s")
    });
    // The same picture: every cell's two halves in the same colours.
    local.wait_for(&at, WAIT);
    remote.wait_for(&at, WAIT);
    let wanted = picture_part(&local.screen_with_colors());
    let colours: std::collections::BTreeSet<_> =
        wanted.iter().flatten().flat_map(|(t, b)| [t, b]).collect();
    assert!(
        colours.len() > 4,
        "the local picture has colours: {colours:?}"
    );
    remote.wait_until("the local picture, cell for cell", WAIT, |_| {
        picture_part(&remote.screen_with_colors()) == wanted
    });

    // `advkit snapshot --tcp` through the relay is the local snapshot.
    let hash = |out: String| out.split(" hash ").nth(1).map(|h| h[..16].to_owned());
    let here = rt
        .advkit(&["snapshot", "--name", "far", "--out", "-"])
        .stderr();
    let there = rt
        .advkit(&[
            "snapshot",
            "--tcp",
            &format!("127.0.0.1:{}", relay.port),
            "--token-file",
            &token_path.display().to_string(),
            "--out",
            "-",
        ])
        .stderr();
    assert!(
        hash(here.clone()).is_some() && hash(here.clone()) == hash(there.clone()),
        "{here}\n{there}"
    );

    // An observe token: the inspector may look, not pause or resume.
    remote.keys(&["p"]);
    remote.wait_for("needs a token of tier drive", WAIT);
    let stats = owner.call("engine.stats", json!({})).expect("stats").result;
    assert_eq!(stats["paused"], true, "the viewer changed nothing");

    // `n`: the next engine given (the same one, here through its socket),
    // and back.
    remote.keys(&["n"]);
    remote.wait_until("the local engine", WAIT, |s| {
        s.lines()
            .any(|l| l.starts_with(" far ") && l.contains("● connected") && !l.contains("tcp "))
    });
    remote.keys(&["n"]);
    remote.wait_until("the remote engine again", WAIT, |s| {
        s.contains(&format!(" 127.0.0.1:{} ", relay.port)) && s.contains("rtt ")
    });

    remote.keys(&["q"]);
    remote.wait_for("INSPECT-EXIT-0", WAIT);
    local.keys(&["q"]);
    local.wait_for("INSPECT-EXIT-0", WAIT);
}

#[test]
fn behind_100_kb_s_frames_are_a_fraction_of_raw_and_a_paused_engine_sends_nothing() {
    let rt = Runtime::new();
    let _engine = rt.start("pan", &["--tcp", "127.0.0.1:0"]);
    let mut owner = Client::connect_unix(&rt.dir().join("pan.sock")).expect("owner");
    let hello = owner.call("hello", json!({})).expect("hello").result;
    let addr = hello["tcp"]
        .as_str()
        .expect("tcp")
        .parse()
        .expect("address");
    let raw = hello["frames"]["width"].as_u64().expect("w")
        * hello["frames"]["height"].as_u64().expect("h")
        * 4;
    let token = std::fs::read_to_string(rt.dir().join("pan.token")).expect("token");
    let count = tempfile::NamedTempFile::new().expect("count file");
    let relay = Relay::counting(100_000, 25, addr, Some(count.path()));
    let passed = || {
        std::fs::read_to_string(count.path())
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };

    let via: std::net::SocketAddr = format!("127.0.0.1:{}", relay.port).parse().expect("addr");
    let mut viewer = Client::connect_tcp(via, Some(&token)).expect("connect through the relay");
    viewer
        .call("frames.subscribe", json!({"window": 1}))
        .expect("subscribe");
    let mut decoder = advkit_ipc::stream::FrameDecoder::default();
    // The demo walks and its camera follows: 20 frames as they come.
    let before = passed();
    let mut frames = 0u64;
    let mut ticks = Vec::new();
    while frames < 20 {
        let f = viewer
            .next_frame(Some(WAIT))
            .expect("read")
            .expect("a frame within the wait");
        assert_eq!(decoder.decode(&f).expect("decodes").len() as u64, raw);
        ticks.push(f.tick);
        viewer.ack_frame(f.seq).expect("ack");
        frames += 1;
    }
    let per_frame = (passed() - before) / frames;
    assert!(
        per_frame * 100 <= raw * 15,
        "{per_frame} bytes a frame on the wire, over 15 % of the raw {raw}"
    );
    assert!(
        ticks.windows(2).all(|w| w[1] > w[0]),
        "newer frames only: {ticks:?}"
    );

    // At the size an 80x24 inspector draws (78x44 pixels), the frame that
    // arrives is the engine's present but for the link: within 2 frames
    // plus the round trip (50 ms: under 2 ticks at 30 fps), as a median
    // over 20 frames measured when each arrives.
    let mut small = Client::connect_tcp(via, Some(&token)).expect("connect through the relay");
    small
        .call("frames.subscribe", json!({"window": 1, "size": [78, 44]}))
        .expect("subscribe at a size");
    let mut decoder = advkit_ipc::stream::FrameDecoder::default();
    let mut behind = Vec::new();
    while behind.len() < 20 {
        let f = small
            .next_frame(Some(WAIT))
            .expect("read")
            .expect("a frame within the wait");
        let now = owner.call("engine.stats", json!({})).expect("stats").result["tick"]
            .as_u64()
            .expect("tick");
        assert_eq!(decoder.decode(&f).expect("decodes").len(), 78 * 44 * 4);
        behind.push(now.saturating_sub(f.tick));
        small.ack_frame(f.seq).expect("ack");
    }
    behind.sort_unstable();
    assert!(
        behind[10] <= 4,
        "frames arrive {behind:?} ticks behind the engine"
    );
    drop(small);

    // `advkit ls` lists it beside the local engines, through the relay.
    let listed = rt
        .advkit(&[
            "ls",
            &format!("tcp://127.0.0.1:{}", relay.port),
            "tcp://127.0.0.1:1",
            "--token-file",
            &rt.dir().join("pan.token").display().to_string(),
        ])
        .ok();
    let remote_line = format!("pan@127.0.0.1:{}", relay.port);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("pan ") && l.contains("running"))
            && listed.lines().any(|l| l.starts_with(&remote_line)
                && l.contains("320x180")
                && l.contains("running"))
            && listed
                .lines()
                .any(|l| l.starts_with("?@127.0.0.1:1 ") && l.contains("unreachable")),
        "{listed}"
    );

    // Paused: once the last frame is through, not a byte more.
    owner.call("engine.pause", json!({})).expect("pause");
    while viewer
        .next_frame(Some(Duration::from_millis(500)))
        .expect("read")
        .map(|f| viewer.ack_frame(f.seq).expect("ack"))
        .is_some()
    {}
    let still = passed();
    assert!(
        viewer
            .next_frame(Some(Duration::from_millis(1500)))
            .expect("read")
            .is_none(),
        "no frame while paused"
    );
    assert_eq!(passed(), still, "not a byte while paused");
}

/// A 1080p engine's whole frames, which the server cuts into bands of
/// rows (a zstd frame each, compressed side by side), decode to the
/// region's picture: the first whole, the next against it.
#[test]
fn whole_1080p_frames_come_in_bands_and_decode_to_the_regions_picture() {
    use base64::Engine as _;
    let rt = Runtime::new();
    let _engine = rt.start("big", &["--size", "1920x1080", "--paused"]);
    let reader = advkit_ipc::FrameReader::open(&rt.dir().join("big.frames")).expect("the region");
    crate::util::wait_until("the first frame", || reader.latest_frame() > 0);
    let mut owner = Client::connect_unix(&rt.dir().join("big.sock")).expect("owner");
    owner
        .call("frames.subscribe", json!({"window": 1}))
        .expect("subscribe");
    let mut decoder = advkit_ipc::stream::FrameDecoder::default();
    let mut region = reader.buffer();
    let bands = advkit_frame::threads_for(1920 * 1080 * 4);
    let mut kinds = Vec::new();
    for step in [false, true] {
        if step {
            owner
                .call("engine.step", json!({"count": 1}))
                .expect("step");
        }
        let f = owner
            .next_frame(Some(WAIT))
            .expect("read")
            .expect("a frame within the wait");
        let shown = reader.read_latest(&mut region).expect("the region's frame");
        assert_eq!(
            (f.frame, f.tick),
            (shown.frame, shown.tick),
            "paused: the newest"
        );
        let mut data = &base64::engine::general_purpose::STANDARD
            .decode(&f.data)
            .expect("base64")[..];
        let mut zstd_frames = 0;
        while !data.is_empty() {
            data = &data[zstd::zstd_safe::find_frame_compressed_size(data).expect("zstd")..];
            zstd_frames += 1;
        }
        assert_eq!(zstd_frames, bands, "one zstd frame a band");
        let pixels = decoder.decode(&f).expect("decodes");
        assert!(
            pixels == region.as_slice(),
            "frame {} decodes to the region's picture",
            f.frame
        );
        kinds.push(f.encoding.clone());
        owner.ack_frame(f.seq).expect("ack");
    }
    // A tick's step moves little: the second is the XOR against the first.
    assert_eq!(kinds, ["zstd-rows", "zstd-rows-xor"]);
}

#[test]
fn an_engine_out_of_reach_is_said_so_with_what_to_check_and_q_still_quits() {
    let rt = Runtime::new();
    let keys = tempfile::tempdir().expect("tempdir");
    let token = keys.path().join("t.token");
    std::fs::write(&token, "some-token-0123456789abcdef\n").expect("token");
    let inspector = Tmux::start(
        &format!(
            "XDG_RUNTIME_DIR={} {} inspect tcp://127.0.0.1:1 --token-file {}; echo INSPECT-EXIT-$?; \
             sleep 30",
            rt.xdg().display(),
            env!("CARGO_BIN_EXE_advkit"),
            token.display()
        ),
        80,
        24,
    );
    let screen = inspector.wait_for("No answer from the engine at 127.0.0.1:1", WAIT);
    assert!(
        screen.contains("Connection refused")
            && screen.contains("--tcp")
            && !screen.contains("advkit run"),
        "{screen}"
    );
    inspector.keys(&["q"]);
    inspector.wait_for("INSPECT-EXIT-0", WAIT);
}
