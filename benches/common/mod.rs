//! Timing shared by the benchmarks: medians of batches, because the
//! machine is small and noisy.

use std::time::{Duration, Instant};

#[allow(dead_code)] // only the benchmarks that drive a live engine use it
pub mod engine;

pub const BATCHES: usize = 15;

/// Median time per iteration of `f`, over batches of about `target` each.
#[allow(dead_code)] // the benchmarks that drive a live engine time it their own way
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

/// Medians per iteration of `f(false)` and `f(true)` (two ways of doing
/// one job), and the median of their differences, from batches run
/// alternately: a small cost on top of a large one is measured as a
/// difference within one pair of batches, so drift on a noisy machine
/// cancels out.
#[allow(dead_code)] // not every benchmark compares two paths
pub fn median_paired(target: Duration, mut f: impl FnMut(bool)) -> (Duration, Duration, Duration) {
    let mut n = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f(false);
        }
        if t.elapsed() >= target / 4 || n >= 1 << 20 {
            break;
        }
        n *= 2;
    }
    let mut time = |b: bool| {
        let t = Instant::now();
        for _ in 0..n {
            f(b);
        }
        t.elapsed() / n
    };
    let mut pairs: Vec<(Duration, Duration)> = (0..BATCHES * 2 + 1)
        .map(|_| (time(false), time(true)))
        .collect();
    let mut diffs: Vec<Duration> = pairs.iter().map(|(a, b)| b.saturating_sub(*a)).collect();
    diffs.sort();
    pairs.sort_by_key(|p| p.0);
    let a = pairs[pairs.len() / 2].0;
    pairs.sort_by_key(|p| p.1);
    let b = pairs[pairs.len() / 2].1;
    (a, b, diffs[diffs.len() / 2])
}

/// A temporary directory in memory (/dev/shm, else /tmp), as a frame
/// region's runtime directory is.
#[allow(dead_code)] // only the benchmarks that make a frame region use it
pub fn shm_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("advkit-bench-")
        .tempdir_in(if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        })
        .expect("temporary directory")
}
