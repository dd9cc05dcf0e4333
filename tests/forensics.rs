//! Divergence forensics and masks: what `advkit golden check` says and
//! draws when a scene edit makes a run leave its blessed one.

use crate::golden_cli::check;
use crate::util::Dir;

/// The demo scene with `edit` applied to its JSON.
fn demo_scene(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/scenes/demo.json"
    ))
    .expect("demo scene");
    let mut scene: serde_json::Value = serde_json::from_str(&text).expect("json");
    edit(&mut scene);
    serde_json::to_string_pretty(&scene).expect("json")
}

fn npc<'a>(scene: &'a mut serde_json::Value, name: &str) -> &'a mut serde_json::Value {
    scene["npcs"]
        .as_array_mut()
        .expect("npcs")
        .iter_mut()
        .find(|n| n["name"] == name)
        .expect("the npc")
}

/// A scene copy and a scenario on it, blessed.
fn blessed(scenario: &str) -> Dir {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("scenarios")).expect("mkdir");
    dir.write("scene.json", &demo_scene(|_| {}));
    dir.write("scenarios/still.json", scenario);
    check(&dir, false, &["--update"]).ok();
    dir
}

const STILL: &str = r#"{
  "scene": "../scene.json",
  "seed": 3,
  "params": {"autopilot": false},
  "record_hashes": true,
  "captures": [{"name": "t400", "tick": 400}]
}"#;

#[test]
fn a_moved_waypoint_shows_the_npc_position_difference_at_the_first_divergent_tick() {
    let dir = blessed(STILL);
    assert!(dir.path("golden/still/states.jsonl").is_file());
    // Old Tom (npc:1) now walks to x 26 before going south.
    dir.write(
        "scene.json",
        &demo_scene(|s| {
            npc(s, "Old Tom")["behaviour"]["waypoints"][1] = serde_json::json!([26, 22])
        }),
    );
    for extra in [&[][..], &["--protocol"][..]] {
        let run = check(&dir, false, extra);
        run.fails_with(1);
        let out = run.stdout();
        let first = out
            .split("the run first diverged at tick ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .expect("a first divergent tick");
        assert!(
            out.contains(&format!(
                "the world first differed at tick 1, before the frames did; at tick {first}:"
            )),
            "{out}"
        );
        assert!(out.contains("npc:1.behaviour.waypoints: recorded"), "{out}");
        assert!(out.contains("npc:1.tile: recorded [24,"), "{out}");
        assert!(out.contains("npc:1.pixel: recorded"), "{out}");
        assert!(!out.contains("npc:0."), "only Old Tom moved: {out}");
        let report = std::fs::read_to_string(dir.path("out/still/report.html")).expect("a report");
        assert!(report.contains("<td>npc:1.tile</td>"), "{report}");
        let before = format!(
            "diverged-tick-{}.actual.png",
            first.parse::<u64>().expect("tick") - 1
        );
        assert!(dir.path("out/still").join(&before).is_file(), "{before}");
    }
}

#[test]
fn an_entity_mask_hides_a_changed_npc_while_the_rest_is_still_compared() {
    let masked = STILL.replace(
        r#"[{"name": "t400", "tick": 400}]"#,
        r#"[{"name": "t400", "tick": 400, "mask": [{"entity": "npc:0"}]}]"#,
    );
    let dir = blessed(&masked.replace("\"record_hashes\": true,", ""));
    // Mira (npc:0) changes colour; she is in view at tick 400.
    dir.write(
        "scene.json",
        &demo_scene(|s| npc(s, "Mira")["color"] = serde_json::json!("#20e020")),
    );
    let out = check(&dir, false, &[]).ok();
    assert!(
        out.contains("pass  still/t400 (tick 400): identical; ")
            && out.contains("differing pixel(s) masked"),
        "{out}"
    );
    // The same scenario without the mask fails on her.
    dir.write(
        "scenarios/still.json",
        &STILL.replace("\"record_hashes\": true,", ""),
    );
    check(&dir, false, &[]).fails_with(1);
    // With the mask, a change elsewhere still fails.
    dir.write(
        "scenarios/still.json",
        &masked.replace("\"record_hashes\": true,", ""),
    );
    dir.write(
        "scene.json",
        &demo_scene(|s| {
            npc(s, "Mira")["color"] = serde_json::json!("#20e020");
            s["palette"]["grass"] = serde_json::json!("#5a9e3d");
        }),
    );
    let run = check(&dir, false, &[]);
    run.fails_with(1);
    assert!(
        run.stdout().contains("FAIL  still/t400"),
        "{}",
        run.stdout()
    );
    assert!(dir.path("out/still/t400.diff.png").is_file());
}

/// How many pixels in columns `x0..x1` of `shot` are within 3 of `rgb`.
fn count_near(shot: &advkit_core::Frame, (x0, x1): (u32, u32), rgb: [u8; 3]) -> usize {
    (0..shot.height())
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = shot.pixel(x, y);
            (0..3).all(|i| p[i].abs_diff(rgb[i]) <= 3)
        })
        .count()
}

/// A screenshot of `report` by headless Chromium, 1200 pixels wide.
fn screenshot(dir: &Dir, report: &std::path::Path) -> advkit_core::Frame {
    let shot = dir.path("shot.png");
    let status = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1200,2400",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path("chromium").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("chromium runs (installed by .ci/run)");
    assert!(status.success(), "chromium failed: {status}");
    advkit_core::decode_png(&std::fs::read(&shot).expect("a screenshot")).expect("a PNG screenshot")
}

/// Dusk falls at tick 150 in the blessed run; no capture is near.
const DUSK: &str = r#"{
  "scene": "../scene.json",
  "seed": 3,
  "params": {"autopilot": false, "show_hud": false},
  "record_hashes": true,
  "requests": [{"tick": 150, "method": "params.set", "params": {"values": {"day_night": 1.0}}}],
  "captures": [{"name": "t200", "tick": 200}]
}"#;

/// How many pixels of the demo's grass (light or dusk-dark) are in
/// columns `x0..x1`: (light, dark).
fn grass(shot: &advkit_core::Frame, cols: (u32, u32)) -> (usize, usize) {
    (
        count_near(shot, cols, [0x5a, 0x9e, 0x3c]),
        (0..shot.height())
            .flat_map(|y| (cols.0..cols.1).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let p = shot.pixel(x, y);
                // Darkened grass: green still leads, all well below light.
                p[1] > p[0] && p[1] > p[2] && p[1] < 0x70 && p[1] > 0x08
            })
            .count(),
    )
}

#[test]
fn the_report_shows_expected_beside_actual_at_the_first_divergent_tick_in_chromium() {
    let dir = blessed(DUSK);
    assert!(dir.path("golden/still/frames.bin").is_file(), "frames kept");
    // Dusk now falls at tick 119: the run first differs at tick 120,
    // where a frame was kept (every 30 ticks).
    dir.write(
        "scenarios/still.json",
        &DUSK.replace("\"tick\": 150, \"method\"", "\"tick\": 119, \"method\""),
    );
    let run = check(&dir, false, &[]);
    run.fails_with(1);
    assert!(
        run.stdout()
            .contains("frame hashes differ from the recorded run at tick(s) 120-150"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout()
            .contains("pictured: expected (kept frame), tick 120, the first divergent tick"),
        "{}",
        run.stdout()
    );
    let report = dir.path("out/still/report.html");
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(
        html.contains("Expected beside actual at tick 120"),
        "{html}"
    );
    let shot = screenshot(&dir, &report);
    let third = shot.width() / 3;
    // Expected (day) on the left, actual (dusk) in the middle, each drawn
    // at least 200x100 pixels.
    let enough = 200 * 100 / 2;
    let (left, middle) = (grass(&shot, (0, third)), grass(&shot, (third, 2 * third)));
    assert!(
        left.0 > enough && left.1 < enough / 10 && middle.1 > enough && middle.0 < enough / 10,
        "left (light, dark) {left:?}, middle {middle:?}"
    );

    // Dusk at tick 99: no frame was kept at tick 100, so the first kept
    // after it (tick 120) is shown, and the report says so.
    dir.write(
        "scenarios/still.json",
        &DUSK.replace("\"tick\": 150, \"method\"", "\"tick\": 99, \"method\""),
    );
    let run = check(&dir, false, &[]);
    run.fails_with(1);
    assert!(
        run.stdout().contains(
            "pictured: expected (kept frame), tick 120, the first kept frame after the first \
             divergent tick 100"
        ),
        "{}",
        run.stdout()
    );
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(
        html.contains("No frame was kept at the first divergent tick 100"),
        "{html}"
    );
    for file in [
        "expected-tick-120.png",
        "actual-tick-120.png",
        "diff-tick-120.png",
        "diverged-tick-100.actual.png",
        "diverged-tick-99.actual.png",
    ] {
        assert!(
            html.contains(&format!("<a href=\"{file}\">")),
            "{file}: {html}"
        );
        assert!(dir.path("out/still").join(file).is_file(), "{file}");
    }
}

#[test]
fn the_report_shows_its_three_images_and_the_divergence_table_in_chromium() {
    let dir = blessed(STILL);
    // Grass one step bluer: every frame differs, the world does not.
    dir.write(
        "scene.json",
        &demo_scene(|s| s["palette"]["grass"] = serde_json::json!("#5a9e3d")),
    );
    check(&dir, false, &[]).fails_with(1);
    let report = dir.path("out/still/report.html");
    let shot = screenshot(&dir, &report);
    let third = shot.width() / 3;
    let (left, middle, right) = ((0, third), (third, 2 * third), (2 * third, shot.width()));
    // Expected (old grass) on the left, actual (new grass) in the middle,
    // the heat map's dark red (every grass pixel off by 1) on the right:
    // each drawn at least 200x100 pixels.
    let enough = 200 * 100 / 2;
    let old_grass = count_near(&shot, left, [0x5a, 0x9e, 0x3c]);
    let new_grass = count_near(&shot, middle, [0x5a, 0x9e, 0x3d]);
    let diff_red = count_near(&shot, right, [99, 0, 0]);
    assert!(
        old_grass > enough && new_grass > enough && diff_red > enough,
        "expected/actual/diff pixels: {old_grass} {new_grass} {diff_red}"
    );
    // The divergence table's background.
    let table = count_near(&shot, (0, shot.width()), [0x2a, 0x21, 0x40]);
    assert!(table > 2_000, "divergence table pixels: {table}");
    // And it says what a person needs.
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(html.contains("<td>1 – 400</td>"), "{html}");
    assert!(html.contains("only the pixels differ"), "{html}");
}

#[test]
fn hashes_win_over_a_tolerance_and_a_tolerated_pass_says_how_much_differed() {
    let dir = blessed(&STILL.replace(
        r#"{"name": "t400", "tick": 400}"#,
        r#"{"name": "t400", "tick": 400, "tolerance": {"max_diff": 2, "max_pixels": 64}}"#,
    ));
    dir.write(
        "scene.json",
        &demo_scene(|s| s["palette"]["grass"] = serde_json::json!("#5a9e3d")),
    );
    let run = check(&dir, false, &[]);
    run.fails_with(1);
    let out = run.stdout();
    assert!(
        out.contains("pass  still/t400 (tick 400): within tolerance: 0 pixel(s) differ by more than 2 (allowed 64),"),
        "{out}"
    );
    assert!(out.contains("FAIL  still/hashes"), "{out}");
    assert!(
        out.contains("warning: still: the frame hashes are exact and win over the tolerance"),
        "{out}"
    );
}
