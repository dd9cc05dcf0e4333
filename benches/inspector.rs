//! What the inspector writes to the terminal per frame while the camera
//! pans (the autopilot walks), at 100x50 cells from a 320x180 engine,
//! beside a full first draw and beside nearest-neighbour downsampling.
//! `cargo bench --bench inspector`.

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::Instant;

use advkit_core::{Engine, Frame, Scene, Size};
use advkit_tui::halfblock::{CellImage, ColorMode, HalfBlocks, downsample, fit};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// A terminal that only counts what it is sent.
#[derive(Clone, Default)]
struct Count(Rc<Cell<usize>>);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn nearest(rgba: &[u8], w: u32, h: u32, cols: u16, rows: u16) -> CellImage {
    let (ow, oh) = (u32::from(cols), u32::from(rows) * 2);
    let mut pixels = Vec::with_capacity((ow * oh) as usize);
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = (x * w / ow, y * h / oh);
            let i = ((sy * w + sx) * 4) as usize;
            pixels.push([rgba[i], rgba[i + 1], rgba[i + 2]]);
        }
    }
    CellImage {
        width: cols,
        height: rows * 2,
        pixels,
    }
}

fn main() {
    let (cols, rows) = (100u16, 50u16);
    let size = Size::new(320, 180).expect("size");
    let (fc, fr) = fit(320, 180, cols, rows);
    let modes: [(&str, ColorMode, Option<u8>); 7] = [
        ("nearest, truecolor", ColorMode::TrueColor, None),
        ("area avg, truecolor 8 bit", ColorMode::TrueColor, Some(8)),
        ("area avg, truecolor 6 bit", ColorMode::TrueColor, Some(6)),
        ("area avg, truecolor 5 bit", ColorMode::TrueColor, Some(5)),
        ("area avg, truecolor 4 bit", ColorMode::TrueColor, Some(4)),
        ("area avg, 256 colours", ColorMode::Ansi256, Some(8)),
        ("area avg, 16 colours", ColorMode::Ansi16, Some(8)),
    ];
    println!(
        "inspector output per frame, {cols}x{rows} cells from 320x180, camera panning (median of 60 frames)"
    );
    println!(
        "{:>28} {:>12} {:>14} {:>12} {:>10}",
        "mode", "first draw", "per pan frame", "vs nearest", "draw time"
    );
    let mut nearest_bytes = 0.0;
    for (label, mode, bits) in modes {
        let mut engine = Engine::new(Scene::builtin());
        let mut frame = Frame::new(size);
        for _ in 0..30 {
            engine.step();
        }
        let count = Count::default();
        let mut term = Terminal::new(CrosstermBackend::new(count.clone())).expect("terminal");
        term.resize(ratatui::layout::Rect::new(0, 0, cols, rows))
            .expect("resize");
        let mut sizes = Vec::new();
        let mut times = Vec::new();
        let mut first = 0;
        for i in 0..61 {
            engine.step();
            engine.render(&mut frame);
            let t = Instant::now();
            let img = match bits {
                None => nearest(frame.pixels(), 320, 180, fc, fr),
                Some(b) => downsample(frame.pixels(), 320, 180, fc, fr, b),
            };
            let before = count.0.get();
            term.draw(|f| f.render_widget(HalfBlocks { image: &img, mode }, f.area()))
                .expect("draw");
            let written = count.0.get() - before;
            times.push(t.elapsed());
            if i == 0 {
                first = written;
            } else {
                sizes.push(written);
            }
        }
        sizes.sort();
        times.sort();
        let per = sizes[sizes.len() / 2] as f64;
        if bits.is_none() {
            nearest_bytes = per;
        }
        println!(
            "{label:>28} {:>9.1} KB {:>11.1} KB {:>11.2}x {:>8.2} ms",
            first as f64 / 1e3,
            per / 1e3,
            per / nearest_bytes,
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }
}
