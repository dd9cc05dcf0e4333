//! `advkit golden check` and `snapshot --compare` on scenarios and goldens
//! in temporary directories, failing on purpose.

use std::path::Path;

use crate::util::{Dir, Runtime, advkit_env, path_str};

const SCENARIO: &str = r#"{
  "description": "test",
  "seed": 1,
  "params": {"autopilot": false},
  "inputs": [{"tick": 2, "button": "right", "hold": 20}],
  "record_hashes": true,
  "captures": [{"name": "a", "tick": 5}, {"name": "b", "tick": 30}]
}"#;

/// `advkit golden check` on `dir`'s scenarios/, golden/ and out/ (CI set or not).
pub fn check(dir: &Dir, ci: bool, extra: &[&str]) -> crate::util::Run {
    check_in(dir, "scenarios", "golden", ci, extra)
}

/// The same with scenarios and goldens in other directories of `dir`
/// (artifacts still in out/).
pub fn check_in(
    dir: &Dir,
    scenarios: &str,
    golden: &str,
    ci: bool,
    extra: &[&str],
) -> crate::util::Run {
    let mut args = vec![
        "golden".to_owned(),
        "check".to_owned(),
        path_str(&dir.path(scenarios)),
        "--golden-dir".to_owned(),
        path_str(&dir.path(golden)),
        "--artifacts".to_owned(),
        path_str(&dir.path("out")),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    advkit_env(&[("CI", if ci { Some("1") } else { None })], &args)
}

fn setup(dir: &Dir, scenario: &str) {
    std::fs::create_dir_all(dir.path("scenarios")).expect("mkdir");
    dir.write("scenarios/walk.json", scenario);
}

#[test]
fn missing_goldens_are_pending_locally_failures_in_ci_and_blessed_by_update() {
    let dir = Dir::new();
    setup(&dir, SCENARIO);
    let err = check(&dir, true, &[]).fails_with(1);
    assert!(err.contains("golden check failed"), "{err}");
    let out = check(&dir, false, &[]).ok();
    assert!(
        out.contains("new   walk/a (tick 5): no golden yet"),
        "{out}"
    );
    assert!(dir.path("golden/walk/a.new.png").exists());
    let out = check(&dir, false, &["--update"]).ok();
    assert!(
        out.contains("upd   walk/a") && out.contains("3 updated"),
        "{out}"
    );
    assert!(dir.path("golden/walk/a.png").exists() && !dir.path("golden/walk/a.new.png").exists());
    let out = check(&dir, true, &[]).ok();
    assert!(
        out.contains("pass  walk/a (tick 5)") && out.contains("pass  walk/b (tick 30)"),
        "{out}"
    );
}

#[test]
fn a_changed_run_fails_with_numbers_first_divergence_and_pictures() {
    let dir = Dir::new();
    setup(&dir, SCENARIO);
    check(&dir, false, &["--update"]).ok();
    // The same scenario, but the player turns down at tick 12.
    let changed = SCENARIO.replace(
        r#"{"tick": 2, "button": "right", "hold": 20}"#,
        r#"{"tick": 2, "button": "right", "hold": 10}, {"tick": 12, "button": "down", "hold": 10}"#,
    );
    dir.write("scenarios/walk.json", &changed);
    let run = check(&dir, false, &[]);
    run.fails_with(1);
    let out = run.stdout();
    assert!(out.contains("pass  walk/a (tick 5)"), "{out}");
    let fail = out
        .lines()
        .find(|l| l.starts_with("FAIL  walk/b"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        fail.contains("pixel(s) differ") && fail.contains(" in "),
        "{fail}"
    );
    // Tile steps finish what they started, so the run leaves the recorded
    // one when the next step is chosen: after capture a, before capture b.
    let tick: u64 = fail
        .split("first diverged at tick ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("names the first diverging tick: {fail}"));
    assert!((6..=30).contains(&tick), "{fail}");
    assert!(out.contains("first failure: walk/b"), "{out}");
    for f in [
        "b.actual.png",
        "b.expected.png",
        "b.diff.png",
        "report.html",
    ] {
        assert!(dir.path("out/walk").join(f).exists(), "{f} written");
    }
    let html = std::fs::read_to_string(dir.path("out/walk/report.html")).expect("report");
    assert!(html.contains("b.diff.png") && html.contains("differing pixels"));
    // Tolerance: allowing every pixel makes it pass.
    let tolerant = changed.replace(
        r#""tick": 30}"#,
        r#""tick": 30, "tolerance": {"max_diff": 255, "max_pixels": 100000}}"#,
    );
    dir.write(
        "scenarios/walk.json",
        &tolerant.replace("\"record_hashes\": true,", ""),
    );
    check(&dir, false, &[]).ok();
}

#[test]
fn a_broken_scenario_is_an_error_that_names_the_place() {
    let dir = Dir::new();
    setup(
        &dir,
        "{\n  \"captures\": [ {\"name\": \"a\", \"tick\": 1} ],\n  \"sede\": 3\n}",
    );
    let run = check(&dir, false, &[]);
    run.fails_with(1);
    assert!(
        run.stdout().contains("ERROR walk:") && run.stdout().contains("walk.json:3:"),
        "{}",
        run.stdout()
    );
}

#[test]
fn snapshot_compare_checks_a_live_engine_against_a_golden() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let _engine = rt.start("default", &["--set", "autopilot=false"]);
    rt.advkit(&["send", "pause"]).ok();
    let golden = path_str(&dir.path("g.png"));
    rt.advkit(&["snapshot", "--out", &golden]).ok();
    let same = rt.advkit(&["snapshot", "--compare", &golden]).ok();
    assert!(same.contains("matches"), "{same}");
    rt.advkit(&["send", "step", "40"]).ok();
    let diff = path_str(&dir.path("d.png"));
    let err = rt
        .advkit(&["snapshot", "--compare", &golden, "--diff", &diff])
        .fails_with(1);
    assert!(
        err.contains("does not match") && err.contains("pixel(s) differ"),
        "{err}"
    );
    assert!(Path::new(&diff).exists());
    rt.advkit(&[
        "snapshot",
        "--compare",
        &golden,
        "--max-diff",
        "255",
        "--max-pixels",
        "100000",
        "--diff",
        &diff,
    ])
    .ok();
}

#[test]
fn review_in_tmux_shows_a_pending_capture_and_accepting_blesses_it() {
    let dir = Dir::new();
    setup(&dir, SCENARIO);
    check(&dir, false, &[]).ok(); // writes a.new.png, b.new.png and hashes.new.txt
    let cmd = format!(
        "{} golden review --golden-dir {} --artifacts {}; echo REVIEW-DONE; sleep 30",
        env!("CARGO_BIN_EXE_advkit"),
        dir.path("golden").display(),
        dir.path("out").display()
    );
    let tmux = crate::util::Tmux::start(&cmd, 100, 40);
    // The whole screen, header to key line (a capture can catch it half
    // drawn).
    let screen = tmux.wait_until(
        "the first capture, NEW, with its keys",
        std::time::Duration::from_secs(15),
        |screen| screen.contains("1/3  NEW") && screen.contains("a/r accept/reject"),
    );
    assert!(
        screen.contains('▀'),
        "the frame is drawn in half blocks:\n{screen}"
    );
    tmux.keys(&["e"]);
    tmux.wait_for(
        "a new capture has no golden",
        std::time::Duration::from_secs(15),
    );
    tmux.keys(&["a"]);
    tmux.wait_for("walk/b", std::time::Duration::from_secs(15));
    tmux.keys(&["r"]);
    // The hash sequence is reviewed too.
    tmux.wait_for("walk/hashes", std::time::Duration::from_secs(15));
    tmux.keys(&["a"]);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("REVIEW-DONE", std::time::Duration::from_secs(15));
    assert!(screen.contains("2 accepted, 1 rejected"), "{screen}");
    assert!(dir.path("golden/walk/a.png").exists(), "accepted: blessed");
    assert!(!dir.path("golden/walk/a.new.png").exists());
    assert!(
        !dir.path("golden/walk/b.png").exists() && !dir.path("golden/walk/b.new.png").exists(),
        "rejected"
    );
    assert!(
        dir.path("golden/walk/hashes.txt").exists(),
        "hashes blessed"
    );
    assert!(
        dir.path("golden/walk/states.jsonl").exists(),
        "with their states"
    );
    assert!(!dir.path("golden/walk/hashes.new.txt").exists());
}

#[test]
fn review_accept_by_name_blesses_without_a_screen_and_names_what_is_left() {
    let dir = Dir::new();
    setup(&dir, SCENARIO);
    check(&dir, false, &[]).ok();
    let review = |name: &str| {
        advkit_env(
            &[],
            &[
                "golden",
                "review",
                "--golden-dir",
                &path_str(&dir.path("golden")),
                "--artifacts",
                &path_str(&dir.path("out")),
                "--accept",
                name,
            ],
        )
    };
    let err = review("walk/nope").fails_with(1);
    assert!(
        err.contains("nothing to accept named `walk/nope`")
            && err.contains("walk/a, walk/b, walk/hashes"),
        "{err}"
    );
    let out = review("walk/a").ok();
    assert!(out.contains("accepted walk/a"), "{out}");
    review("walk").ok();
    // Everything blessed: the check passes.
    let out = check(&dir, true, &[]).ok();
    assert!(out.contains("0 failed scenario(s)"), "{out}");
}

#[test]
fn machine_output_unreferenced_goldens_and_the_project_root() {
    let dir = Dir::new();
    setup(&dir, SCENARIO);
    check(&dir, false, &["--update"]).ok();
    // A renamed capture leaves its old golden behind.
    dir.write("golden/walk/old_name.png", "not even a png");
    let junit = path_str(&dir.path("golden.xml"));
    let out = check(
        &dir,
        false,
        &["--json", "--junit", &junit, "--unreferenced", "warn"],
    )
    .ok();
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["summary"]["failed"], 0, "{doc}");
    assert_eq!(doc["scenarios"][0]["verdict"], "pass", "{doc}");
    assert_eq!(doc["scenarios"][0]["captures"][1]["tick"], 30, "{doc}");
    let orphans = doc["unreferenced"].to_string();
    assert!(
        orphans.contains("old_name.png") && !orphans.contains("a.png"),
        "{orphans}"
    );
    let xml = std::fs::read_to_string(dir.path("golden.xml")).expect("junit");
    assert!(
        xml.contains("<testcase classname=\"walk\" name=\"b\""),
        "{xml}"
    );
    // The hash sequence is a case when it passes too; every case and
    // suite has a time, and the counts a skipped one.
    assert!(
        xml.contains("<testcase classname=\"walk\" name=\"hashes\""),
        "{xml}"
    );
    assert!(xml.contains(" skipped=\"0\" time=\""), "{xml}");
    assert!(
        xml.lines()
            .filter(|l| l.contains("<testcase"))
            .all(|l| l.contains(" time=\"")),
        "{xml}"
    );
    assert!(doc["scenarios"][0]["seconds"].as_f64() > Some(0.0), "{doc}");
    assert!(dir.path("out/index.html").is_file());
    check(&dir, false, &["--unreferenced", "reject"]).fails_with(1);
    let out = check(&dir, false, &["--unreferenced", "delete"]).ok();
    assert!(out.contains("removed: "), "{out}");
    assert!(!dir.path("golden/walk/old_name.png").exists());

    // A failure is a JUnit failure with the terminal's text.
    dir.write(
        "scenarios/walk.json",
        &SCENARIO.replace("\"seed\": 1", "\"seed\": 2"),
    );
    check(&dir, false, &["--junit", &junit]).fails_with(1);
    let xml = std::fs::read_to_string(dir.path("golden.xml")).expect("junit");
    assert!(xml.contains("<failure message=\"FAIL  walk/"), "{xml}");

    // From a subdirectory of a project, without paths.
    std::fs::create_dir_all(dir.path("fixtures/scenarios")).expect("mkdir");
    std::fs::create_dir_all(dir.path("fixtures/deep/er")).expect("mkdir");
    dir.write("fixtures/scenarios/walk.json", SCENARIO);
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["golden", "check", "--update"])
        .current_dir(dir.path("fixtures/deep/er"))
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{out}");
    assert!(
        out.contains("wrote ../../../fixtures/golden/walk/a.png"),
        "{out}"
    );
    assert!(dir.path("fixtures/golden/walk/a.png").is_file());
}

/// A scenario naming a cargo example (`"engine": {"example": …}`) runs on
/// a checkout where nothing was built: advkit builds the example with its
/// own profile (`cargo build --example NAME`, no `--release` for this
/// debug advkit) where `CARGO_TARGET_DIR` says, and starts it. A stand-in
/// for cargo (`CARGO`) logs how it was called and puts the life example
/// where cargo would.
#[test]
fn a_scenario_naming_a_cargo_example_builds_it_where_cargo_target_dir_says() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    let project = dir.path("project");
    std::fs::create_dir_all(project.join("fixtures/scenarios")).expect("mkdir");
    std::fs::write(project.join("Cargo.toml"), "[package]\nname = \"p\"\n").expect("manifest");
    let life = crate::util::example_path("life");
    let log = dir.path("cargo.log");
    let cargo = dir.write(
        "fake-cargo",
        &format!(
            "#!/bin/sh\necho \"$PWD: $*\" >> {log}\nmkdir -p \"$CARGO_TARGET_DIR/debug/examples\"\n\
             cp {life} \"$CARGO_TARGET_DIR/debug/examples/game\"\n",
            log = log.display(),
            life = life.display()
        ),
    );
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(
        project.join("fixtures/scenarios/game.json"),
        r#"{
  "engine": {"example": "game", "cwd": "../.."},
  "size": "160x120",
  "params": {"seed": 7},
  "captures": [{"name": "a", "tick": 4}]
}"#,
    )
    .expect("scenario");
    let target = dir.path("elsewhere");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "golden".to_owned(),
            "check".to_owned(),
            path_str(&project.join("fixtures/scenarios")),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        advkit_env(
            &[
                ("CI", None),
                ("CARGO", Some(&path_str(&cargo))),
                ("CARGO_TARGET_DIR", Some(&path_str(&target))),
            ],
            &args,
        )
    };
    let out = run(&["--update"]).ok();
    assert!(out.contains("0 failed scenario(s)"), "{out}");
    let out = run(&[]).ok();
    assert!(
        out.contains("pass  game/a") && out.contains("0 failed scenario(s)"),
        "{out}"
    );
    let calls = std::fs::read_to_string(&log).expect("cargo was called");
    assert!(
        calls.contains(&format!(
            "{}: build --quiet --example game",
            project.display()
        )),
        "{calls}"
    );
    assert!(
        !calls.contains("--release"),
        "advkit's own profile: {calls}"
    );
    assert!(target.join("debug/examples/game").is_file());
}

/// A scenario checked from a directory that is in no project: nothing is
/// made where advkit runs; goldens and reports go beside the scenario,
/// and advkit says so once.
#[test]
fn a_scenario_outside_a_project_keeps_its_goldens_beside_it_and_says_so() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("elsewhere/here")).expect("mkdir");
    let scenario = dir.write("elsewhere/walk.json", SCENARIO);
    let cwd = dir.path("elsewhere/here");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["golden", "check", &path_str(&scenario)])
        .current_dir(&cwd)
        .env_remove("CI")
        .output()
        .expect("run advkit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&cwd).expect("cwd").count(),
        0,
        "nothing made where it ran"
    );
    assert!(dir.path("elsewhere/golden/walk/a.new.png").is_file());
    assert_eq!(stderr.matches("is in no project").count(), 1, "{stderr}");
    assert!(stderr.contains("--golden-dir"), "{stderr}");
    // Review finds it there when told where the scenario is, and says
    // what to do when not.
    let review = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_advkit"))
            .args(["golden", "review"])
            .args(args)
            .current_dir(&cwd)
            .output()
            .expect("run advkit")
    };
    let lost = review(&["--accept", "all"]);
    assert!(!lost.status.success());
    assert!(
        String::from_utf8_lossy(&lost.stderr).contains("name the scenario file or directory"),
        "{}",
        String::from_utf8_lossy(&lost.stderr)
    );
    let found = review(&[&path_str(&scenario), "--accept", "all"]);
    assert!(
        found.status.success(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    assert!(dir.path("elsewhere/golden/walk/a.png").is_file());
    assert!(!dir.path("elsewhere/golden/walk/a.new.png").exists());
    assert_eq!(std::fs::read_dir(&cwd).expect("cwd").count(), 0);
}

/// A project whose demo scene file was edited after advkit was built: the
/// warning that the compiled-in scene differs comes once, with a clean
/// path, and not for a scenario that starts a game of its own.
#[test]
fn a_stale_builtin_scene_is_warned_about_once_with_a_clean_path() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("fixtures/scenarios")).expect("mkdir");
    std::fs::create_dir_all(dir.path("fixtures/scenes")).expect("mkdir");
    let scene = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/scenes/demo.json"
    ))
    .expect("demo scene");
    dir.write("fixtures/scenes/demo.json", &format!("{scene}\n"));
    dir.write("fixtures/scenarios/one.json", SCENARIO);
    dir.write("fixtures/scenarios/two.json", SCENARIO);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["golden", "check", "--update"])
        .current_dir(dir.path(""))
        .env_remove("CI")
        .output()
        .expect("run advkit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stdout}");
    assert!(
        warnings[0].contains("differs from fixtures/scenes/demo.json;"),
        "{stdout}"
    );
}

/// `golden check --shard K/N` on three "machines", merged: the same
/// verdicts as one unsharded run; a merge missing a shard names it. And
/// the filters a team uses between CI runs: `-k`, `--last-failed`,
/// `--fail-fast`.
#[test]
fn shards_merge_into_the_verdicts_of_one_run_and_a_missing_shard_is_named() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("scenarios")).expect("mkdir");
    for (name, seed) in [("a_moved", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)] {
        dir.write(
            &format!("scenarios/{name}.json"),
            &SCENARIO.replace("\"seed\": 1", &format!("\"seed\": {seed}")),
        );
    }
    check(&dir, false, &["--update"]).ok();
    // a_moved now starts elsewhere: it fails from here on.
    dir.write(
        "scenarios/a_moved.json",
        &SCENARIO.replace("\"seed\": 1", "\"seed\": 9"),
    );
    let run = |artifacts: &str, extra: &[&str]| {
        let mut args = vec![
            "golden".to_owned(),
            "check".to_owned(),
            path_str(&dir.path("scenarios")),
            "--golden-dir".to_owned(),
            path_str(&dir.path("golden")),
            "--artifacts".to_owned(),
            path_str(&dir.path(artifacts)),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        advkit_env(&[("CI", Some("1"))], &args)
    };
    let verdicts = |doc: &serde_json::Value| -> Vec<(String, String)> {
        doc["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .map(|s| (s["name"].to_string(), s["verdict"].to_string()))
            .collect()
    };
    let whole = run("whole", &["--json"]);
    whole.fails_with(1);
    let whole: serde_json::Value = serde_json::from_str(&whole.stdout()).expect("json");
    let mut ran = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let r = run(&format!("shard-{k}"), &["--shard", &shard, "--json"]);
        let doc: serde_json::Value = serde_json::from_str(&r.stdout()).expect("json");
        ran += doc["scenarios"].as_array().expect("scenarios").len();
        assert!(
            r.stderr().contains(&format!("shard {shard}: ")),
            "{}",
            r.stderr()
        );
    }
    assert_eq!(ran, 5, "every scenario in exactly one shard");
    let merge = |dirs: &[&str], out: &str| {
        let mut args = vec!["golden".to_owned(), "merge".to_owned()];
        args.extend(dirs.iter().map(|d| path_str(&dir.path(d))));
        args.extend([
            "--out".to_owned(),
            path_str(&dir.path(out)),
            "--json".to_owned(),
        ]);
        advkit_env(&[], &args)
    };
    let merged = merge(&["shard-1", "shard-2", "shard-3"], "merged");
    merged.fails_with(1);
    let doc: serde_json::Value = serde_json::from_str(&merged.stdout()).expect("json");
    assert_eq!(verdicts(&doc), verdicts(&whole));
    assert!(
        merged.stderr().contains("1 scenario(s) failed"),
        "{}",
        merged.stderr()
    );
    let index = std::fs::read_to_string(dir.path("merged/index.html")).expect("index");
    assert!(index.contains("a_moved/report.html"), "{index}");
    assert!(dir.path("merged/a_moved/report.html").is_file());
    let junit = std::fs::read_to_string(dir.path("merged/junit.xml")).expect("junit");
    assert_eq!(junit.matches("<testsuite ").count(), 5, "{junit}");

    let partial = merge(&["shard-1", "shard-3"], "partial");
    partial.fails_with(1);
    assert!(
        partial.stderr().contains("missing: shard 2/3"),
        "{}",
        partial.stderr()
    );

    // -k, --last-failed (from the whole run's results), --fail-fast.
    let only = |r: crate::util::Run| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(&r.stdout()).expect("json");
        doc["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        only(run("whole", &["--json", "-k", "c", "-k", "d*"])),
        ["c", "d"]
    );
    assert_eq!(
        only(run("whole", &["--json", "--last-failed"])),
        ["a_moved"]
    );
    assert_eq!(
        only(run("fast", &["--json", "--fail-fast", "-j", "1"])),
        ["a_moved"],
        "nothing started after the first failure"
    );
}

/// A capture marked `xfail` that fails does not fail the check, is not
/// blessed by `--update`, and once it passes fails the check until the
/// mark is removed.
#[test]
fn an_xfail_capture_may_fail_and_must_not_pass() {
    let dir = Dir::new();
    setup(&dir, SCENARIO);
    check(&dir, false, &["--update"]).ok();
    let golden = dir.path("golden/walk/a.png");
    let blessed = std::fs::read(&golden).expect("golden");
    // Another seed draws another picture; capture a is a known failure.
    let marked = SCENARIO.replace("\"seed\": 1", "\"seed\": 2").replace(
        r#"{"name": "a", "tick": 5}"#,
        r#"{"name": "a", "tick": 5, "xfail": "bug 42: the seed moves the NPCs"}"#,
    );
    dir.write(
        "scenarios/walk.json",
        &marked
            .replace(r#", {"name": "b", "tick": 30}"#, "")
            .replace("\"record_hashes\": true", "\"record_hashes\": false"),
    );
    let out = check(&dir, true, &[]).ok();
    assert!(
        out.contains("xfail walk/a (tick 5): fails as expected (bug 42: the seed moves the NPCs)"),
        "{out}"
    );
    assert!(out.contains("1 failing as expected (xfail)"), "{out}");
    check(&dir, false, &["--update"]).ok();
    assert_eq!(
        std::fs::read(&golden).expect("golden"),
        blessed,
        "not blessed"
    );
    // Fixed: the same seed again, still marked.
    dir.write(
        "scenarios/walk.json",
        &std::fs::read_to_string(dir.path("scenarios/walk.json"))
            .expect("scenario")
            .replace("\"seed\": 2", "\"seed\": 1"),
    );
    let err = check(&dir, true, &[]).fails_with(1);
    let out = check(&dir, true, &[]).stdout();
    assert!(
        out.contains(
            "passes, but is marked xfail (bug 42: the seed moves the NPCs); remove \"xfail\""
        ),
        "{out}{err}"
    );
}

/// A capture with several accepted goldens (a platform that draws
/// otherwise): `--update --variant NAME` adds one beside the golden, a run
/// passes when it matches any, says which, and the variant is not an
/// unreferenced file.
#[test]
fn a_capture_passes_on_any_of_its_accepted_variants() {
    let dir = Dir::new();
    let one = SCENARIO
        .replace(r#", {"name": "b", "tick": 30}"#, "")
        .replace("\"record_hashes\": true", "\"record_hashes\": false");
    setup(&dir, &one);
    check(&dir, false, &["--update"]).ok();
    let golden = std::fs::read(dir.path("golden/walk/a.png")).expect("golden");
    // The "other platform": another seed draws otherwise.
    let other = one.replace("\"seed\": 1", "\"seed\": 2");
    dir.write("scenarios/walk.json", &other);
    check(&dir, true, &[]).fails_with(1);
    let out = check(&dir, false, &["--update", "--variant", "gpu-b"]).ok();
    assert!(out.contains("walk/a@gpu-b.png"), "{out}");
    assert_eq!(
        std::fs::read(dir.path("golden/walk/a.png")).expect("golden"),
        golden,
        "the golden stays"
    );
    let out = check(&dir, true, &["--unreferenced", "reject"]).ok();
    assert!(
        out.contains("pass  walk/a (tick 5): matches variant gpu-b"),
        "{out}"
    );
    // The first platform still matches the golden itself.
    dir.write(
        "scenarios/walk.json",
        &other.replace("\"seed\": 2", "\"seed\": 1"),
    );
    let out = check(&dir, true, &[]).ok();
    assert!(out.contains("pass  walk/a (tick 5)"), "{out}");
    assert!(!out.contains("matches variant"), "{out}");
    let bad = check(&dir, false, &["--update", "--variant", "../x"]);
    bad.fails_with(2);
}

/// `check_world: true`: the frames agree, but the recorded world does not
/// (here the blessed states.jsonl says an NPC faced elsewhere, as a change
/// no frame shows would): the check fails and names the ticks and keys.
#[test]
fn check_world_fails_a_world_change_that_no_frame_shows() {
    let dir = Dir::new();
    setup(
        &dir,
        &SCENARIO.replace(
            "\"record_hashes\": true",
            "\"record_hashes\": true, \"check_world\": true",
        ),
    );
    check(&dir, false, &["--update"]).ok();
    let out = check(&dir, true, &[]).ok();
    assert!(out.contains("pass  walk/world"), "{out}");
    let states = dir.path("golden/walk/states.jsonl");
    let text = std::fs::read_to_string(&states).expect("states");
    let first = text.lines().next().expect("a first line");
    let edited = first.replacen("\"npc:0.facing\":\"", "\"npc:0.facing\":\"sideways-", 1);
    assert_ne!(edited, first, "the log names npc:0.facing: {first}");
    std::fs::write(&states, text.replacen(first, &edited, 1)).expect("write");
    let out = check(&dir, true, &[]);
    out.fails_with(1);
    let said = out.stdout();
    assert!(
        said.contains("FAIL  walk/world: the world differs from the recorded one after tick(s) 1")
            && said.contains("npc:0.facing \"sideways-"),
        "{said}"
    );
    assert!(said.contains("pass  walk/hashes"), "{said}");
    // A scenario cannot ask for it without the hashes.
    dir.write(
        "scenarios/walk.json",
        &SCENARIO.replace("\"record_hashes\": true", "\"check_world\": true"),
    );
    let err = check(&dir, true, &[]).fails_with(1);
    let out = check(&dir, true, &[]).stdout();
    assert!(out.contains("check_world needs"), "{out}{err}");
}

/// `params.set` means the same in a headless replay as on a live engine
/// (one reading of it, `ParamsSetParams::typed`): `from_text` values are
/// parsed as typed, in-process and through the protocol alike, and an
/// empty `values` is refused by both.
#[test]
fn params_set_reads_the_same_in_process_and_through_the_protocol() {
    let dir = Dir::new();
    let with = |params: &str| {
        SCENARIO.replace(
            "\"inputs\"",
            &format!(
                "\"requests\": [{{\"tick\": 1, \"method\": \"params.set\", \"params\": {params}}}], \"inputs\""
            ),
        )
    };
    setup(
        &dir,
        &with(r#"{"name": "walk_speed", "value": "2.5", "from_text": true}"#),
    );
    let out = check(&dir, false, &["--update"]).ok();
    assert!(out.contains("0 could not run"), "{out}");
    let out = check(&dir, true, &["--protocol"]).ok();
    assert!(out.contains("pass  walk/hashes"), "the same frames: {out}");
    dir.write("scenarios/walk.json", &with(r#"{"values": {}}"#));
    for extra in [&[][..], &["--protocol"][..]] {
        let run = check(&dir, true, extra);
        run.fails_with(1);
        assert!(
            run.stdout().contains("params.set takes"),
            "{extra:?}: {}",
            run.stdout()
        );
    }
}
