//! The project's golden frames as `cargo test` cases: every scenario in
//! fixtures/scenarios is its own test (libtest-mimic), checked by the same
//! code as `advkit golden check`, with the same messages and artifacts.
//! `cargo nextest run --test golden --partition count:1/2` splits them
//! like any tests; `ADVKIT_GOLDEN_UPDATE=1` blesses as `--update` does.
//!
//! Each built-in scenario is also replayed through the protocol (a paused
//! `advkit run` stepped tick by tick), `golden::protocol::<scenario>`,
//! which must give the same frame hash at every tick as the in-process run.

use std::path::{Path, PathBuf};

use advkit::golden::{Options, check_scenario, find_scenarios};
use advkit::replay::{self, Launch};
use advkit_golden::Scenario;
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenarios = find_scenarios(&[root.join("fixtures/scenarios")]).unwrap_or_else(|e| {
        eprintln!("cannot list fixtures/scenarios: {e}");
        std::process::exit(2)
    });
    let mut trials = Vec::new();
    for path in scenarios {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario")
            .to_owned();
        let root = root.to_owned();
        let file = path.clone();
        trials.push(Trial::test(format!("golden::{name}"), move || {
            let result = check_scenario(&file, &Options::new(&root));
            let text = result.lines().join("\n");
            if result.error.is_some() {
                return Err(Failed::from(text));
            }
            if result.failed() || result.pending() > 0 {
                return Err(Failed::from(format!(
                    "{text}\n(if the change is intended, re-bless with `cargo run -- golden check --update` \
                     or `{}=1 cargo test --test golden`)",
                    advkit::golden::UPDATE_ENV
                )));
            }
            Ok(())
        }));
        trials.push(Trial::test(
            format!("golden::protocol::{name}"),
            move || both_paths_agree(&path),
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn read(path: &Path) -> Result<Scenario, Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| Failed::from(e.to_string()))?;
    Scenario::parse(&path.display().to_string(), &text).map_err(|e| Failed::from(e.to_string()))
}

/// The in-process run and the replay through a paused `advkit run` give
/// the same frame hash at every tick. Scenarios with an engine of their own
/// have only the protocol path; captures of another size than the engine
/// draws are left out (one engine draws one size).
fn both_paths_agree(path: &Path) -> Result<(), Failed> {
    let mut scenario = read(path)?;
    if scenario.engine.is_some() {
        return Ok(());
    }
    let size = scenario.size().map_err(Failed::from)?;
    let own_size = scenario.clone();
    scenario
        .captures
        .retain(|c| own_size.capture_size(c).ok() == Some(size));
    if scenario.captures.is_empty() {
        return Ok(());
    }
    scenario.record_hashes = true;
    let base = path.parent().unwrap_or(Path::new("."));
    let scene_path: Option<PathBuf> = scenario.scene.as_ref().map(|s| base.join(s));
    let scene = advkit::golden::scene_for(&scenario, base).map_err(Failed::from)?;
    let in_process = advkit::golden::run_scenario(&scenario, &scene, None, true, |_, _, _| {})
        .map_err(Failed::from)?;
    let abs = scene_path.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    let launch = Launch::builtin(
        Path::new(env!("CARGO_BIN_EXE_advkit")),
        abs.as_deref(),
        size,
    );
    let ran = replay::run(&scenario, &launch, true, |_, _, _| {}).map_err(Failed::from)?;
    // The world states agree too (what a divergence report compares).
    let flat = advkit_ipc::state::flatten_each;
    if flat(&in_process.states) != flat(&ran.states) {
        return Err(Failed::from(
            "the entities differ between the in-process run and the protocol",
        ));
    }
    let (in_process, protocol) = (in_process.hashes, ran.hashes);
    if in_process.len() != protocol.len() {
        return Err(Failed::from(format!(
            "{} hashes in-process, {} through the protocol",
            in_process.len(),
            protocol.len()
        )));
    }
    if let Some(((tick, a), (_, b))) = in_process
        .iter()
        .zip(&protocol)
        .find(|((_, a), (_, b))| a != b)
    {
        return Err(Failed::from(format!(
            "tick {tick}: {a:016x} in-process, {b:016x} through the protocol"
        )));
    }
    Ok(())
}
