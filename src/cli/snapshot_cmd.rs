//! `advkit snapshot`: the newest frame of a running engine, as a PNG.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use advkit_core::{Compression, Frame, Size, decode_png, encode_png};
use advkit_golden::{Tolerance, compare, diff_image};
use advkit_ipc::{FrameReader, ReadError, RuntimeDir};
use anyhow::{Context, Result};

use super::output;

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// Which engine (see `advkit ls`).
    #[arg(long, value_name = "NAME", default_value = "default")]
    name: String,
    /// Where to write the PNG; `-` for standard output.
    #[arg(long, value_name = "FILE.png", required_unless_present = "compare")]
    out: Option<PathBuf>,
    /// Take the next frame published after the command starts instead of
    /// the newest one, waiting up to SECONDS (default 5) for it. The
    /// reader sleeps until the engine publishes; a paused engine publishes
    /// nothing, so this times out until it is resumed or stepped.
    #[arg(
        long,
        value_name = "SECONDS",
        num_args = 0..=1,
        default_missing_value = "5",
        value_parser = parse_wait
    )]
    wait: Option<Duration>,
    /// Compare the frame with this golden PNG; exit 1 and write a diff
    /// heat map on a mismatch.
    #[arg(long, value_name = "GOLDEN.png")]
    compare: Option<PathBuf>,
    /// A pixel differs when a channel differs by more than N (with --compare).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "compare")]
    max_diff: u8,
    /// How many pixels may differ (with --compare).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "compare")]
    max_pixels: u64,
    /// Where the diff heat map goes on a mismatch.
    #[arg(
        long,
        value_name = "FILE.png",
        default_value = "advkit-snapshot.diff.png",
        requires = "compare"
    )]
    diff: PathBuf,
}

/// Opens the frame region of engine `name`, checking the runtime directory.
fn open_reader(name: &str) -> Result<FrameReader> {
    advkit_ipc::runtime::validate_name(name)?;
    let dir = RuntimeDir::from_env();
    dir.check()?;
    Ok(FrameReader::open(&dir.frames_path(name))?)
}

fn parse_wait(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=3600.0).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("`{s}` is not a number of seconds from 0 to 3600")),
    }
}

pub fn run(args: SnapshotArgs) -> Result<()> {
    let reader = open_reader(&args.name)?;
    reader.check_alive()?;
    let mut buf = reader.buffer();
    let info = match args.wait {
        Some(timeout) => {
            let after = reader.latest_frame();
            let next = reader.wait_next(after, timeout).map_err(|e| match e {
                ReadError::Timeout { .. } => anyhow::anyhow!(
                    "{e}; a paused engine publishes nothing: `advkit send --name {} resume` \
                     or `step`",
                    args.name
                ),
                e => e.into(),
            })?;
            // The newest frame, which is `next` unless more came since.
            reader.read_latest(&mut buf).or_else(|_| {
                reader
                    .read_frame(next, &mut buf)?
                    .ok_or_else(|| anyhow::anyhow!("frame {next} was overwritten; try again"))
            })?
        }
        None => match reader.read_latest(&mut buf) {
            Err(ReadError::NoFrameYet { .. }) => {
                // Just started: give it a moment to publish.
                reader.wait_next(0, Duration::from_secs(2))?;
                reader.read_latest(&mut buf)?
            }
            other => other?,
        },
    };
    let g = reader.geometry();
    let size = Size::new(g.width, g.height).map_err(anyhow::Error::msg)?;
    let frame = Frame::from_pixels(size, buf.as_slice().to_vec())
        .context("frame size does not match the region's geometry")?;
    let summary = format!(
        "{}x{} frame {} tick {} hash {:016x}",
        g.width,
        g.height,
        info.frame,
        info.tick,
        frame.hash()
    );
    match &args.out {
        Some(out) => output::write_png(out, &frame, &summary)?,
        None => writeln!(std::io::stdout().lock(), "{summary}")?,
    }
    if let Some(golden) = &args.compare {
        let bytes = std::fs::read(golden)
            .with_context(|| format!("cannot read golden {}", golden.display()))?;
        let expected = decode_png(&bytes)
            .with_context(|| format!("golden {} is not a readable PNG", golden.display()))?;
        let tolerance = Tolerance {
            max_diff: args.max_diff,
            max_pixels: args.max_pixels,
            ..Tolerance::default()
        };
        let c = compare(&expected, &frame, tolerance, &[]);
        if !c.passes() {
            let diff = encode_png(
                &diff_image(&expected, &frame, tolerance, &[]),
                Compression::Fast,
            )?;
            std::fs::write(&args.diff, diff)
                .with_context(|| format!("cannot write {}", args.diff.display()))?;
            anyhow::bail!(
                "frame {} does not match {}: {}; diff written to {}",
                info.frame,
                golden.display(),
                c.describe(),
                args.diff.display()
            );
        }
        writeln!(std::io::stdout().lock(), "matches {}", golden.display())?;
    }
    Ok(())
}
