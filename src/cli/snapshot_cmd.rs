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
    /// Take it from an engine on another machine, over its TCP port (it
    /// runs with --tcp), as the remote inspector does.
    #[arg(long, value_name = "ADDR", conflicts_with = "wait")]
    tcp: Option<std::net::SocketAddr>,
    /// The token for --tcp, in a file (any tier); default:
    /// <runtime dir>/<NAME>.token.
    #[arg(long, value_name = "FILE", requires = "tcp")]
    token_file: Option<PathBuf>,
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
    let (frame, number, tick) = match args.tcp {
        Some(addr) => remote_frame(&args, addr)?,
        None => local_frame(&args)?,
    };
    let (g_width, g_height) = (frame.size().width, frame.size().height);
    let summary = format!(
        "{}x{} frame {} tick {} hash {:016x}",
        g_width,
        g_height,
        number,
        tick,
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
                number,
                golden.display(),
                c.describe(),
                args.diff.display()
            );
        }
        writeln!(std::io::stdout().lock(), "matches {}", golden.display())?;
    }
    Ok(())
}

/// The newest (or, with --wait, the next) frame of a local engine: the
/// frame, its number and its tick.
fn local_frame(args: &SnapshotArgs) -> Result<(Frame, u64, u64)> {
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
    Ok((frame, info.frame, info.tick))
}

/// The newest frame of an engine elsewhere: one frame of a
/// `frames.subscribe` over its TCP port, decoded.
fn remote_frame(args: &SnapshotArgs, addr: std::net::SocketAddr) -> Result<(Frame, u64, u64)> {
    use advkit_ipc::api::{FramesSubscribeParams, FramesSubscribed, method};
    let token = super::load::token(args.token_file.as_deref(), &args.name, &addr.to_string())?;
    let mut client = advkit_ipc::client::Client::connect_tcp(addr, Some(&token))?;
    let sub: FramesSubscribed = client
        .request::<method::FramesSubscribe>(&FramesSubscribeParams {
            window: Some(1),
            ..FramesSubscribeParams::default()
        })?
        .result;
    let msg = client
        .next_frame(Some(Duration::from_secs(10)))?
        .with_context(|| {
            format!("{addr} sent no frame in 10 s (has it published one? `advkit send step`)")
        })?;
    let pixels = advkit_ipc::stream::FrameDecoder::default()
        .decode(&msg)
        .map_err(anyhow::Error::msg)?
        .to_vec();
    let size = Size::new(sub.width, sub.height).map_err(anyhow::Error::msg)?;
    let frame = Frame::from_pixels(size, pixels).context("a frame of another size came")?;
    Ok((frame, msg.frame, msg.tick))
}
