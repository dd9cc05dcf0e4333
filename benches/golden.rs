//! Golden comparison costs beside a memcpy of the same frame, and the time
//! to check all of fixtures/scenarios. `cargo bench --bench golden`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use advkit::golden::{Options, check_scenario, find_scenarios};
use advkit_core::golden::{Tolerance, compare};
use advkit_core::{Compression, Engine, Frame, Scene, Size, encode_png};

mod common;
use common::{BATCHES, median_per_iter};

fn main() {
    let size = Size::new(1920, 1080).expect("size");
    let mut engine = Engine::new(Scene::builtin());
    let mut expected = Frame::new(size);
    engine.run(60, &advkit_core::Timeline::default());
    engine.render(&mut expected);
    // A near miss: every 97th pixel off by one in red.
    let mut noisy = expected.clone();
    for px in noisy.pixels_mut().chunks_exact_mut(4).step_by(97) {
        px[0] = px[0].wrapping_add(1);
    }
    let same = expected.clone();
    let mut dst = vec![0u8; size.byte_len()];

    let memcpy = median_per_iter(Duration::from_millis(200), || {
        dst.copy_from_slice(black_box(expected.pixels()));
        black_box(dst[0]);
    });
    let exact_same = median_per_iter(Duration::from_millis(200), || {
        black_box(compare(&expected, black_box(&same), Tolerance::default()));
    });
    let exact_diff = median_per_iter(Duration::from_millis(200), || {
        black_box(compare(&expected, black_box(&noisy), Tolerance::default()));
    });
    let tolerant = median_per_iter(Duration::from_millis(200), || {
        black_box(compare(
            &expected,
            black_box(&noisy),
            Tolerance {
                max_diff: 2,
                max_pixels: 100,
            },
        ));
    });
    let png_fast = median_per_iter(Duration::from_millis(300), || {
        black_box(encode_png(&noisy, Compression::Fast).expect("encode"));
    });
    println!("golden compare, 1920x1080 RGBA (median of {BATCHES} batches)");
    let row = |name: &str, d: Duration, target: Option<f64>| {
        let ms = d.as_secs_f64() * 1e3;
        println!(
            "{name:>34} {ms:>8.3} ms {:>7.2}x memcpy {}",
            d.as_secs_f64() / memcpy.as_secs_f64(),
            target.map_or(String::new(), |t| format!(
                "(target <= {t} ms: {})",
                if ms <= t { "ok" } else { "MISS" }
            ))
        );
    };
    row("memcpy (baseline)", memcpy, None);
    row("exact, identical frames", exact_same, Some(1.0));
    row("exact, frames differ", exact_diff, Some(1.0));
    row("tolerance max_diff 2, differ", tolerant, Some(3.0));
    row("PNG encode, fast (artifacts)", png_fast, None);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = find_scenarios(&[root.join("fixtures/scenarios")]).expect("scenarios");
    let opts = Options {
        ci: true,
        ..Options::new(root)
    };
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            std::thread::scope(|s| {
                let handles: Vec<_> = files
                    .iter()
                    .map(|f| s.spawn(|| check_scenario(f, &opts)))
                    .collect();
                for h in handles {
                    let r = h.join().expect("scenario thread");
                    assert!(!r.failed(), "{}", r.lines().join("\n"));
                }
            });
            t.elapsed()
        })
        .collect();
    times.sort();
    println!();
    println!(
        "checking all of fixtures/scenarios ({} scenarios, in parallel): {:.0} ms (median of 5)",
        files.len(),
        times[2].as_secs_f64() * 1e3
    );
}
