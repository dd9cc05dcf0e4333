//! The inspector's screens on ratatui's TestBackend, as insta snapshots.
//! The inspector knows no game: the state is a game's param schema, a real
//! frame the demo drew (a blessed golden), and replies and events built
//! from the protocol's own types, exactly as the server sends them.

use advkit_frame::decode_png;
use advkit_ipc::api::event::Notification;
use advkit_ipc::api::{ConfirmData, RpcError, codes};
use advkit_params::{Params, Spec};
use advkit_tui::app::{App, Conn, Request, Tag};
use advkit_tui::halfblock::{ColorMode, downsample, fit};
use advkit_tui::view;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

const W: u16 = 100;
const H: u16 = 32;

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

/// An inspector attached to a game's schema, showing a real frame.
fn attached() -> App {
    let mut app = App::new("default", ColorMode::TrueColor);
    app.on_reply(Tag::Hello, Ok(hello(&params())));
    assert_eq!(app.params.len(), params().specs().len(), "hello parsed");
    let png = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/golden/walk_tile/start.png"
    );
    let frame = decode_png(&std::fs::read(png).expect("a blessed golden")).expect("decodes");
    let inner = view::frame_inner(ratatui::layout::Rect::new(0, 0, W, H));
    let (cols, rows) = fit(320, 180, inner.width, inner.height);
    app.image = downsample(frame.pixels(), 320, 180, cols, rows, 8);
    app.tick = 30;
    app.engine_fps = 30.0;
    app.ui_fps = 29.9;
    app.bytes_per_sec = 12_345;
    app
}

fn draw(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(W, H)).expect("terminal");
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
    assert_eq!(app.params[app.selected].spec.name, "player_tags");
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
    let inner = view::frame_inner(ratatui::layout::Rect::new(0, 0, W, H));
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
    let screen = format!("{}", t.backend());
    assert!(screen.contains("  mono"), "{screen}");
    assert_snapshot!(screen);
}
