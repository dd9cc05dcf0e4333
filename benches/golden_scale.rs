//! `advkit golden check` at CI scale, each figure beside a baseline from
//! the same run. `cargo bench --bench golden_scale`
//! (`ADVKIT_BENCH_SCENARIOS=N` for another count than 10,000).
//!
//! 1. N generated scenarios (1 % of them failing), checked in one run and
//!    in 4 shards merged: the verdicts must be the same.
//! 2. In-process overhead per scenario: the whole check's time less the
//!    time to simulate the same ticks and draw the same captures
//!    (`run_scenario`, the baseline), per scenario.
//! 3. `--protocol` per scenario (a paused `advkit run` started, stepped
//!    and read per scenario), beside the in-process check of the same ones.
//! 4. Flakiness: 1,000 scenarios through `--protocol` run 3 times while a
//!    busy loop holds the other core: every run must pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use advkit::golden::{find_scenarios, run_scenario};
use advkit_core::Scene;
use advkit_golden::Scenario;
use serde_json::Value as Json;

fn main() {
    let n: usize = std::env::var("ADVKIT_BENCH_SCENARIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).expect("mkdir");
    generate(&scenarios, n, 0);
    let golden = dir.path().join("golden");
    let check = |extra: &[&str], artifacts: &str| -> (Json, Duration) {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_advkit"))
            .args(["golden", "check"])
            .arg(&scenarios)
            .arg("--golden-dir")
            .arg(&golden)
            .arg("--artifacts")
            .arg(dir.path().join(artifacts))
            .arg("--json")
            .args(extra)
            .output()
            .expect("advkit golden check");
        let took = t.elapsed();
        let doc = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
        (doc, took)
    };
    // Bless, then break 1 %: another seed draws another picture.
    check(&["--update"], "bless");
    generate(&scenarios, n, n.div_ceil(100));

    // 1. One run, then four shards merged.
    let (whole, whole_took) = check(&[], "whole");
    let mut shard_took = Duration::ZERO;
    for k in 1..=4 {
        let (_, took) = check(&["--shard", &format!("{k}/4")], &format!("shard-{k}"));
        shard_took += took;
    }
    let merged = Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["golden", "merge"])
        .args((1..=4).map(|k| dir.path().join(format!("shard-{k}"))))
        .arg("--out")
        .arg(dir.path().join("merged"))
        .arg("--json")
        .output()
        .expect("advkit golden merge");
    let merged: Json = serde_json::from_slice(&merged.stdout).expect("merged JSON");
    let (a, b) = (verdicts(&whole), verdicts(&merged));
    let failed = a.values().filter(|v| v.as_str() != "pass").count();
    println!(
        "1. {n} scenarios ({failed} failing: 1 % got another seed), one run and 4 shards merged"
    );
    println!(
        "{:>40} {:>8.1} s (baseline)",
        "one run",
        whole_took.as_secs_f64()
    );
    println!(
        "{:>40} {:>8.1} s ({:.2}x one run; on 4 machines about a quarter of that each)",
        "4 shards one after another, then merged",
        shard_took.as_secs_f64(),
        shard_took.as_secs_f64() / whole_took.as_secs_f64()
    );
    println!(
        "{:>40} {} (target: the same)",
        "verdicts the same",
        if a == b && a.len() == n { "yes" } else { "NO" }
    );

    // 2. In-process overhead beyond simulating the ticks, one job.
    let sample: Vec<PathBuf> = find_scenarios(std::slice::from_ref(&scenarios))
        .expect("scenarios")
        .into_iter()
        .take(500)
        .collect();
    let sample_dir = dir.path().join("sample");
    std::fs::create_dir_all(&sample_dir).expect("mkdir");
    for f in &sample {
        std::fs::copy(f, sample_dir.join(f.file_name().expect("name"))).expect("copy");
    }
    let scene = Scene::builtin();
    let simulate = || {
        let t = Instant::now();
        for f in &sample {
            let text = std::fs::read_to_string(f).expect("scenario");
            let s = Scenario::parse("bench", &text).expect("parse");
            run_scenario(&s, &scene, None, s.record_hashes, |_, _, _| {}).expect("run");
        }
        t.elapsed()
    };
    let sample_check = |extra: &[&str]| {
        let t = Instant::now();
        Command::new(env!("CARGO_BIN_EXE_advkit"))
            .args(["golden", "check"])
            .arg(&sample_dir)
            .arg("--golden-dir")
            .arg(&golden)
            .arg("--artifacts")
            .arg(dir.path().join("sample-out"))
            .args(["--jobs", "1"])
            .args(extra)
            .output()
            .expect("check");
        t.elapsed()
    };
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let sim = median((0..3).map(|_| simulate()).collect());
    let inproc = median((0..3).map(|_| sample_check(&[])).collect());
    let per = |d: Duration| d.as_secs_f64() * 1e3 / sample.len() as f64;
    println!(
        "2. in-process, {} scenarios, one job, median of 3",
        sample.len()
    );
    println!(
        "{:>40} {:>8.2} ms a scenario (baseline)",
        "simulating the ticks and captures",
        per(sim)
    );
    println!(
        "{:>40} {:>8.2} ms a scenario: {:.2} ms beyond simulating (target <= 5 ms)",
        "golden check",
        per(inproc),
        per(inproc) - per(sim)
    );

    // 3. Through the protocol.
    let few: Vec<&PathBuf> = sample.iter().take(100).collect();
    let few_dir = dir.path().join("few");
    std::fs::create_dir_all(&few_dir).expect("mkdir");
    for f in &few {
        std::fs::copy(f, few_dir.join(f.file_name().expect("name"))).expect("copy");
    }
    let few_check = |artifacts: &str| {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_advkit"))
            .args(["golden", "check", "--protocol", "--jobs", "1", "--json"])
            .arg(&few_dir)
            .arg("--golden-dir")
            .arg(&golden)
            .arg("--artifacts")
            .arg(dir.path().join(artifacts))
            .output()
            .expect("check");
        let doc: Json = serde_json::from_slice(&out.stdout).expect("json");
        (t.elapsed(), doc)
    };
    let (proto, _) = few_check("proto");
    println!(
        "3. --protocol, {} scenarios, one job: {:.1} ms a scenario ({:.1}x in-process; target <= 30 ms)",
        few.len(),
        proto.as_secs_f64() * 1e3 / few.len() as f64,
        proto.as_secs_f64() / few.len() as f64 / (inproc.as_secs_f64() / sample.len() as f64)
    );

    // 4. Flaky failures under load: the other core busy.
    let busy = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let spinner = {
        let busy = busy.clone();
        std::thread::spawn(move || {
            let mut x = 0u64;
            while busy.load(std::sync::atomic::Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        })
    };
    // 1,000 scenarios (fewer when fewer were generated).
    let all_files = find_scenarios(std::slice::from_ref(&scenarios)).expect("scenarios");
    let few_twice: Vec<&PathBuf> = all_files.iter().take(1000).collect();
    for f in few_twice.iter().skip(few.len()) {
        std::fs::copy(f, few_dir.join(f.file_name().expect("name"))).expect("copy");
    }
    let mut flaky = 0;
    for run in 0..3 {
        let (_, doc) = few_check(&format!("flaky-{run}"));
        flaky += verdicts(&doc)
            .values()
            .filter(|v| v.as_str() != "pass" && v.as_str() != "fail")
            .count();
        // A failing scenario must fail every time, a passing one pass.
        flaky += verdicts(&doc)
            .iter()
            .filter(|(name, v)| a.get(*name) != Some(*v))
            .count();
    }
    busy.store(false, std::sync::atomic::Ordering::Relaxed);
    spinner.join().expect("spinner");
    println!(
        "4. {} scenarios through --protocol, 3 runs, the other core busy: {flaky} flaky verdict(s) (target 0)",
        few_twice.len()
    );
}

/// Each scenario's verdict in a `--json` document.
fn verdicts(doc: &Json) -> BTreeMap<String, String> {
    doc["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s["name"].as_str()?.to_owned(),
                s["verdict"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Writes `n` small scenarios of the built-in demo (seeds, walks, a
/// capture at tick 3, every tenth with `record_hashes`); the first
/// `changed` get another seed than they were blessed with.
fn generate(dir: &Path, n: usize, changed: usize) {
    for i in 0..n {
        let seed = if i < changed { i + 100_000 } else { i };
        let hashes = i % 10 == 0;
        let text = format!(
            r#"{{"seed": {seed}, "params": {{"autopilot": false}}, "inputs": [{{"tick": 1, "button": "right", "hold": 2}}], "record_hashes": {hashes}, "captures": [{{"name": "a", "tick": 3}}]}}"#
        );
        std::fs::write(dir.join(format!("s{i:05}.json")), text).expect("write");
    }
}
