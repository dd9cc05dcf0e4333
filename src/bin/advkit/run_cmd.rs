//! `advkit run`: the engine, live, publishing every frame.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use advkit_core::{Engine, Frame, Size, Value};
use advkit_ipc::{FrameWriter, RuntimeDir};
use anyhow::{Context, Result};

use crate::{SceneArg, load};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Engine name: its files are <runtime dir>/<NAME>.frames (and .sock).
    #[arg(long, value_name = "NAME", default_value = "default")]
    name: String,
    #[command(flatten)]
    scene: SceneArg,
    /// Ticks (and frames) per second: the `tick_rate` parameter, 1-240.
    #[arg(long, value_name = "N")]
    fps: Option<u32>,
    /// Frame size in pixels.
    #[arg(long, value_name = "WxH", default_value = "320x180")]
    size: Size,
    /// World seed (the `world_seed` parameter).
    #[arg(long, value_name = "N")]
    seed: Option<u32>,
    /// Set a parameter, e.g. --set walk_mode=pixel (repeatable; see `advkit params`).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = load::name_value)]
    sets: Vec<(String, String)>,
}

pub fn run(args: RunArgs) -> Result<()> {
    advkit_ipc::runtime::validate_name(&args.name)?;
    let scene = load::scene(args.scene.scene.as_deref())?;
    let mut params = load::params(&scene, args.seed, &args.sets)?;
    if let Some(fps) = args.fps {
        params
            .set("tick_rate", Value::Int(fps.into()))
            .context("--fps")?;
    }
    let mut engine = Engine::with_params(scene, params);

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the SIGINT/SIGTERM handler")?;
    }

    let dir = RuntimeDir::from_env();
    dir.create()?;
    let fps = engine.settings().tick_rate;
    let mut writer = FrameWriter::create(
        &dir.frames_path(&args.name),
        args.size.width,
        args.size.height,
        f64::from(fps),
    )?;
    eprintln!(
        "engine {} running: {}x{} at {fps} fps, frames in {} (Ctrl-C stops it)",
        args.name,
        args.size.width,
        args.size.height,
        writer.path().display()
    );

    let mut frame = Frame::new(args.size);
    let mut next = Instant::now();
    let mut rate = fps;
    while !stop.load(Ordering::Relaxed) {
        engine.step();
        engine.render(&mut frame);
        writer.publish(engine.tick(), frame.pixels())?;

        let now_rate = engine.settings().tick_rate.max(1);
        if now_rate != rate {
            rate = now_rate;
            writer.set_fps(f64::from(rate));
        }
        let period = Duration::from_secs(1) / rate;
        next += period;
        let now = Instant::now();
        if next + period * 4 < now {
            // Far behind (suspended, or the machine is overloaded): do not
            // try to catch up with a burst of frames.
            next = now;
        }
        sleep_until(next, &stop, &writer);
    }
    eprintln!(
        "engine {} stopped at tick {} after {} frames",
        args.name,
        engine.tick(),
        writer.frames_published()
    );
    Ok(())
}

/// Sleeps in slices short enough to keep the heartbeat fresh and to notice
/// a stop request, even at 1 fps.
fn sleep_until(deadline: Instant, stop: &AtomicBool, writer: &FrameWriter) {
    loop {
        let now = Instant::now();
        if now >= deadline || stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
        writer.heartbeat();
    }
}
