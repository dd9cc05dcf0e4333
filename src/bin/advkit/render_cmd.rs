//! `advkit render`: one frame, headless, to a PNG.

use std::io::Write;
use std::path::PathBuf;

use advkit_core::{Compression, Engine, Frame, Size, encode_png};
use anyhow::{Context, Result};

use crate::{SceneArg, load};

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    scene: SceneArg,
    /// World seed (the `world_seed` parameter).
    #[arg(long, value_name = "N")]
    seed: Option<u32>,
    /// Ticks to simulate before drawing.
    #[arg(long, value_name = "N", default_value_t = 120)]
    ticks: u64,
    /// Frame size in pixels.
    #[arg(long, value_name = "WxH", default_value = "320x180")]
    size: Size,
    /// Set a parameter, e.g. --set walk_mode=pixel (repeatable; see `advkit params`).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = load::name_value)]
    sets: Vec<(String, String)>,
    /// Input timeline (JSON list of {tick, button, action|hold}) to play.
    #[arg(long, value_name = "FILE")]
    inputs: Option<PathBuf>,
    /// Where to write the PNG; `-` for standard output.
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
}

pub fn run(args: RenderArgs) -> Result<()> {
    let scene = load::scene(args.scene.scene.as_deref())?;
    let timeline = load::timeline(args.inputs.as_deref())?;
    let params = load::params(&scene, args.seed, &args.sets)?;

    let mut engine = Engine::with_params(scene, params);
    engine.run(args.ticks, &timeline);
    let mut frame = Frame::new(args.size);
    engine.render(&mut frame);
    let png = encode_png(&frame, Compression::Fast)?;

    let summary = format!(
        "{}x{} tick {} hash {:016x}",
        frame.width(),
        frame.height(),
        engine.tick(),
        frame.hash()
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
