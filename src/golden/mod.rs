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

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use advkit_core::{Compression, Frame, Scene, decode_png, encode_png, hash_pixels};
use advkit_golden::{Capture, Comparison, Ran, Scenario, Tolerance, compare, diff_image};
use serde_json::Value as Json;

use crate::{replay, state};

pub mod example;
pub mod merge;
pub mod output;
pub mod select;

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

/// Files and directories in `golden_dir` that no scenario in `scenarios`
/// refers to: a renamed capture's old PNG, a deleted scenario's directory.
pub fn unreferenced(golden_dir: &Path, scenarios: &[PathBuf]) -> Vec<PathBuf> {
    let mut wanted: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for path in scenarios {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Ok(scenario) = fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Scenario::parse("", &t).map_err(|e| e.to_string()))
        else {
            // A scenario that does not parse keeps all its files.
            wanted.insert(name.to_owned(), vec!["*".into()]);
            continue;
        };
        let mut files: Vec<String> = scenario
            .captures
            .iter()
            .flat_map(|c| [format!("{}.png", c.name), format!("{}.new.png", c.name)])
            .collect();
        if scenario.record_hashes {
            files.extend(
                [
                    "hashes.txt",
                    "hashes.new.txt",
                    "states.jsonl",
                    "states.new.jsonl",
                ]
                .map(String::from),
            );
        }
        wanted.insert(name.to_owned(), files);
    }
    let mut out = Vec::new();
    let Ok(dirs) = fs::read_dir(golden_dir) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = dirs.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(files) = wanted.get(&name) else {
            out.push(dir);
            continue;
        };
        if files.iter().any(|f| f == "*") || !dir.is_dir() {
            continue;
        }
        let mut inside: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        inside.sort();
        out.extend(inside.into_iter().filter(|f| {
            let n = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // `<capture>@<variant>.png`: another accepted golden of it.
            let variant_of = n
                .split_once('@')
                .map(|(stem, _)| format!("{stem}.png"))
                .filter(|_| n.ends_with(".png"));
            !files.contains(&n) && !variant_of.is_some_and(|main| files.contains(&main))
        }));
    }
    out
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
    let golden_dir = opts.golden_dir.join(&result.name);
    let artifacts = opts.artifacts.join(&result.name);
    // Old artifacts would be mistaken for this run's.
    let _ = fs::remove_dir_all(&artifacts);

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
        let golden = golden_dir.join(format!("{}.png", capture.name));
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
                let (status, expected) = judge(&golden, actual, tol, &masks, judged_by)?;
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
                let numbers = serde_json::json!({
                    "tick": capture.tick,
                    "summary": comparison.describe(),
                    "bbox": comparison.bbox.map(|(a, b, c, d)| [a, b, c, d]),
                });
                if let Err(e) =
                    write_artifacts(&artifacts, &capture.name, expected, actual, tol, &masks)
                        .and_then(|()| {
                            write_text(
                                &artifacts.join(format!("{}.json", capture.name)),
                                &numbers.to_string(),
                            )
                        })
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
                let written = artifacts.join(format!("{}.actual.png", capture.name));
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
        let status = judge_hashes(&golden_dir, &ran.hashes, &states, opts)?;
        if let Status::Diverged { ranges } = &status {
            let first = ranges[0].0;
            result.first_divergence = Some(first);
            result.applied_before_divergence = Some(applied_before(&scenario, first));
            write_text(
                &artifacts.join("hashes.actual.txt"),
                &hashes_text(&ran.hashes),
            )?;
            if !states.is_empty() {
                write_text(
                    &artifacts.join("states.actual.jsonl"),
                    &state::log_text(&states),
                )?;
            }
            let world = world_at(&golden_dir, &states, first);
            let pictures = divergence_pictures(
                &scenario,
                &scene,
                launch.as_ref(),
                first,
                &golden_dir,
                &artifacts,
            )?;
            // For `advkit golden review`: what to show and what accepting
            // writes.
            let numbers = serde_json::json!({
                "tick": first,
                "summary": format!(
                    "frame hashes differ at tick(s) {}",
                    describe_ranges(ranges)
                ),
                "world": world.lines(first),
                "pictures": pictures.iter().map(|(f, _)| f).collect::<Vec<_>>(),
                // What each picture is, for review to say which it shows.
                "captions": pictures.iter().map(|(_, c)| c).collect::<Vec<_>>(),
            });
            write_text(&artifacts.join("hashes.json"), &numbers.to_string())?;
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
            let status = judge_world(&golden_dir, &states)?;
            result.captures.push(CaptureResult {
                name: "world".into(),
                tick: states.last().map_or(0, |(t, _)| *t),
                status,
                note: None,
            });
        }
    }
    if !failures.is_empty() || result.first_divergence.is_some() {
        let report = artifacts.join("report.html");
        fs::create_dir_all(&artifacts)
            .map_err(|e| format!("cannot create {}: {e}", artifacts.display()))?;
        fs::write(&report, report_html(result, &scenario, &failures))
            .map_err(|e| format!("cannot write {}: {e}", report.display()))?;
        result.report = Some(report);
    }
    Ok(())
}

/// `("tick N", hash)` for the frame hash after every update of `ran`.
fn drawn_ticks(ran: &Ran) -> impl Iterator<Item = (String, u64)> + '_ {
    ran.hashes.iter().map(|(t, h)| (format!("tick {t}"), *h))
}

/// Why a run left the recorded one, at its first divergent frame.
#[derive(Debug, Clone)]
pub struct Forensics {
    /// The first tick whose frame hash differs.
    pub tick: u64,
    pub world: World,
    /// Pictures in the artifacts directory: (file, caption).
    pub pictures: Vec<(String, String)>,
}

/// The world (entities and flags) at the first divergent frame.
#[derive(Debug, Clone, PartialEq)]
pub enum World {
    /// Nothing to compare with, and why.
    Unknown(String),
    /// Recorded and actual states agree: only the pixels differ.
    Agrees,
    /// They differ; the world first differed at tick `since` (at or before
    /// the frame's), and these keys differ at the divergent frame.
    Differs {
        since: u64,
        changes: Vec<state::Change>,
    },
}

impl World {
    /// Lines for the terminal and the report.
    pub fn lines(&self, tick: u64) -> Vec<String> {
        const SHOWN: usize = 12;
        match self {
            World::Unknown(why) => vec![format!("no world state to compare: {why}")],
            World::Agrees => vec![format!(
                "at tick {tick} the world (entities and flags) agrees with the recording: only the pixels differ"
            )],
            World::Differs { since, changes } => {
                let mut out = vec![if *since < tick {
                    format!(
                        "the world first differed at tick {since}, before the frames did; at tick {tick}:"
                    )
                } else {
                    format!("at tick {tick} the world differs too:")
                }];
                out.extend(changes.iter().take(SHOWN).map(|c| format!("  {c}")));
                if changes.len() > SHOWN {
                    out.push(format!("  … {} more", changes.len() - SHOWN));
                }
                out
            }
        }
    }
}

/// Compares the recorded states (`states.jsonl` beside `hashes.txt`) with
/// this run's at `tick`, and finds the first tick they differ. A run
/// with no states is a game that lists no entities.
fn world_at(golden_dir: &Path, actual: &[(u64, state::Flat)], tick: u64) -> World {
    if actual.is_empty() {
        return World::Unknown("the game does not list its entities (world.entities)".into());
    }
    let file = golden_dir.join("states.jsonl");
    let log = match fs::read_to_string(&file) {
        Ok(text) => match state::Log::parse(&file.display().to_string(), &text) {
            Ok(log) => log,
            Err(e) => return World::Unknown(e),
        },
        Err(_) => {
            return World::Unknown(format!(
                "{} is missing (bless with `advkit golden check --update` to record it)",
                file.display()
            ));
        }
    };
    let Some(now) = actual.iter().find(|(t, _)| *t == tick).map(|(_, f)| f) else {
        return World::Unknown(format!("the run has no state at tick {tick}"));
    };
    let Some(recorded) = log.at(tick) else {
        return World::Unknown(format!("{} has no state at tick {tick}", file.display()));
    };
    let changes = state::diff(&recorded, now);
    if changes.is_empty() {
        return World::Agrees;
    }
    let since = actual
        .iter()
        .take_while(|(t, _)| *t <= tick)
        .find(|(t, f)| log.at(*t).is_some_and(|r| r != *f))
        .map_or(tick, |(t, _)| *t);
    World::Differs { since, changes }
}

/// Every failure is a picture: a run whose hashes diverge is run again to
/// the first divergent tick, and its frames there and the tick before are
/// written beside the blessed capture nearest to it.
fn divergence_pictures(
    scenario: &Scenario,
    scene: &Scene,
    launch: Option<&replay::Launch>,
    tick: u64,
    golden_dir: &Path,
    artifacts: &Path,
) -> Result<Vec<(String, String)>, String> {
    let mut again = scenario.clone();
    again.record_hashes = false;
    again.mask.clear();
    again.captures = (tick.saturating_sub(1).max(scenario.start_tick + 1).max(1)..=tick)
        .map(|t| Capture {
            name: format!("tick-{t}"),
            tick: t,
            size: None,
            tolerance: None,
            mask: Vec::new(),
            xfail: None,
        })
        .collect();
    let mut pictures = Vec::new();
    let mut first_error = None;
    run_scenario(&again, scene, launch, false, |c, frame, _| {
        let file = format!("diverged-{}.actual.png", c.name);
        match write_png(&artifacts.join(&file), frame, Compression::Fast) {
            Ok(()) => pictures.push((
                file,
                if c.tick == tick {
                    format!("actual, tick {} (first divergent)", c.tick)
                } else {
                    format!("actual, tick {} (the tick before)", c.tick)
                },
            )),
            Err(e) => first_error = Some(e),
        }
    })?;
    if let Some(e) = first_error {
        return Err(e);
    }
    let nearest = scenario
        .captures
        .iter()
        .filter(|c| golden_dir.join(format!("{}.png", c.name)).is_file())
        .min_by_key(|c| c.tick.abs_diff(tick));
    if let Some(c) = nearest {
        let file = format!("nearest-{}.golden.png", c.name);
        fs::copy(
            golden_dir.join(format!("{}.png", c.name)),
            artifacts.join(&file),
        )
        .map_err(|e| format!("cannot copy the golden `{}`: {e}", c.name))?;
        pictures.push((
            file,
            format!(
                "golden `{}`, tick {} (the nearest blessed capture)",
                c.name, c.tick
            ),
        ));
    }
    Ok(pictures)
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
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

/// Compares one frame with its golden file (or deals with its absence):
/// the verdict, and the golden as decoded with the comparison, when there
/// was one to compare with.
fn judge(
    golden: &Path,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
    opts: &Options,
) -> Result<(Status, Option<(Frame, Comparison)>), String> {
    let bless = |path: &Path| -> Result<Status, String> {
        write_png(path, actual, Compression::Best)?;
        let _ = fs::remove_file(path.with_extension("new.png"));
        Ok(Status::Updated {
            path: path.to_owned(),
        })
    };
    let bytes = match fs::read(golden) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if opts.update {
                return Ok((bless(golden)?, None));
            }
            if opts.ci {
                return Ok((Status::Missing, None));
            }
            let pending = golden.with_extension("new.png");
            write_png(&pending, actual, Compression::Best)?;
            return Ok((Status::Pending { written: pending }, None));
        }
        Err(e) => return Err(format!("cannot read golden {}: {e}", golden.display())),
    };
    let expected = decode_png(&bytes)
        .map_err(|e| format!("golden {} is not a readable PNG: {e}", golden.display()))?;
    let comparison = compare(&expected, actual, tol, masks);
    let status = if comparison.passes() {
        let _ = fs::remove_file(golden.with_extension("new.png"));
        Status::Pass
    } else if let Some(variant) = matching_variant(golden, actual, tol, masks)? {
        Status::PassVariant { variant }
    } else if let (true, Some(variant)) = (opts.update, &opts.variant) {
        // Another accepted golden beside the others, not a replacement.
        let path = variant_path(golden, variant);
        write_png(&path, actual, Compression::Best)?;
        Status::Updated { path }
    } else if opts.update {
        bless(golden)?
    } else {
        Status::Fail { comparison }
    };
    Ok((status, Some((expected, comparison))))
}

/// `walk/a@linux-gpu.png` for golden `walk/a.png` and variant `linux-gpu`.
fn variant_path(golden: &Path, variant: &str) -> PathBuf {
    let stem = golden
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("capture");
    golden.with_file_name(format!("{stem}@{variant}.png"))
}

/// The name of the first variant golden (`<capture>@<variant>.png`, in
/// name order) that `actual` matches, if any.
fn matching_variant(
    golden: &Path,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
) -> Result<Option<String>, String> {
    let (Some(dir), Some(stem)) = (golden.parent(), golden.file_stem().and_then(|s| s.to_str()))
    else {
        return Ok(None);
    };
    let prefix = format!("{stem}@");
    let mut variants: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let variant = name.strip_prefix(&prefix)?.strip_suffix(".png")?.to_owned();
            Some((variant, e.path()))
        })
        .collect();
    variants.sort();
    for (variant, path) in variants {
        let bytes =
            fs::read(&path).map_err(|e| format!("cannot read golden {}: {e}", path.display()))?;
        let expected = decode_png(&bytes)
            .map_err(|e| format!("golden {} is not a readable PNG: {e}", path.display()))?;
        if compare(&expected, actual, tol, masks).passes() {
            return Ok(Some(variant));
        }
    }
    Ok(None)
}

/// `<tick> <hash>` per line, as `hashes.txt` holds them.
pub fn hashes_text(hashes: &[(u64, u64)]) -> String {
    hashes
        .iter()
        .map(|(tick, h)| format!("{tick} {h:016x}\n"))
        .collect()
}

/// Reads `hashes.txt`; lines that are not `<tick> <hex>` are errors.
pub fn parse_hashes(path: &Path, text: &str) -> Result<Vec<(u64, u64)>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let mut words = line.split_whitespace();
            let tick = words.next().and_then(|w| w.parse().ok());
            let hash = words.next().and_then(|w| u64::from_str_radix(w, 16).ok());
            match (tick, hash, words.next()) {
                (Some(t), Some(h), None) => Ok((t, h)),
                _ => Err(format!(
                    "{}:{}: expected `<tick> <16 hex digits>`, found `{line}`",
                    path.display(),
                    i + 1
                )),
            }
        })
        .collect()
}

/// The ranges of ticks (inclusive) where `actual` differs from `recorded`:
/// a recorded tick the run did not reach counts as different; ticks the
/// recording has no hash for (a recorder that missed a frame) are skipped.
pub fn diverging_ranges(recorded: &[(u64, u64)], actual: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let actual: std::collections::BTreeMap<u64, u64> = actual.iter().copied().collect();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut prev_recorded: Option<u64> = None;
    for &(tick, hash) in recorded {
        if actual.get(&tick) != Some(&hash) {
            match ranges.last_mut() {
                // Adjacent in the recording: one range, across ticks it has
                // no hash for.
                Some(last) if prev_recorded == Some(last.1) => last.1 = tick,
                _ => ranges.push((tick, tick)),
            }
        }
        prev_recorded = Some(tick);
    }
    ranges
}

/// Compares the run's frame hashes with `hashes.txt`. The states go with
/// the hashes: `states.jsonl` is blessed, pending (`.new`) or removed
/// together with them.
fn judge_hashes(
    dir: &Path,
    hashes: &[(u64, u64)],
    states: &[(u64, state::Flat)],
    opts: &Options,
) -> Result<Status, String> {
    let file = dir.join("hashes.txt");
    let states_file = dir.join("states.jsonl");
    let pending = dir.join("hashes.new.txt");
    let pending_states = dir.join("states.new.jsonl");
    let write = |hashes_to: &Path, states_to: &Path| -> Result<(), String> {
        write_text(hashes_to, &hashes_text(hashes))?;
        if states.is_empty() {
            let _ = fs::remove_file(states_to);
            Ok(())
        } else {
            write_text(states_to, &state::log_text(states))
        }
    };
    let drop_pending = || {
        let _ = fs::remove_file(&pending);
        let _ = fs::remove_file(&pending_states);
    };
    let bless = || -> Result<Status, String> {
        write(&file, &states_file)?;
        drop_pending();
        Ok(Status::Updated { path: file.clone() })
    };
    let recorded = match fs::read_to_string(&file) {
        Ok(t) => parse_hashes(&file, &t)?,
        Err(_) if opts.update => return bless(),
        Err(_) if opts.ci => return Ok(Status::Missing),
        Err(_) => {
            write(&pending, &pending_states)?;
            return Ok(Status::Pending { written: pending });
        }
    };
    let ranges = diverging_ranges(&recorded, hashes);
    if ranges.is_empty() {
        drop_pending();
        // Hashes recorded before states were kept: `--update` adds the
        // states, which belong to these very frames.
        if opts.update && !states.is_empty() && !states_file.exists() {
            write_text(&states_file, &state::log_text(states))?;
            return Ok(Status::Updated { path: states_file });
        }
        Ok(Status::Pass)
    } else if opts.update {
        bless()
    } else {
        Ok(Status::Diverged { ranges })
    }
}

/// `check_world`: the world after every update against `states.jsonl`
/// (blessed with the hashes): every range of ticks where it differs, and
/// what differed first.
fn judge_world(golden_dir: &Path, actual: &[(u64, state::Flat)]) -> Result<Status, String> {
    if actual.is_empty() {
        return Err(
            "check_world: the game lists no entities (world.entities), so there is no world to \
             compare"
                .into(),
        );
    }
    let file = golden_dir.join("states.jsonl");
    let text = fs::read_to_string(&file).map_err(|_| {
        format!(
            "check_world: {} is missing; bless with `advkit golden check --update` to record it",
            file.display()
        )
    })?;
    let log = state::Log::parse(&file.display().to_string(), &text)?;
    let differing: Vec<u64> = actual
        .iter()
        .filter(|(t, now)| log.at(*t).as_ref() != Some(now))
        .map(|(t, _)| *t)
        .collect();
    let Some(&first_tick) = differing.first() else {
        return Ok(Status::Pass);
    };
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for t in differing {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == t => *end = t,
            _ => ranges.push((t, t)),
        }
    }
    let first = match world_at(golden_dir, actual, first_tick) {
        World::Differs { changes, .. } => changes
            .iter()
            .take(3)
            .map(|c| {
                let show = |v: &Option<Json>| v.as_ref().map_or("(absent)".into(), Json::to_string);
                format!("{} {} -> {}", c.key, show(&c.recorded), show(&c.actual))
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.lines(first_tick).join(" "),
    };
    Ok(Status::WorldDiffers {
        ranges,
        first: format!("at tick {first_tick}: {first}"),
    })
}

fn write_png(path: &Path, frame: &Frame, level: Compression) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let png = encode_png(frame, level).map_err(|e| e.to_string())?;
    fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `<capture>.expected.png`, `.actual.png` and `.diff.png`. Artifacts are
/// written with fast compression: they are made on every failure and read
/// once (a 1080p frame: ~18 ms instead of ~770 ms).
fn write_artifacts(
    dir: &Path,
    capture: &str,
    expected: &Frame,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
) -> Result<(), String> {
    write_png(
        &dir.join(format!("{capture}.expected.png")),
        expected,
        Compression::Fast,
    )?;
    write_png(
        &dir.join(format!("{capture}.actual.png")),
        actual,
        Compression::Fast,
    )?;
    write_png(
        &dir.join(format!("{capture}.diff.png")),
        &diff_image(expected, actual, tol, masks),
        Compression::Fast,
    )
}

fn report_html(result: &ScenarioResult, scenario: &Scenario, failures: &[Failure]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><meta charset=utf-8><title>advkit golden: {name}</title>\
         <style>body{{font:14px sans-serif;background:#1b1b22;color:#ddd;margin:24px}}\
         img{{image-rendering:pixelated;width:100%;border:1px solid #444}}\
         .row{{display:grid;grid-template-columns:1fr 1fr 1fr;gap:12px}}\
         h2{{margin-top:32px}} td{{padding:2px 10px}} .bad{{color:#ff7b72}}\
         table.ranges,table.world{{background:#2a2140;border-collapse:collapse}}</style>\
         <h1>{name}</h1><p>{desc}</p><p>scenario: <code>{path}</code></p>",
        name = esc(&result.name),
        desc = esc(&scenario.description),
        path = esc(&result.path.display().to_string()),
    );
    let _ = write!(h, "<p>ran: {}</p>", esc(&result.ran));
    let ranges = result.captures.iter().find_map(|c| match &c.status {
        Status::Diverged { ranges } => Some(ranges),
        _ => None,
    });
    if let (Some(t), Some(ranges)) = (result.first_divergence, ranges) {
        let _ = write!(
            h,
            "<p class=bad>The frame hashes first differ from the recorded run at tick <b>{t}</b>; \
             last applied before it: {}.</p><table class=ranges><tr><th>diverging ticks</th><th>ticks</th></tr>",
            esc(result.applied_before_divergence.as_deref().unwrap_or("-"))
        );
        for (a, b) in ranges {
            let _ = write!(h, "<tr><td>{a} – {b}</td><td>{}</td></tr>", b - a + 1);
        }
        h.push_str("</table>");
    }
    if let Some(f) = &result.forensics {
        let _ = write!(h, "<h2>The world at tick {}</h2>", f.tick);
        match &f.world {
            World::Differs { since, changes } => {
                if *since < f.tick {
                    let _ = write!(
                        h,
                        "<p class=bad>The world first differed at tick <b>{since}</b>, before the frames did.</p>"
                    );
                }
                h.push_str("<table class=world><tr><th>entity.attribute</th><th>recorded</th><th>now</th></tr>");
                let show =
                    |v: &Option<Json>| v.as_ref().map_or("(absent)".to_owned(), Json::to_string);
                for c in changes {
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td class=bad>{}</td></tr>",
                        esc(&c.key),
                        esc(&show(&c.recorded)),
                        esc(&show(&c.actual))
                    );
                }
                h.push_str("</table>");
            }
            other => {
                let _ = write!(h, "<p>{}</p>", esc(&other.lines(f.tick).join(" ")));
            }
        }
        if !f.pictures.is_empty() {
            h.push_str("<div class=row>");
            for (file, caption) in &f.pictures {
                let _ = write!(
                    h,
                    "<figure><a href=\"{0}\"><img src=\"{0}\"></a><figcaption>{1}</figcaption></figure>",
                    esc(file),
                    esc(caption)
                );
            }
            h.push_str("</div>");
        }
    }
    for f in failures {
        let c = &f.comparison;
        let bbox = c
            .bbox
            .map(|(x0, y0, x1, y1)| format!("{x0},{y0} – {x1},{y1}"))
            .unwrap_or_else(|| "-".into());
        let _ = write!(
            h,
            "<h2 class=bad>{cap} (tick {tick})</h2><table>\
             <tr><td>differing pixels</td><td>{diff} (allowed {allow})</td></tr>\
             <tr><td>largest channel difference</td><td>{max} (allowed per pixel {tol})</td></tr>\
             <tr><td>bounding box</td><td>{bbox}</td></tr></table>\
             <div class=row><figure><a href=\"{cap}.expected.png\"><img src=\"{cap}.expected.png\"></a><figcaption>expected (golden)</figcaption></figure>\
             <figure><a href=\"{cap}.actual.png\"><img src=\"{cap}.actual.png\"></a><figcaption>actual</figcaption></figure>\
             <figure><a href=\"{cap}.diff.png\"><img src=\"{cap}.diff.png\"></a><figcaption>difference</figcaption></figure></div>\
             <p>Each picture links to its full-size PNG.</p>",
            cap = esc(&f.capture),
            tick = f.tick,
            diff = c.differing,
            allow = c.tolerance.allowed(c.total),
            max = c.max_diff,
            tol = c.tolerance.max_diff,
        );
    }
    h.push_str("<p>Accept the new frames with <code>advkit golden check --update</code> or review them with <code>advkit golden review</code>.</p>");
    h
}
