//! The inspector's screens on ratatui's TestBackend, as insta snapshots.
//! The state comes from the real engine: its param schema, a real frame,
//! and replies and events shaped exactly as the server sends them.

use advkit_core::{Engine, Frame, Params, Scene, Size, Timeline};
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

fn hello(params: &Params) -> serde_json::Value {
    json!({
        "protocol": 1,
        "engine": "advkit test engine",
        "frames": {"width": 320, "height": 180},
        "params": advkit_ipc::host::params_json(params)["params"],
    })
}

/// An inspector attached to a real engine's schema, showing a real frame.
fn attached() -> App {
    let scene = Scene::builtin();
    let params = Params::for_scene(&scene);
    let mut app = App::new("default", ColorMode::TrueColor);
    app.on_reply(Tag::Hello, Ok(hello(&params)));
    let mut engine = Engine::new(scene);
    engine.run(30, &Timeline::default());
    let mut frame = Frame::new(Size::new(320, 180).expect("size"));
    engine.render(&mut frame);
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
    assert_eq!(sent[0].method, "params.set");
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
    app.on_event(&json!({"jsonrpc": "2.0", "method": "event", "params": {
        "topic": "params", "event": "changed", "tick": 31,
        "data": {"values": {"npc_count": 9}, "results": {"npc_count": "pending_reboot"}, "revision": 2, "by": 7}}}));
    assert_snapshot!(draw(&app));
}

#[test]
fn editing_a_string_list() {
    let mut app = attached();
    for _ in 0..7 {
        app.handle_key(key(KeyCode::Down));
    }
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
        json!({"keep_progress": false}),
        "asks the engine first"
    );
    app.on_reply(
        Tag::FreshProbe,
        Err((
            advkit_ipc::protocol::codes::CONFIRM_REQUIRED,
            "a fresh reboot throws away the player's position (tile 23, 25) and 2 flag(s) (crossed_bridge, found_ruins); call again with \"confirm\": true".into(),
        )),
    );
    let screen = draw(&app);
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
