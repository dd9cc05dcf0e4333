//! `advkit run`: the demo engine, live ([`crate::live::Demo`], built on
//! `advkit_ipc::Host` like any other game). This file only turns the
//! arguments into an engine and a host config.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::live::Demo;
use advkit_core::{Engine, Size, Value};
use advkit_ipc::api::Tier;
use advkit_ipc::host::{read_params_file, read_token_file};
use advkit_ipc::{HistoryConfig, HostConfig, Limits, RuntimeDir};
use anyhow::{Context, Result};

use super::{SceneArg, load};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Engine name: its files are <runtime dir>/<NAME>.frames and <NAME>.sock.
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
    /// Params file: loaded at start if it exists (before --set), and where
    /// `params.save` / `params.load` write and read.
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
    /// Also accept control connections on TCP, e.g. 127.0.0.1:7777; each
    /// must `auth` with a token: those of --token, else the admin token
    /// made in <runtime dir>/<NAME>.token.
    #[arg(long, value_name = "ADDR")]
    tcp: Option<SocketAddr>,
    /// A TCP token and what it may call (repeatable): TIER is observe
    /// (read-only methods, frames, events), tune (also params), drive (also
    /// input, pause, resume, step, seek, until, watch) or admin
    /// (everything); FILE holds the token, owner-only (chmod 600).
    #[arg(long = "token", value_name = "TIER=FILE", requires = "tcp", value_parser = tier_file)]
    tokens: Vec<(Tier, PathBuf)>,
    /// Allow --tcp on an address that is not loopback.
    #[arg(long, requires = "tcp")]
    allow_remote: bool,
    /// Start paused before the first update (tick 0, its frame published):
    /// nothing ticks until a client resumes or steps it, so a live run lines
    /// up with a headless one (`advkit render --ticks N` = `send step N`).
    /// ADVKIT_PAUSED=1 in the environment does the same (for any game on
    /// advkit's Host; `advkit golden` uses it to replay).
    #[arg(long)]
    paused: bool,
    /// Close a control connection that has sent nothing for SECONDS and
    /// subscribed to no events (0, the default: never). Whatever this says,
    /// a TCP connection must `auth` within 5 s and a request line must
    /// complete within 30 s of its first byte.
    #[arg(long, value_name = "SECONDS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    idle_timeout: u64,
    /// Seconds of history to keep for `advkit send seek`, `diff` and the
    /// inspector's timeline (keyframes of the game's world.save every
    /// quarter second, every request and frame checksum); 0 turns it off.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = load::seconds)]
    history: f64,
    /// The most memory the history may hold, in MB; the oldest keyframes
    /// go first.
    #[arg(long, value_name = "MB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    history_mb: u64,
}

pub fn run(args: RunArgs) -> Result<()> {
    let scene_path = args.scene.scene.clone();
    let scene = load::scene(scene_path.as_deref())?;
    let mut params = advkit_core::params::for_scene(&scene);
    if let Some(file) = args.params.as_deref().filter(|f| f.exists()) {
        let values = read_params_file(file, &params).map_err(anyhow::Error::msg)?;
        params
            .set_many(&values)
            .with_context(|| format!("params file {}", file.display()))?;
    }
    let mut params = load::params_over(params, args.seed, &args.sets)?;
    if let Some(fps) = args.fps {
        params
            .set(advkit_core::params::TICK_RATE, Value::Int(fps.into()))
            .context("--fps")?;
    }
    let engine = Engine::with_params(scene, params);
    let fps = engine.settings().tick_rate;
    let base = HostConfig::new(&args.name, args.size.width, args.size.height);
    let mut demo = Demo::start(
        engine,
        scene_path,
        HostConfig {
            dir: RuntimeDir::from_env(),
            tcp: args.tcp,
            tokens: args
                .tokens
                .iter()
                .map(|(tier, file)| Ok((*tier, read_token_file(file)?)))
                .collect::<Result<_, advkit_ipc::HostError>>()?,
            allow_remote: args.allow_remote,
            params_file: args.params.clone(),
            paused: args.paused || base.paused,
            limits: Limits {
                idle_timeout: (args.idle_timeout > 0)
                    .then(|| std::time::Duration::from_secs(args.idle_timeout)),
                ..Limits::default()
            },
            history: HistoryConfig {
                seconds: args.history,
                max_bytes: args.history_mb << 20,
                ..HistoryConfig::default()
            },
            ..base
        },
    )?;
    let host = demo.host();
    eprintln!(
        "engine {} running: {}x{} at {fps} fps\n  frames  {}\n  control {}{}\n(Ctrl-C stops it)",
        args.name,
        args.size.width,
        args.size.height,
        host.frames_path().display(),
        host.socket_path().display(),
        match (host.tcp_addr(), host.token_path()) {
            (Some(addr), Some(token)) =>
                format!("\n  tcp     {addr} (admin token in {})", token.display()),
            (Some(addr), None) => format!(
                "\n  tcp     {addr} (tokens: {})",
                args.tokens
                    .iter()
                    .map(|(t, f)| format!("{t} in {}", f.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        }
    );
    demo.run();
    eprintln!(
        "engine {} stopped at tick {}",
        args.name,
        demo.engine().tick()
    );
    Ok(())
}

/// `TIER=FILE` of `--token`.
fn tier_file(s: &str) -> Result<(Tier, PathBuf), String> {
    let (tier, file) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: give TIER=FILE, e.g. observe=viewer.token"))?;
    Ok((tier.parse()?, PathBuf::from(file)))
}
