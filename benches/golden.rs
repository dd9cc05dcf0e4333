//! Golden comparison costs beside a memcpy of the same frame, and the time
//! to check all of fixtures/scenarios. `cargo bench --bench golden`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use advkit::golden::{Options, check_scenario, find_scenarios};
use advkit_core::{Compression, Engine, Frame, Scene, Size, encode_png};
use advkit_golden::{Tolerance, compare};

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
        black_box(compare(
            &expected,
            black_box(&same),
            Tolerance::default(),
            &[],
        ));
    });
    let exact_diff = median_per_iter(Duration::from_millis(200), || {
        black_box(compare(
            &expected,
            black_box(&noisy),
            Tolerance::default(),
            &[],
        ));
    });
    let tolerant = median_per_iter(Duration::from_millis(200), || {
        black_box(compare(
            &expected,
            black_box(&noisy),
            Tolerance {
                max_diff: 2,
                max_pixels: 100,
                ..Tolerance::default()
            },
            &[],
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
    // Scenarios that start a game of their own need it built (tests build
    // the examples; benches in release do not).
    let files: Vec<_> = find_scenarios(&[root.join("fixtures/scenarios")])
        .expect("scenarios")
        .into_iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap_or_default()
                .contains("\"engine\"")
        })
        .collect();
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
        "checking the built-in scenarios of fixtures/scenarios ({} scenarios, in parallel): {:.0} ms (median of 5)",
        files.len(),
        times[2].as_secs_f64() * 1e3
    );
    check_many();
    replay_speed();
    record_overhead();
}

/// `advkit golden check` on 200 scenarios (copies of the built-in ones
/// that replay in-process, with their goldens), one at a time and one per
/// core: the wall time, and how much the cores shorten it.
fn check_many() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let (scenarios, golden) = (dir.path().join("scenarios"), dir.path().join("golden"));
    std::fs::create_dir_all(&scenarios).expect("mkdir");
    let sources: Vec<_> = find_scenarios(&[root.join("fixtures/scenarios")])
        .expect("scenarios")
        .into_iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.contains("\"engine\"")
        })
        .collect();
    for i in 0..200 {
        let src = &sources[i % sources.len()];
        let stem = src.file_stem().and_then(|s| s.to_str()).expect("stem");
        let name = format!("{stem}-{i:03}");
        std::fs::copy(src, scenarios.join(format!("{name}.json"))).expect("copy");
        let from = root.join("fixtures/golden").join(stem);
        let to = golden.join(&name);
        std::fs::create_dir_all(&to).expect("mkdir");
        for entry in std::fs::read_dir(&from).expect("goldens") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let time = |jobs: usize| {
        let mut times: Vec<Duration> = (0..3)
            .map(|_| {
                let t = Instant::now();
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_advkit"))
                    .args(["golden", "check"])
                    .arg(&scenarios)
                    .arg("--golden-dir")
                    .arg(&golden)
                    .arg("--artifacts")
                    .arg(dir.path().join("out"))
                    .args(["--jobs", &jobs.to_string()])
                    .output()
                    .expect("advkit golden check");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stdout)
                );
                t.elapsed()
            })
            .collect();
        times.sort();
        times[1]
    };
    let one = time(1);
    let all = time(cores);
    println!();
    println!(
        "advkit golden check on 200 scenarios ({} kinds, in-process), median of 3",
        sources.len()
    );
    println!("{:>34} {:>9.2} s (baseline)", "--jobs 1", one.as_secs_f64());
    println!(
        "{:>34} {:>9.2} s ({:.2}x faster)",
        format!("--jobs {cores} (one per core)"),
        all.as_secs_f64(),
        one.as_secs_f64() / all.as_secs_f64()
    );
}

/// A 1,000-tick session (an input every 25 ticks, a param change) replayed
/// in-process and through the protocol (a paused `advkit run`).
fn replay_speed() {
    use advkit::replay::{self, Launch};
    use advkit_golden::{Capture, Injected, Scenario};
    let mut requests = Vec::new();
    for (i, t) in (10..1000).step_by(25).enumerate() {
        let button = ["right", "down", "left", "up"][i % 4];
        requests.push(Injected {
            tick: t,
            method: "engine.input".into(),
            params: serde_json::json!({"button": button, "action": "tap"}),
        });
    }
    requests.push(Injected {
        tick: 500,
        method: "params.set".into(),
        params: serde_json::json!({"values": {"walk_speed": 2.0}}),
    });
    let scenario = Scenario {
        description: String::new(),
        engine: None,
        scene: None,
        seed: Some(3),
        size: None,
        params: Default::default(),
        start_tick: 0,
        state: None,
        inputs: Vec::new(),
        reboots: Vec::new(),
        requests,
        tolerance: Tolerance::default(),
        mask: Vec::new(),
        record_hashes: true,
        check_world: false,
        keep_frames: None,
        captures: vec![Capture {
            name: "end".into(),
            tick: 1000,
            size: None,
            tolerance: None,
            mask: Vec::new(),
            xfail: None,
        }],
    };
    let scene = Scene::builtin();
    let launch = Launch::builtin(Path::new(env!("CARGO_BIN_EXE_advkit")), None, Size::DEFAULT);
    let mut inproc = Vec::new();
    let mut proto = Vec::new();
    let mut same = true;
    for _ in 0..5 {
        let t = Instant::now();
        // With the world states, as `golden check` replays a recording.
        let a = advkit::golden::run_scenario(&scenario, &scene, None, true, |_, _, _| {})
            .expect("in-process");
        inproc.push(t.elapsed());
        let t = Instant::now();
        let b = replay::run(&scenario, &launch, true, |_, _, _| {}).expect("protocol");
        proto.push(t.elapsed());
        same &= a.hashes == b.hashes && a.states == b.states;
    }
    inproc.sort();
    proto.sort();
    let rate = |d: Duration| 1000.0 / d.as_secs_f64();
    println!();
    println!("replaying a 1,000-tick session, 320x180, hashing every frame (median of 5)");
    println!(
        "{:>34} {:>9.0} ticks/s (baseline)",
        "in-process",
        rate(inproc[2])
    );
    println!(
        "{:>34} {:>9.0} ticks/s {:>6.3}x in-process (includes starting the engine: {:.0} ms in all); identical hashes: {same}",
        "through the protocol",
        rate(proto[2]),
        inproc[2].as_secs_f64() / proto[2].as_secs_f64(),
        proto[2].as_secs_f64() * 1e3
    );
}

/// Frames a live `advkit run --fps 240` publishes in 3 s, alone and with
/// `advkit record` attached (target: >= 0.95x).
fn record_overhead() {
    use std::process::{Command, Stdio};
    let exe = env!("CARGO_BIN_EXE_advkit");
    let dir = std::env::temp_dir().join(format!("advkit-bench-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut engine = Command::new(exe)
        .args(["run", "--name", "bench", "--fps", "240"])
        .env("XDG_RUNTIME_DIR", &dir)
        .stderr(Stdio::null())
        .spawn()
        .expect("advkit run");
    std::thread::sleep(Duration::from_millis(800));
    let tick = || -> u64 {
        let out = Command::new(exe)
            .args(["send", "--name", "bench", "--json", "stats"])
            .env("XDG_RUNTIME_DIR", &dir)
            .output()
            .expect("send stats");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["tick"].as_u64().unwrap_or(0)
    };
    let rate = || {
        let (t0, a) = (Instant::now(), tick());
        std::thread::sleep(Duration::from_secs(3));
        (tick() - a) as f64 / t0.elapsed().as_secs_f64()
    };
    let mut alone = Vec::new();
    let mut recording = Vec::new();
    for _ in 0..3 {
        alone.push(rate());
        let mut rec = Command::new(exe)
            .args(["record", "--name", "bench", "--yes", "--no-verify", "--out"])
            .arg(dir.join("s.json"))
            .arg("--golden-dir")
            .arg(dir.join("golden"))
            .env("XDG_RUNTIME_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("advkit record");
        std::thread::sleep(Duration::from_millis(300));
        recording.push(rate());
        let _ = Command::new("kill")
            .args(["-INT", &rec.id().to_string()])
            .status();
        let _ = rec.wait();
    }
    let _ = engine.kill();
    let _ = engine.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, r) = (median(&mut alone), median(&mut recording));
    println!();
    println!("live engine at --fps 240, ticks per second over 3 s (median of 3)");
    println!("{:>34} {a:>9.1} ticks/s (baseline)", "not recorded");
    println!(
        "{:>34} {r:>9.1} ticks/s {:>6.3}x (target >= 0.95x: {})",
        "with advkit record attached",
        r / a,
        if r / a >= 0.95 { "ok" } else { "MISS" }
    );
}
