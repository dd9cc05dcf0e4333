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

use advkit_core::golden::{Comparison, Scenario, compare, diff_image};
use advkit_core::{Compression, Frame, Scene, decode_png, encode_png};

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
}

impl Options {
    /// Paths relative to `root` (the repository); `ci` from the `CI`
    /// environment variable, as insta does.
    pub fn new(root: &Path) -> Options {
        Options {
            golden_dir: root.join("fixtures/golden"),
            artifacts: root.join("target/advkit-golden"),
            update: false,
            ci: std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false"),
        }
    }
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
    /// The frame hash sequence differs from the recorded one.
    Diverged {
        tick: u64,
    },
}

impl Status {
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Status::Fail { .. } | Status::Missing | Status::Diverged { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub struct CaptureResult {
    pub name: String,
    pub tick: u64,
    pub status: Status,
}

/// Everything `check_scenario` found for one scenario file.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub path: PathBuf,
    pub captures: Vec<CaptureResult>,
    /// The first tick where the frame hashes left the recorded sequence.
    pub first_divergence: Option<u64>,
    /// `report.html`, when something failed.
    pub report: Option<PathBuf>,
    /// The scenario could not run at all (bad file, bad scene…).
    pub error: Option<String>,
}

impl ScenarioResult {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.captures.iter().any(|c| c.status.is_failure())
    }

    pub fn pending(&self) -> usize {
        self.captures
            .iter()
            .filter(|c| matches!(c.status, Status::Pending { .. }))
            .count()
    }

    /// One line per capture, as `advkit golden check` prints them.
    pub fn lines(&self) -> Vec<String> {
        if let Some(e) = &self.error {
            return vec![format!("ERROR {}: {e}", self.name)];
        }
        let diverged = self
            .first_divergence
            .map(|t| format!("; the run first diverged at tick {t}"))
            .unwrap_or_default();
        let report = self
            .report
            .as_ref()
            .map(|r| format!(" -> {}", r.display()))
            .unwrap_or_default();
        self.captures
            .iter()
            .map(|c| {
                let id = format!("{}/{}", self.name, c.name);
                match &c.status {
                    Status::Pass => format!("pass  {id} (tick {})", c.tick),
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
                        "FAIL  {id} (tick {}): no golden, and CI is set; bless it locally with `advkit golden check --update`",
                        c.tick
                    ),
                    Status::Updated { path } => format!("upd   {id} (tick {}): wrote {}", c.tick, path.display()),
                    Status::Diverged { tick } => {
                        format!("FAIL  {id}: frame hashes differ from the recorded run from tick {tick}{report}")
                    }
                }
            })
            .collect()
    }
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
        report: None,
        error: None,
    };
    if let Err(e) = check_into(path, opts, &mut result) {
        result.error = Some(e);
    }
    result
}

struct Failure {
    capture: String,
    tick: u64,
    comparison: Comparison,
}

fn check_into(path: &Path, opts: &Options, result: &mut ScenarioResult) -> Result<(), String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let scenario =
        Scenario::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?;
    let scene = match &scenario.scene {
        None => Scene::builtin(),
        Some(rel) => {
            let scene_path = path.parent().unwrap_or(Path::new(".")).join(rel);
            let text = fs::read_to_string(&scene_path)
                .map_err(|e| format!("cannot read scene {}: {e}", scene_path.display()))?;
            Scene::parse(&scene_path.display().to_string(), &text).map_err(|e| e.to_string())?
        }
    };
    let golden_dir = opts.golden_dir.join(&result.name);
    let artifacts = opts.artifacts.join(&result.name);
    // Old artifacts would be mistaken for this run's.
    let _ = fs::remove_dir_all(&artifacts);

    let mut failures: Vec<Failure> = Vec::new();
    let mut first_error: Option<String> = None;
    let hashes = scenario.run(&scene, |capture, actual| {
        let golden = golden_dir.join(format!("{}.png", capture.name));
        let status = match judge(&golden, actual, scenario.tolerance_for(capture), opts) {
            Ok(s) => s,
            Err(e) => {
                first_error.get_or_insert(e);
                return;
            }
        };
        if let Status::Fail { comparison } = &status {
            if let Err(e) = write_artifacts(&artifacts, &capture.name, &golden, actual) {
                first_error.get_or_insert(e);
            }
            failures.push(Failure {
                capture: capture.name.clone(),
                tick: capture.tick,
                comparison: *comparison,
            });
        }
        result.captures.push(CaptureResult {
            name: capture.name.clone(),
            tick: capture.tick,
            status,
        });
    })?;
    if let Some(e) = first_error {
        return Err(e);
    }

    if scenario.record_hashes {
        let status = judge_hashes(&golden_dir, &hashes, opts)?;
        if let Status::Diverged { tick } = status {
            result.first_divergence = Some(tick);
        }
        if status != Status::Pass {
            result.captures.push(CaptureResult {
                name: "hashes".into(),
                tick: hashes.len() as u64,
                status,
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

/// Compares one frame with its golden file (or deals with its absence).
fn judge(
    golden: &Path,
    actual: &Frame,
    tol: advkit_core::golden::Tolerance,
    opts: &Options,
) -> Result<Status, String> {
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
                return bless(golden);
            }
            if opts.ci {
                return Ok(Status::Missing);
            }
            let pending = golden.with_extension("new.png");
            write_png(&pending, actual, Compression::Best)?;
            return Ok(Status::Pending { written: pending });
        }
        Err(e) => return Err(format!("cannot read golden {}: {e}", golden.display())),
    };
    let expected = decode_png(&bytes)
        .map_err(|e| format!("golden {} is not a readable PNG: {e}", golden.display()))?;
    let comparison = compare(&expected, actual, tol);
    if comparison.passes() {
        let _ = fs::remove_file(golden.with_extension("new.png"));
        Ok(Status::Pass)
    } else if opts.update {
        bless(golden)
    } else {
        Ok(Status::Fail { comparison })
    }
}

fn judge_hashes(dir: &Path, hashes: &[u64], opts: &Options) -> Result<Status, String> {
    let file = dir.join("hashes.txt");
    let text: String = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| format!("{} {h:016x}\n", i + 1))
        .collect();
    let write = |path: &Path| -> Result<(), String> {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        fs::write(path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let recorded = match fs::read_to_string(&file) {
        Ok(t) => t,
        Err(_) if opts.update => {
            write(&file)?;
            return Ok(Status::Updated { path: file });
        }
        Err(_) if opts.ci => return Ok(Status::Missing),
        Err(_) => {
            let pending = dir.join("hashes.new.txt");
            write(&pending)?;
            return Ok(Status::Pending { written: pending });
        }
    };
    let first_diff = recorded
        .lines()
        .zip(text.lines())
        .position(|(a, b)| a.trim() != b.trim())
        .or_else(|| {
            (recorded.lines().count() != text.lines().count())
                .then(|| recorded.lines().count().min(text.lines().count()))
        });
    match first_diff {
        None => Ok(Status::Pass),
        Some(_) if opts.update => {
            write(&file)?;
            Ok(Status::Updated { path: file })
        }
        Some(i) => Ok(Status::Diverged { tick: i as u64 + 1 }),
    }
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
fn write_artifacts(dir: &Path, capture: &str, golden: &Path, actual: &Frame) -> Result<(), String> {
    let expected = fs::read(golden)
        .ok()
        .and_then(|b| decode_png(&b).ok())
        .ok_or_else(|| format!("cannot read golden {}", golden.display()))?;
    write_png(
        &dir.join(format!("{capture}.expected.png")),
        &expected,
        Compression::Fast,
    )?;
    write_png(
        &dir.join(format!("{capture}.actual.png")),
        actual,
        Compression::Fast,
    )?;
    write_png(
        &dir.join(format!("{capture}.diff.png")),
        &diff_image(&expected, actual),
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
         h2{{margin-top:32px}} td{{padding:2px 10px}} .bad{{color:#ff7b72}}</style>\
         <h1>{name}</h1><p>{desc}</p><p>scenario: <code>{path}</code></p>",
        name = esc(&result.name),
        desc = esc(&scenario.description),
        path = esc(&result.path.display().to_string()),
    );
    if let Some(t) = result.first_divergence {
        let _ = write!(
            h,
            "<p class=bad>The frame hashes first differ from the recorded run at tick <b>{t}</b>.</p>"
        );
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
             <div class=row><figure><img src=\"{cap}.expected.png\"><figcaption>expected (golden)</figcaption></figure>\
             <figure><img src=\"{cap}.actual.png\"><figcaption>actual</figcaption></figure>\
             <figure><img src=\"{cap}.diff.png\"><figcaption>difference</figcaption></figure></div>",
            cap = esc(&f.capture),
            tick = f.tick,
            diff = c.differing,
            allow = c.tolerance.max_pixels,
            max = c.max_diff,
            tol = c.tolerance.max_diff,
        );
    }
    h.push_str("<p>Accept the new frames with <code>advkit golden check --update</code> or review them with <code>advkit golden review</code>.</p>");
    h
}
