//! Frame region costs, each beside a plain `memcpy` of one frame measured
//! in the same run on the same mapping (the physical limit):
//!
//! 1. Per frame, at three sizes: publishing a game's own buffer (one copy
//!    plus checksum); the demo drawing into a private frame vs straight
//!    into a loaned slot and publishing it (the difference is what
//!    publishing costs beyond drawing); the whole frame (update + draw +
//!    publish) the old way and the loaned way; and a reader's copy.
//! 2. The demo engine capped at 240 fps with 0 and 2 reader processes that
//!    wait on the futex and copy every new frame once: the engine's rate,
//!    and the frames the readers missed. Then the same flat out.
//! 3. How long after a publish a sleeping reader wakes (median, p99).
//! 4. What an idle sleeping reader costs in CPU.
//! 5. The whole 1080p frame as a user's engine pays it: the CPU time of an
//!    `advkit run --size 1920x1080 --fps 240` process per frame it
//!    publishes (history on, as by default, and off), beside a process that
//!    fills one cold slot of a 3-slot 1080p ring once per frame at the same
//!    pacing (`memset`: the physical limit of producing a frame there).
//!
//! Readers are separate processes (this binary re-run with
//! `ADVKIT_BENCH_READER` set), as in production: a reader in the writer's
//! own process would wait out each loan (ipc/src/region/own.rs). Run with `cargo bench --bench frame_region`
//! (`ADVKIT_BENCH_ONLY=5` for section 5 alone).
//! The region lives under /dev/shm (tmpfs, as in production).

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use advkit_core::{Engine, Frame, Scene, Size};
use advkit_ipc::system::monotonic_ns;
use advkit_ipc::{FrameReader, FrameWriter, ReadError};

mod common;
use common::{BATCHES, median_paired, median_per_iter};

const SIZES: [(u32, u32); 3] = [(320, 180), (1280, 720), (1920, 1080)];
const READER_ENV: &str = "ADVKIT_BENCH_READER";
const MODE_ENV: &str = "ADVKIT_BENCH_READER_MODE";
const FILL_ENV: &str = "ADVKIT_BENCH_FILL";

fn main() {
    if let Some(secs) = std::env::var_os(FILL_ENV) {
        fill_process(secs.to_str().and_then(|s| s.parse().ok()).unwrap_or(4.0));
        return;
    }
    if let Some(path) = std::env::var_os(READER_ENV) {
        let mode = std::env::var(MODE_ENV).unwrap_or_default();
        reader_process(Path::new(&path), &mode);
        return;
    }
    let tmp = common::shm_tempdir();
    let mut missed = Vec::new();
    // `ADVKIT_BENCH_ONLY=5` runs section 5 alone (any list: `1,5`).
    let only = std::env::var("ADVKIT_BENCH_ONLY").unwrap_or_default();
    let runs = |n: &str| only.is_empty() || only.split(',').any(|o| o.trim() == n);
    if runs("1") {
        per_frame_costs(tmp.path(), &mut missed);
    }
    if runs("2") {
        engine_with_readers(tmp.path(), &mut missed);
    }
    if runs("3") {
        wake_latency(tmp.path(), &mut missed);
    }
    if runs("4") {
        idle_reader(tmp.path(), &mut missed);
    }
    if runs("5") {
        whole_1080p_frame(&mut missed);
    }
    println!();
    if missed.is_empty() {
        println!("every target met on this run");
    } else {
        println!(
            "targets missed on this run (2 noisy cores): {}",
            missed.join("; ")
        );
    }
}

/// Section 1: one frame's costs, medians of batches, ratios to memcpy.
fn per_frame_costs(dir: &Path, missed: &mut Vec<String>) {
    println!("1. one frame, median of {BATCHES} batches; x = ratio to one memcpy of the frame");
    println!(
        "{:>10} {:>9} {:>15} {:>9} {:>9} {:>15} {:>17} {:>17} {:>15}",
        "size",
        "memcpy",
        "publish(copy)",
        "draw",
        "draw→slot",
        "beyond drawing",
        "whole, old way",
        "whole, loaned",
        "read"
    );
    for (w, h) in SIZES {
        let path = dir.join(format!("{w}x{h}.frames"));
        let mut writer = FrameWriter::create(&path, w, h, 60.0).expect("create region");
        let size = Size::new(w, h).expect("size");
        let mut engine = Engine::new(Scene::builtin());
        for _ in 0..60 {
            engine.step();
        }
        let mut frame = Frame::new(size);
        engine.render(&mut frame);
        let pixels = frame.pixels().to_vec();
        writer.publish(0, &pixels).expect("publish");
        let reader = FrameReader::open(&path).expect("open region");
        let mut buf = reader.buffer();
        let t = Duration::from_millis(150);

        let memcpy = median_per_iter(t, || {
            black_box(writer.baseline_memcpy(black_box(&pixels)));
        });
        let mut tick = 0;
        let publish = median_per_iter(t, || {
            tick += 1;
            black_box(writer.publish(tick, black_box(&pixels)).expect("publish"));
        });
        // Drawing into a private frame and into a loaned slot (published),
        // alternately: the difference is what publishing costs.
        let (draw, draw_loaned, beyond) = median_paired(t, |loaned| {
            if loaned {
                tick += 1;
                let mut slot = writer.loan();
                engine.render(&mut slot);
                black_box(slot.publish(tick));
            } else {
                engine.render(&mut frame);
                black_box(frame.pixels()[0]);
            }
        });
        let whole_old = median_per_iter(t, || {
            engine.step();
            engine.render(&mut frame);
            black_box(
                writer
                    .publish(engine.tick(), frame.pixels())
                    .expect("publish"),
            );
        });
        let whole = median_per_iter(t, || {
            engine.step();
            let mut slot = writer.loan();
            engine.render(&mut slot);
            black_box(slot.publish(engine.tick()));
        });
        drop(writer);
        // The reader copies after the writer is gone: a reader in the
        // writer's own process waits out each loan (region/own.rs), which
        // is not what a reader of another process pays.
        let memcpy_out = median_per_iter(t, || {
            black_box(reader.baseline_memcpy(&mut buf));
        });
        let read = median_per_iter(t, || {
            black_box(
                reader
                    .read_frame(reader.latest_frame(), &mut buf)
                    .expect("read"),
            );
        });
        let x = |d: Duration| d.as_secs_f64() / memcpy.as_secs_f64();
        if x(beyond) > 0.3 {
            missed.push(format!(
                "publish beyond drawing at {w}x{h} is {:.2}x",
                x(beyond)
            ));
        }
        if (w, h) == (1920, 1080) && x(whole) > 1.5 {
            missed.push(format!("whole frame at 1080p is {:.2}x", x(whole)));
        }
        println!(
            "{:>10} {:>7.0}µs {:>7.0}µs {:>5.2}x {:>7.0}µs {:>7.0}µs {:>7.0}µs {:>5.2}x {:>7.0}µs {:>7.2}x {:>7.0}µs {:>7.2}x {:>7.0}µs {:>5.2}x",
            format!("{w}x{h}"),
            us(memcpy),
            us(publish),
            x(publish),
            us(draw),
            us(draw_loaned),
            us(beyond),
            x(beyond),
            us(whole_old),
            x(whole_old),
            us(whole),
            x(whole),
            us(read),
            read.as_secs_f64() / memcpy_out.as_secs_f64(),
        );
    }
    println!(
        "   draw = the demo's renderer into a private frame; draw→slot = into a loaned slot, \
         published; beyond drawing = median of their differences, batch by batch; read is x \
         memcpy out"
    );
    println!(
        "   targets: beyond drawing <= 0.3x at every size; whole frame, loaned <= 1.5x at 1920x1080"
    );
}

/// What a reader process reports when the writer has gone.
#[derive(Debug, Default)]
struct ReaderReport {
    copied: u64,
    missed: u64,
    /// Wake-up delays after publishes, in ns (latency mode).
    wakes: Vec<u64>,
    cpu_ns: u64,
}

fn spawn_readers(path: &Path, mode: &str, n: usize) -> Vec<Child> {
    let exe = std::env::current_exe().expect("bench binary");
    (0..n)
        .map(|_| {
            Command::new(&exe)
                .env(READER_ENV, path)
                .env(MODE_ENV, mode)
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn reader")
        })
        .collect()
}

fn collect(children: Vec<Child>) -> Vec<ReaderReport> {
    children
        .into_iter()
        .map(|mut c| {
            let out = c.stdout.take().expect("stdout");
            let mut report = ReaderReport::default();
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let mut words = line.split_whitespace();
                let (Some(key), Some(value)) = (words.next(), words.next()) else {
                    continue;
                };
                let v: u64 = value.parse().unwrap_or(0);
                match key {
                    "copied" => report.copied = v,
                    "missed" => report.missed = v,
                    "wake" => report.wakes.push(v),
                    "cpu_ns" => report.cpu_ns = v,
                    _ => {}
                }
            }
            c.wait().expect("reader exit");
            report
        })
        .collect()
}

/// Waits until `n` readers are asleep on the region's futex.
fn wait_for_sleepers(path: &Path, n: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while waiters(path) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn waiters(path: &Path) -> u32 {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes
        .get(76..80)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Runs the demo at `cap` fps (0: flat out) for `run`, drawing into the
/// loaned slot; returns frames per second.
fn run_engine(writer: &mut FrameWriter, engine: &mut Engine, cap: u32, run: Duration) -> f64 {
    let period = (cap > 0).then(|| Duration::from_secs(1) / cap);
    let start = Instant::now();
    let mut frames = 0u32;
    while start.elapsed() < run {
        engine.step();
        let mut slot = writer.loan();
        engine.render(&mut slot);
        slot.publish(engine.tick());
        frames += 1;
        if let Some(p) = period
            && let Some(wait) = (start + p * frames).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
    }
    f64::from(frames) / start.elapsed().as_secs_f64()
}

/// Section 2: the engine's rate with readers waiting and copying.
fn engine_with_readers(dir: &Path, missed: &mut Vec<String>) {
    println!();
    println!(
        "2. the demo engine (update + draw into the slot + publish) with reader processes that \
         wait on the futex and copy every new frame once; 2 s per run"
    );
    println!(
        "{:>10} {:>6} {:>11} {:>11} {:>7} {:>13} {:>14}",
        "size", "cap", "0 readers", "2 readers", "ratio", "copies/s (2)", "frames missed"
    );
    for (w, h) in SIZES {
        for cap in [240, 0] {
            let path: PathBuf = dir.join(format!("rate-{w}x{h}-{cap}.frames"));
            let mut writer = FrameWriter::create(&path, w, h, 240.0).expect("create region");
            let mut engine = Engine::new(Scene::builtin());
            let run = Duration::from_secs(2);
            let alone = run_engine(&mut writer, &mut engine, cap, run);
            let children = spawn_readers(&path, "copy", 2);
            wait_for_sleepers(&path, 2);
            let shared = run_engine(&mut writer, &mut engine, cap, run);
            drop(writer);
            let reports = collect(children);
            let copies: u64 = reports.iter().map(|r| r.copied).sum();
            let lost: u64 = reports.iter().map(|r| r.missed).sum();
            let ratio = shared / alone;
            if cap > 0 && ratio < 0.95 {
                missed.push(format!(
                    "{w}x{h} at 240 fps keeps {ratio:.2}x with 2 readers"
                ));
            }
            if cap > 0 && (w, h) == (1280, 720) && lost > 0 {
                missed.push(format!("readers missed {lost} frames at 1280x720, 240 fps"));
            }
            println!(
                "{:>10} {:>6} {:>9.1}/s {:>9.1}/s {:>6.2}x {:>13.0} {:>14}",
                format!("{w}x{h}"),
                if cap > 0 {
                    cap.to_string()
                } else {
                    "none".into()
                },
                alone,
                shared,
                ratio,
                copies as f64 / run.as_secs_f64(),
                lost,
            );
        }
    }
    println!(
        "   targets: at the 240 fps cap >= 0.95x with 2 readers at every size; no frame missed \
         at 1280x720. Uncapped (no target), writer and readers share the 2 cores."
    );
}

/// Section 3: publish-to-wake delay of one sleeping reader.
fn wake_latency(dir: &Path, missed: &mut Vec<String>) {
    println!();
    let path = dir.join("latency.frames");
    let (w, h) = (320, 180);
    let mut writer = FrameWriter::create(&path, w, h, 100.0).expect("create region");
    let pixels = vec![0x40u8; w as usize * h as usize * 4];
    writer.publish(0, &pixels).expect("publish");
    let children = spawn_readers(&path, "latency", 1);
    wait_for_sleepers(&path, 1);
    // 100 publishes a second for 3 s, each after the reader has gone back
    // to sleep, so every wake-up is from the futex.
    for n in 0..300 {
        std::thread::sleep(Duration::from_millis(10));
        writer.publish(n, &pixels).expect("publish");
    }
    drop(writer);
    let mut wakes: Vec<u64> = collect(children)
        .into_iter()
        .flat_map(|r| r.wakes)
        .collect();
    wakes.sort_unstable();
    if wakes.is_empty() {
        println!("3. wake-up: the reader reported nothing");
        missed.push("no wake-up measured".into());
        return;
    }
    let at = |q: f64| wakes[((wakes.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    let (p50, p99) = (at(0.5), at(0.99));
    if p50 > 50.0 || p99 > 1000.0 {
        missed.push(format!("wake-up p50 {p50:.0} µs, p99 {p99:.0} µs"));
    }
    println!(
        "3. a sleeping reader wakes after a publish: median {p50:.1} µs, p99 {p99:.1} µs, \
         max {:.1} µs over {} frames (targets: median <= 50 µs, p99 <= 1 ms)",
        wakes[wakes.len() - 1] as f64 / 1000.0,
        wakes.len()
    );
}

/// Section 4: CPU of a reader asleep on a region whose engine is paused.
fn idle_reader(dir: &Path, missed: &mut Vec<String>) {
    let path = dir.join("idle.frames");
    let mut writer = FrameWriter::create(&path, 320, 180, 60.0).expect("create region");
    writer.publish(0, &[0; 320 * 180 * 4]).expect("publish");
    let children = spawn_readers(&path, "idle", 1);
    wait_for_sleepers(&path, 1);
    // Paused: no frames, only the heartbeat, as the host keeps it.
    let run = Duration::from_secs(5);
    let start = Instant::now();
    while start.elapsed() < run {
        writer.heartbeat();
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(writer);
    let report = collect(children).pop().unwrap_or_default();
    let cpu = report.cpu_ns as f64 / 1e9 / run.as_secs_f64() * 100.0;
    if cpu >= 0.1 {
        missed.push(format!("an idle waiting reader used {cpu:.3} % CPU"));
    }
    println!(
        "4. an idle reader waiting on a paused engine for {} s used {cpu:.4} % of a core \
         ({:.2} ms of CPU; target < 0.1 %)",
        run.as_secs(),
        report.cpu_ns as f64 / 1e6
    );
}

/// A reader process: waits for frames on the futex until the writer has
/// gone, then prints what it saw.
fn reader_process(path: &Path, mode: &str) {
    let reader = FrameReader::open(path).expect("open region");
    assert!(reader.can_sleep(), "the bench reader can wait on the futex");
    let mut buf = reader.buffer();
    let mut last = reader.latest_frame();
    let (mut copied, mut missed) = (0u64, 0u64);
    let cpu_at_start = own_cpu_ns();
    loop {
        let latest = match reader.wait_next(last, Duration::from_secs(30)) {
            Ok(n) => n,
            Err(ReadError::WriterGone { .. } | ReadError::Timeout { .. }) => break,
            Err(e) => panic!("{e}"),
        };
        match mode {
            "latency" => {
                let woke = monotonic_ns();
                if let Some(info) = reader.peek(latest) {
                    println!("wake {}", woke.saturating_sub(info.published_ns));
                }
            }
            "copy" => {
                // Every frame since the last one, while the ring holds it.
                for n in last + 1..=latest {
                    match reader.read_frame(n, &mut buf) {
                        Ok(Some(_)) => copied += 1,
                        _ => missed += 1,
                    }
                }
            }
            _ => {}
        }
        last = latest;
    }
    println!("copied {copied}");
    println!("missed {missed}");
    println!("cpu_ns {}", own_cpu_ns().saturating_sub(cpu_at_start));
}

/// Nanoseconds this (single-threaded) process has run on a CPU: the first
/// field of `/proc/self/schedstat`, finer than the 10 ms clock ticks of
/// `/proc/self/stat`.
fn own_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

const FPS_CAP: f64 = 240.0;

/// Section 5: CPU per frame of a real 1080p engine at its 240 fps cap,
/// beside a cold-slot fill at the same pacing; medians of alternating runs.
fn whole_1080p_frame(missed: &mut Vec<String>) {
    const RUNS: usize = 3;
    let run = Duration::from_secs(4);
    let (mut fill, mut on, mut off) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        fill.push(fill_cost(run));
        on.push(engine_cost(&[], run));
        off.push(engine_cost(&["--history", "0"], run));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (fill, on, off) = (median(&mut fill), median(&mut on), median(&mut off));
    println!(
        "5. the whole 1920x1080 frame at a {FPS_CAP} fps cap: CPU per published frame, median of \
         {RUNS} runs of {} s",
        run.as_secs()
    );
    println!("   cold-slot fill (memset of one slot of a 3-slot ring): {fill:.0} µs");
    println!(
        "   advkit run, history on (default): {on:.0} µs = {:.2}x the fill",
        on / fill
    );
    println!(
        "   advkit run --history 0:           {off:.0} µs = {:.2}x the fill",
        off / fill
    );
    println!("   target: <= 1.5x the fill");
    for (what, cost) in [("history on", on), ("history off", off)] {
        if cost / fill > 1.5 {
            missed.push(format!(
                "1080p engine ({what}) is {:.2}x the fill",
                cost / fill
            ));
        }
    }
}

/// µs of CPU per frame of an `advkit run` at 1080p, over `run`.
fn engine_cost(args: &[&str], run: Duration) -> f64 {
    let xdg = tempfile::tempdir().expect("runtime dir");
    let size = ["--size", "1920x1080", "--fps", "240"];
    let all: Vec<&str> = size.iter().chain(args).copied().collect();
    let engine = common::engine::start_engine(xdg.path(), "big", &all);
    let reader = FrameReader::open(&xdg.path().join("advkit/big.frames")).expect("open");
    // Warm up: the first frames fault the slots in.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) || reader.latest_frame() < 60 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = engine.child.id();
    let (cpu0, frames0) = (process_cpu_ns(pid), reader.latest_frame());
    std::thread::sleep(run);
    let (cpu1, frames1) = (process_cpu_ns(pid), reader.latest_frame());
    (cpu1 - cpu0) as f64 / 1e3 / (frames1 - frames0).max(1) as f64
}

/// Nanoseconds every thread of process `pid` has run on a CPU.
fn process_cpu_ns(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// µs of CPU per fill in a process filling one cold 1080p slot a frame.
fn fill_cost(run: Duration) -> f64 {
    let out = Command::new(std::env::current_exe().expect("this bench"))
        .env(FILL_ENV, run.as_secs_f64().to_string())
        .output()
        .expect("run the fill process");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> f64 {
        text.split_whitespace()
            .skip_while(|w| *w != name)
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("the fill process said {text:?}"))
    };
    field("cpu_ns") / 1e3 / field("frames").max(1.0)
}

/// The fill process: a 3-slot ring of 1080p RGBA slots; each frame fills
/// the slot two frames older (so it is cold) and sleeps to the next 1/240 s.
fn fill_process(secs: f64) {
    let slot = 1920 * 1080 * 4;
    let mut ring = vec![0u8; 3 * slot];
    let frame = Duration::from_secs_f64(1.0 / FPS_CAP);
    let fill = |ring: &mut [u8], n: usize| {
        ring[(n % 3) * slot..][..slot].fill(n as u8);
        black_box(&ring[(n % 3) * slot]);
    };
    // Warm up for a second, as the engine is.
    let mut n = 0;
    let mut next = Instant::now();
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(1) {
        fill(&mut ring, n);
        n += 1;
        next += frame;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let (cpu0, frames0) = (own_cpu_ns(), n);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < end {
        fill(&mut ring, n);
        n += 1;
        next += frame;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    println!("frames {} cpu_ns {}", n - frames0, own_cpu_ns() - cpu0);
}
