//! `advkit golden check` and `advkit golden review`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use advkit::golden::{Options, ScenarioResult, check_scenario, find_scenarios};
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
    /// diff PNGs and report.html in target/advkit-golden/<scenario>/. A
    /// missing golden is written as <capture>.new.png (pending), or fails
    /// when CI is set.
    Check {
        /// Scenario files or directories.
        #[arg(default_value = "fixtures/scenarios")]
        paths: Vec<PathBuf>,
        /// Re-bless failing and missing captures (says which files changed).
        #[arg(long)]
        update: bool,
        /// Where goldens live.
        #[arg(long, value_name = "DIR", default_value = "fixtures/golden")]
        golden_dir: PathBuf,
        /// Where failure artifacts go.
        #[arg(long, value_name = "DIR", default_value = "target/advkit-golden")]
        artifacts: PathBuf,
        /// Replay built-in scenarios through the protocol too (a paused
        /// `advkit run` stepped tick by tick), not in-process; scenarios that
        /// name an "engine" always are.
        #[arg(long)]
        protocol: bool,
    },
    /// Walk through pending and failed captures in the terminal: toggle
    /// expected/actual/diff, `a` accepts, `r` rejects.
    Review {
        #[arg(long, value_name = "DIR", default_value = "fixtures/golden")]
        golden_dir: PathBuf,
        #[arg(long, value_name = "DIR", default_value = "target/advkit-golden")]
        artifacts: PathBuf,
    },
}

pub fn run(args: GoldenArgs) -> Result<()> {
    match args.what {
        What::Check {
            paths,
            update,
            golden_dir,
            artifacts,
            protocol,
        } => {
            let mut opts = Options::new(std::path::Path::new("."));
            opts.golden_dir = golden_dir;
            opts.artifacts = artifacts;
            opts.update = update;
            opts.via_protocol = protocol;
            opts.advkit = std::env::current_exe().ok();
            check(&paths, &opts)
        }
        What::Review {
            golden_dir,
            artifacts,
        } => review(&golden_dir, &artifacts),
    }
}

fn check(paths: &[PathBuf], opts: &Options) -> Result<()> {
    let files = find_scenarios(paths)?;
    if files.is_empty() {
        bail!("no scenarios found in {paths:?}");
    }
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
    let done: Mutex<(usize, Vec<Option<ScenarioResult>>)> =
        Mutex::new((0, vec![None; files.len()]));
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let r = check_scenario(file, opts);
                    let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
                    done.1[i] = Some(r);
                    if let Some(b) = &bar {
                        b.inc(1);
                    }
                    while let Some(Some(r)) = done.1.get(done.0) {
                        let mut lines = r
                            .warnings
                            .iter()
                            .map(|w| format!("warning: {w}"))
                            .collect::<Vec<_>>();
                        lines.extend(r.lines());
                        let text = lines.join("\n");
                        match &bar {
                            Some(b) => b.println(&text),
                            None => println!("{text}"),
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
    let captures: usize = results.iter().map(|r| r.captures.len()).sum();
    let failed: Vec<&ScenarioResult> = results.iter().filter(|r| r.failed()).collect();
    let pending: usize = results.iter().map(ScenarioResult::pending).sum();
    let updated: usize = results
        .iter()
        .flat_map(|r| &r.captures)
        .filter(|c| matches!(c.status, advkit::golden::Status::Updated { .. }))
        .count();
    let mut out = std::io::stdout().lock();
    let first = failed.first().and_then(|r| {
        r.captures
            .iter()
            .find(|c| c.status.is_failure())
            .map(|c| format!("{}/{}", r.name, c.name))
            .or_else(|| Some(r.name.clone()))
    });
    writeln!(
        out,
        "\n{} scenario(s), {captures} capture(s): {} failed scenario(s), {pending} pending, {updated} updated{}",
        results.len(),
        failed.len(),
        first
            .map(|f| format!("; first failure: {f}"))
            .unwrap_or_default()
    )?;
    if !failed.is_empty() {
        bail!(
            "golden check failed; see the reports above, then fix the code or re-bless with `advkit golden check --update`"
        );
    }
    if pending > 0 {
        writeln!(
            out,
            "pending: review with `advkit golden review` or accept all with `--update`"
        )?;
    }
    Ok(())
}

fn review(golden_dir: &std::path::Path, artifacts: &std::path::Path) -> Result<()> {
    let items = advkit_tui::review::collect(golden_dir, artifacts);
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
