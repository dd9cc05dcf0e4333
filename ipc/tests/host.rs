//! The host API driven by a test's own game loop, with real sockets.

use std::time::{Duration, Instant};

use advkit_ipc::api::{Event, method};
use advkit_ipc::client::Client;
use advkit_ipc::{Host, HostConfig, RuntimeDir};
use advkit_params::{Params, Spec};
use serde_json::json;

fn config(tmp: &tempfile::TempDir, name: &str) -> HostConfig {
    HostConfig {
        dir: RuntimeDir::at(tmp.path().join("advkit")),
        handle_signals: false,
        ..HostConfig::new(name, 32, 32)
    }
}

#[test]
fn a_subscriber_that_never_reads_never_blocks_the_loop_and_is_told_it_lagged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let host = Host::start(config(&tmp, "lag")).expect("start");
    let mut slow = Client::connect_unix(host.socket_path()).expect("connect");
    slow.call(method::SUBSCRIBE, json!({"topics": ["log"]}))
        .expect("subscribe");

    // Far more events than the socket buffers (~200 KB) and the event
    // queue (1024) hold, with events of a topic it did not subscribe to in
    // between. A blocking emit would hang here; the bound below only turns
    // such a hang into a failure, it does not time anything.
    const LOGS: u64 = 20_000;
    let payload = "x".repeat(400);
    let started = Instant::now();
    for i in 0..LOGS {
        host.set_tick(i);
        host.log(&payload);
        if i % 7 == 0 {
            host.emit(&Event::Tick);
        }
    }
    host.log("end");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "emitting must never wait for a reader ({took:?})"
    );

    // Others are still served while the slow one is stuck.
    let mut other = Client::connect_unix(host.socket_path()).expect("connect");
    other.call(method::HELLO, json!({})).expect("served");

    // Now the slow client reads: every log it did not get is counted in a
    // `lagged` event, exactly, and the tick events it never asked for are
    // not.
    let (mut received, mut missed, mut lagged_events) = (0u64, 0u64, 0);
    loop {
        let ev = slow
            .next_event(Some(Duration::from_secs(5)))
            .expect("read")
            .expect("events until the last log");
        match ev.event {
            Event::Lagged { missed: n } => {
                missed += n;
                lagged_events += 1;
            }
            Event::Log { message } => {
                received += 1;
                if message == "end" {
                    break;
                }
            }
            other => panic!("only its own topic is delivered: {other:?}"),
        }
    }
    assert!(
        lagged_events > 0 && missed > 100,
        "it missed many ({missed})"
    );
    assert_eq!(
        received + missed,
        LOGS + 1,
        "received {received} + missed {missed} is every log sent"
    );
    slow.call(method::HELLO, json!({}))
        .expect("and the connection still works");
}

#[test]
fn the_loop_waits_on_the_mailbox_so_commands_are_answered_at_once_even_at_1_fps() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let params = Params::new(vec![Spec::float("gain", 0.0, 10.0, 0.5, "x", 1.0)]);
    let mut host =
        Host::start(config(&tmp, "slow").with_params(params).with_fps(0.2)).expect("start");
    let socket = host.socket_path().to_owned();
    let game = std::thread::spawn(move || {
        let frame = vec![0u8; 32 * 32 * 4];
        let (mut next, mut tick) = (Instant::now(), 0u64);
        while host.running() {
            host.publish(tick, &frame).expect("publish");
            tick += 1;
            next = host.next_deadline(next); // a tick every 5 s
            while let Some(req) = host.next_request(next) {
                req.unsupported();
            }
        }
        host.params().clone()
    });
    let mut c = Client::connect_unix(&socket).expect("connect");
    let mut slowest = Duration::ZERO;
    for v in [2.0, 3.5, 4.0] {
        let t = Instant::now();
        c.call(method::PARAMS_SET, json!({"name": "gain", "value": v}))
            .expect("set");
        slowest = slowest.max(t.elapsed());
    }
    // Only a tick apart from the 5 s one it would wait for.
    assert!(
        slowest < Duration::from_millis(2500),
        "answered long before the 5 s tick: {slowest:?}"
    );
    let err = c
        .call(method::ENTITIES, json!({}))
        .expect_err("this game registered no world methods");
    assert!(err.to_string().contains("-32601"), "{err}");
    c.call(method::SHUTDOWN, json!({})).expect("shutdown");
    let params = game.join().expect("game loop");
    assert_eq!(params.get("gain").and_then(|v| v.as_f64()), Some(4.0));
}

#[test]
fn requests_pipelined_after_shutdown_are_answered_engine_gone_at_once() {
    use std::io::{BufRead, BufReader, Write};
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut host = Host::start(config(&tmp, "bye")).expect("start");
    let socket = host.socket_path().to_owned();
    let game = std::thread::spawn(move || {
        let frame = vec![0u8; 32 * 32 * 4];
        let mut next = Instant::now();
        let mut tick = 0;
        while host.running() {
            tick += host.ticks_due();
            host.publish(tick, &frame).expect("publish");
            next = host.next_deadline(next);
            while let Some(req) = host.next_request(next) {
                req.unsupported();
            }
        }
        // The loop has ended; the host is dropped here, as a game's would.
        Instant::now()
    });
    let mut s = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    // One write: shutdown, then requests that need the loop (pause, step,
    // snapshot) and one the server answers itself.
    let mut lines = String::from(r#"{"jsonrpc":"2.0","id":0,"method":"engine.shutdown"}"#);
    lines.push('\n');
    for (id, m) in [
        (1, "engine.pause"),
        (2, "engine.step"),
        (3, "frame.snapshot"),
        (4, "engine.resume"),
    ] {
        lines.push_str(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{m}"}}"#));
        lines.push('\n');
    }
    let sent = Instant::now();
    s.write_all(lines.as_bytes()).expect("write");
    let mut replies = Vec::new();
    for line in BufReader::new(&s).lines() {
        let Ok(line) = line else { break };
        replies.push(serde_json::from_str::<serde_json::Value>(&line).expect("json"));
    }
    let answered = sent.elapsed();
    let ended = game.join().expect("game loop");
    assert!(
        answered < Duration::from_secs(5),
        "every reply long before the 10 s loop timeout: {answered:?}"
    );
    assert!(
        ended.duration_since(sent) < Duration::from_secs(5),
        "and the host dropped at once"
    );
    assert_eq!(replies[0]["result"]["stopping"], true, "{replies:?}");
    assert_eq!(replies.len(), 5, "one reply per request: {replies:?}");
    for r in &replies[1..] {
        // Each either ran before the loop ended or was told the engine is gone.
        assert!(
            r.get("result").is_some() || r["error"]["code"] == -32006,
            "{r}"
        );
    }
    assert!(
        replies[1..].iter().any(|r| r["error"]["code"] == -32006),
        "some were still pending: {replies:?}"
    );
}

/// Reads one reply line (or `None` at end of stream) within `within`.
fn read_line(s: &mut std::io::BufReader<impl std::io::Read>) -> Option<serde_json::Value> {
    use std::io::BufRead;
    let mut line = String::new();
    match s.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(serde_json::from_str(&line).expect("a JSON line")),
    }
}

/// `reply` is an error with `code` whose message contains `says`.
fn assert_error(reply: &serde_json::Value, code: i64, says: &str) {
    assert_eq!(reply["error"]["code"], code, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(says)),
        "{reply}"
    );
}

#[test]
fn each_transport_has_its_own_cap_and_slow_or_silent_connections_are_closed() {
    use advkit_ipc::Limits;
    use std::io::{BufReader, Write};
    use std::net::TcpStream;
    use std::os::unix::net::UnixStream;
    let tmp = tempfile::tempdir().expect("tempdir");
    let second = Duration::from_secs(1);
    let host = Host::start(HostConfig {
        tcp: Some("127.0.0.1:0".parse().expect("addr")),
        limits: Limits {
            unix: 8,
            tcp: 6,
            unauthenticated: 3,
            auth_timeout: second,
            line_timeout: second,
            idle_timeout: Some(Duration::from_millis(1500)),
        },
        ..config(&tmp, "caps")
    })
    .expect("start");
    let addr = host.tcp_addr().expect("listening on TCP");
    let tcp = || {
        let s = TcpStream::connect(addr).expect("tcp connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        BufReader::new(s)
    };
    let unix = || {
        let s = UnixStream::connect(host.socket_path()).expect("unix connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        BufReader::new(s)
    };
    let hello = br#"{"jsonrpc":"2.0","id":1,"method":"hello"}
"#;

    // Three connections that never authenticate fill their class; the
    // fourth is told why at once.
    let mut silent: Vec<_> = (0..3).map(|_| tcp()).collect();
    for s in &mut silent {
        s.get_mut().write_all(hello).expect("hello");
        assert_eq!(read_line(s).expect("hello reply")["id"], 1);
    }
    let refused = read_line(&mut tcp()).expect("a refusal");
    assert_error(&refused, -32005, "waiting to authenticate");

    // The owner's Unix socket is unaffected.
    let mut owner = Client::connect_unix(host.socket_path()).expect("connect");
    owner.call(method::HELLO, json!({})).expect("served");

    // A line that trickles in (a slowloris) is closed after the line
    // timeout, with a reason, whatever the transport.
    let mut trickle = unix();
    trickle.get_mut().write_all(b"{\"jsonrpc\"").expect("write");
    // A byte every 100 ms until the server hangs up (a write fails).
    let trickling = Instant::now();
    while trickling.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
        if trickle.get_mut().write_all(b" ").is_err() {
            break;
        }
    }
    let reply = read_line(&mut trickle).expect("a reason before closing");
    assert_error(&reply, -32009, "no newline");

    // The silent ones were closed at their auth deadline, each told why.
    for s in &mut silent {
        assert_error(&read_line(s).expect("a reason"), -32009, "no `auth`");
        assert!(read_line(s).is_none(), "then closed");
    }
    // Their places are free again.
    let mut late = tcp();
    late.get_mut().write_all(hello).expect("hello");
    assert_eq!(read_line(&mut late).expect("admitted")["id"], 1);

    // Idle: a connection that says nothing is closed; a subscriber is not.
    // The subscriber comes first, so its idle deadline has passed by the
    // time the other one is closed at its own.
    let mut listener = Client::connect_unix(host.socket_path()).expect("connect");
    listener
        .call(method::SUBSCRIBE, json!({"topics": ["log"]}))
        .expect("subscribe");
    let mut idle = unix();
    idle.get_mut().write_all(hello).expect("hello");
    read_line(&mut idle).expect("hello reply");
    assert_error(&read_line(&mut idle).expect("a reason"), -32009, "idle");
    host.log("still there");
    let ev = listener
        .next_event(Some(Duration::from_secs(5)))
        .expect("read")
        .expect("the subscriber was kept");
    assert!(matches!(ev.event, Event::Log { .. }), "{ev:?}");
}

#[test]
fn a_step_is_answered_when_its_ticks_are_done_though_no_frame_is_published() {
    // A game that follows the advice "publish only when the picture
    // changed" and whose picture never changes.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut host = Host::start(HostConfig {
        paused: true,
        ..config(&tmp, "still")
    })
    .expect("start");
    let socket = host.socket_path().to_owned();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = std::sync::Arc::clone(&stop);
    let game = std::thread::spawn(move || {
        host.publish(0, &[0u8; 32 * 32 * 4]).expect("publish");
        let mut tick = 0u64;
        let mut deadline = Instant::now();
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            while let Some(req) = host.next_request(deadline) {
                req.unsupported();
            }
            tick += host.ticks_due();
            deadline = host.next_deadline(deadline);
        }
        tick
    });
    let mut c = Client::connect_unix(&socket).expect("connect");
    c.set_timeout(Duration::from_secs(5));
    // Before, it was answered at the next frame, which never came: the
    // server gave up after 10 s, and this client after its 5.
    let r = c
        .call(method::STEP, json!({"count": 5}))
        .expect("answered, not left hanging")
        .result;
    assert_eq!(r["stepped"], 5, "{r}");
    assert_eq!(r["tick"], 5, "{r}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(game.join().expect("the game ends"), 5);
}

#[test]
fn after_world_load_the_reply_and_stats_say_the_loaded_tick_before_any_frame() {
    use advkit_ipc::Request;
    use advkit_ipc::api::WorldLoaded;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = config(&tmp, "load")
        .with_fps(200.0)
        .with_standard(&[method::WORLD_SAVE, method::WORLD_LOAD]);
    let mut host = Host::start(cfg).expect("start");
    let socket = host.socket_path().to_owned();
    // A game that publishes only when it ticks: a load while paused shows
    // no frame until it is resumed.
    let game = std::thread::spawn(move || {
        let frame = vec![0u8; 32 * 32 * 4];
        let (mut tick, mut next) = (0u64, Instant::now());
        while host.running() {
            let due = host.ticks_due();
            if due > 0 {
                tick += due;
                host.publish(tick, &frame).expect("publish");
            }
            next = host.next_deadline(next);
            while let Some(req) = host.next_request(next) {
                match req {
                    Request::WorldSave { reply } => {
                        reply.ok(json!({"tick": tick, "state": {"tick": tick}}));
                    }
                    Request::WorldLoad { params, reply } => {
                        tick = params.state["tick"].as_u64().unwrap_or(tick);
                        reply.ok(WorldLoaded { tick });
                    }
                    other => other.unsupported(),
                }
            }
        }
    });
    let mut c = Client::connect_unix(&socket).expect("connect");
    let stats_tick = |c: &mut Client| {
        c.call(method::STATS, json!({})).expect("stats").result["tick"]
            .as_u64()
            .expect("tick")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while stats_tick(&mut c) < 20 {
        assert!(Instant::now() < deadline, "the game never reached tick 20");
    }
    c.call(method::PAUSE, json!({})).expect("pause");
    let loaded = c
        .call(method::WORLD_LOAD, json!({"state": {"tick": 5}}))
        .expect("load");
    assert_eq!(loaded.result["tick"], 5);
    assert_eq!(loaded.tick, 5, "the reply is stamped with the loaded tick");
    assert_eq!(stats_tick(&mut c), 5, "and engine.stats says it");
    c.call(method::SHUTDOWN, json!({})).expect("shutdown");
    game.join().expect("game loop");
}

/// A misspelt standard method is refused by name when the host starts,
/// not dropped: the game would otherwise answer a method no client knows.
#[test]
fn an_unknown_standard_method_is_refused_by_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = Host::start(config(&tmp, "std").with_standard(&["engine.reboot", "world.sav"]))
        .expect_err("refused");
    let said = err.to_string();
    assert!(
        said.contains("`world.sav` is not a standard method") && said.contains("world.save"),
        "{said}"
    );
    assert!(!tmp.path().join("advkit/std.sock").exists(), "nothing made");
}

#[test]
fn a_waker_ends_the_loops_wait_for_a_request_from_another_thread_and_requests_still_come() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut host = Host::start(config(&tmp, "woken")).expect("start");
    let waker = host.waker();
    // Woken from another thread while it waits (or before: the wake is
    // then what ends the next wait): long before the deadline.
    let woke = std::thread::spawn(move || waker.wake());
    let started = Instant::now();
    assert!(
        host.next_request(started + Duration::from_secs(60))
            .is_none()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the wake ended the wait ({:?})",
        started.elapsed()
    );
    woke.join().expect("waker thread");

    // Wakes while the host is not waiting do not pile up in the mailbox
    // (whose room is the clients'): one ends the next wait, then waits
    // run to their deadline again.
    let waker = host.waker();
    for _ in 0..10_000 {
        waker.wake();
    }
    assert!(
        host.next_request(Instant::now() + Duration::from_secs(60))
            .is_none()
    );
    let started = Instant::now();
    host.next_request(started + Duration::from_millis(300));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "no wake was left over"
    );

    // A wake is no request: clients are served as before.
    let path = host.socket_path().to_owned();
    let asker = std::thread::spawn(move || {
        let mut c = Client::connect_unix(&path).expect("connect");
        c.call(method::HELLO, json!({})).map(|_| ())
    });
    while !asker.is_finished() {
        host.next_request(Instant::now() + Duration::from_millis(50));
    }
    asker
        .join()
        .expect("client thread")
        .expect("hello answered");
}
