//! The inspector's screens on ratatui's TestBackend, as insta snapshots.
//! The inspector knows no game: the state is a game's param schema, a real
//! frame the demo drew (a blessed golden), and replies and events built
//! from the protocol's own types, exactly as the server sends them.

use advkit_frame::decode_png;
use advkit_ipc::api::event::Notification;
use advkit_ipc::api::{ConfirmData, RpcError, codes};
use advkit_params::{Params, Spec};
use advkit_tui::app::{App, Conn, Request, Tag};
use advkit_tui::halfblock::ColorMode;
use advkit_tui::view;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use serde_json::json;

const W: u16 = 120;
const H: u16 = 40;

/// A game's params, one of every kind.
fn params() -> Params {
    Params::new(vec![
        Spec::float("walk_speed", 0.25, 8.0, 0.25, "px/tick", 1.0)
            .describe("How fast the player walks, in pixels per tick"),
        Spec::choice("walk_mode", &["tile", "pixel"], "tile")
            .describe("tile: step from tile to tile; pixel: move freely"),
        Spec::int("npc_count", 0, 64, "", 6)
            .describe("NPCs to spawn")
            .on_reboot(),
        Spec::float("day_night", 0.0, 1.0, 0.05, "", 0.0)
            .describe("Night tint: 0 is full day, 1 is deep night"),
        Spec::boolean("show_grid", false).describe("Draw tile borders over the map"),
        Spec::boolean("autopilot", true).describe("Walk by itself while no key is held"),
        Spec::int("tick_rate", 1, 240, "Hz", 30).describe("Ticks per second"),
        Spec::string_list("player_tags", 8, 16, &["hero"])
            .describe("Labels shown in the HUD for the player"),
    ])
}

fn hello(params: &Params) -> serde_json::Value {
    json!({
        "protocol": 1,
        "engine": "advkit test engine",
        "advkit": "0.1.0",
        "build": "debug",
        "name": "default",
        "pid": 1,
        "frames": {"path": "/tmp/default.frames", "width": 320, "height": 180,
                   "stride": 1280, "slots": 3, "format": "rgba8"},
        "socket": "/tmp/default.sock",
        "tcp": null,
        "topics": ["params", "engine", "log", "tick", "world"],
        "authenticated": true,
        "params": params.entries(),
        "revision": params.revision(),
    })
}

/// An event as the server sends it.
fn event(topic: &str, kind: &str, tick: u64, data: serde_json::Value) -> Notification {
    Notification::from_params(&json!({"topic": topic, "event": kind, "tick": tick, "data": data}))
        .expect("an event")
}

/// The demo's frame at tick 0 (a blessed golden), 320x180 RGBA.
fn frame() -> Vec<u8> {
    let png = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/golden/walk_tile/start.png"
    );
    let frame = decode_png(&std::fs::read(png).expect("a blessed golden")).expect("decodes");
    frame.pixels().to_vec()
}

/// An inspector attached to a game's schema, showing a real frame, on a
/// screen of `w`×`h`.
fn attached_at(w: u16, h: u16) -> App {
    let mut app = App::new("default", ColorMode::TrueColor);
    app.on_reply(Tag::Hello, Ok(hello(&params())));
    assert_eq!(
        app.params.rows.len(),
        params().specs().len(),
        "hello parsed"
    );
    show(&mut app, w, h);
    app.tick = 30;
    app.frame.tick = 30;
    app.engine_fps = 30.0;
    app.ui_fps = 29.9;
    app.bytes_per_sec = 12_345;
    app.link = "link 11.9 KB/s lag 42 ms".into();
    app
}

/// The frame drawn again, as the runner does after a key changed the view.
fn show(app: &mut App, w: u16, h: u16) {
    let inner = view::frame_inner(Rect::new(0, 0, w, h), app);
    app.show_frame(&frame(), 320, 180, inner, 8);
}

fn attached() -> App {
    attached_at(W, H)
}

fn draw(app: &App) -> String {
    draw_at(app, W, H)
}

fn draw_at(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| f.render_widget(app, f.area())).expect("draw");
    format!("{}", t.backend())
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn layout_when_attached() {
    let app = attached();
    let screen = draw(&app);
    assert!(screen.contains("● connected") && screen.contains('▀'));
    assert_snapshot!(screen);
}

#[test]
fn adjusting_a_slider_sends_a_compare_and_set_and_shows_the_reply() {
    let mut app = attached();
    let sent: Vec<Request> = app.handle_key(key(KeyCode::Right));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, advkit_ipc::api::method::PARAMS_SET);
    assert_eq!(
        sent[0].params,
        json!({"name": "walk_speed", "value": 1.25, "if_revision": 0})
    );
    let big = app.handle_key(KeyEvent::new(KeyCode::Right, KeyModifiers::SHIFT));
    assert_eq!(big[0].params["value"], 3.5, "Shift steps ×10");
    app.on_reply(
        Tag::Set("walk_speed".into()),
        Ok(json!({"revision": 1, "results": {"walk_speed": "applied"}, "values": {"walk_speed": 1.25}})),
    );
    // A reboot-only param set by another client shows as pending.
    app.on_event(event(
        "params",
        "changed",
        31,
        json!({"values": {"npc_count": 9}, "results": {"npc_count": "pending_reboot"}, "revision": 2, "by": 7}),
    ));
    assert_snapshot!(draw(&app));
}

#[test]
fn editing_a_string_list() {
    let mut app = attached();
    for _ in 0..7 {
        app.handle_key(key(KeyCode::Down));
    }
    assert_eq!(
        app.params.current().expect("a param").spec.name,
        "player_tags"
    );
    assert!(
        app.handle_key(key(KeyCode::Enter)).is_empty(),
        "opens the editor"
    );
    for c in ",brave".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    let screen = draw(&app);
    let sent = app.handle_key(key(KeyCode::Enter));
    assert_eq!(sent[0].params["value"], json!(["hero", "brave"]));
    assert_snapshot!(screen);
}

#[test]
fn the_fresh_reboot_dialog_says_what_will_be_lost() {
    let mut app = attached();
    let probe = app.handle_key(key(KeyCode::Char('R')));
    assert_eq!(
        probe[0].params,
        json!({"keep_progress": false, "confirm": false}),
        "asks the engine first"
    );
    // The dialog is built from the error's data; the message is protocol
    // wording for scripts and is not shown.
    let refusal = RpcError::new(
        codes::CONFIRM_REQUIRED,
        "… call again with \"confirm\": true",
    )
    .with_data(ConfirmData {
        would_lose: [
            ("tile".to_owned(), json!([23, 25])),
            ("flags".to_owned(), json!(["crossed_bridge", "found_ruins"])),
        ]
        .into(),
    });
    app.on_reply(Tag::FreshProbe, Err(refusal));
    let screen = draw(&app);
    assert_eq!(
        app.modal,
        advkit_tui::app::Modal::ConfirmFresh {
            what: "A fresh reboot throws away flags: crossed_bridge, found_ruins; tile: 23, 25."
                .into()
        }
    );
    let sent = app.handle_key(key(KeyCode::Char('y')));
    assert_eq!(
        sent[0].params,
        json!({"keep_progress": false, "confirm": true})
    );
    assert_snapshot!(screen);
}

#[test]
fn disconnected_and_no_engine_screens() {
    let mut app = attached();
    app.on_disconnect("engine default is not running (pid 4242 gone)".into());
    assert!(matches!(app.conn, Conn::Disconnected(_)));
    assert!(
        app.handle_key(key(KeyCode::Right)).is_empty(),
        "nothing is sent while disconnected"
    );
    assert_eq!(
        app.status, "not connected: nothing was changed",
        "and it says so"
    );
    assert_snapshot!("disconnected", draw(&app));
    let mut fresh = App::new("game", ColorMode::Ansi256);
    fresh.on_disconnect("engine game is not running (no /run/user/1000/advkit/game.frames)".into());
    assert_snapshot!("no_engine", draw(&fresh));
}

#[test]
fn help_overlay() {
    let mut app = attached();
    app.handle_key(key(KeyCode::Char('?')));
    assert_snapshot!(draw(&app));
    app.handle_key(key(KeyCode::Char('x')));
    assert!(!draw(&app).contains("any key closes"));
}

#[test]
fn an_engines_control_characters_are_shown_escaped_never_sent_raw() {
    let mut app = attached();
    app.on_event(event(
        "log",
        "line",
        31,
        json!({"message": "red \u{1b}[31mALERT\u{7}\u{0} done"}),
    ));
    app.on_reply(
        Tag::Save,
        Err(RpcError::new(codes::FAILED, "boom\u{1b}]0;pwned\u{7}")),
    );
    let screen = draw(&app);
    assert!(
        screen.contains(r"red \u{1b}[31mALERT\u{7}\u{0} done"),
        "the log shows what was sent, escaped:\n{screen}"
    );
    assert!(screen.contains(r"boom\u{1b}]0;pwned\u{7}"), "{screen}");
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}'));
}

/// Ctrl-R on a game that cannot save its state asks before the fresh
/// reboot a recording then starts with; one that can records at once,
/// and the status bar shows the recording first.
#[test]
fn ctrl_r_asks_before_recording_from_a_fresh_reboot() {
    use advkit_tui::app::{Modal, RecordAsk, Recording};
    use advkit_tui::recorder::Start;
    let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
    let mut app = attached();
    assert!(app.handle_key(ctrl_r).is_empty());
    assert!(
        app.status.contains("needs the advkit command"),
        "{}",
        app.status
    );
    app.can_record = true;
    assert!(!app.can_save, "the test game answers no world.save");
    assert!(app.handle_key(ctrl_r).is_empty(), "no reboot yet");
    assert_eq!(app.modal, Modal::ConfirmRecord);
    let screen = draw(&app);
    assert!(screen.contains("Press y to reboot and record"), "{screen}");
    app.handle_key(key(KeyCode::Char('n')));
    assert_eq!((app.record_ask, app.modal.clone()), (None, Modal::None));
    app.handle_key(ctrl_r);
    app.handle_key(key(KeyCode::Char('y')));
    assert_eq!(app.record_ask.take(), Some(RecordAsk::Start(Start::Fresh)));

    app.can_save = true;
    app.handle_key(ctrl_r);
    assert_eq!(
        app.record_ask.take(),
        Some(RecordAsk::Start(Start::FromNow))
    );
    app.recording = Some(Recording {
        out: "fixtures/scenarios/default-1.json".into(),
        from_tick: 10,
        stopping: false,
    });
    app.handle_key(ctrl_r);
    assert_eq!(app.record_ask, Some(RecordAsk::Stop));
    let screen = draw(&app);
    assert!(
        screen.contains(
            " default  ● connected  ● REC 20 tick(s) → fixtures/scenarios/default-1.json"
        ),
        "{screen}"
    );
    assert_snapshot!("ctrl_r_confirm", {
        app.recording = None;
        app.can_save = false;
        app.record_ask = None;
        app.handle_key(ctrl_r);
        draw(&app)
    });
}

/// NO_COLOR: the picture is a grey ramp of block characters in the
/// terminal's own colours, and the status bar says `mono`.
#[test]
fn no_color_draws_a_grey_ramp() {
    let mut app = attached();
    app.colors = ColorMode::Mono;
    let mut t = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    t.draw(|f| f.render_widget(&app, f.area())).expect("draw");
    let buf = t.backend().buffer().clone();
    let inner = view::frame_inner(Rect::new(0, 0, W, H), &app);
    let mut shades = std::collections::BTreeSet::new();
    for y in inner.y..inner.y + inner.height {
        for x in inner.x..inner.x + inner.width {
            let cell = &buf[(x, y)];
            assert_eq!(
                (cell.fg, cell.bg),
                (ratatui::style::Color::Reset, ratatui::style::Color::Reset),
                "no colour at {x},{y}"
            );
            shades.insert(cell.symbol().to_owned());
        }
    }
    assert!(shades.len() >= 4, "a ramp, not stripes: {shades:?}");
    let coloured = buf
        .content()
        .iter()
        .filter(|c| (c.fg, c.bg) != (ratatui::style::Color::Reset, ratatui::style::Color::Reset))
        .count();
    assert_eq!(
        coloured, 0,
        "no colour anywhere on the screen, panes included"
    );
    let screen = format!("{}", t.backend());
    assert!(screen.contains("  mono"), "{screen}");
    assert_snapshot!(screen);
}

#[test]
fn at_80x24_the_frame_takes_the_width_and_the_params_fold_into_a_line() {
    let app = attached_at(80, 24);
    let a = view::areas(Rect::new(0, 0, 80, 24), &app);
    assert!(a.picture.width >= 70, "picture {:?}", a.picture);
    assert_eq!(a.side.width, 0, "no side panel");
    let screen = draw_at(&app, 80, 24);
    assert!(screen.contains("1/8 walk_speed"), "{screen}");
    assert!(screen.contains("? help"), "the key bar fits: {screen}");
    assert_snapshot!(screen);
}

#[test]
fn at_200x60_there_is_room_for_graphs() {
    let mut app = attached_at(200, 60);
    for i in 0..40 {
        app.history
            .stats(29.0 + f64::from(i % 3), 0.2, 0.3 + f64::from(i % 5) / 10.0);
        app.history.link(10_000 + (i as u64 % 7) * 1000);
    }
    let screen = draw_at(&app, 200, 60);
    assert!(
        screen.contains("last minute") && screen.contains("tick p50"),
        "{screen}"
    );
    assert_snapshot!(screen);
}

#[test]
fn f_shows_the_frame_alone() {
    let mut app = attached_at(80, 24);
    app.handle_key(key(KeyCode::Char('f')));
    show(&mut app, 80, 24);
    let a = view::areas(Rect::new(0, 0, 80, 24), &app);
    assert_eq!(a.frame.height, 23, "all but the status bar");
    assert_snapshot!(draw_at(&app, 80, 24));
}

/// Frame focus: the picker's cursor reads the pixel under it; `+` zooms
/// about it, down to a pixel a cell; ← at the left edge pans.
#[test]
fn the_picker_reads_pixels_and_zoom_goes_down_to_one_pixel_a_cell() {
    let mut app = attached();
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.focus, advkit_tui::app::Focus::Frame);
    show(&mut app, W, H);
    let p = app.frame.picked.expect("a pixel under the cursor");
    let rgba = frame();
    let i = (p.y as usize * 320 + p.x as usize) * 4;
    assert_eq!(
        p.rgb,
        [rgba[i], rgba[i + 1], rgba[i + 2]],
        "the frame's own pixel"
    );
    // A game that answers world.pick names the tile there.
    app.frame.can_pick = true;
    let ask = app.pick_request().expect("asks about the pixel");
    assert_eq!(ask.params, json!({"x": p.x, "y": p.y}));
    assert!(app.pick_request().is_none(), "once per pixel");
    app.on_reply(
        Tag::Pick,
        Ok(json!({"x": p.x, "y": p.y, "tile": {"x": 23, "y": 25, "kind": "plaza", "solid": false}})),
    );
    let screen = draw(&app);
    assert!(
        screen.contains(&format!("x {} y {}", p.x, p.y)) && screen.contains("plaza (23,25)"),
        "{screen}"
    );
    assert_snapshot!("picker", screen);

    for _ in 0..6 {
        app.handle_key(key(KeyCode::Char('+')));
        show(&mut app, W, H);
    }
    assert_eq!(
        app.frame.zoom, 8,
        "72 cells wide: ×4 would show 80 pixels, ×8 shows 40"
    );
    assert!(
        app.status.contains("already one frame pixel per cell"),
        "{}",
        app.status
    );
    let zoomed = app.frame.picked.expect("still picking");
    assert!(
        zoomed.x.abs_diff(p.x) <= 2 && zoomed.y.abs_diff(p.y) <= 2,
        "{zoomed:?} vs {p:?}"
    );
    assert_snapshot!("zoom", draw(&app));

    // Left to the edge and past it: the view pans left.
    let before = app.frame.center;
    for _ in 0..80 {
        app.handle_key(key(KeyCode::Left));
    }
    show(&mut app, W, H);
    assert!(
        app.frame.center.0 < before.0,
        "{:?} → {:?}",
        before,
        app.frame.center
    );
    app.handle_key(key(KeyCode::Char('z')));
    assert_eq!(app.frame.zoom, 1);
}

/// `e`: the entity list from `world.entities`, the selected one outlined
/// in the picture, and Enter to change its attributes with `world.set`.
#[test]
fn the_entity_panel_lists_outlines_and_edits() {
    let mut app = attached();
    let mut h = hello(&params());
    h["methods"] = json!(["world.entities", "world.set"]);
    app.on_reply(Tag::Hello, Ok(h));
    let asked = app.handle_key(key(KeyCode::Char('e')));
    assert_eq!(asked[0].method, "world.entities");
    app.on_reply(
        Tag::Entities,
        Ok(json!({"entities": [
            {"id": "player", "kind": "player", "box": [150, 80, 16, 16], "pixel": [400, 300]},
            {"id": "npc:0", "name": "Mira", "box": [40, 100, 16, 16], "say": "Welcome!", "speed": 1},
        ]})),
    );
    app.handle_key(key(KeyCode::Down));
    // Outlined in the picture: magenta round its box.
    let mut t = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    t.draw(|f| f.render_widget(&app, f.area())).expect("draw");
    let magenta = ratatui::style::Color::Rgb(255, 0, 255);
    let outline = t
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.fg == magenta || c.bg == magenta)
        .count();
    assert!(outline >= 12, "the outline shows in {outline} cells");
    let screen = draw(&app);
    assert!(
        screen.contains("▶ npc:0") && screen.contains("say: \"Welcome!\""),
        "{screen}"
    );
    assert_snapshot!("entity_panel", screen);

    app.handle_key(key(KeyCode::Enter));
    for c in "speed=oops".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    let sent = app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        sent[0].params,
        json!({"id": "npc:0", "attrs": {"speed": "oops"}})
    );
    // The engine refuses: the error shows in the dialog, which stays.
    app.on_reply(
        Tag::WorldSet("npc:0".into()),
        Err(RpcError::new(
            codes::INVALID_PARAMS,
            "speed: expected a number from 0 to 4",
        )),
    );
    let screen = draw(&app);
    assert!(
        screen.contains("✖ npc:0: speed: expected a number"),
        "{screen}"
    );
    assert_snapshot!("entity_edit_error", screen);
}

#[test]
fn the_log_scrolls_filters_and_opens_an_entry() {
    let mut app = attached();
    for i in 0..30 {
        app.on_event(event(
            "log",
            "log",
            i,
            json!({"message": format!("line {i}")}),
        ));
    }
    app.on_event(event("engine", "paused", 31, json!({})));
    let long = "x".repeat(300);
    app.on_event(event(
        "world",
        "event",
        32,
        json!({"kind": "talk", "text": long}),
    ));
    app.handle_key(key(KeyCode::Tab));
    app.handle_key(key(KeyCode::Tab));
    app.handle_key(key(KeyCode::Enter));
    let screen = draw(&app);
    assert!(
        screen.contains("Log entry") && screen.matches('x').count() > 250,
        "{screen}"
    );
    app.handle_key(key(KeyCode::Esc));
    app.handle_key(key(KeyCode::PageUp));
    let screen = draw(&app);
    assert!(screen.contains("newer below (End follows)"), "{screen}");
    app.handle_key(key(KeyCode::Char('t')));
    app.handle_key(key(KeyCode::Char('t')));
    let screen = draw(&app);
    assert!(
        screen.contains("only engine") && screen.contains("paused"),
        "{screen}"
    );
    assert!(!screen.contains("line 29"), "{screen}");
    assert_snapshot!(screen);
}

#[test]
fn search_reset_and_modified_markers() {
    let mut app = attached();
    app.handle_key(key(KeyCode::Char('/')));
    for c in "grid".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    assert_eq!(
        app.params.current().expect("a param").spec.name,
        "show_grid"
    );
    app.handle_key(key(KeyCode::Enter));
    app.on_event(event(
        "params",
        "changed",
        40,
        json!({"revision": 1, "by": 7, "results": {"day_night": "applied"}, "values": {"day_night": 0.5}}),
    ));
    let screen = draw(&app);
    assert!(
        screen.contains("1 changed") && screen.contains("•day_night"),
        "{screen}"
    );
    app.params.select(3);
    let sent = app.handle_key(key(KeyCode::Char('d')));
    assert_eq!(sent[0].method, "params.reset");
    assert_eq!(sent[0].params, json!({"name": "day_night"}));
    assert_snapshot!(screen);
}

/// `engine.history` of 30 s, at `now`.
fn history_at(now: u64) -> serde_json::Value {
    json!({
        "oldest": 120, "newest": 1920, "now": now,
        "keyframes": (0..=120).map(|i| 120 + i * 15).collect::<Vec<u64>>(),
        "keyframe_every": 15, "requests": 4, "frames": 1800,
        "bytes": 570_000, "max_bytes": 67_108_864, "seconds": 30.0,
        "watch_hits": [900, 1480]
    })
}

/// An inspector on an engine with 30 s of history, seeked back to 1500.
fn with_history(w: u16, h: u16) -> App {
    let mut app = attached_at(w, h);
    app.on_reply(Tag::History, Ok(history_at(1500)));
    // Paused after a seek: a second is the engine's rate, not the 0 fps
    // measured.
    app.engine_fps = 0.0;
    app.timeline.tick_rate = 30.0;
    show(&mut app, w, h);
    app
}

#[test]
fn the_timeline_at_80x24_and_120x40() {
    for (w, h) in [(80, 24), (120, 40)] {
        let app = with_history(w, h);
        let screen = draw_at(&app, w, h);
        let line = screen
            .lines()
            .find(|l| l.contains("now 1500"))
            .unwrap_or_else(|| panic!("a timeline line at {w}x{h}:\n{screen}"));
        assert!(line.contains(" 120 ") && line.contains(" 1920 "), "{line}");
        assert!(line.contains("420 ahead"), "{line}");
        assert!(line.contains('┃') && line.contains('●'), "{line}");
        assert!(
            screen.contains("[ ] tick"),
            "the key bar leads with time:\n{screen}"
        );
        assert_snapshot!(format!("timeline_{w}x{h}"), screen);
    }
}

#[test]
fn time_keys_become_seeks_and_steps() {
    let mut app = with_history(W, H);
    let seek = |app: &mut App, k: KeyCode| {
        let sent = app.handle_key(key(k));
        assert_eq!(sent.len(), 1, "{k:?}");
        (sent[0].method, sent[0].params.clone())
    };
    let m = advkit_ipc::api::method::SEEK;
    // Keys pressed before the engine answers add up: each starts from
    // where the one before goes.
    let presses = [
        (KeyCode::Char('['), 1499),
        (KeyCode::Char('['), 1498),
        (KeyCode::Char(']'), 1499),
        (KeyCode::Char('{'), 1469),
        (KeyCode::Char('}'), 1499),
    ];
    for (k, tick) in presses {
        assert_eq!(seek(&mut app, k), (m, json!({ "tick": tick })), "{k:?}");
    }
    // A history polled before those seeks were answered does not undo them.
    app.on_reply(Tag::History, Ok(history_at(1500)));
    assert!(draw(&app).contains("now 1499"));
    assert_eq!(seek(&mut app, KeyCode::Home), (m, json!({"tick": 120})));
    assert_eq!(seek(&mut app, KeyCode::End), (m, json!({"tick": 1920})));
    // G types a tick; one outside the history stays in the dialog.
    app.handle_key(key(KeyCode::Char('G')));
    for c in "99".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    assert!(app.handle_key(key(KeyCode::Enter)).is_empty());
    assert!(draw(&app).contains("tick 99 is outside the history (120 to 1920)"));
    app.handle_key(key(KeyCode::Esc));
    app.handle_key(key(KeyCode::Char('G')));
    for c in "-100".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    let sent = app.handle_key(key(KeyCode::Enter));
    assert_eq!(sent[0].params, json!({"tick": 1820}), "100 back from 1920");
    // Once every seek is answered, the last answer says where it is; at
    // the newest tick, ] steps the game itself.
    let mut app = with_history(W, H);
    app.handle_key(key(KeyCode::End));
    app.on_reply(
        Tag::Seek,
        Ok(
            json!({"tick": 1920, "keyframe": 1905, "simulated": 15, "checked": 15,
                  "verified": true, "future": 0, "ms": 1.2, "paused": true}),
        ),
    );
    let sent = app.handle_key(key(KeyCode::Char(']')));
    assert_eq!(sent[0].method, advkit_ipc::api::method::STEP);
}

#[test]
fn the_watch_pane_adds_lists_removes_and_a_firing_shows() {
    let mut app = with_history(W, H);
    let sent = app.handle_key(key(KeyCode::Char('w')));
    assert_eq!(sent[0].method, advkit_ipc::api::method::WATCH);
    assert!(draw(&app).contains("no watchpoints"));
    app.handle_key(key(KeyCode::Char('a')));
    for c in "npc:1.tile changed".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    let sent = app.handle_key(key(KeyCode::Enter));
    assert_eq!(sent[0].params, json!({"add": "npc:1.tile changed"}));
    app.on_reply(
        Tag::Watch,
        Ok(json!({"watches": [{"id": 1, "condition": "npc:1.tile changed", "hits": 0}], "id": 1})),
    );
    assert!(draw(&app).contains("1 npc:1.tile changed  (0 hits)"));
    app.on_event(event(
        "engine",
        "watch",
        1510,
        json!({"id": 1, "condition": "npc:1.tile changed", "tick": 1510,
               "values": {"npc:1.tile": [4, 5], "npc:1.tile (before)": [4, 4]}}),
    ));
    let screen = draw(&app);
    assert!(screen.contains("watch 1 fired at tick 1510"), "{screen}");
    assert!(
        screen.contains("watch 1@1510"),
        "the timeline names it:\n{screen}"
    );
    let sent = app.handle_key(key(KeyCode::Char('d')));
    assert_eq!(sent[0].params, json!({"remove": 1}));
}

/// Game focus (`g`): the arrows and Space as the game's buttons, and any
/// other letter or digit under its own name (a pygame program's keys), with
/// the mode on the screen; `g` gives the keys back to the inspector.
#[test]
fn game_focus_forwards_the_keys_the_inspector_does_not_use() {
    let mut app = attached();
    assert!(app.handle_key(key(KeyCode::Char('g'))).is_empty());
    assert!(draw(&app).contains("game focus"), "{}", draw(&app));
    let sent: Vec<serde_json::Value> = [
        KeyCode::Left,
        KeyCode::Char(' '),
        KeyCode::Char('F'),
        KeyCode::Char('7'),
    ]
    .into_iter()
    .flat_map(|k| app.handle_key(key(k)))
    .map(|r| {
        assert_eq!(r.method, advkit_ipc::api::method::INPUT);
        r.params
    })
    .collect();
    assert_eq!(
        sent,
        [
            json!({"button": "left", "action": "tap"}),
            json!({"button": "action", "action": "tap"}),
            json!({"button": "f", "action": "tap"}),
            json!({"button": "7", "action": "tap"}),
        ]
    );
    // Ctrl-anything is not a game key.
    assert!(
        app.handle_key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::CONTROL))
            .is_empty()
    );
    assert!(app.handle_key(key(KeyCode::Char('g'))).is_empty());
    assert!(!app.game_input, "g gives the keys back");
}
