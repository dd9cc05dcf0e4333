//! A game that is not ours: examples/life.rs, a Game of Life written only
//! against advkit-ipc's `Host`. Every tool works on it unchanged, through
//! a real process, socket and frame region.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use advkit_ipc::api::{DiscoverResult, method};
use serde_json::Value;

use crate::util::{Dir, Runtime, Tmux, path_str};

fn life(rt: &Runtime) -> crate::util::Engine {
    rt.start_example("life", "life")
}

fn send(rt: &Runtime, args: &[&str]) -> crate::util::Run {
    let mut all = vec!["send", "--name", "life"];
    all.extend_from_slice(args);
    rt.advkit(&all)
}

#[test]
fn discover_lists_exactly_what_the_game_answers() {
    let rt = Runtime::new();
    let _game = life(&rt);
    let out = send(&rt, &["--json", "call", method::DISCOVER]).ok();
    let found: DiscoverResult = serde_json::from_str(&out).expect("a discover result");
    let names: Vec<&str> = found.methods.iter().map(|m| m.name.as_str()).collect();
    for answered in [
        method::HELLO,
        method::PARAMS_SET,
        method::PAUSE,
        method::STEP,
        method::SNAPSHOT,
        method::STATS,
        method::REBOOT,
        "life.toggle",
        "life.clear",
        "life.population",
    ] {
        assert!(
            names.contains(&answered),
            "{answered} missing from {names:?}"
        );
    }
    for not_answered in [method::ENTITIES, method::WORLD_SET, method::INPUT] {
        assert!(!names.contains(&not_answered), "{not_answered} is listed");
    }
    let toggle = found
        .methods
        .iter()
        .find(|m| m.name == "life.toggle")
        .expect("listed");
    assert_eq!(toggle.params[0].max, Some(79.0), "ranges are advertised");
    // A method it does not answer is −32601, as discover says.
    let err = send(&rt, &["entities"]).fails_with(1);
    assert!(err.contains("-32601"), "{err}");
}

#[test]
fn custom_methods_run_and_bad_params_never_reach_the_loop() {
    let rt = Runtime::new();
    let _game = life(&rt);
    let seen = |rt: &Runtime| -> u64 {
        let out = send(rt, &["--json", "call", "life.population"]).ok();
        let v: Value = serde_json::from_str(&out).expect("json");
        v["requests_seen"].as_u64().expect("a count")
    };
    assert_eq!(seen(&rt), 1, "the population call itself");
    send(&rt, &["call", "life.clear"]).ok();
    let out = send(
        &rt,
        &["--json", "call", "life.toggle", r#"{"x": 3, "y": 4}"#],
    )
    .ok();
    assert!(out.contains(r#""alive":true"#), "{out}");
    assert_eq!(seen(&rt), 4);
    for (bad, says) in [
        (r#"{"x": 80, "y": 4}"#, "`x` must be integer from 0 to 79"),
        (r#"{"x": "3", "y": 4}"#, "`x` must be integer"),
        (r#"{"x": 3}"#, "needs `y`"),
        (r#"{"x": 3, "y": 4, "z": 1}"#, "no param `z`"),
    ] {
        let err = send(&rt, &["call", "life.toggle", bad]).fails_with(1);
        assert!(err.contains("-32602") && err.contains(says), "{bad}: {err}");
    }
    assert_eq!(seen(&rt), 5, "no rejected call reached the game loop");
}

#[test]
fn params_pause_step_stats_and_snapshots_come_from_the_host() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let _game = life(&rt);
    let said = send(&rt, &["set", "palette", "amber", "wrap", "off"]).ok();
    assert!(
        said.contains("palette = amber (applied)") && said.contains("wrap = false (applied)"),
        "{said}"
    );
    let said = send(&rt, &["set", "seed", "7"]).ok();
    assert!(said.contains("seed = 7 (pending"), "{said}");
    let err = send(&rt, &["set", "palette", "pink"]).fails_with(1);
    assert!(
        err.contains("not one of the choices: green, amber, ice"),
        "{err}"
    );

    let paused = send(&rt, &["pause"]).ok();
    let tick: u64 = paused
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|t| t.parse().ok())
        .expect("paused at tick N");
    let said = send(&rt, &["step", "5"]).ok();
    assert_eq!(
        said.trim(),
        format!("stepped 5 to tick {} (paused)", tick + 5)
    );
    let stats = send(&rt, &["stats"]).ok();
    assert!(stats.contains("PAUSED"), "{stats}");

    // Paused, the frame is still; the amber palette shows in both the
    // protocol's snapshot and the frame region's.
    let png = dir.path("proto.png");
    let said = send(&rt, &["snapshot", "--out", &path_str(&png)]).ok();
    assert!(said.starts_with("160x120 tick"), "{said}");
    let region = dir.path("region.png");
    rt.advkit(&["snapshot", "--name", "life", "--out", &path_str(&region)])
        .ok();
    let a = advkit_frame::decode_png(&std::fs::read(&png).expect("png")).expect("decodes");
    let b = advkit_frame::decode_png(&std::fs::read(&region).expect("png")).expect("decodes");
    assert_eq!(a, b, "the host's snapshot is the published frame");
    assert!(
        a.pixels().chunks(4).any(|p| p == [255, 176, 0, 255]),
        "live cells are amber"
    );

    let err = send(&rt, &["reboot", "--fresh"]).fails_with(1);
    assert!(
        err.contains("reseeds the board") && err.contains("--yes"),
        "{err}"
    );
    let said = send(&rt, &["reboot", "--fresh", "--yes"]).ok();
    assert!(said.contains("applied pending: seed"), "{said}");
    send(&rt, &["shutdown"]).ok();
}

#[test]
fn watch_prints_the_games_events() {
    let rt = Runtime::new();
    let _game = life(&rt);
    let mut watch = Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["watch", "--name", "life", "log", "engine"])
        .env("XDG_RUNTIME_DIR", rt.xdg())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("advkit watch");
    let mut lines = BufReader::new(watch.stderr.take().expect("stderr")).lines();
    let banner = lines.next().expect("a banner").expect("text");
    assert!(banner.starts_with("watching log, engine"), "{banner}");
    send(&rt, &["pause"]).ok();
    send(&rt, &["call", "life.clear"]).ok();
    let mut out = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    let first = out.next().expect("an event").expect("text");
    let second = out.next().expect("an event").expect("text");
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(first.contains("engine paused"), "{first}");
    assert!(
        second.contains("log line") && second.contains("board cleared"),
        "{second}"
    );
}

#[test]
fn the_inspector_shows_the_game_and_tunes_its_params() {
    let rt = Runtime::new();
    let _game = life(&rt);
    let tmux = Tmux::start(
        &format!(
            "XDG_RUNTIME_DIR={} {} inspect --name life",
            rt.xdg().display(),
            env!("CARGO_BIN_EXE_advkit")
        ),
        120,
        40,
    );
    let screen = tmux.wait_for("generation_ticks", Duration::from_secs(10));
    assert!(
        screen.contains("life 160x120") && screen.contains("palette"),
        "{screen}"
    );
    // The frame is drawn (it may come a moment after the params).
    tmux.wait_for("▀", Duration::from_secs(10));
    // Down to `palette`, then → picks the next choice.
    tmux.keys(&["Down", "Right"]);
    tmux.wait_for("‹ amber ›", Duration::from_secs(5));
    let said = send(&rt, &["get", "palette"]).ok();
    assert!(said.contains("amber"), "{said}");
    tmux.keys(&["q"]);
}

#[test]
fn time_travel_works_on_a_game_that_is_not_ours() {
    let rt = Runtime::new();
    let _game = life(&rt);
    let send = |args: &[&str]| {
        let mut all = vec!["send", "--name", "life"];
        all.extend_from_slice(args);
        rt.advkit(&all)
    };
    send(&["pause"]).ok();
    send(&["step", "20"]).ok();
    send(&["call", "life.toggle", r#"{"x": 3, "y": 3}"#]).ok();
    send(&["step", "40"]).ok();
    let live = send(&[
        "snapshot",
        "--out",
        &rt.xdg().join("a.png").display().to_string(),
    ])
    .ok();
    let now: u64 = send(&["--json", "stats"])
        .ok()
        .split("\"tick\":")
        .nth(1)
        .and_then(|t| t.split([',', '}']).next())
        .and_then(|t| t.trim().parse().ok())
        .expect("tick");
    let out = send(&["seek", "--", "-40"]).ok();
    assert!(out.contains(&format!("at tick {}", now - 40)), "{out}");
    assert!(!out.contains("not checked"), "{out}");
    let out = send(&["seek", &now.to_string()]).ok();
    assert!(out.contains(&format!("at tick {now}")), "{out}");
    let again = send(&[
        "snapshot",
        "--out",
        &rt.xdg().join("b.png").display().to_string(),
    ])
    .ok();
    let hash = |s: &str| {
        s.split(" hash ")
            .nth(1)
            .and_then(|h| h.split_whitespace().next())
            .map(str::to_owned)
    };
    assert_eq!(hash(&live), hash(&again), "{live}\n{again}");
}

#[test]
fn a_second_game_of_the_same_name_says_so_in_a_sentence() {
    let rt = Runtime::new();
    let _game = life(&rt);
    let out = Command::new(crate::util::example_path("life"))
        .env("XDG_RUNTIME_DIR", rt.xdg())
        .output()
        .expect("the example runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("engine life is already running") && err.contains("another name"),
        "{err}"
    );
    assert!(
        !err.contains("AlreadyRunning {"),
        "a sentence, not a dump: {err}"
    );
}
