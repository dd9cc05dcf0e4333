//! `advkit render` and `advkit params`.

use crate::util::{Dir, advkit, path_str};

fn read_png(path: &std::path::Path) -> advkit_core::Frame {
    let bytes = std::fs::read(path).expect("PNG written");
    advkit_core::decode_png(&bytes).expect("a valid PNG")
}

#[test]
fn render_writes_a_320x180_png_and_prints_tick_and_hash() {
    let dir = Dir::new();
    let out = dir.path("f.png");
    let stdout = advkit(&["render", "--out", &path_str(&out)]).ok();
    let frame = read_png(&out);
    assert_eq!((frame.width(), frame.height()), (320, 180));
    let want = format!(
        "320x180 tick 120 hash {:016x} -> {}\n",
        frame.hash(),
        out.display()
    );
    assert_eq!(stdout, want);
    // Not a blank picture: many distinct colours.
    let mut colours: Vec<[u8; 4]> = frame
        .pixels()
        .chunks_exact(4)
        .map(|p| [p[0], p[1], p[2], p[3]])
        .collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "only {} colours", colours.len());
}

#[test]
fn same_arguments_write_byte_identical_pngs() {
    let dir = Dir::new();
    let (a, b) = (dir.path("a.png"), dir.path("b.png"));
    let args = |p: &std::path::Path| {
        vec![
            "render".to_owned(),
            "--seed".into(),
            "5".into(),
            "--ticks".into(),
            "77".into(),
            "--out".into(),
            path_str(p),
        ]
    };
    advkit(&args(&a)).ok();
    advkit(&args(&b)).ok();
    assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
}

#[test]
fn seed_ticks_and_size_change_the_picture() {
    let dir = Dir::new();
    let render = |name: &str, extra: &[&str]| {
        let p = dir.path(name);
        let mut args = vec!["render", "--out"];
        let ps = path_str(&p);
        args.push(&ps);
        args.extend_from_slice(extra);
        advkit(&args).ok();
        read_png(&p)
    };
    let base = render("base.png", &["--seed", "1", "--ticks", "200"]);
    let seed = render("seed.png", &["--seed", "2", "--ticks", "200"]);
    let ticks = render("ticks.png", &["--seed", "1", "--ticks", "201"]);
    let big = render(
        "big.png",
        &["--seed", "1", "--ticks", "200", "--size", "1920x1080"],
    );
    assert_ne!(base.hash(), seed.hash());
    assert_ne!(base.hash(), ticks.hash());
    assert_eq!((big.width(), big.height()), (1920, 1080));
    // 1080p is the same view scaled by 6: its top-left 6x6 block is one pixel of the small frame.
    assert_eq!(big.pixel(0, 0), base.pixel(0, 0));
    assert_eq!(big.pixel(6 * 100 + 5, 6 * 90 + 5), base.pixel(100, 90));
}

#[test]
fn inputs_file_drives_the_player() {
    let dir = Dir::new();
    let inputs = dir.write("in.json", r#"[{"tick": 0, "button": "left", "hold": 64}]"#);
    let (a, b) = (dir.path("a.png"), dir.path("b.png"));
    let common = [
        "render",
        "--set",
        "autopilot=false",
        "--ticks",
        "64",
        "--out",
    ];
    let mut with = common.to_vec();
    let (ap, bp, ip) = (path_str(&a), path_str(&b), path_str(&inputs));
    with.extend([ap.as_str(), "--inputs", ip.as_str()]);
    let mut without = common.to_vec();
    without.push(&bp);
    advkit(&with).ok();
    advkit(&without).ok();
    assert_ne!(read_png(&a).hash(), read_png(&b).hash());
}

#[test]
fn a_malformed_scene_names_file_line_and_column() {
    let dir = Dir::new();
    let scene = dir.write("bad.json", "{\n  \"name\": \"bad\",\n  \"tiles\": {\n    \".\": {\"name\": \"grass\", \"color\": \"#0f0\"}\n  },\n  \"map\": [\"..\", \"...\"],\n  \"spawn\": [0, 0]\n}\n");
    let err = advkit(&[
        "render",
        "--scene",
        &path_str(&scene),
        "--out",
        &path_str(&dir.path("x.png")),
    ])
    .fails_with(1);
    let want = format!(
        "error: {}:6:17: map[1]: row 1 is 3 tiles wide, but row 0 is 2",
        scene.display()
    );
    assert!(err.starts_with(&want), "{err}");
    assert!(err.contains("docs/scene.md"), "{err}");
    assert!(!dir.path("x.png").exists(), "nothing written on error");

    let syntax = dir.write("syntax.json", "{\"name\": \"x\",,}");
    let err = advkit(&[
        "render",
        "--scene",
        &path_str(&syntax),
        "--out",
        &path_str(&dir.path("x.png")),
    ])
    .fails_with(1);
    assert!(
        err.starts_with(&format!("error: {}:1:14: ", syntax.display())),
        "{err}"
    );

    let err = advkit(&[
        "render",
        "--scene",
        &path_str(&dir.path("missing.json")),
        "--out",
        "x.png",
    ])
    .fails_with(1);
    assert!(
        err.contains("cannot read scene file") && err.contains("missing.json"),
        "{err}"
    );
}

#[test]
fn bad_set_values_are_refused_with_the_allowed_range() {
    let dir = Dir::new();
    let out = path_str(&dir.path("x.png"));
    let err = advkit(&["render", "--set", "walk_speed=99", "--out", &out]).fails_with(1);
    assert_eq!(
        err,
        "error: --set walk_speed=99: walk_speed = 99 is out of range: allowed 0.25 to 8 px/tick\n"
    );
    let err = advkit(&["render", "--set", "walk_mode=fly", "--out", &out]).fails_with(1);
    assert!(err.contains("not one of the choices: tile, pixel"), "{err}");
    let err = advkit(&["render", "--set", "walk_sped=2", "--out", &out]).fails_with(1);
    assert!(err.contains("did you mean `walk_speed`?"), "{err}");
    let err = advkit(&["render", "--set", "walk_speed", "--out", &out]).fails_with(2);
    assert!(err.contains("should look like NAME=VALUE"), "{err}");
    let err = advkit(&["render", "--size", "0x5", "--out", &out]).fails_with(2);
    assert!(err.contains("has no pixels"), "{err}");
    assert!(!dir.path("x.png").exists());
}

#[test]
fn params_lists_every_parameter_for_people_and_machines() {
    let table = advkit(&["params"]).ok();
    assert!(table.starts_with("NAME"), "{table}");
    for name in [
        "walk_speed",
        "walk_mode",
        "npc_count",
        "world_seed",
        "day_night",
        "show_grid",
        "autopilot",
        "player_tags",
        "tick_rate",
    ] {
        assert!(
            table.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{table}"
        );
    }
    assert!(table.contains("0.25 to 8 px/tick"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&advkit(&["params", "--json"]).ok()).expect("JSON");
    let npc = json
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["name"] == "npc_count")
        .expect("npc_count");
    assert_eq!(npc["apply"], "reboot");
    assert_eq!(npc["default"], 6, "the demo scene's NPC count");
}

/// A binary PNG is never written into a terminal (`--out -` on a tty is
/// refused with what to do instead), and the terminal UIs say they need a
/// terminal rather than "No such device or address (os error 6)".
#[test]
fn binary_output_never_reaches_a_terminal_and_tuis_say_they_need_one() {
    let cmd = format!(
        "{} render --ticks 1 --out -; echo exit=$?; sleep 30",
        env!("CARGO_BIN_EXE_advkit")
    );
    let tmux = crate::util::Tmux::start(&cmd, 120, 20);
    let screen = tmux.wait_for("exit=", std::time::Duration::from_secs(20));
    assert!(screen.contains("which is a terminal here"), "{screen}");
    assert!(screen.contains("exit=1"), "{screen}");
    assert!(
        !screen.contains("IHDR"),
        "no binary on the screen:\n{screen}"
    );

    for command in ["inspect", "demo"] {
        let err = advkit(&[command]).fails_with(1);
        assert!(err.contains("needs a terminal"), "{command}: {err}");
    }
}
