//! `advkit render`: one frame, headless, to a PNG.

use std::path::PathBuf;

use advkit_core::{Engine, Frame, Size};
use anyhow::Result;

use super::{SceneArg, load, output};

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    scene: SceneArg,
    /// World seed (the `world_seed` parameter).
    #[arg(long, value_name = "N")]
    seed: Option<u32>,
    /// Ticks to simulate before drawing.
    #[arg(long, value_name = "N", default_value_t = 120, allow_negative_numbers = true,
          value_parser = load::count)]
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
    let summary = format!(
        "{}x{} tick {} hash {:016x}",
        frame.width(),
        frame.height(),
        engine.tick(),
        frame.hash()
    );
    output::write_png(&args.out, &frame, &summary)?;
    Ok(())
}
