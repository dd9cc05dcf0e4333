//! Timing shared by the benchmarks: medians of batches, because the
//! machine is small and noisy.

use std::time::{Duration, Instant};

pub const BATCHES: usize = 15;

/// Median time per iteration of `f`, over batches of about `target` each.
pub fn median_per_iter(target: Duration, mut f: impl FnMut()) -> Duration {
    // Calibrate the batch size.
    let mut n = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed() >= target / 4 || n >= 1 << 20 {
            break;
        }
        n *= 2;
    }
    let mut samples: Vec<Duration> = (0..BATCHES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed() / n
        })
        .collect();
    samples.sort();
    samples[BATCHES / 2]
}
