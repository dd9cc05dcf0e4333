//! Same scene + seed + inputs ⇒ the same frames, bit for bit, in debug and
//! release. The pinned hashes below are checked by `cargo test` (debug) and
//! by `.ci/run` again with `--release`.
//!
//! If you changed the renderer, the world rules or the built-in scene on
//! purpose, print the new values with
//! `cargo test -p advkit-core --test determinism -- --nocapture` and update them.

use advkit_core::{Engine, Frame, Scene, Size, Timeline, Value};

fn run(params: &[(&str, Value)], ticks: u64, size: Size, timeline: &Timeline) -> Frame {
    let scene = Scene::builtin();
    let mut p = advkit_core::params::for_scene(&scene);
    for (name, v) in params {
        p.set(name, v.clone()).expect("valid");
    }
    let mut e = Engine::with_params(scene, p);
    e.run(ticks, timeline);
    let mut frame = Frame::new(size);
    e.render(&mut frame);
    frame
}

fn small() -> Size {
    Size::DEFAULT
}

fn inputs() -> Timeline {
    Timeline::parse(
        "inputs",
        r#"[{"tick": 5, "button": "right", "hold": 40},
            {"tick": 60, "button": "down", "hold": 30},
            {"tick": 100, "button": "action"}]"#,
    )
    .expect("valid")
}

/// One pinned run.
struct Case {
    what: &'static str,
    params: Vec<(&'static str, Value)>,
    ticks: u64,
    size: Size,
    with_inputs: bool,
    pinned: u64,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "defaults, 240 ticks",
            params: vec![],
            ticks: 240,
            size: small(),
            with_inputs: false,
            pinned: 0x12dae15a8382e9cd,
        },
        Case {
            what: "pixel mode, seed 9, night and grid, inputs",
            params: vec![
                ("walk_mode", Value::Text("pixel".into())),
                ("world_seed", Value::Int(9)),
                ("day_night", Value::Float(0.6)),
                ("show_grid", Value::Bool(true)),
                ("walk_speed", Value::Float(1.75)),
            ],
            ticks: 180,
            size: small(),
            with_inputs: true,
            pinned: 0xb5b45531420ea2a3,
        },
        Case {
            what: "1920x1080, 12 NPCs",
            params: vec![("npc_count", Value::Int(12))],
            ticks: 150,
            size: Size::new(1920, 1080).expect("valid"),
            with_inputs: false,
            pinned: 0x9b0707a2a28962aa,
        },
    ]
}

#[test]
fn frames_match_the_hashes_recorded_in_the_repository() {
    let mut wrong = Vec::new();
    for Case {
        what,
        params,
        ticks,
        size,
        with_inputs,
        pinned,
    } in cases()
    {
        let timeline = if with_inputs {
            inputs()
        } else {
            Timeline::default()
        };
        let got = run(&params, ticks, size, &timeline).hash();
        println!("{what}: 0x{got:016x}");
        if got != pinned {
            wrong.push(format!(
                "{what}: got 0x{got:016x}, recorded 0x{pinned:016x}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "frames differ from the recorded hashes (see this file's header):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn two_runs_agree_on_every_frame() {
    let scene = Scene::builtin();
    let mut a = Engine::new(scene.clone());
    let mut b = Engine::new(scene);
    let mut fa = Frame::new(small());
    let mut fb = Frame::new(small());
    for _ in 0..300 {
        a.step();
        b.step();
        a.render(&mut fa);
        b.render(&mut fb);
        assert_eq!(fa.hash(), fb.hash(), "tick {}", a.tick());
    }
}

#[test]
fn seed_and_ticks_change_the_picture() {
    let base = run(&[], 200, small(), &Timeline::default()).hash();
    let other_seed = run(
        &[("world_seed", Value::Int(2))],
        200,
        small(),
        &Timeline::default(),
    )
    .hash();
    let other_ticks = run(&[], 201, small(), &Timeline::default()).hash();
    assert_ne!(base, other_seed);
    assert_ne!(base, other_ticks);
}
