//! Engine throughput: ticks per second (update + render) at three frame
//! sizes, on one core, beside a baseline measured in the same run: a plain
//! copy of one frame's bytes. Run with `cargo bench --bench engine`.
//!
//! Each figure is the median of several timed batches (the machine is small
//! and noisy).

use std::hint::black_box;
use std::time::Duration;

use advkit_core::{Engine, Frame, Scene, Size};

mod common;
use common::{BATCHES, median_per_iter};

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let sizes = [
        (320, 180, 5_000.0),
        (1280, 720, f64::NAN),
        (1920, 1080, 300.0),
    ];
    println!(
        "engine: update + render per tick, built-in scene, one thread (median of {BATCHES} batches)"
    );
    println!(
        "{:>10} {:>12} {:>12} {:>10} {:>14} {:>10} {:>8}",
        "size", "tick", "ticks/s", "target", "memcpy frame", "tick/copy", "status"
    );
    let mut failed = false;
    for (w, h, target) in sizes {
        let size = Size::new(w, h).expect("valid size");
        let mut engine = Engine::new(Scene::builtin());
        let mut frame = Frame::new(size);
        for _ in 0..60 {
            engine.step();
            engine.render(&mut frame);
        }
        let tick = median_per_iter(Duration::from_millis(200), || {
            engine.step();
            engine.render(&mut frame);
            black_box(frame.pixels()[0]);
        });
        let src = vec![7u8; size.byte_len()];
        let mut dst = vec![0u8; size.byte_len()];
        let copy = median_per_iter(Duration::from_millis(100), || {
            dst.copy_from_slice(black_box(&src));
            black_box(dst[0]);
        });
        let tps = 1.0 / tick.as_secs_f64();
        let ok = target.is_nan() || tps >= target;
        failed |= !ok;
        println!(
            "{:>10} {:>10.1}µs {:>12.0} {:>10} {:>12.1}µs {:>9.1}x {:>8}",
            format!("{w}x{h}"),
            tick.as_secs_f64() * 1e6,
            tps,
            if target.is_nan() {
                "-".to_owned()
            } else {
                format!(">={target}")
            },
            copy.as_secs_f64() * 1e6,
            tick.as_secs_f64() / copy.as_secs_f64(),
            if target.is_nan() {
                ""
            } else if ok {
                "ok"
            } else {
                "MISS"
            },
        );
    }
    if failed {
        println!("note: a target was missed on this run");
    }
}
