//! The control protocol against a real `advkit run`: `advkit send`, raw
//! sockets with bad input, many clients, subscriptions, TCP auth, socat and
//! a Python client.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use advkit_ipc::client::Client;
use serde_json::{Value, json};

use crate::util::{Dir, Runtime};

/// A line-level client, for sending exactly the bytes a test wants.
struct Raw {
    reader: BufReader<UnixStream>,
}

impl Raw {
    fn connect(path: &Path) -> Raw {
        let s = UnixStream::connect(path).expect("connect to the control socket");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw {
            reader: BufReader::new(s),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("write");
    }

    fn read(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(serde_json::from_str(&line).expect("every line is JSON")),
        }
    }

    fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send(format!("{req}\n").as_bytes());
        loop {
            let msg = self.read().expect("a reply");
            if msg.get("id") == Some(&json!(id)) {
                return msg;
            }
        }
    }
}

fn socket(rt: &Runtime, name: &str) -> std::path::PathBuf {
    rt.dir().join(format!("{name}.sock"))
}

#[test]
fn send_sets_gets_reboots_and_reports_errors_with_exit_codes() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &["--fps", "30"]);

    let said = rt
        .advkit(&["send", "set", "walk_speed", "3", "npc_count", "2"])
        .ok();
    assert!(said.contains("walk_speed = 3.0 (applied)"), "{said}");
    assert!(said.contains("npc_count = 2 (pending"), "{said}");
    let said = rt.advkit(&["send", "get", "walk_speed"]).ok();
    assert!(
        said.contains("walk_speed") && said.contains("3.0"),
        "{said}"
    );

    let said = rt.advkit(&["send", "reboot"]).ok();
    assert!(said.starts_with("rebooted at tick"), "{said}");
    assert!(
        said.contains("progress kept") && said.contains("applied pending: npc_count"),
        "{said}"
    );

    // A fresh reboot needs --yes, and says what would be lost.
    let err = rt.advkit(&["send", "reboot", "--fresh"]).fails_with(1);
    assert!(
        err.contains("throws away the player's position") && err.contains("--yes"),
        "{err}"
    );
    rt.advkit(&["send", "reboot", "--fresh", "--yes"]).ok();

    // Out of range: exit 1, and the old value stays.
    let err = rt
        .advkit(&["send", "set", "walk_speed", "99"])
        .fails_with(1);
    assert!(err.contains("walk_speed = 99 is out of range"), "{err}");
    let json = rt.advkit(&["send", "--json", "get", "walk_speed"]).ok();
    let v: Value = serde_json::from_str(&json).expect("--json prints JSON");
    assert_eq!(v["values"]["walk_speed"], 3.0);

    // Pause, step, stats.
    rt.advkit(&["send", "pause"]).ok();
    let said = rt.advkit(&["send", "step", "5"]).ok();
    assert!(said.starts_with("stepped 5 to tick"), "{said}");
    let stats = rt.advkit(&["send", "stats"]).ok();
    assert!(stats.contains("PAUSED"), "{stats}");
    rt.advkit(&["send", "input", "tap", "left"]).ok();
    let err = rt
        .advkit(&["send", "input", "wiggle", "left"])
        .fails_with(1);
    assert!(err.contains("action"), "{err}");

    let err = rt
        .advkit(&["send", "--name", "nobody", "stats"])
        .fails_with(2);
    assert!(err.contains("no engine is listening"), "{err}");
    let err = rt.advkit(&["send", "call", "no.such"]).fails_with(1);
    assert!(err.contains("-32601"), "{err}");
}

#[test]
fn snapshot_over_the_socket_and_world_entities() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let _engine = rt.start("default", &["--size", "320x180"]);
    let out = dir.path("s.png");
    let said = rt
        .advkit(&[
            "send",
            "snapshot",
            "--scale",
            "2",
            "--out",
            &out.display().to_string(),
        ])
        .ok();
    assert!(said.starts_with("160x90 tick"), "{said}");
    let png = advkit_core::decode_png(&std::fs::read(&out).expect("png")).expect("decodes");
    assert_eq!((png.width(), png.height()), (160, 90));

    let mut c = Client::connect_unix(&socket(&rt, "default")).expect("connect");
    let all = c
        .call("world.entities", json!({}))
        .expect("entities")
        .result;
    assert_eq!(all["entities"][0]["id"], "player");
    let moved = c
        .call(
            "world.set",
            json!({"id": "npc:0", "attrs": {"tile": [22, 24], "speed": 2}}),
        )
        .expect("set");
    assert_eq!(moved.result["tile"], json!([22, 24]));
    let err = c
        .call(
            "world.set",
            json!({"id": "npc:0", "attrs": {"tile": [0, 0]}}),
        )
        .expect_err("solid tile");
    assert!(err.to_string().contains("solid or outside"), "{err}");
    let err = c
        .call("world.set", json!({"id": "npc:0", "attrs": {"hat": 1}}))
        .expect_err("unknown attr");
    assert!(err.to_string().contains("settable: tile"), "{err}");
    // Control characters never get into the world's text (the HUD and
    // every client's log would show them), and nothing changes.
    for bad in ["\u{1b}[2J", "ding\u{7}", "a\u{0}b", "two\nlines"] {
        let err = c
            .call(
                "world.set",
                json!({"id": "npc:0", "attrs": {"say": bad, "speed": 3}}),
            )
            .expect_err("control characters");
        assert!(err.to_string().contains("control characters"), "{err}");
        let err = c
            .call("world.set", json!({"id": "npc:0", "attrs": {"name": bad}}))
            .expect_err("control characters");
        assert!(err.to_string().contains("control characters"), "{err}");
    }
    let npc = c
        .call("world.get", json!({"id": "npc:0"}))
        .expect("get")
        .result;
    assert_eq!(npc["speed"], 2, "the refused sets changed nothing: {npc}");
    c.call(
        "world.set",
        json!({"id": "npc:0", "attrs": {"say": "Hi é ✓"}}),
    )
    .expect("plain text, any script, is fine");

    // world.pick: the player's box holds the player and the tile it stands
    // on or next to (it may be mid-step), and a pixel off the frame is
    // refused. Paused, so both answers are about the same tick.
    c.call("engine.pause", json!({})).expect("pause");
    let all = c
        .call("world.entities", json!({}))
        .expect("entities")
        .result;
    let player = &all["entities"][0];
    let b = &player["box"];
    let (x, y) = (
        b[0].as_u64().expect("box") + 8,
        b[1].as_u64().expect("box") + 8,
    );
    let here = c
        .call("world.pick", json!({"x": x, "y": y}))
        .expect("pick")
        .result;
    assert!(
        here["entities"]
            .as_array()
            .is_some_and(|e| e.contains(&json!("player"))),
        "{here}"
    );
    let near = |k: &str, i: usize| {
        let (a, b) = (here["tile"][k].as_i64(), player["tile"][i].as_i64());
        a.zip(b).is_some_and(|(a, b)| a.abs_diff(b) <= 1)
    };
    assert!(near("x", 0) && near("y", 1), "{here} vs {player}");
    assert!(here["tile"]["kind"].is_string(), "{here}");
    let err = c
        .call("world.pick", json!({"x": 320, "y": 0}))
        .expect_err("off the frame");
    assert!(
        err.to_string().contains("outside the 320x180 frame"),
        "{err}"
    );
}

#[test]
fn bad_input_gets_error_replies_and_the_connection_keeps_working() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &[]);
    let mut raw = Raw::connect(&socket(&rt, "default"));
    let revision = raw.call(1, "params.list", json!({}))["result"]["revision"].clone();

    let cases: &[(&[u8], i64)] = &[
        (b"this is not json\n", -32700),
        (b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"hel\xfflo\"}\n", -32700),
        (b"[1,2,3]\n", -32600),
        (b"{\"id\":3,\"method\":\"hello\"}\n", -32600),
        (b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"no.such\"}\n", -32601),
        (b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"engine.step\",\"params\":{\"count\":\"x\"}}\n", -32602),
        (b"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"params.set\",\"params\":{\"name\":\"walk_mode\",\"value\":\"fly\"}}\n", -32602),
        (b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"params.set\",\"params\":{\"values\":{\"walk_speed\":2,\"nope\":1}}}\n", -32602),
        (b"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"params.set\",\"params\":{\"name\":\"walk_speed\",\"value\":2,\"if_revision\":99999}}\n", -32002),
        // params that are not a structured value make the request invalid.
        (b"{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"engine.pause\",\"params\":5}\n", -32600),
        (b"{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"engine.pause\",\"params\":\"x\"}\n", -32600),
        (b"{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"engine.pause\",\"params\":true}\n", -32600),
        (b"{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"engine.pause\",\"params\":null}\n", -32600),
    ];
    for (line, code) in cases {
        raw.send(line);
        let reply = raw.read().expect("an error reply, not a hang-up");
        assert_eq!(
            reply["error"]["code"],
            json!(code),
            "{}: {reply}",
            String::from_utf8_lossy(line)
        );
        assert!(
            reply["tick"].is_u64(),
            "every reply carries the tick: {reply}"
        );
    }
    // Ids beyond 64 bits come back exactly as sent, in results and errors.
    raw.send(b"{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,\"method\":\"hello\"}\n");
    raw.send(b"{\"jsonrpc\":\"2.0\",\"id\":-1.25e-3,\"method\":\"no.such\"}\n");
    let mut replies = String::new();
    raw.reader
        .read_line(&mut replies)
        .and_then(|_| raw.reader.read_line(&mut replies))
        .expect("two replies");
    assert!(
        replies.contains(r#""id":18446744073709551616,"#) && replies.contains(r#""id":-1.25e-3,"#),
        "{replies}"
    );
    assert!(
        !raw.call(16, "engine.stats", json!({}))["result"]["paused"]
            .as_bool()
            .expect("paused"),
        "the invalid pause requests paused nothing"
    );

    // The enum error names the choices.
    raw.send(b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"params.set\",\"params\":{\"name\":\"walk_mode\",\"value\":\"fly\"}}\n");
    let msg = raw.read().expect("reply")["error"]["message"].to_string();
    assert!(msg.contains("tile") && msg.contains("pixel"), "{msg}");

    // Nothing was changed by the rejected requests (the atomic one included).
    let after = raw.call(10, "params.list", json!({}));
    assert_eq!(after["result"]["revision"], revision);
    assert_eq!(
        raw.call(11, "params.get", json!({"name": "walk_speed"}))["result"]["values"]["walk_speed"],
        1.0
    );

    // A line over 1 MiB: an error reply, then the connection is closed.
    let mut big = vec![b'x'; (1 << 20) + 10];
    big.push(b'\n');
    raw.send(&big);
    let reply = raw.read().expect("error reply");
    assert_eq!(reply["error"]["code"], -32004, "{reply}");
    assert!(raw.read().is_none(), "closed after an over-long line");

    // The engine is fine.
    let mut again = Raw::connect(&socket(&rt, "default"));
    assert!(again.call(1, "hello", json!({}))["result"]["protocol"].is_u64());
}

#[test]
fn two_hundred_concurrent_clients_and_a_refusal_past_the_cap() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &[]);
    let path = socket(&rt, "default");
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect_unix(&path).expect("connect");
                let r = c
                    .call("params.get", json!({"name": "walk_speed"}))
                    .expect("reply");
                assert_eq!(r.result["values"]["walk_speed"], 1.0, "client {i}");
                c.call("engine.input", json!({"button": "left", "action": "tap"}))
                    .expect("mailbox reply");
                c
            })
        })
        .collect();
    let mut held: Vec<Client> = threads
        .into_iter()
        .map(|t| t.join().expect("client thread"))
        .collect();
    // 200 + 56 more reach the cap of 256; the next one is refused clearly.
    for _ in 0..56 {
        let mut c = Client::connect_unix(&path).expect("connect");
        c.call("hello", json!({})).expect("within the cap");
        held.push(c);
    }
    let mut raw = Raw::connect(&path);
    let refusal = raw.read().expect("a refusal line");
    assert_eq!(refusal["error"]["code"], -32005, "{refusal}");
    assert!(
        refusal["error"]["message"]
            .to_string()
            .contains("too many connections")
    );
    drop(held);
}

#[test]
fn subscribers_get_events_from_other_clients_and_survive_a_reboot() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &[]);
    let path = socket(&rt, "default");
    let mut sub = Client::connect_unix(&path).expect("connect");
    sub.call("events.subscribe", json!({"topics": ["params", "engine"]}))
        .expect("subscribe");
    let err = sub
        .call("events.subscribe", json!({"topics": ["bogus"]}))
        .expect_err("unknown topic");
    assert!(err.to_string().contains("choose from params"), "{err}");

    rt.advkit(&["send", "set", "show_grid", "on"]).ok();
    rt.advkit(&["send", "reboot"]).ok();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let ev = sub
            .next_event(Some(Duration::from_secs(5)))
            .expect("read")
            .expect("an event within 5 s");
        let (topic, kind, _) = ev.event.encode(ev.tick);
        kinds.push(format!("{topic} {kind}"));
    }
    assert_eq!(
        kinds,
        ["params changed", "engine rebooting", "engine rebooted"]
    );
    // Still connected after the reboot.
    sub.call("hello", json!({})).expect("alive");
}

#[test]
fn tcp_needs_the_token_and_the_files_are_private() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &["--tcp", "127.0.0.1:0"]);
    let sock = socket(&rt, "default");
    let token_path = rt.dir().join("default.token");
    for p in [&sock, &token_path] {
        let mode = std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    let mut local = Client::connect_unix(&sock).expect("connect");
    let addr: std::net::SocketAddr = local.call("hello", json!({})).expect("hello").result["tcp"]
        .as_str()
        .expect("hello reports the TCP address")
        .parse()
        .expect("an address");

    let mut anon = Client::connect_tcp(addr, None).expect("connect");
    anon.call("hello", json!({}))
        .expect("hello is allowed before auth");
    let err = anon.call("params.get", json!({})).expect_err("needs auth");
    assert!(
        err.to_string().contains("-32000") && err.to_string().contains("auth"),
        "{err}"
    );
    let err = anon
        .call("auth", json!({"token": "guess"}))
        .expect_err("wrong token");
    assert!(err.to_string().contains("wrong token"), "{err}");

    // The file's contents as read, newline and all, are accepted.
    let token = std::fs::read_to_string(&token_path).expect("token");
    assert!(token.ends_with('\n'));
    let mut authed = Client::connect_tcp(addr, Some(&token)).expect("connect + auth");
    authed
        .call("params.get", json!({}))
        .expect("works after auth");
    // advkit send reads the token file itself.
    rt.advkit(&["send", "--tcp", &addr.to_string(), "stats"])
        .ok();
    // From where there is no token file, it names the file it looked for
    // and offers --token (it used to print `<runtime dir>/<name>.token`).
    let elsewhere = Runtime::new();
    let err = elsewhere
        .advkit(&["send", "--tcp", &addr.to_string(), "stats"])
        .fails_with(1);
    let looked = elsewhere.dir().join("default.token");
    assert!(
        err.contains(&format!("there is no {}", looked.display())) && err.contains("--token"),
        "{err}"
    );

    let err = rt
        .advkit(&["run", "--name", "open", "--tcp", "0.0.0.0:0"])
        .fails_with(1);
    assert!(
        err.contains("not loopback") && err.contains("--allow-remote"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(rt.dir())
        .expect("runtime dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("open."))
        .collect();
    assert!(left.is_empty(), "a refused engine leaves nothing: {left:?}");
}

/// The params file holds tuned values: owner-only, like every other file
/// an engine writes (it was 0644).
#[test]
fn params_save_writes_an_owner_only_file() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let file = dir.path("tuned.json");
    let _engine = rt.start("default", &["--params", &file.display().to_string()]);
    rt.advkit(&["send", "set", "walk_speed", "2"]).ok();
    rt.advkit(&["send", "call", "params.save"]).ok();
    let mode = std::fs::metadata(&file)
        .expect("saved")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn socat_one_shot_and_the_python_client_from_the_docs() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &[]);
    let sock = socket(&rt, "default");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"}}' | socat - UNIX-CONNECT:{}",
            sock.display()
        ))
        .output()
        .expect("sh runs (socat is installed by .ci/run)");
    let text = String::from_utf8_lossy(&out.stdout);
    let hello: Value = serde_json::from_str(text.trim()).unwrap_or_else(|_| {
        panic!(
            "socat got no JSON answer: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(hello["result"]["protocol"], 1);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python/control.py");
    let py = |args: &[&str]| {
        std::process::Command::new("python3")
            .arg(script)
            .args(args)
            .env("XDG_RUNTIME_DIR", rt.xdg())
            .output()
            .expect("python3 runs")
    };
    let set = py(&["params.set", r#"{"name": "walk_mode", "value": "pixel"}"#]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let said = rt.advkit(&["send", "get", "walk_mode"]).ok();
    assert!(
        said.contains("pixel"),
        "python's change is seen by advkit send: {said}"
    );
    let bad = py(&["params.set", r#"{"name": "walk_mode", "value": "fly"}"#]);
    assert_eq!(bad.status.code(), Some(1));
    let discover = py(&["rpc.discover"]);
    let v: Value = serde_json::from_slice(&discover.stdout).expect("json");
    assert!(
        v["result"]["methods"]
            .as_array()
            .is_some_and(|m| m.len() > 20)
    );
}

/// Found by trying them (issue 13): a negative count, a name that climbs
/// out of the runtime directory, and completions into a pipe closed early
/// (`| head -c 10`) each end with a clear message or quietly, never a
/// panic or a confusing "unexpected argument".
#[test]
fn the_cli_refuses_negative_counts_and_bad_names_and_survives_a_closed_pipe() {
    let err = crate::util::advkit(&["render", "--ticks", "-1", "--out", "/dev/null"]).fails_with(2);
    assert!(err.contains("-1 is below 0"), "{err}");
    let err = crate::util::advkit(&["send", "step", "-2"]).fails_with(2);
    assert!(err.contains("-2 is below 0"), "{err}");
    let err = crate::util::advkit(&["send", "--name", "../evil", "stats"]).fails_with(2);
    assert!(err.contains("`../evil` is not allowed"), "{err}");
    // No engine is 2 for every command (snapshot said 1, send 2).
    let rt = Runtime::new();
    for args in [
        &["send", "--name", "nobody", "stats"][..],
        &["snapshot", "--name", "nobody", "--out", "/dev/null"][..],
    ] {
        let err = rt.advkit(args).fails_with(2);
        assert!(err.contains("nobody"), "{args:?}: {err}");
    }

    // The bash script is larger than a pipe's buffer, so the write meets
    // the closed end.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start advkit completions");
    let mut head = [0u8; 10];
    std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut head).expect("read");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("exit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// docs/protocol.md: only lines *over* 1 MiB are refused. A request of
/// exactly 1,048,576 bytes (before its newline) is answered; one byte more
/// is −32004 and the connection closes.
#[test]
fn a_line_of_exactly_one_mebibyte_is_answered_and_one_byte_more_is_refused() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &[]);
    let request = |len: usize| {
        let head = r#"{"jsonrpc":"2.0","id":1,"method":"params.get","params":{"names":[""#;
        let tail = r#""]}}"#;
        let pad = "x".repeat(len - head.len() - tail.len());
        format!("{head}{pad}{tail}\n")
    };
    for (len, want) in [(1 << 20, -32602), ((1 << 20) + 1, -32004)] {
        let mut s = UnixStream::connect(socket(&rt, "default")).expect("connect");
        let line = request(len);
        assert_eq!(line.len(), len + 1);
        s.write_all(line.as_bytes()).expect("send");
        let mut reply = String::new();
        BufReader::new(&s).read_line(&mut reply).expect("reply");
        let reply: Value = serde_json::from_str(&reply).expect("JSON reply");
        assert_eq!(reply["error"]["code"], json!(want), "{len} bytes: {reply}");
    }
}

/// `params.get` with both `name` and `names` used to answer one and
/// silently drop the other; it is now −32602.
#[test]
fn params_get_with_both_name_and_names_is_refused() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &[]);
    let mut c = Client::connect_unix(&socket(&rt, "default")).expect("connect");
    let err = c
        .call(
            "params.get",
            json!({"name": "walk_speed", "names": ["npc_count"]}),
        )
        .expect_err("both");
    assert!(
        err.to_string().contains("-32602") && err.to_string().contains("not both"),
        "{err}"
    );
    let said = rt
        .advkit(&["send", "set", "player_tags", r#"["a,b", "c d"]"#])
        .ok();
    assert!(said.contains("player_tags"), "{said}");
    let got = c
        .call("params.get", json!({"name": "player_tags"}))
        .expect("get");
    assert_eq!(got.result["values"]["player_tags"], json!(["a,b", "c d"]));
}

/// The stdlib Python examples say what is wrong instead of printing a
/// traceback (issue 13): params that are not JSON, an output file that
/// cannot be written, and an output format the reader does not write
/// (`.jpg` used to get a PNG silently).
#[test]
fn the_python_examples_report_bad_input_without_a_traceback() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &[]);
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python");
    let run = |script: &str, args: &[&str]| {
        let out = std::process::Command::new("python3")
            .arg(format!("{examples}/{script}"))
            .args(args)
            .env("XDG_RUNTIME_DIR", rt.xdg())
            .output()
            .expect("python3 runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("Traceback"),
            "{script} {args:?}:\n{stderr}"
        );
        (out.status.code(), stderr)
    };
    let (code, err) = run("control.py", &["params.set", "not json"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("params must be JSON"), "{err}");
    let (code, err) = run("read_frame.py", &["--out", "/nonexistent/dir/f.png"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot write /nonexistent/dir/f.png"), "{err}");
    let (code, err) = run("read_frame.py", &["--out", "f.jpg"]);
    assert_eq!(code, Some(1));
    assert!(err.contains(".png or .ppm only"), "{err}");
}

/// `advkit send reset` works in every form (issue 13: the positional param
/// shared its id with the global `--name`, so `reset walk_speed` looked
/// for an engine called walk_speed and `--name X reset` reset a param X).
#[test]
fn send_reset_resets_one_param_or_all_on_the_named_engine() {
    let rt = Runtime::new();
    let _engine = rt.start("x", &[]);
    rt.advkit(&[
        "send",
        "--name",
        "x",
        "set",
        "walk_speed",
        "3",
        "day_night",
        "0.5",
    ])
    .ok();
    let one = rt
        .advkit(&["send", "--name", "x", "reset", "walk_speed"])
        .ok();
    assert!(one.contains("walk_speed = 1.0"), "{one}");
    let got = rt.advkit(&["send", "--name", "x", "get", "day_night"]).ok();
    assert!(got.contains("0.5"), "only the named param was reset: {got}");
    let all = rt.advkit(&["send", "reset", "--name", "x"]).ok();
    assert!(all.contains("day_night = 0.0"), "{all}");
}

/// Opens `n` TCP connections to `addr`; with a token, each authenticates
/// and then starts a line it never finishes (a slowloris). Connections the
/// engine refused are kept too (closed by the engine).
fn tcp_crowd(
    addr: std::net::SocketAddr,
    n: usize,
    token: Option<&str>,
) -> Vec<std::net::TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(addr).expect("TCP connect");
            if let Some(token) = token {
                s.set_read_timeout(Some(Duration::from_secs(10)))
                    .expect("timeout");
                let auth = json!({"jsonrpc": "2.0", "id": 1, "method": "auth", "params": {"token": token}});
                let _ = s.write_all(format!("{auth}\n").as_bytes());
                let mut reply = String::new();
                let _ = BufReader::new(&s).read_line(&mut reply);
                let _ = s.write_all(b"{\"jsonrpc\":");
            }
            s
        })
        .collect()
}

#[test]
fn the_owner_is_served_on_the_unix_socket_while_tcp_is_flooded() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &["--tcp", "127.0.0.1:0"]);
    let sock = socket(&rt, "default");
    let addr: std::net::SocketAddr = Client::connect_unix(&sock)
        .and_then(|mut c| c.call("hello", json!({})))
        .expect("hello")
        .result["tcp"]
        .as_str()
        .expect("tcp address")
        .parse()
        .expect("an address");
    let token = std::fs::read_to_string(rt.dir().join("default.token")).expect("token");

    // 300 that authenticate and then trickle (the first 256 are admitted),
    // then 300 that never authenticate (refused: TCP is full).
    let flooded = std::time::Instant::now();
    let slow = tcp_crowd(addr, 300, Some(&token));
    let unauthenticated = tcp_crowd(addr, 300, None);

    // A fresh Unix client is admitted and answered (it used to get -32005
    // once 256 connections of any kind were open).
    let mut owner = Client::connect_unix(&sock).expect("connect");
    let stats = owner.call("engine.stats", json!({})).expect("served");
    let clients = stats.result["clients"].as_u64().expect("clients");
    assert!(
        (2..=257).contains(&clients),
        "TCP holds at most its own cap of 256 (plus this client): {clients}"
    );
    owner
        .call("params.set", json!({"name": "walk_speed", "value": 2.0}))
        .expect("and the loop answers too");

    // A TCP newcomer is told why it is refused (while the slow ones still
    // hold their places: their line times out 30 s after it started).
    let late = std::net::TcpStream::connect(addr).expect("connect");
    late.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut line = String::new();
    BufReader::new(&late).read_line(&mut line).expect("a line");
    if flooded.elapsed() < Duration::from_secs(25) {
        let refusal: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(refusal["error"]["code"], -32005, "{refusal}");
        assert!(
            refusal["error"]["message"].as_str().is_some_and(
                |m| m.contains("TCP") && m.contains("Unix socket has a limit of its own")
            ),
            "{refusal}"
        );
    }
    drop((unauthenticated, slow));
}

#[test]
fn shell_completion_of_name_offers_the_running_engines() {
    let rt = Runtime::new();
    let _alpha = rt.start("alpha", &[]);
    let _beta = rt.start("beta", &[]);
    drop(rt.start("gone", &[])); // killed: stale, not offered
    assert_eq!(rt.advkit(&["ls", "--names"]).ok(), "alpha\nbeta\n");

    // Bash, for real: the generated function, asked to complete `--name `.
    let bin = Path::new(env!("CARGO_BIN_EXE_advkit"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let complete = |words: &str, cur: &str| {
        let script = format!(
            r#"source <(advkit completions bash)
COMP_WORDS=({words} "{cur}"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_advkit advkit "{cur}" --name
printf '%s\n' "${{COMPREPLY[@]}}""#
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .env("PATH", &path)
            .env("XDG_RUNTIME_DIR", rt.xdg())
            .output()
            .expect("bash");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(complete("advkit send --name", ""), "alpha\nbeta\n");
    assert_eq!(complete("advkit snapshot --name", "b"), "beta\n");
    assert_eq!(complete("advkit inspect --name", ""), "alpha\nbeta\n");

    // zsh and fish (maybe not installed here): every --name asks advkit.
    for shell in ["zsh", "fish"] {
        let script = rt.advkit(&["completions", shell]).ok();
        assert!(script.contains("advkit ls --names"), "{shell}");
        let names = script
            .lines()
            .filter(|l| l.contains("_advkit_engines'") || l.contains("(advkit ls --names"))
            .count();
        let name_options = script
            .lines()
            .filter(|l| l.contains("'--name=") || l.contains(" -l name "))
            .count();
        assert!(name_options > 5, "{shell}: {name_options}");
        assert!(
            names >= name_options,
            "{shell}: {names} of {name_options} --name options complete engines"
        );
    }
}

#[test]
fn a_step_sends_the_tick_event_of_its_frame() {
    let rt = Runtime::new();
    let _engine = rt.start("default", &["--paused"]);
    let mut c = Client::connect_unix(&socket(&rt, "default")).expect("connect");
    c.call("events.subscribe", json!({"topics": ["tick", "engine"]}))
        .expect("subscribe");
    let tick = c
        .call("engine.step", json!({"count": 3}))
        .expect("step")
        .result["tick"]
        .as_u64()
        .expect("tick");
    let mut seen = Vec::new();
    while let Some(ev) = c.next_event(Some(Duration::from_secs(5))).expect("read") {
        let (topic, kind, _) = ev.event.encode(ev.tick);
        seen.push(format!("{topic} {kind} {}", ev.tick));
        if kind == "stepped" {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            format!("tick tick {tick}"),
            format!("engine stepped {tick}")
        ]
    );
}

#[test]
fn argument_errors_name_the_argument_and_what_it_takes() {
    let rt = Runtime::new();
    let _engine = rt.start("named", &["--paused"]);
    let mut c = Raw::connect(&socket(&rt, "named"));
    // A null value is a value the param refuses, by name, in both forms.
    for params in [
        json!({"name": "walk_speed", "value": null}),
        json!({"values": {"walk_speed": null}}),
    ] {
        let r = c.call(1, "params.set", params.clone());
        let msg = r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            msg.contains("walk_speed") && msg.contains("null"),
            "{params}: {msg}"
        );
    }
    // A pixel off the frame's left edge names `x` and what it takes.
    let r = c.call(2, "world.pick", json!({"x": -1, "y": 0}));
    let msg = r["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("`x`") && msg.contains("from 0"), "{msg}");
    let discover = c.call(3, "rpc.discover", json!({}));
    let pick = discover["result"]["methods"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "world.pick"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(pick["params"][0]["min"], 0.0, "{pick}");
}
