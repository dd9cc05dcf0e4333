//! `advkit golden review` on ratatui's TestBackend: the screens for a
//! pending and a failed capture, found on disk the way `golden check`
//! leaves them, and what accepting and rejecting do to the files.

use std::fs;
use std::path::Path;

use advkit_frame::{Compression, Frame, Size, decode_png, encode_png};
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
    let mut t = Terminal::new(TestBackend::new(60, 16)).expect("terminal");
    t.draw(|f| app.render(f)).expect("draw");
    format!("{}", t.backend())
}

#[test]
fn pending_and_failed_captures_are_shown_and_decided() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (golden, artifacts) = (tmp.path().join("golden"), tmp.path().join("artifacts"));
    // A new capture with no golden, and a failed one with its artifacts.
    write(&golden.join("walk/start.new.png"), &frame(2));
    write(&golden.join("walk/end.png"), &frame(10));
    write(&artifacts.join("walk/end.actual.png"), &frame(12));
    write(&artifacts.join("walk/end.expected.png"), &frame(10));
    write(&artifacts.join("walk/end.diff.png"), &frame(11));

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
