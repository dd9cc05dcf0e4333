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
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tcp_relay.py");
        let mut child = Command::new("python3")
            .args([script, &rate.to_string(), "--delay", &delay_ms.to_string()])
            .args(["--listen", "0", "--to", &to.to_string()])
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

/// The screen without its last three lines (the status line and key bar
/// name the engine differently, local and remote) and trailing blanks.
fn picture_part(screen: &str) -> Vec<String> {
    let lines: Vec<&str> = screen.lines().collect();
    lines[..lines.len().saturating_sub(3)]
        .iter()
        .map(|l| l.trim_end().to_owned())
        .collect()
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
            "XDG_RUNTIME_DIR={xdg} {exe} inspect tcp://127.0.0.1:{} --token-file {} --colors 256; \
             echo INSPECT-EXIT-$?; sleep 30",
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
    let remote_screen = remote.wait_until("the paused frame, and no frame bytes", WAIT, |s| {
        s.contains(&at) && s.contains("tcp 0 B/s")
    });
    assert!(
        picture_part(&remote_screen)
            .iter()
            .filter(|l| l.contains('▀') || l.contains('▄') || l.contains('█'))
            .count()
            > 10,
        "the picture is drawn:\n{remote_screen}"
    );

    // An observe token: the inspector may look, not pause or resume.
    remote.keys(&["p"]);
    remote.wait_for("needs a token of tier drive", WAIT);
    let stats = owner.call("engine.stats", json!({})).expect("stats").result;
    assert_eq!(stats["paused"], true, "the viewer changed nothing");

    remote.keys(&["q"]);
    remote.wait_for("INSPECT-EXIT-0", WAIT);
    local.keys(&["q"]);
    local.wait_for("INSPECT-EXIT-0", WAIT);
}
