//! `advkit record`: attach to a running engine (any game on advkit's
//! Host), start it from a known state (a fresh reboot, or its saved
//! state with --from-now), and write what happens as a golden
//! scenario (crate::record does the work; this file parses arguments,
//! asks before a fresh reboot and prints).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::record::{self, Start, StopReason};
use advkit_golden::KeepFrames;
use advkit_golden::store::Goldens;
use advkit_ipc::api::{RpcError, codes};
use advkit_ipc::client::ClientError;
use anyhow::{Context, Result, bail};

use super::send_cmd::Target;

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    target: Target,
    /// The scenario file to write, e.g. fixtures/scenarios/bug-42.json; its
    /// goldens go to <golden-dir>/<file stem>/.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Stop after N ticks (otherwise on Ctrl-C, SIGTERM, or when the
    /// engine exits).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    ticks: Option<u64>,
    /// Capture a golden frame every N ticks (and at the last tick).
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    capture_every: u64,
    /// Keep a frame beside the hashes every N ticks (0: none but the first
    /// and those around captures), so a divergence shows the expected
    /// picture at or near its first divergent tick. Kept, compressed,
    /// in <golden-dir>/<stem>/frames.bin by the verifying replay.
    #[arg(long, value_name = "N", default_value_t = KeepFrames::default().every)]
    keep_every: u64,
    /// Also keep the N frames before and after each capture.
    #[arg(long, value_name = "N", default_value_t = KeepFrames::default().around)]
    keep_around: u64,
    /// Reboot the engine fresh to start without asking (a fresh reboot
    /// throws away the player's progress; scripts need this).
    #[arg(long)]
    yes: bool,
    /// Record from where the game is instead of a fresh reboot: its state
    /// (world.save) is embedded in the scenario and loaded (world.load)
    /// when it is replayed. For a game that answers both.
    #[arg(long, conflicts_with = "yes")]
    from_now: bool,
    /// Where goldens live [default: the fixtures/golden of the project the
    /// scenario is in (the directory above --out with fixtures/scenarios),
    /// or golden/ beside the scenario outside a project, as `advkit golden
    /// check` looks for them].
    #[arg(long, value_name = "DIR")]
    golden_dir: Option<PathBuf>,
    /// Do not replay the recording headless afterwards to check that it
    /// reproduces every recorded frame.
    #[arg(long)]
    no_verify: bool,
    /// A description for the scenario file.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
}

pub fn run(args: RecordArgs) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install the SIGINT/SIGTERM handlers")?;
    }
    let stem = args
        .out
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .context("--out needs a file name, e.g. fixtures/scenarios/bug-42.json")?
        .to_owned();
    let connect = || args.target.connect();
    let mut start = Start::new(connect().map_err(|e| args.target.explain(e))?)
        .map_err(|e| args.target.explain(e))?;
    if args.from_now {
        start.from_now().map_err(|e| args.target.explain(e))?;
    } else {
        reboot_fresh(&mut start, &args)?;
    }
    let engine = start.engine_name().to_owned();
    let mut recording = start.begin().map_err(|e| args.target.explain(e))?;
    eprintln!(
        "recording {engine} from {} at tick {}{}; Ctrl-C stops",
        if args.from_now {
            "its saved state"
        } else {
            "a fresh start"
        },
        recording.start_tick,
        args.ticks
            .map(|n| format!(" for {n} ticks"))
            .unwrap_or_default()
    );
    let reason = recording
        .run(args.ticks, args.capture_every, &stop)
        .map_err(anyhow::Error::msg)?;
    let golden = golden_dir(&args).join(&stem);
    let written = recording
        .write(
            &args.out,
            &golden,
            args.description.as_deref(),
            KeepFrames {
                every: args.keep_every,
                around: args.keep_around,
            },
        )
        .map_err(anyhow::Error::msg)?;
    drop(recording);
    let said = match reason {
        StopReason::Ticks => "after --ticks",
        StopReason::Signal => "on a stop signal",
        StopReason::EngineGone => "when the engine exited",
        StopReason::Loaded => "when a saved state was loaded",
    };
    println!(
        "recorded {} tick(s) ({} request(s), {} frame hash(es)) from tick {} to {} {said}\n  scenario {}\n  goldens  {} ({} capture(s) and hashes.txt)",
        written.ticks,
        written.requests,
        written.hashes,
        written.start_tick,
        written.last_tick,
        args.out.display(),
        golden.display(),
        written.captures,
    );
    for w in &written.warnings {
        eprintln!("warning: {w}");
    }
    if !args.no_verify {
        match record::verify(&args.out, &golden) {
            Ok(n) => println!(
                "replayed headless: all {n} recorded frame hash(es) match; kept {} frame(s) \
                 beside them",
                Goldens::at(&golden)
                    .sequence(false)
                    .read_frames()
                    .map_or(0, |k| k.len())
            ),
            // The files stay (to look at, or to fix by hand), but a
            // script must not take them for a recording that replays.
            Err(e) => bail!(
                "{e}\nthe recording is written but did not verify ({}): `advkit golden check` \
                 will not pass it",
                e.kind()
            ),
        }
    }
    Ok(())
}

/// `--golden-dir`, or where `advkit golden check` will look for the
/// scenario's goldens: never a `fixtures/` made wherever this runs.
fn golden_dir(args: &RecordArgs) -> PathBuf {
    if let Some(dir) = &args.golden_dir {
        return dir.clone();
    }
    let out_dir = args
        .out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let abs = std::fs::canonicalize(out_dir).unwrap_or_else(|_| out_dir.to_owned());
    match crate::golden::project_root(&abs) {
        Some(root) => root.join("fixtures/golden"),
        None => out_dir.join("golden"),
    }
}

/// Reboots the engine fresh, asking first when that throws progress away.
fn reboot_fresh(start: &mut Start, args: &RecordArgs) -> Result<()> {
    match start.reboot_fresh(args.yes) {
        Ok(()) => Ok(()),
        Err(ClientError::Rpc(e)) if e.code == codes::CONFIRM_REQUIRED => {
            if !ask(&e)? {
                bail!("not recording: the engine was left as it was");
            }
            start.reboot_fresh(true).map_err(|e| args.target.explain(e))
        }
        Err(e) => Err(args.target.explain(e)),
    }
}

/// Asks on the terminal whether to reboot fresh, showing what it throws
/// away; without a terminal, says to add --yes.
fn ask(e: &RpcError) -> Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "{}\nrecording starts from a fresh reboot; add --yes to go ahead",
            e.message
        );
    }
    eprint!(
        "{}\nRecording starts from a fresh reboot. Reboot fresh now? [y/N] ",
        e.message
    );
    std::io::stderr().flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
