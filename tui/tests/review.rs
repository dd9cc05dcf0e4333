//! `advkit golden review` on ratatui's TestBackend: the screens for a
//! pending and a failed capture, found on disk the way `golden check`
//! leaves them, and what accepting and rejecting do to the files.

use std::fs;
use std::path::Path;

use advkit_frame::{Compression, Frame, Size, decode_png, encode_png};
use advkit_golden::store::{Divergence, Picture, Shows, write_sidecar};
use advkit_tui::halfblock::ColorMode;
use advkit_tui::review::{Kind, ReviewApp, collect};
use crossterm::event::KeyCode;
use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A frame with a bright square at (x, 4) on a dark field.
fn frame(x: u32) -> Frame {
    let size = Size::new(32, 16).expect("size");
    let mut f = Frame::new(size);
    for (i, px) in f.pixels_mut().chunks_exact_mut(4).enumerate() {
        let (px_x, px_y) = (i as u32 % 32, i as u32 / 32);
        let inside = (x..x + 6).contains(&px_x) && (4..10).contains(&px_y);
        px.copy_from_slice(if inside {
            &[250, 200, 40, 255]
        } else {
            &[10, 20, 60, 255]
        });
    }
    f
}

fn write(path: &Path, f: &Frame) {
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    fs::write(path, encode_png(f, Compression::Fast).expect("png")).expect("write");
}

fn draw(app: &ReviewApp) -> String {
    draw_at(app, 60, 16)
}

fn draw_at(app: &ReviewApp, cols: u16, rows: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(cols, rows)).expect("terminal");
    t.draw(|f| app.render(f)).expect("draw");
    format!("{}", t.backend())
}

/// A failed capture `walk/end` as `golden check` leaves it: its golden
/// (the square at 10), and the actual (at 12), expected and diff.
fn failed_end(golden: &Path, artifacts: &Path) {
    write(&golden.join("walk/end.png"), &frame(10));
    write(&artifacts.join("walk/end.actual.png"), &frame(12));
    write(&artifacts.join("walk/end.expected.png"), &frame(10));
    write(&artifacts.join("walk/end.diff.png"), &frame(11));
}

#[test]
fn pending_and_failed_captures_are_shown_and_decided() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (golden, artifacts) = (tmp.path().join("golden"), tmp.path().join("artifacts"));
    // A new capture with no golden, and a failed one with its artifacts.
    write(&golden.join("walk/start.new.png"), &frame(2));
    failed_end(&golden, &artifacts);

    let items = collect(&golden, &artifacts);
    let kinds: Vec<(String, Kind)> = items
        .iter()
        .map(|i| (format!("{}/{}", i.scenario, i.capture), i.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("walk/start".to_owned(), Kind::Pending),
            ("walk/end".to_owned(), Kind::Failed)
        ]
    );
    let mut app = ReviewApp::new(items, ColorMode::TrueColor);
    assert_snapshot!("pending", draw(&app));

    app.handle_key(KeyCode::Char('a'));
    assert_eq!(
        decode_png(&fs::read(golden.join("walk/start.png")).expect("blessed")).expect("png"),
        frame(2),
        "accepting writes the golden"
    );
    assert!(
        !golden.join("walk/start.new.png").exists(),
        "and removes .new"
    );
    assert!(
        app.message.starts_with("accepted: wrote"),
        "{}",
        app.message
    );
    app.message.clear(); // it names the temporary directory

    app.handle_key(KeyCode::Char('d'));
    assert_snapshot!("failed_diff_view", draw(&app));
    app.handle_key(KeyCode::Char('r'));
    assert_eq!(
        decode_png(&fs::read(golden.join("walk/end.png")).expect("kept")).expect("png"),
        frame(10),
        "rejecting a failure keeps the golden"
    );
    assert!(app.message.contains("fix the code"), "{}", app.message);
}

#[test]
fn nothing_to_review_says_so() {
    let app = ReviewApp::new(Vec::new(), ColorMode::Ansi256);
    assert!(draw(&app).contains("Nothing to review"));
}

#[test]
fn numbers_zoom_side_by_side_and_hash_sequences_are_reviewed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (golden, artifacts) = (tmp.path().join("golden"), tmp.path().join("artifacts"));
    failed_end(&golden, &artifacts);
    fs::write(
        artifacts.join("walk/end.json"),
        r#"{"tick": 40, "summary": "24 pixel(s) differ by more than 0 (largest difference 240, allowed 0 pixel(s)) in 10,4-17,9", "bbox": [10, 4, 17, 9]}"#,
    )
    .expect("numbers");
    // A diverged hash sequence, as `golden check` leaves it.
    fs::write(golden.join("walk/hashes.txt"), "1 00000000000000aa\n").expect("hashes");
    fs::write(
        artifacts.join("walk/hashes.actual.txt"),
        "1 00000000000000bb\n",
    )
    .expect("hashes");
    fs::write(artifacts.join("walk/states.actual.jsonl"), "{\"tick\":1}\n").expect("states");
    fs::write(artifacts.join("walk/frames.actual.bin"), "kept frames").expect("frames");
    write(&artifacts.join("walk/expected-tick-1.png"), &frame(10));
    write(&artifacts.join("walk/actual-tick-1.png"), &frame(12));
    let picture = |file: &str, shows| Picture {
        file: file.into(),
        caption: format!("{shows:?}, tick 1, the first divergent tick"),
        shows,
        tick: 1,
    };
    write_sidecar(
        &artifacts.join("walk/hashes.json"),
        &Divergence {
            tick: 1,
            summary: "frame hashes differ at tick(s) 1 (1 tick(s))".into(),
            world: vec![
                "at tick 1 the world (entities and flags) agrees with the recording: only the \
                 pixels differ"
                    .into(),
            ],
            pictures: vec![
                picture("expected-tick-1.png", Shows::Expected),
                picture("actual-tick-1.png", Shows::Actual),
            ],
        },
    )
    .expect("divergence");

    let items = collect(&golden, &artifacts);
    let ids: Vec<String> = items.iter().map(|i| i.id()).collect();
    assert_eq!(ids, ["walk/end", "walk/hashes"]);
    let mut app = ReviewApp::new(items, ColorMode::TrueColor);
    app.handle_key(KeyCode::Char('s'));
    app.handle_key(KeyCode::Char('z'));
    app.message.clear();
    let screen = draw(&app);
    assert!(screen.contains("tick 40: 24 pixel(s) differ"), "{screen}");
    assert_snapshot!("failed_side_by_side_zoomed", screen);
    // At 80x24 the measurement wraps instead of losing its end (the box).
    let small = draw_at(&app, 80, 24);
    assert!(small.contains("in 10,4-17,9"), "{small}");

    app.handle_key(KeyCode::Right);
    let screen = draw_at(&app, 120, 24);
    assert!(screen.contains("only the pixels differ"), "{screen}");
    // Which frames are shown: expected beside actual at the first
    // divergent tick.
    assert!(
        screen.contains("shown: Expected, tick 1, the first divergent tick"),
        "{screen}"
    );
    assert_eq!(app.items[1].expected, Some(frame(10)));
    assert_eq!(app.items[1].actual, Some(frame(12)));
    app.handle_key(KeyCode::Char('A'));
    assert_eq!(
        fs::read_to_string(golden.join("walk/hashes.txt")).expect("blessed"),
        "1 00000000000000bb\n",
        "accepting a hash sequence blesses it"
    );
    assert!(golden.join("walk/states.jsonl").is_file(), "and its states");
    assert_eq!(
        fs::read_to_string(golden.join("walk/frames.bin")).expect("kept frames"),
        "kept frames",
        "and its kept frames"
    );
    assert!(!artifacts.join("walk/hashes.actual.txt").exists());
    assert_eq!(
        app.items
            .iter()
            .filter(|i| i.decided == Some("accepted"))
            .count(),
        2
    );
}

/// Accepting and then rejecting the same capture (going back with `p`)
/// leaves the files as they were: no golden for a new capture (its
/// `.new.png` back, to review again), the old golden for a failed one.
#[test]
fn accept_then_reject_leaves_no_golden_and_puts_back_a_replaced_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (golden, artifacts) = (tmp.path().join("golden"), tmp.path().join("artifacts"));
    write(&golden.join("walk/start.new.png"), &frame(2));
    failed_end(&golden, &artifacts);
    let mut app = ReviewApp::new(collect(&golden, &artifacts), ColorMode::TrueColor);

    app.handle_key(KeyCode::Char('a'));
    assert!(golden.join("walk/start.png").exists(), "accepted");
    app.handle_key(KeyCode::Char('a'));
    assert_eq!(
        decode_png(&fs::read(golden.join("walk/end.png")).expect("golden")).expect("png"),
        frame(12),
        "the failure accepted"
    );
    // Still on the last: rejected; then back to the first, rejected.
    app.handle_key(KeyCode::Char('r'));
    assert_eq!(
        decode_png(&fs::read(golden.join("walk/end.png")).expect("kept")).expect("png"),
        frame(10),
        "the old golden is back"
    );
    app.handle_key(KeyCode::Char('p'));
    app.handle_key(KeyCode::Char('r'));
    assert!(
        !golden.join("walk/start.png").exists(),
        "no golden stays for a rejected capture"
    );
    assert!(
        app.message.starts_with("rejected walk/start"),
        "{}",
        app.message
    );
}
