//! `advkit golden check` and `advkit golden review`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::golden::{Options, ScenarioResult, check_scenario, find_scenarios, output};
use anyhow::{Context, Result, bail};

#[derive(Debug, clap::Args)]
pub struct GoldenArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Run scenarios headless and compare their captures with golden PNGs.
    ///
    /// Exit status 1 if anything fails. Failures leave actual, expected and
    /// diff PNGs and report.html in target/advkit-golden/<scenario>/, and
    /// target/advkit-golden/index.html links every report. A missing golden
    /// is written as <capture>.new.png (pending), or fails when CI is set
    /// (its actual frame is then left in the artifacts, to upload).
    ///
    /// Without paths it works on the project around the current directory:
    /// the nearest directory at or above it with fixtures/scenarios.
    Check {
        /// Scenario files or directories [default: <project>/fixtures/scenarios].
        paths: Vec<PathBuf>,
        /// Re-bless failing and missing captures only (says which files
        /// changed); ADVKIT_GOLDEN_UPDATE=1 does the same.
        #[arg(long)]
        update: bool,
        /// With --update: bless failing captures as another accepted golden
        /// named NAME (<capture>@NAME.png, for a platform that draws
        /// otherwise), keeping the ones there; a capture passes when it
        /// matches any of its goldens.
        #[arg(long, value_name = "NAME", requires = "update", value_parser = variant_name)]
        variant: Option<String>,
        /// Where goldens live [default: <project>/fixtures/golden; outside
        /// a project, golden/ beside the first scenario].
        #[arg(long, value_name = "DIR")]
        golden_dir: Option<PathBuf>,
        /// Where failure artifacts go [default: <project>/target/advkit-golden;
        /// outside a project, golden-out/ beside the first scenario].
        #[arg(long, value_name = "DIR")]
        artifacts: Option<PathBuf>,
        /// Replay built-in scenarios through the protocol too (a paused
        /// `advkit run` stepped tick by tick), not in-process; scenarios that
        /// name an "engine" always are.
        #[arg(long)]
        protocol: bool,
        /// Print one JSON document (every scenario, capture and number)
        /// instead of lines.
        #[arg(long)]
        json: bool,
        /// Also write JUnit XML to FILE, for CI test panels.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Golden files no scenario refers to (a renamed capture's old PNG,
        /// a deleted scenario's directory): list them (warn), fail on them
        /// (reject) or remove them (delete).
        #[arg(long, value_name = "ACTION")]
        unreferenced: Option<Unreferenced>,
        /// Run a failing scenario up to N more times: drawing the same
        /// again, it fails; drawing something else, it is reported
        /// nondeterministic, with what each run found.
        #[arg(long, value_name = "N", default_value_t = 0)]
        retries: u32,
        /// Scenarios checked at once [default: one per core].
        #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
        #[command(flatten)]
        select: Select,
        /// Start no more scenarios after the first that fails (the ones
        /// under way finish).
        #[arg(long)]
        fail_fast: bool,
        /// Print only what did not pass, and the summary.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Merge the artifacts directories of `check --shard K/N` runs (each
    /// machine's, with its results.json, junit.xml and reports) into one
    /// report, JSON and JUnit; a missing shard is named and fails.
    Merge {
        /// The shards' --artifacts directories.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Where the merged index.html, results.json, junit.xml and
        /// reports go [default: <project>/target/advkit-golden].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print the merged JSON document instead of lines.
        #[arg(long)]
        json: bool,
        /// Also write the merged JUnit XML here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Walk through pending and failed captures and hash sequences in the
    /// terminal, with what `check` measured (tick, pixels, largest
    /// difference, box; the world, for hashes): expected, actual, diff,
    /// side by side or blinking; `z` zooms to the differing box; `a`/`r`
    /// accept/reject, `A`/`R` all.
    Review {
        /// A scenario file or directory checked outside a project: review
        /// what `check` left beside it (golden/ and golden-out/).
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
        /// Where goldens live [default: <project>/fixtures/golden].
        #[arg(long, value_name = "DIR")]
        golden_dir: Option<PathBuf>,
        /// Where `check` left failures [default: <project>/target/advkit-golden].
        #[arg(long, value_name = "DIR")]
        artifacts: Option<PathBuf>,
        /// Accept without a screen (for scripts): `scenario/capture`,
        /// `scenario/hashes`, a whole `scenario`, or `all`. Repeatable.
        #[arg(long, value_name = "NAME")]
        accept: Vec<String>,
    },
}

/// A variant's name: it names a file.
fn variant_name(s: &str) -> Result<String, String> {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if plain {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "variant `{s}`: use letters, digits, - and _ (it names a file)"
        ))
    }
}

/// Which scenarios a check runs.
#[derive(Debug, Clone, clap::Args)]
struct Select {
    /// Run shard K of N (1-based), for a CI matrix: every machine computes
    /// the same split; `golden merge` joins the shards' reports.
    #[arg(long, value_name = "K/N")]
    shard: Option<crate::golden::select::Shard>,
    /// A previous run's --json document (or results.json): shards are
    /// balanced by how long each scenario took there.
    #[arg(long, value_name = "FILE", requires = "shard")]
    durations: Option<PathBuf>,
    /// Only scenarios whose name contains PATTERN (`*` matches any run of
    /// characters against the whole name). Repeatable: any of them.
    #[arg(short = 'k', value_name = "PATTERN")]
    names: Vec<String>,
    /// Only the scenarios that failed, were nondeterministic or could not
    /// run when last checked (kept in last-failed.json in the artifacts
    /// directory, across filtered runs); all of them when none did.
    #[arg(long)]
    last_failed: bool,
}

impl Select {
    /// `files` as selected, and what to say about it.
    fn apply(
        &self,
        mut files: Vec<PathBuf>,
        artifacts: &Path,
    ) -> Result<(Vec<PathBuf>, Vec<String>)> {
        use crate::golden::select;
        let mut said = Vec::new();
        if !self.names.is_empty() {
            files.retain(|f| select::matches(&select::name_of(f), &self.names));
        }
        if self.last_failed {
            let file = artifacts.join(LAST_FAILED);
            let failed = last_failed(&file);
            if failed.is_empty() {
                said.push(format!(
                    "--last-failed: no failure recorded in {}; running every scenario",
                    file.display()
                ));
            } else {
                files.retain(|f| failed.contains(&select::name_of(f)));
            }
        }
        if let Some(shard) = self.shard {
            let durations = match &self.durations {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let doc: serde_json::Value =
                        serde_json::from_str(&text).with_context(|| {
                            format!("{} is not a golden check's JSON", path.display())
                        })?;
                    select::durations(&doc)
                }
                None => Default::default(),
            };
            let all = files.len();
            files = select::shard(&files, shard, &durations);
            said.push(format!(
                "shard {shard}: {} of {all} scenario(s)",
                files.len()
            ));
        }
        Ok((files, said))
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Unreferenced {
    Warn,
    Reject,
    Delete,
}

/// The project's directory: the nearest with fixtures/scenarios at or
/// above the current one, as a short path (empty or `../..`); `None`
/// outside any project.
fn project() -> Option<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Some(match crate::golden::project_root(&cwd)? {
        // Empty, not ".", so paths print as "target/…", not "./target/…".
        root if root == cwd => PathBuf::new(),
        root => {
            let up = cwd
                .strip_prefix(&root)
                .map_or(0, |p| p.components().count());
            if up == 0 {
                root
            } else {
                std::iter::repeat_n("..", up).collect()
            }
        }
    })
}

/// Where goldens and reports go when the current directory is in no
/// project: the project of the first scenario named (the nearest
/// directory with fixtures/scenarios above it), or else beside it, in
/// `golden/` and `golden-out/`, said once on stderr; never a `fixtures/`
/// and `target/` made in whatever directory this runs in.
fn outside_a_project(paths: &[PathBuf]) -> Options {
    let first = paths.first().cloned().unwrap_or_default();
    let first = std::fs::canonicalize(&first).unwrap_or(first);
    let base = if first.is_dir() {
        first.clone()
    } else {
        first.parent().map(Path::to_owned).unwrap_or_default()
    };
    if let Some(root) = crate::golden::project_root(&base) {
        return Options::new(&root);
    }
    let mut opts = Options::new(&base);
    opts.golden_dir = base.join("golden");
    opts.artifacts = base.join("golden-out");
    eprintln!(
        "advkit: {} is in no project (no fixtures/scenarios above it): goldens go to {}, \
         reports to {} (--golden-dir and --artifacts choose others)",
        first.display(),
        opts.golden_dir.display(),
        opts.artifacts.display()
    );
    opts
}

pub fn run(args: GoldenArgs) -> Result<()> {
    let root = project();
    match args.what {
        What::Check {
            paths,
            update,
            variant,
            golden_dir,
            artifacts,
            protocol,
            json,
            junit,
            unreferenced,
            jobs,
            retries,
            select,
            fail_fast,
            quiet,
        } => {
            let mut opts = match &root {
                Some(root) => Options::new(root),
                None if golden_dir.is_some() && artifacts.is_some() => Options::new(Path::new(".")),
                None => outside_a_project(&paths),
            };
            if let Some(g) = golden_dir {
                opts.golden_dir = g;
            }
            if let Some(a) = artifacts {
                opts.artifacts = a;
            }
            opts.update |= update;
            opts.variant = variant;
            opts.via_protocol = protocol;
            opts.advkit = Some(super::exe().to_owned());
            let paths = if paths.is_empty() {
                let dir = root.unwrap_or_default().join("fixtures/scenarios");
                if !dir.is_dir() {
                    bail!(
                        "no fixtures/scenarios in this directory or any above it; run from your \
                         project, or name scenario files or directories"
                    );
                }
                vec![dir]
            } else {
                paths
            };
            let jobs = jobs.map_or_else(
                || std::thread::available_parallelism().map_or(2, |n| n.get()),
                |n| n as usize,
            );
            let out = Output {
                json,
                junit,
                jobs,
                retries,
                select,
                fail_fast,
                quiet,
            };
            check(&paths, &opts, &out, unreferenced)
        }
        What::Merge {
            dirs,
            out,
            json,
            junit,
        } => {
            let out = out.unwrap_or_else(|| {
                Options::new(&root.unwrap_or_else(|| PathBuf::from("."))).artifacts
            });
            merge(&dirs, &out, json, junit.as_deref())
        }
        What::Review {
            path,
            golden_dir,
            artifacts,
            accept,
        } => {
            let opts = match (path, &root) {
                (Some(path), _) => outside_a_project(&[path]),
                (None, Some(root)) => Options::new(root),
                (None, None) if golden_dir.is_some() && artifacts.is_some() => {
                    Options::new(Path::new("."))
                }
                (None, None) => bail!(
                    "no fixtures/scenarios in this directory or any above it, so no goldens to \
                     review here; run from your project, name the scenario file or directory \
                     you checked (`advkit golden review scenarios/`), or give --golden-dir and \
                     --artifacts"
                ),
            };
            review(
                &golden_dir.unwrap_or(opts.golden_dir),
                &artifacts.unwrap_or(opts.artifacts),
                &accept,
            )
        }
    }
}

struct Output {
    json: bool,
    junit: Option<PathBuf>,
    /// Scenarios checked at once.
    jobs: usize,
    /// Runs more for a failing scenario.
    retries: u32,
    select: Select,
    fail_fast: bool,
    quiet: bool,
}

fn check(
    paths: &[PathBuf],
    opts: &Options,
    out: &Output,
    unreferenced: Option<Unreferenced>,
) -> Result<()> {
    let files = find_scenarios(paths)?;
    if files.is_empty() {
        bail!("no scenarios found in {paths:?}");
    }
    let (files, said) = out.select.apply(files, &opts.artifacts)?;
    for s in said {
        eprintln!("advkit: {s}");
    }
    if files.is_empty() {
        bail!("no scenario in {paths:?} is selected (-k, --last-failed, --shard)");
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let next = AtomicUsize::new(0);
    // Results are printed in file order (stable from run to run) as soon
    // as every earlier one is done.
    // (the next to print, the results, the warnings said: each once)
    type Printing = (usize, Vec<Option<ScenarioResult>>, Vec<String>);
    let done: Mutex<Printing> = Mutex::new((0, vec![None; files.len()], Vec::new()));
    let workers = out.jobs.min(files.len()).max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let mut r = check_scenario(file, opts);
                    for _ in 0..out.retries {
                        if !r.failed() || r.nondeterministic.is_some() {
                            break;
                        }
                        r.retried(check_scenario(file, opts));
                    }
                    if out.fail_fast && r.failed() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
                    done.1[i] = Some(r);
                    if let Some(b) = &bar {
                        b.inc(1);
                    }
                    let done = &mut *done;
                    while let Some(Some(r)) = done.1.get(done.0) {
                        let mut lines = Vec::new();
                        for w in &r.warnings {
                            if !done.2.contains(w) {
                                lines.push(format!("warning: {w}"));
                                done.2.push(w.clone());
                            }
                        }
                        if !out.quiet || r.failed() || r.pending() > 0 {
                            lines.extend(r.lines());
                        }
                        let text = lines.join("\n");
                        match (&bar, out.json) {
                            _ if text.is_empty() => {}
                            (_, true) => {}
                            (Some(b), false) => b.println(&text),
                            (None, false) => println!("{text}"),
                        }
                        done.0 += 1;
                    }
                }
            });
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let results: Vec<ScenarioResult> = done
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .1
        .into_iter()
        .flatten()
        .collect();

    // What the run leaves: the index of every report, JUnit for CI.
    let index = opts.artifacts.join("index.html");
    std::fs::create_dir_all(&opts.artifacts)
        .and_then(|()| std::fs::write(&index, output::index_html(&results, &opts.artifacts)))
        .with_context(|| format!("cannot write {}", index.display()))?;
    remember_failures(&opts.artifacts, &results)?;
    // JUnit beside the reports too, for `golden merge`.
    let junit = output::junit_xml(&results);
    for file in out
        .junit
        .iter()
        .chain([&opts.artifacts.join(crate::golden::merge::JUNIT)])
    {
        std::fs::write(file, &junit).with_context(|| format!("cannot write {}", file.display()))?;
    }
    let orphans = match unreferenced {
        Some(action) => {
            let all = find_scenarios(&[opts.golden_dir.join("../scenarios")]).unwrap_or_default();
            let mut known = files.clone();
            known.extend(all);
            let orphans = crate::golden::unreferenced(&opts.golden_dir, &known);
            if let Unreferenced::Delete = action {
                for o in &orphans {
                    let gone = if o.is_dir() {
                        std::fs::remove_dir_all(o)
                    } else {
                        std::fs::remove_file(o)
                    };
                    gone.with_context(|| format!("cannot remove {}", o.display()))?;
                }
            }
            Some((action, orphans))
        }
        None => None,
    };

    let captures: usize = results.iter().map(|r| r.captures.len()).sum();
    let errors: Vec<&ScenarioResult> = results.iter().filter(|r| r.error.is_some()).collect();
    let failed: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| r.failed() && r.error.is_none())
        .collect();
    let pending: usize = results.iter().map(ScenarioResult::pending).sum();
    let flaky = failed
        .iter()
        .filter(|r| r.nondeterministic.is_some())
        .count();
    let updated: usize = results
        .iter()
        .flat_map(|r| &r.captures)
        .filter(|c| matches!(c.status, crate::golden::Status::Updated { .. }))
        .count();
    let xfail: usize = results
        .iter()
        .flat_map(|r| &r.captures)
        .filter(|c| matches!(c.status, crate::golden::Status::XFail { .. }))
        .count();
    let rejected = matches!(&orphans, Some((Unreferenced::Reject, o)) if !o.is_empty());
    let mut stdout = std::io::stdout().lock();
    {
        let doc = serde_json::json!({
            "scenarios": results.iter().map(output::json).collect::<Vec<_>>(),
            "summary": {
                "scenarios": results.len(),
                "captures": captures,
                "failed": failed.len(),
                "nondeterministic": flaky,
                "errors": errors.len(),
                "pending": pending,
                "updated": updated,
                "xfail": xfail,
            },
            "unreferenced": orphans.as_ref().map(|(_, o)| o.clone()),
            "index": index,
            "shard": out.select.shard.map(|s| serde_json::json!({"index": s.index, "total": s.total})),
        });
        let text = serde_json::to_string_pretty(&doc)?;
        // The whole result beside the reports: for `--last-failed`,
        // `--durations` and `golden merge`.
        let file = opts.artifacts.join(crate::golden::merge::RESULTS);
        std::fs::write(&file, &text).with_context(|| format!("cannot write {}", file.display()))?;
        if out.json {
            writeln!(stdout, "{text}")?;
        }
    }
    if !out.json {
        if let Some((action, orphans)) = &orphans {
            let verb = match action {
                Unreferenced::Delete => "removed",
                _ => "unreferenced",
            };
            for o in orphans {
                writeln!(stdout, "{verb}: {}", o.display())?;
            }
        }
        let first = failed.first().and_then(|r| {
            r.captures
                .iter()
                .find(|c| c.status.is_failure())
                .map(|c| format!("{}/{}", r.name, c.name))
        });
        writeln!(
            stdout,
            "\n{} scenario(s), {captures} capture(s): {} failed scenario(s){}, {} could not run, {pending} pending, {updated} updated{}{}",
            results.len(),
            failed.len(),
            if flaky > 0 {
                format!(" ({flaky} nondeterministic)")
            } else {
                String::new()
            },
            errors.len(),
            if xfail > 0 {
                format!(", {xfail} failing as expected (xfail)")
            } else {
                String::new()
            },
            first
                .map(|f| format!("; first failure: {f}"))
                .unwrap_or_default()
        )?;
        if !failed.is_empty() || !errors.is_empty() {
            writeln!(stdout, "index of the reports: {}", index.display())?;
        }
        if pending > 0 {
            writeln!(
                stdout,
                "pending: review with `advkit golden review` or accept all with `--update`"
            )?;
        }
    }
    let mut why = Vec::new();
    if !errors.is_empty() {
        why.push(format!(
            "{} scenario file(s) could not run; fix them as the ERROR lines say (re-blessing would not help)",
            errors.len()
        ));
    }
    if flaky > 0 {
        why.push(format!(
            "{flaky} scenario(s) drew other frames when run again (nondeterministic): the game \
             reads the clock or unseeded randomness; re-blessing would not help"
        ));
    }
    if failed.len() > flaky {
        why.push(
            "frames differ from their goldens; see the reports, then fix the code or re-bless with `advkit golden check --update` (or `advkit golden review`)".to_owned(),
        );
    }
    if rejected {
        why.push(
            "golden files no scenario refers to; remove them with `--unreferenced delete`"
                .to_owned(),
        );
    }
    if !why.is_empty() {
        bail!("golden check failed: {}", why.join("; "));
    }
    Ok(())
}

fn review(golden_dir: &Path, artifacts: &Path, accept: &[String]) -> Result<()> {
    let mut items = advkit_tui::review::collect(golden_dir, artifacts);
    if !accept.is_empty() {
        let mut accepted = 0;
        for name in accept {
            let chosen: Vec<&mut advkit_tui::review::Item> = items
                .iter_mut()
                .filter(|i| {
                    i.decided.is_none() && (name == "all" || *name == i.scenario || *name == i.id())
                })
                .collect();
            if chosen.is_empty() {
                bail!(
                    "nothing to accept named `{name}`; pending or failed: {}",
                    describe(&items)
                );
            }
            for item in chosen {
                advkit_tui::review::accept(item).map_err(anyhow::Error::msg)?;
                println!("accepted {}: wrote {}", item.id(), item.golden.display());
                accepted += 1;
            }
        }
        println!("{accepted} accepted");
        return Ok(());
    }
    if items.is_empty() {
        println!(
            "nothing to review: no pending captures in {} and no failures in {}",
            golden_dir.display(),
            artifacts.display()
        );
        return Ok(());
    }
    let s = advkit_tui::review::run(items).context("the review screen failed")?;
    println!(
        "{} accepted, {} rejected, {} left undecided",
        s.accepted, s.rejected, s.undecided
    );
    Ok(())
}

/// "walk/t400, walk/hashes" (or "none").
fn describe(items: &[advkit_tui::review::Item]) -> String {
    let ids: Vec<String> = items
        .iter()
        .filter(|i| i.decided.is_none())
        .map(advkit_tui::review::Item::id)
        .collect();
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

/// The scenarios that did not pass when last checked, in the artifacts
/// directory: a run removes the ones it saw pass and adds the ones it saw
/// fail, so a filtered run (`-k`) forgets nothing about the others.
const LAST_FAILED: &str = "last-failed.json";

fn last_failed(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn remember_failures(artifacts: &Path, results: &[ScenarioResult]) -> Result<()> {
    let file = artifacts.join(LAST_FAILED);
    let mut failed = last_failed(&file);
    failed.retain(|name| !results.iter().any(|r| &r.name == name));
    failed.extend(
        results
            .iter()
            .filter(|r| r.failed())
            .map(|r| r.name.clone()),
    );
    failed.sort();
    std::fs::write(&file, serde_json::to_string(&failed)?)
        .with_context(|| format!("cannot write {}", file.display()))
}

/// `advkit golden merge`: one report from the shards' artifacts.
fn merge(dirs: &[PathBuf], out: &Path, json: bool, junit: Option<&Path>) -> Result<()> {
    let merged = crate::golden::merge::merge(dirs, out).map_err(anyhow::Error::msg)?;
    if let Some(file) = junit {
        std::fs::write(file, &merged.junit)
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    let summary = &merged.doc["summary"];
    let count = |key: &str| summary[key].as_u64().unwrap_or(0);
    let mut stdout = std::io::stdout().lock();
    if json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&merged.doc)?)?;
    } else {
        writeln!(
            stdout,
            "{} shard(s) merged: {} scenario(s), {} capture(s): {} failed scenario(s), {} could not \
             run, {} pending\nindex of the reports: {}",
            merged.doc["shards"]["merged"],
            count("scenarios"),
            count("captures"),
            count("failed"),
            count("errors"),
            count("pending"),
            out.join("index.html").display()
        )?;
    }
    let mut why = Vec::new();
    if !merged.missing.is_empty() {
        why.push(format!(
            "missing: {} (no directory given holds it; its scenarios are not in the report)",
            merged.missing.join(", ")
        ));
    }
    if count("failed") + count("errors") > 0 {
        why.push(format!(
            "{} scenario(s) failed and {} could not run; see the index",
            count("failed"),
            count("errors")
        ));
    }
    if !why.is_empty() {
        bail!("golden merge: {}", why.join("; "));
    }
    Ok(())
}
