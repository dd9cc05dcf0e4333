//! `advkit record` on live engines driven by `advkit send`, then the
//! recording replayed headless: in-process and through the protocol for
//! the demo, through the protocol for the life example (a game not ours).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::golden_cli::check;
use crate::util::{Dir, Runtime, path_str};

/// Records engine `name` from a fresh reboot while `drive` runs, stops
/// the recorder with SIGINT and returns its stdout and stderr.
fn record_while(rt: &Runtime, name: &str, dir: &Dir, drive: impl FnOnce()) -> (String, String) {
    record_from(rt, name, dir, "--yes", drive)
}

/// The same, starting as `how` says (`--yes`: a fresh reboot;
/// `--from-now`: the game's saved state).
fn record_from(
    rt: &Runtime,
    name: &str,
    dir: &Dir,
    how: &str,
    drive: impl FnOnce(),
) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["record", "--name", name, how, "--capture-every", "30"])
        .args(["--out", &path_str(&dir.path("scenarios/session.json"))])
        .args(["--golden-dir", &path_str(&dir.path("golden"))])
        .env("XDG_RUNTIME_DIR", rt.xdg())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start advkit record");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr
        .read_line(&mut first)
        .expect("the recorder says it started");
    assert!(first.starts_with("recording "), "{first}");
    drive();
    // Frames after the last request, so the replay can compare them.
    rt.wait_ticks(name, 10);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("the recorder exits");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("stderr");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{first}{rest}");
    (stdout, first + &rest)
}

fn send(rt: &Runtime, name: &str, args: &[&str]) {
    let mut all = vec!["send", "--name", name];
    all.extend_from_slice(args);
    rt.advkit(&all).ok();
}

/// Lets engine `name` run a few ticks between requests.
fn pause_a_little(rt: &Runtime, name: &str) {
    rt.wait_ticks(name, 8);
}

/// The recording replays headless with the same frame hash at every
/// recorded tick: the recorder checks it itself, and `golden check` agrees
/// (for the demo both in-process and through a paused `advkit run`).
#[test]
fn a_session_driven_by_send_replays_headless_with_identical_hashes() {
    let rt = Runtime::new();
    let _engine = rt.start("game", &["--set", "autopilot=off"]);
    let dir = Dir::new();
    let (out, err) = record_while(&rt, "game", &dir, || {
        send(&rt, "game", &["input", "press", "right"]);
        pause_a_little(&rt, "game");
        send(&rt, "game", &["set", "walk_speed", "2"]);
        pause_a_little(&rt, "game");
        send(&rt, "game", &["input", "release", "right"]);
        send(&rt, "game", &["reboot"]);
        send(&rt, "game", &["pause"]);
        send(&rt, "game", &["step", "5"]);
        send(&rt, "game", &["input", "tap", "down"]);
        send(&rt, "game", &["step", "3"]);
        send(&rt, "game", &["resume"]);
        pause_a_little(&rt, "game");
    });
    assert!(out.contains("on a stop signal"), "{out}\n{err}");
    assert!(
        out.contains("replayed headless: all") && out.contains("match"),
        "{out}\n{err}"
    );
    let text = std::fs::read_to_string(dir.path("scenarios/session.json")).expect("scenario");
    for method in ["engine.input", "params.set", "engine.reboot"] {
        assert!(text.contains(method), "{method} not recorded:\n{text}");
    }
    // The steps of 5 and 3 published one frame each: 6 ticks have no hash.
    assert!(err.contains("6 of "), "{err}");
    for extra in [&[][..], &["--protocol"][..]] {
        let checked = check(&dir, false, extra).ok();
        assert!(checked.contains("0 failed scenario(s)"), "{checked}");
    }
}

/// `--from-now` records from where the game is, mid-walk with a tuned
/// param: the state (held buttons included) is embedded and loaded by
/// both replay paths, and nothing before the start is replayed.
#[test]
fn a_session_recorded_from_now_replays_from_its_saved_state() {
    let rt = Runtime::new();
    let _engine = rt.start("game", &["--set", "autopilot=off"]);
    send(&rt, "game", &["set", "walk_speed", "2"]);
    send(&rt, "game", &["input", "press", "right"]);
    pause_a_little(&rt, "game");
    let dir = Dir::new();
    let (out, err) = record_from(&rt, "game", &dir, "--from-now", || {
        pause_a_little(&rt, "game");
        send(&rt, "game", &["input", "release", "right"]);
        send(&rt, "game", &["input", "press", "down"]);
        pause_a_little(&rt, "game");
        send(&rt, "game", &["set", "walk_speed", "1.5"]);
        pause_a_little(&rt, "game");
    });
    assert!(err.contains("from its saved state at tick"), "{err}");
    assert!(
        out.contains("replayed headless: all") && out.contains("match"),
        "{out}\n{err}"
    );
    let text = std::fs::read_to_string(dir.path("scenarios/session.json")).expect("scenario");
    let scenario: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert!(scenario["start_tick"].as_u64() > Some(0), "{text}");
    assert_eq!(scenario["state"]["held"], serde_json::json!(["right"]));
    assert_eq!(scenario["params"]["walk_speed"], serde_json::json!(2.0));
    let requests = scenario["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 3, "only what came after the start: {text}");
    for extra in [&[][..], &["--protocol"][..]] {
        let checked = check(&dir, false, extra).ok();
        assert!(checked.contains("0 failed scenario(s)"), "{checked}");
    }
}

/// A game that cannot save its state says so, and another client's
/// `world.load` ends a recording where the game jumped in time.
#[test]
fn from_now_needs_world_save_and_a_load_ends_the_recording() {
    let rt = Runtime::new();
    let _game = rt.start_example_with("life", "life", &["--no-save"]);
    let dir = Dir::new();
    let out = dir.path("s.json");
    let err = rt
        .advkit(&[
            "record",
            "--name",
            "life",
            "--from-now",
            "--out",
            &path_str(&out),
        ])
        .fails_with(1);
    assert!(
        err.contains("answers no world.save and world.load") && err.contains("without --from-now"),
        "{err}"
    );
    assert!(!out.exists());

    let _engine = rt.start("game", &[]);
    let saved = rt
        .advkit(&["send", "--name", "game", "--json", "call", "world.save"])
        .ok();
    let saved: serde_json::Value = serde_json::from_str(&saved).expect("json");
    let load = serde_json::json!({ "state": saved["state"] }).to_string();
    let (out, err) = record_from(&rt, "game", &dir, "--yes", || {
        rt.wait_ticks("game", 36);
        send(&rt, "game", &["call", "world.load", &load]);
        pause_a_little(&rt, "game");
    });
    assert!(
        out.contains("when a saved state was loaded"),
        "{out}\n{err}"
    );
    assert!(err.contains("the game jumped in time"), "{err}");
    assert!(
        out.contains("replayed headless: all") && out.contains("match"),
        "{out}\n{err}"
    );
}

#[test]
fn a_session_of_the_life_example_replays_through_the_protocol() {
    let rt = Runtime::new();
    let _game = rt.start_example("life", "life");
    let dir = Dir::new();
    let (out, err) = record_while(&rt, "life", &dir, || {
        send(
            &rt,
            "life",
            &["call", "life.toggle", r#"{"x": 10, "y": 5}"#],
        );
        send(
            &rt,
            "life",
            &["set", "palette", "amber", "generation_ticks", "1"],
        );
        pause_a_little(&rt, "life");
        send(&rt, "life", &["call", "life.population"]);
        send(&rt, "life", &["pause"]);
        send(&rt, "life", &["call", "life.clear"]);
        send(
            &rt,
            "life",
            &["call", "life.toggle", r#"{"x": 11, "y": 5}"#],
        );
        send(&rt, "life", &["step", "4"]);
        send(&rt, "life", &["resume"]);
        pause_a_little(&rt, "life");
    });
    assert!(
        out.contains("replayed headless: all") && out.contains("match"),
        "{out}\n{err}"
    );
    let text = std::fs::read_to_string(dir.path("scenarios/session.json")).expect("scenario");
    // A cargo example by its name, built where the scenario is checked,
    // not by a path under one checkout's target directory.
    assert!(text.contains("\"example\": \"life\""), "{text}");
    assert!(
        text.contains("life.clear") && text.contains("life.toggle"),
        "{text}"
    );
    assert!(
        !text.contains("life.population"),
        "a read-only method is not recorded:\n{text}"
    );
}

/// A recorded game that reads something the scenario does not hold (here:
/// a scene edited after recording) diverges, and the replay names every
/// range of ticks and what was applied before the first.
#[test]
fn a_changed_scene_makes_the_replay_name_every_diverging_range() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("scenarios")).expect("mkdir");
    let scene = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/scenes/demo.json"
    ))
    .expect("demo scene");
    dir.write("scene.json", &scene);
    dir.write(
        "scenarios/walk.json",
        r#"{
  "scene": "../scene.json",
  "params": {"autopilot": false},
  "requests": [{"tick": 3, "method": "engine.input", "params": {"button": "right", "action": "press"}}],
  "record_hashes": true,
  "captures": [{"name": "end", "tick": 40}]
}"#,
    );
    check(&dir, false, &["--update"]).ok();
    // Grass one step bluer: every frame differs from the first.
    let edited = scene.replacen("\"grass\": \"#5a9e3c\"", "\"grass\": \"#5a9e3d\"", 1);
    assert_ne!(edited, scene, "the demo scene's grass colour moved");
    dir.write("scene.json", &edited);
    for extra in [&[][..], &["--protocol"][..]] {
        let run = check(&dir, false, extra);
        run.fails_with(1);
        let err = run.stdout();
        assert!(
            err.contains("frame hashes differ from the recorded run at tick(s) 1-40 (40 tick(s))"),
            "{err}"
        );
        assert!(
            err.contains("nothing: the run diverged from its start"),
            "{err}"
        );
        assert!(
            err.contains(
                "at tick 1 the world (entities and flags) agrees with the recording: only the pixels differ"
            ),
            "{err}"
        );
        let report = std::fs::read_to_string(dir.path("out/walk/report.html")).expect("a report");
        assert!(report.contains("diverging ticks"), "{report}");
        assert!(report.contains("only the pixels differ"), "{report}");
        // Every failure is a picture: the capture's diff, and expected
        // beside actual where the hashes first left the recording (the
        // first tick's frame is kept).
        for file in [
            "end.diff.png",
            "expected-tick-1.png",
            "actual-tick-1.png",
            "diff-tick-1.png",
        ] {
            assert!(dir.path("out/walk").join(file).is_file(), "{file}");
            assert!(report.contains(file), "{file} in {report}");
        }
    }
}
