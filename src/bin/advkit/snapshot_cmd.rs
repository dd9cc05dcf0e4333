//! `advkit snapshot`: the newest frame of a running engine, as a PNG.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use advkit_core::{Compression, Frame, Size, encode_png, hash_pixels};
use advkit_ipc::{FrameReader, ReadError, RuntimeDir};
use anyhow::{Context, Result};

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// Which engine (see `advkit ls`).
    #[arg(long, value_name = "NAME", default_value = "default")]
    name: String,
    /// Where to write the PNG; `-` for standard output.
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
}

/// Opens the frame region of engine `name`, checking the runtime directory.
pub fn open_reader(name: &str) -> Result<FrameReader> {
    advkit_ipc::runtime::validate_name(name)?;
    let dir = RuntimeDir::from_env();
    dir.check()?;
    Ok(FrameReader::open(&dir.frames_path(name))?)
}

pub fn run(args: SnapshotArgs) -> Result<()> {
    let reader = open_reader(&args.name)?;
    reader.check_alive()?;
    let mut buf = reader.buffer();
    let info = match reader.read_latest(&mut buf) {
        Err(ReadError::NoFrameYet { .. }) => {
            // Just started: give it a moment to publish.
            reader.wait_for_frame(0, Duration::from_secs(2))?;
            reader.read_latest(&mut buf)?
        }
        other => other?,
    };
    let g = reader.geometry();
    let size = Size::new(g.width, g.height).map_err(anyhow::Error::msg)?;
    let frame = Frame::from_pixels(size, buf.as_slice().to_vec())
        .context("frame size does not match the region's geometry")?;
    let png = encode_png(&frame, Compression::Fast)?;
    let summary = format!(
        "{}x{} frame {} tick {} hash {:016x}",
        g.width,
        g.height,
        info.frame,
        info.tick,
        hash_pixels(frame.pixels())
    );
    if args.out.as_os_str() == "-" {
        std::io::stdout().lock().write_all(&png)?;
        eprintln!("{summary}");
    } else {
        std::fs::write(&args.out, &png)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        writeln!(
            std::io::stdout().lock(),
            "{summary} -> {}",
            args.out.display()
        )?;
    }
    Ok(())
}
