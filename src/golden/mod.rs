//! Golden-frame checks with files: scenarios in, verdicts, artifacts and
//! reports out. `advkit golden check` and the project's `cargo test`
//! (tests/golden.rs) both call [`check_scenario`], so they print the same
//! messages and leave the same artifacts.
//!
//! For a scenario `fixtures/scenarios/<s>.json`:
//! - goldens are `fixtures/golden/<s>/<capture>.png` (and `hashes.txt`);
//! - a missing golden is written as `<capture>.new.png` (pending review);
//! - a failure leaves `target/advkit-golden/<s>/` with the expected,
//!   actual and diff PNGs and `report.html`.

use std::fs;
use std::path::{Path, PathBuf};

use advkit_core::{Compression, Frame, Scene, hash_pixels};
use advkit_golden::{Capture, Comparison, Ran, Scenario};
use serde_json::Value as Json;

use crate::{replay, state};

pub mod example;
mod forensics;
pub mod merge;
pub mod output;
mod report;
pub mod select;
mod store;

pub use advkit_golden::store::{hashes_text, parse_hashes};
pub use forensics::{Forensics, World};
pub use store::{diverging_ranges, unreferenced};

use advkit_golden::store::{
    Artifacts, CaptureNumbers, Divergence, Goldens, Shows, write_file, write_png, write_sidecar,
};
use forensics::{divergence_pictures, world_at};
use report::report_html;
use store::{judge, judge_hashes, judge_world, write_artifacts};

/// Where things are, and what to do about differences.
#[derive(Debug, Clone)]
pub struct Options {
    /// `fixtures/golden`.
    pub golden_dir: PathBuf,
    /// `target/advkit-golden`.
    pub artifacts: PathBuf,
    /// Re-bless failing and missing captures.
    pub update: bool,
    /// In CI a missing golden is a failure, not a pending `.new.png`.
    pub ci: bool,
    /// The `advkit` executable, to replay built-in scenarios through the
    /// protocol (`advkit run`) when [`via_protocol`](Self::via_protocol).
    pub advkit: Option<PathBuf>,
    /// Replay built-in scenarios through the protocol too, not in-process
    /// (scenarios with an `engine` always are).
    pub via_protocol: bool,
    /// With `update`, a failing capture is blessed as another accepted
    /// golden of this name (`<capture>@<variant>.png`) instead of
    /// replacing its golden.
    pub variant: Option<String>,
}

impl Options {
    /// Paths relative to `root` (the repository); `ci` from the `CI`
    /// environment variable, as insta does, and `update` from
    /// [`UPDATE_ENV`] (so `cargo test` can bless).
    pub fn new(root: &Path) -> Options {
        let set = |name: &str| {
            std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
        };
        Options {
            golden_dir: root.join("fixtures/golden"),
            artifacts: root.join("target/advkit-golden"),
            update: set(UPDATE_ENV),
            ci: set("CI"),
            advkit: None,
            via_protocol: false,
            variant: None,
        }
    }
}

/// Set to bless failing and missing goldens, as `--update` does:
/// `ADVKIT_GOLDEN_UPDATE=1 cargo test --test golden`.
pub const UPDATE_ENV: &str = "ADVKIT_GOLDEN_UPDATE";

/// The directory at or above `dir` that holds `fixtures/scenarios`: the
/// project `advkit golden` works on when no paths are given.
pub fn project_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join("fixtures/scenarios").is_dir())
        .map(Path::to_owned)
}

/// The verdict on one capture (or on the hash sequence).
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Pass,
    Fail {
        comparison: Comparison,
    },
    /// No golden yet: written as `.new.png` for review (locally).
    Pending {
        written: PathBuf,
    },
    /// No golden, and CI is set: a failure.
    Missing,
    /// `--update` wrote a new golden.
    Updated {
        path: PathBuf,
    },
    /// The frame hashes differ from the recorded ones in these ranges of
    /// ticks (inclusive), the first first.
    Diverged {
        ranges: Vec<(u64, u64)>,
    },
    /// Failed, as its `xfail` says it does (not a failure of the check):
    /// what failed, and the reason given.
    XFail {
        what: String,
        reason: String,
    },
    /// Marked `xfail`, but passes: a failure until the mark is removed.
    XPass {
        reason: String,
    },
    /// The world after these ticks (inclusive ranges) differs from the
    /// recorded one (`check_world`); `first` names what differed first.
    WorldDiffers {
        ranges: Vec<(u64, u64)>,
        first: String,
    },
    /// Matches not the main golden but another accepted one
    /// (`<capture>@<variant>.png`).
    PassVariant {
        variant: String,
    },
}

impl Status {
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Status::Fail { .. }
                | Status::Missing
                | Status::Diverged { .. }
                | Status::XPass { .. }
                | Status::WorldDiffers { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub struct CaptureResult {
    pub name: String,
    pub tick: u64,
    pub status: Status,
    /// More to say: how much differed on a pass within tolerance, where a
    /// missing golden's actual frame went.
    pub note: Option<String>,
}

/// Everything `check_scenario` found for one scenario file.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub path: PathBuf,
    pub captures: Vec<CaptureResult>,
    /// The first tick where the frame hashes left the recorded sequence.
    pub first_divergence: Option<u64>,
    /// What the run did at or last before that tick, for the report.
    pub applied_before_divergence: Option<String>,
    /// The world and the pictures at the first divergent tick.
    pub forensics: Option<Forensics>,
    /// Which scene or engine ran.
    pub ran: String,
    /// Things to say that are not failures (a stale built-in scene).
    pub warnings: Vec<String>,
    /// `report.html`, when something failed.
    pub report: Option<PathBuf>,
    /// The scenario could not run at all (bad file, bad scene…).
    pub error: Option<String>,
    /// How long checking it took (running, comparing, writing reports).
    pub took: std::time::Duration,
    /// What this run drew: each capture's frame hash, then the frame hash
    /// after every update (with `record_hashes`); two runs of a
    /// deterministic game draw the same.
    pub drawn: Vec<(String, u64)>,
    /// Run again after failing (`--retries`), it drew something else: a
    /// flaky game, not a changed one. Says what each run found.
    pub nondeterministic: Option<String>,
}

impl ScenarioResult {
    pub fn failed(&self) -> bool {
        self.error.is_some()
            || self.nondeterministic.is_some()
            || self.captures.iter().any(|c| c.status.is_failure())
    }

    /// What went wrong, in a few words (for a retry's comparison): every
    /// failed capture and the diverging ranges.
    pub fn failure_summary(&self) -> String {
        let mut parts: Vec<String> = self
            .captures
            .iter()
            .filter(|c| c.status.is_failure())
            .map(|c| match &c.status {
                Status::Diverged { ranges } => {
                    format!("{} at tick(s) {}", c.name, describe_ranges(ranges))
                }
                _ => c.name.clone(),
            })
            .collect();
        if let Some(e) = &self.error {
            parts.push(e.clone());
        }
        if parts.is_empty() {
            "passed".into()
        } else {
            format!("failed {}", parts.join(", "))
        }
    }

    /// Takes `again`, a retry of this failed run: the same drawing is the
    /// same failure; another is a nondeterministic game, named with both
    /// runs' findings.
    pub fn retried(&mut self, again: ScenarioResult) {
        if again.drawn == self.drawn && again.error == self.error {
            return;
        }
        self.nondeterministic = Some(format!(
            "two runs drew other frames: the first {}, the second {}",
            self.failure_summary(),
            again.failure_summary()
        ));
    }

    pub fn pending(&self) -> usize {
        self.captures
            .iter()
            .filter(|c| matches!(c.status, Status::Pending { .. }))
            .count()
    }

    /// One line per capture, as `advkit golden check` prints them, and
    /// what the run knows of a divergence.
    pub fn lines(&self) -> Vec<String> {
        if let Some(e) = &self.error {
            return vec![format!("ERROR {}: {e}", self.name)];
        }
        let mut lines: Vec<String> = self
            .nondeterministic
            .iter()
            .map(|n| format!("NONDETERMINISTIC {}: {n}", self.name))
            .collect();
        lines.extend(self.captures.iter().map(|c| self.line(c)));
        if let Some(f) = &self.forensics {
            lines.extend(
                f.world
                    .lines(f.tick)
                    .into_iter()
                    .map(|l| format!("      {l}")),
            );
            if let Some(p) = f.pictures.iter().find(|p| p.shows == Shows::Expected) {
                lines.push(format!("      pictured: {}", p.caption));
            }
        }
        lines
    }

    /// The line `advkit golden check` prints for capture `c`.
    pub fn line(&self, c: &CaptureResult) -> String {
        let diverged = self
            .first_divergence
            .map(|t| format!("; the run first diverged at tick {t}"))
            .unwrap_or_default();
        let report = self
            .report
            .as_ref()
            .map(|r| format!(" -> {}", r.display()))
            .unwrap_or_default();
        let id = format!("{}/{}", self.name, c.name);
        let note = c
            .note
            .as_ref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        match &c.status {
            Status::Pass => format!("pass  {id} (tick {}){note}", c.tick),
            Status::WorldDiffers { ranges, first } => format!(
                "FAIL  {id}: the world differs from the recorded one after tick(s) {}: {first}{report}",
                describe_ranges(ranges)
            ),
            Status::PassVariant { variant } => {
                format!("pass  {id} (tick {}): matches variant {variant}", c.tick)
            }
            Status::Fail { comparison } => format!(
                "FAIL  {id} (tick {}): {}{diverged}{report}",
                c.tick,
                comparison.describe()
            ),
            Status::Pending { written } => format!(
                "new   {id} (tick {}): no golden yet; wrote {} (accept with `advkit golden review` or `--update`)",
                c.tick,
                written.display()
            ),
            Status::Missing => format!(
                "FAIL  {id} (tick {}): no golden, and CI is set; bless it locally with `advkit golden check --update`{note}",
                c.tick
            ),
            Status::Updated { path } => {
                format!("upd   {id} (tick {}): wrote {}", c.tick, path.display())
            }
            Status::XFail { what, reason } => format!(
                "xfail {id} (tick {}): fails as expected ({reason}): {what}",
                c.tick
            ),
            Status::XPass { reason } => format!(
                "FAIL  {id} (tick {}): passes, but is marked xfail ({reason}); remove \"xfail\" \
                 from the capture",
                c.tick
            ),
            Status::Diverged { ranges } => format!(
                "FAIL  {id}: frame hashes differ from the recorded run at tick(s) {}{}{report}",
                describe_ranges(ranges),
                self.applied_before_divergence
                    .as_ref()
                    .map(|a| format!(" (last applied before: {a})"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// "3-7, 12, 40-41 (8 ticks)".
pub fn describe_ranges(ranges: &[(u64, u64)]) -> String {
    const SHOWN: usize = 8;
    let total: u64 = ranges.iter().map(|(a, b)| b - a + 1).sum();
    let mut parts: Vec<String> = ranges
        .iter()
        .take(SHOWN)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    if ranges.len() > SHOWN {
        parts.push(format!("… {} more range(s)", ranges.len() - SHOWN));
    }
    format!("{} ({total} tick(s))", parts.join(", "))
}

/// Scenario files under `paths` (directories are searched for `*.json`),
/// sorted.
pub fn find_scenarios(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for e in fs::read_dir(p)? {
                let path = e?.path();
                if path.extension().is_some_and(|x| x == "json") {
                    out.push(path);
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no scenario file or directory {}", p.display()),
            ));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Runs one scenario and compares every capture with its golden.
pub fn check_scenario(path: &Path, opts: &Options) -> ScenarioResult {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario")
        .to_owned();
    let mut result = ScenarioResult {
        name: name.clone(),
        path: path.to_owned(),
        captures: Vec::new(),
        first_divergence: None,
        applied_before_divergence: None,
        forensics: None,
        ran: String::new(),
        warnings: Vec::new(),
        report: None,
        error: None,
        took: std::time::Duration::ZERO,
        drawn: Vec::new(),
        nondeterministic: None,
    };
    let started = std::time::Instant::now();
    if let Err(e) = check_into(path, opts, &mut result) {
        result.error = Some(e);
    }
    result.took = started.elapsed();
    result
}

struct Failure {
    capture: String,
    tick: u64,
    comparison: Comparison,
}

/// Runs `scenario` in-process on `scene` (the built-in demo) or, with a
/// `launch`, through the protocol: the one loop, `advkit_golden::run`, on
/// the in-process driver ([`Scenario::run`]) or the protocol's
/// ([`replay::run`]).
pub fn run_scenario(
    scenario: &Scenario,
    scene: &Scene,
    launch: Option<&replay::Launch>,
    states: bool,
    capture: impl FnMut(&Capture, &Frame, &[Json]),
) -> Result<Ran, String> {
    match launch {
        Some(launch) => replay::run(scenario, launch, states, capture),
        None => scenario.run(
            scene,
            |engine, name, params| crate::live::answer(engine, scene, name, params),
            states,
            capture,
        ),
    }
}

fn check_into(path: &Path, opts: &Options, result: &mut ScenarioResult) -> Result<(), String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let scenario =
        Scenario::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?;
    let base = path.parent().unwrap_or(Path::new("."));
    let scene_path = scenario.scene.as_ref().map(|rel| base.join(rel));
    let scene = match &scene_path {
        None => {
            result.ran = "the built-in demo scene (compiled in)".into();
            // The compiled-in copy can go stale against the file it came
            // from (only the demo draws it: not for a game of its own).
            let file = opts
                .golden_dir
                .parent()
                .map(|fixtures| fixtures.join("scenes/demo.json"));
            if scenario.engine.is_none()
                && let Some(file) = file
                && let Ok(text) = fs::read_to_string(&file)
                && text != advkit_core::scene::BUILTIN_SOURCE
            {
                // The same words for every scenario: said once.
                result.warnings.push(format!(
                    "scenarios without \"scene\" use the built-in demo scene, compiled in, which \
                     differs from {}; rebuild advkit, or give them \"scene\" to use the file",
                    file.display()
                ));
            }
            Scene::builtin()
        }
        Some(scene_path) => {
            result.ran = format!("scene {}", scene_path.display());
            scene_for(&scenario, base)?
        }
    };
    let launch = match (&scenario.engine, opts.via_protocol) {
        (Some(engine), _) => {
            let launch = launch(engine, base)?;
            result.ran = format!(
                "engine `{}` (through the protocol)",
                launch.command.join(" ")
            );
            Some(launch)
        }
        (None, true) => {
            let advkit = opts
                .advkit
                .as_deref()
                .ok_or("replaying through the protocol needs the advkit executable")?;
            let size = scenario.size()?;
            let abs = scene_path
                .as_deref()
                .map(|p| fs::canonicalize(p).unwrap_or_else(|_| p.to_owned()));
            result.ran.push_str(" (through the protocol)");
            Some(replay::Launch::builtin(advkit, abs.as_deref(), size))
        }
        (None, false) => None,
    };
    let goldens = Goldens::new(&opts.golden_dir, &result.name);
    let artifacts = Artifacts::new(&opts.artifacts, &result.name);
    // Old artifacts would be mistaken for this run's.
    let _ = fs::remove_dir_all(artifacts.dir());

    // Blessing a game that does not draw the same twice would make goldens
    // no later run matches: under --update the scenario runs once first,
    // and what the blessing run draws must be the same.
    let earlier = if opts.update {
        let mut drawn = Vec::new();
        let ran = run_scenario(
            &scenario,
            &scene,
            launch.as_ref(),
            false,
            |capture, actual, _| drawn.push((capture.name.clone(), hash_pixels(actual.pixels()))),
        )?;
        drawn.extend(drawn_ticks(&ran));
        Some(drawn)
    } else {
        None
    };
    let mut failures: Vec<Failure> = Vec::new();
    let mut first_error: Option<String> = None;
    let mut drawn: Vec<(String, u64)> = Vec::new();
    let no_update = Options {
        update: false,
        ..opts.clone()
    };
    let on_capture = |capture: &Capture, actual: &Frame, entities: &[Json]| {
        let hash = hash_pixels(actual.pixels());
        drawn.push((capture.name.clone(), hash));
        if let Some(earlier) = &earlier
            && !earlier.contains(&(capture.name.clone(), hash))
        {
            first_error.get_or_insert(format!(
                "nondeterministic: capture `{}` (tick {}) drew another frame than in a run just \
                 before; nothing is blessed (the game may read the clock or unseeded randomness)",
                capture.name, capture.tick
            ));
            return;
        }
        let tol = scenario.tolerance_for(capture);
        let judged = scenario
            .masks_for(capture)
            .map(|m| m.resolve(entities))
            .filter_map(Result::transpose)
            .collect::<Result<Vec<[u32; 4]>, String>>()
            .map_err(|e| format!("capture `{}` (tick {}): {e}", capture.name, capture.tick))
            .and_then(|masks| {
                // A known failure is never blessed by --update.
                let judged_by = match &capture.xfail {
                    Some(_) => &no_update,
                    None => opts,
                };
                let (status, expected) =
                    judge(&goldens, &capture.name, actual, tol, &masks, judged_by)?;
                let status = match (&capture.xfail, status) {
                    (Some(reason), Status::Pass | Status::PassVariant { .. }) => Status::XPass {
                        reason: reason.clone(),
                    },
                    (Some(reason), Status::Fail { comparison }) => Status::XFail {
                        what: comparison.describe(),
                        reason: reason.clone(),
                    },
                    (Some(reason), Status::Missing) => Status::XFail {
                        what: "no golden".into(),
                        reason: reason.clone(),
                    },
                    (_, status) => status,
                };
                Ok((status, expected, masks))
            });
        let (status, expected, masks) = match judged {
            Ok(s) => s,
            Err(e) => {
                first_error.get_or_insert(e);
                return;
            }
        };
        let mut note = None;
        match (&status, &expected) {
            (Status::Fail { comparison }, Some((expected, _))) => {
                let numbers = CaptureNumbers {
                    tick: capture.tick,
                    summary: comparison.describe(),
                    bbox: comparison.bbox.map(|(a, b, c, d)| [a, b, c, d]),
                };
                if let Err(e) =
                    write_artifacts(&artifacts, &capture.name, expected, actual, tol, &masks)
                        .and_then(|()| write_sidecar(&artifacts.numbers(&capture.name), &numbers))
                {
                    first_error.get_or_insert(e);
                }
                failures.push(Failure {
                    capture: capture.name.clone(),
                    tick: capture.tick,
                    comparison: *comparison,
                });
            }
            (Status::Missing, _) => {
                // CI keeps what it would have blessed, to upload.
                let written = artifacts.actual(&capture.name);
                match write_png(&written, actual, Compression::Fast) {
                    Ok(()) => note = Some(format!("wrote {}", written.display())),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            (Status::Pass, Some((_, comparison))) => {
                let said = comparison.describe_pass();
                note = (!said.is_empty()).then_some(said);
            }
            _ => {}
        }
        result.captures.push(CaptureResult {
            name: capture.name.clone(),
            tick: capture.tick,
            status,
            note,
        });
    };
    let ran = run_scenario(
        &scenario,
        &scene,
        launch.as_ref(),
        scenario.record_hashes,
        on_capture,
    )?;
    drawn.extend(drawn_ticks(&ran));
    result.drawn = drawn;
    if let Some(e) = first_error {
        return Err(e);
    }
    if let Some(earlier) = &earlier {
        let ticks = |d: &[(String, u64)]| -> Vec<(u64, u64)> {
            d.iter()
                .filter_map(|(n, h)| Some((n.strip_prefix("tick ")?.parse().ok()?, *h)))
                .collect()
        };
        let ranges = diverging_ranges(&ticks(earlier), &ticks(&result.drawn));
        if !ranges.is_empty() {
            return Err(format!(
                "nondeterministic: two runs drew other frames at tick(s) {}; nothing is blessed \
                 (the game may read the clock or unseeded randomness)",
                describe_ranges(&ranges)
            ));
        }
    }

    if scenario.record_hashes {
        let states = state::flatten_each(&ran.states);
        let status = judge_hashes(&goldens, &ran, &states, opts)?;
        if let Status::Diverged { ranges } = &status {
            let first = ranges[0].0;
            result.first_divergence = Some(first);
            result.applied_before_divergence = Some(applied_before(&scenario, first));
            // What `golden review` accepts: this run's sequence.
            artifacts
                .sequence()
                .write(&ran.hashes, &state::log_text(&states), &ran.kept)?;
            let world = world_at(&goldens, &states, first);
            let pictures = divergence_pictures(
                &scenario,
                &scene,
                launch.as_ref(),
                first,
                &goldens,
                &artifacts,
            )?;
            write_sidecar(
                &artifacts.divergence(),
                &Divergence {
                    tick: first,
                    summary: format!("frame hashes differ at tick(s) {}", describe_ranges(ranges)),
                    world: world.lines(first),
                    pictures: pictures.clone(),
                },
            )?;
            result.forensics = Some(Forensics {
                tick: first,
                world,
                pictures,
            });
        }
        if status != Status::Pass {
            let tolerant = scenario
                .captures
                .iter()
                .any(|c| !scenario.tolerance_for(c).is_exact());
            if tolerant && matches!(status, Status::Diverged { .. }) {
                result.warnings.push(format!(
                    "{}: the frame hashes are exact and win over the tolerance; captures passed \
                     within it still fail the hashes (drop \"record_hashes\" to rely on the \
                     tolerance alone)",
                    result.name
                ));
            }
        }
        let frames_agree = status == Status::Pass;
        // Passed or not, the hash sequence is a result of its own (a JUnit
        // test case in every run, not only in failing ones).
        result.captures.push(CaptureResult {
            name: "hashes".into(),
            tick: ran.hashes.last().map_or(0, |(t, _)| *t),
            status,
            note: None,
        });
        // The frames agree: with check_world the world must too.
        if scenario.check_world && frames_agree {
            let status = judge_world(&goldens, &states)?;
            result.captures.push(CaptureResult {
                name: "world".into(),
                tick: states.last().map_or(0, |(t, _)| *t),
                status,
                note: None,
            });
        }
    }
    if !failures.is_empty() || result.first_divergence.is_some() {
        let report = artifacts.report();
        write_file(
            &report,
            report_html(result, &scenario, &failures).as_bytes(),
        )?;
        result.report = Some(report);
    }
    Ok(())
}

/// `("tick N", hash)` for the frame hash after every update of `ran`.
fn drawn_ticks(ran: &Ran) -> impl Iterator<Item = (String, u64)> + '_ {
    ran.hashes.iter().map(|(t, h)| (format!("tick {t}"), *h))
}

/// What `scenario` did last before frame `tick` (requests at tick t shape
/// frame t + 1): "at tick 12: engine.input {...}; params.set {...}".
pub fn applied_before(scenario: &Scenario, tick: u64) -> String {
    match scenario.plan().last_before(tick.saturating_sub(1)) {
        Some((t, actions)) => format!(
            "at tick {t}: {}",
            actions
                .iter()
                .map(replay::describe)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        None => "nothing: the run diverged from its start".into(),
    }
}

/// The scene a built-in scenario runs on: its `scene` file, relative to
/// `base` (the scenario file's directory), or the compiled-in demo.
pub fn scene_for(scenario: &Scenario, base: &Path) -> Result<Scene, String> {
    let Some(rel) = &scenario.scene else {
        return Ok(Scene::builtin());
    };
    let path = base.join(rel);
    let text = fs::read_to_string(&path)
        .map_err(|e| format!("cannot read scene {}: {e}", path.display()))?;
    Scene::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())
}

/// How to start a scenario's `engine`: its command, the program made
/// absolute when it is a relative path, in its `cwd` relative to `base` (the
/// scenario file's directory); or its cargo `example`, built on demand
/// ([`example::resolve`]), with `command` as its arguments.
pub fn launch(engine: &advkit_golden::EngineSpec, base: &Path) -> Result<replay::Launch, String> {
    let cwd = base.join(engine.cwd.as_deref().unwrap_or("."));
    // Absolute, since the program is started in `cwd` and a relative
    // path would be taken from there a second time.
    let cwd = fs::canonicalize(&cwd).unwrap_or(cwd);
    let mut command = engine.command.clone();
    if let Some(name) = &engine.example {
        let program = example::resolve(name, &cwd)?;
        command.insert(0, program.display().to_string());
    } else if let Some(first) = command.first_mut()
        && first.contains('/')
        && !first.starts_with('/')
    {
        *first = cwd.join(&*first).display().to_string();
    }
    Ok(replay::Launch {
        command,
        cwd: Some(cwd),
    })
}
