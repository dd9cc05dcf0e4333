//! What the inspector writes to the terminal, at 100x50 cells from a
//! 320x180 engine while the camera pans (the autopilot walks):
//!
//! 1. a full repaint per colour mode, beside chafa's bytes for the same
//!    frame at the same cell size (chafa from Debian; `.ci/run` installs
//!    it), and beside ratatui's crossterm backend (what the inspector used
//!    before its own encoder);
//! 2. bytes per panned frame and the draw time (downsample, render, diff,
//!    encode).
//!
//! `cargo bench --bench inspector`. Medians over 60 frames.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use advkit_core::{Engine, Frame, Scene, Size};
use advkit_frame::png::{Compression, encode_png};
use advkit_tui::encode::encode;
use advkit_tui::halfblock::{ColorMode, HalfBlocks, downsample, fit};
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use ratatui::{Terminal, TerminalOptions, Viewport};

const COLS: u16 = 100;
const ROWS: u16 = 50;
const W: u32 = 320;
const H: u32 = 180;

/// The picture of `frame` as the inspector renders it.
fn render(frame: &Frame, mode: ColorMode, bits: u8) -> Buffer {
    let (fc, fr) = fit(W, H, COLS, ROWS);
    let img = downsample(frame.pixels(), W, H, fc, fr, bits);
    let mut buf = Buffer::empty(Rect::new(0, 0, COLS, ROWS));
    HalfBlocks { image: &img, mode }.render(Rect::new(0, 0, fc, fr), &mut buf);
    buf
}

/// Our encoder's bytes from `prev` to `next`.
fn ours(prev: &Buffer, next: &Buffer) -> usize {
    let mut out = Vec::new();
    encode(prev.diff(next), &mut out);
    out.len()
}

/// ratatui's crossterm backend's bytes for a full draw of `next`.
fn crossterm_bytes(next: &Buffer) -> usize {
    let mut out = Vec::new();
    {
        let options = TerminalOptions {
            viewport: Viewport::Fixed(next.area),
        };
        let mut term =
            Terminal::with_options(CrosstermBackend::new(&mut out), options).expect("terminal");
        term.draw(|f| f.buffer_mut().clone_from(next))
            .expect("draw");
    }
    out.len()
}

/// chafa's bytes for the same frame at the same cell size, or why not.
fn chafa(frame: &Frame, mode: ColorMode) -> Result<usize, String> {
    let (fc, fr) = fit(W, H, COLS, ROWS);
    let png = encode_png(frame, Compression::Fast).map_err(|e| e.to_string())?;
    let mut file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    file.write_all(&png).map_err(|e| e.to_string())?;
    let colors = match mode {
        ColorMode::TrueColor => "full",
        ColorMode::Ansi256 => "256",
        ColorMode::Ansi16 => "16",
        ColorMode::Mono => "none",
    };
    let out = Command::new("chafa")
        .args([
            "--format",
            "symbols",
            "--symbols",
            "vhalf",
            "--dither",
            "none",
        ])
        .args(["--animate", "off", "--polite", "on", "--colors", colors])
        .arg(format!("--size={fc}x{fr}"))
        .arg(file.path())
        .output()
        .map_err(|e| format!("chafa: {e} (apt-get install chafa)"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(out.stdout.len())
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}

fn main() {
    let size = Size::new(W, H).expect("size");
    let modes = [
        ("truecolor", ColorMode::TrueColor),
        ("256 colours", ColorMode::Ansi256),
        ("16 colours", ColorMode::Ansi16),
    ];
    let (fc, fr) = fit(W, H, COLS, ROWS);
    println!(
        "full repaint of one frame, {fc}x{fr} cells from {W}x{H} (median of 20 frames, camera panning)"
    );
    println!(
        "{:>12} {:>12} {:>12} {:>10} {:>18} {:>10}",
        "mode", "chafa", "advkit", "vs chafa", "ratatui crossterm", "vs chafa"
    );
    for (label, mode) in modes {
        let mut engine = Engine::new(Scene::builtin());
        let mut frame = Frame::new(size);
        let (mut c, mut o, mut x) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..20 * 15 {
            engine.step();
            if i % 15 != 0 {
                continue;
            }
            engine.render(&mut frame);
            let next = render(&frame, mode, 8);
            let empty = Buffer::empty(next.area);
            match chafa(&frame, mode) {
                Ok(n) => c.push(n as f64),
                Err(e) => {
                    println!("{label:>12} chafa did not run: {e}");
                    return;
                }
            }
            o.push(ours(&empty, &next) as f64);
            x.push(crossterm_bytes(&next) as f64);
        }
        let (c, o, x) = (median(c), median(o), median(x));
        println!(
            "{label:>12} {:>9.1} KB {:>9.1} KB {:>9.2}x {:>15.1} KB {:>9.2}x",
            c / 1e3,
            o / 1e3,
            o / c,
            x / 1e3,
            x / c
        );
    }

    println!();
    println!("per panned frame: bytes written and draw time (downsample, render, diff, encode)");
    println!(
        "{:>28} {:>14} {:>12} {:>14}",
        "mode", "per pan frame", "draw time", "vs 2 ms target"
    );
    let panning: [(&str, ColorMode, u8); 6] = [
        ("truecolor 8 bit", ColorMode::TrueColor, 8),
        ("truecolor 5 bit", ColorMode::TrueColor, 5),
        ("truecolor 4 bit", ColorMode::TrueColor, 4),
        ("256 colours", ColorMode::Ansi256, 8),
        ("16 colours", ColorMode::Ansi16, 8),
        ("mono (NO_COLOR)", ColorMode::Mono, 8),
    ];
    for (label, mode, bits) in panning {
        let mut engine = Engine::new(Scene::builtin());
        let mut frame = Frame::new(size);
        for _ in 0..30 {
            engine.step();
        }
        let mut shown = Buffer::empty(Rect::new(0, 0, COLS, ROWS));
        let (mut sizes, mut times) = (Vec::new(), Vec::new());
        for i in 0..61 {
            engine.step();
            engine.render(&mut frame);
            let t = Instant::now();
            let next = render(&frame, mode, bits);
            let mut out = Vec::new();
            encode(shown.diff(&next), &mut out);
            let took = t.elapsed();
            shown = next;
            if i > 0 {
                sizes.push(out.len() as f64);
                times.push(took.as_secs_f64() * 1e3);
            }
        }
        let ms = median(times);
        println!(
            "{label:>28} {:>11.1} KB {:>9.2} ms {:>13.2}x",
            median(sizes) / 1e3,
            ms,
            ms / 2.0
        );
    }
}
