//! `advkit run`: the demo engine, live. A fixed-tick loop that publishes
//! every frame and answers control commands through `advkit_ipc::Host` —
//! the same API any other game would embed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use advkit_core::{
    Button, Compression, Engine, Frame, InputAction, Progress, Size, Value, encode_png, hash_pixels,
};
use advkit_ipc::host::read_params_file;
use advkit_ipc::protocol::{RpcError, codes};
use advkit_ipc::server::Command;
use advkit_ipc::{Host, HostConfig, RuntimeDir};
use anyhow::{Context, Result};
use base64::Engine as _;
use serde_json::{Value as Json, json};

use crate::{SceneArg, load};

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
    /// must `auth` with the token in <runtime dir>/<NAME>.token.
    #[arg(long, value_name = "ADDR")]
    tcp: Option<SocketAddr>,
    /// Allow --tcp on an address that is not loopback.
    #[arg(long, requires = "tcp")]
    allow_remote: bool,
}

pub fn run(args: RunArgs) -> Result<()> {
    let scene_path = args.scene.scene.clone();
    let scene = load::scene(scene_path.as_deref())?;
    let mut params = advkit_core::Params::for_scene(&scene);
    if let Some(file) = args.params.as_deref().filter(|f| f.exists()) {
        let values = read_params_file(file, &params).map_err(anyhow::Error::msg)?;
        params
            .set_many(&values)
            .with_context(|| format!("params file {}", file.display()))?;
    }
    let mut params = load::params_over(params, args.seed, &args.sets)?;
    if let Some(fps) = args.fps {
        params
            .set("tick_rate", Value::Int(fps.into()))
            .context("--fps")?;
    }
    let engine = Engine::with_params(scene, params);

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the SIGINT/SIGTERM handler")?;
    }

    let fps = engine.settings().tick_rate;
    let host = Host::start(HostConfig {
        dir: RuntimeDir::from_env(),
        fps: f64::from(fps),
        engine: format!(
            "advkit {} (Elmbrook demo engine)",
            env!("CARGO_PKG_VERSION")
        ),
        tcp: args.tcp,
        allow_remote: args.allow_remote,
        params_file: args.params.clone(),
        ..HostConfig::new(&args.name, args.size.width, args.size.height)
    })?;
    eprintln!(
        "engine {} running: {}x{} at {fps} fps\n  frames  {}\n  control {}{}\n(Ctrl-C stops it)",
        args.name,
        args.size.width,
        args.size.height,
        host.frames_path().display(),
        host.socket_path().display(),
        match (host.tcp_addr(), host.token_path()) {
            (Some(addr), Some(token)) =>
                format!("\n  tcp     {addr} (token in {})", token.display()),
            _ => String::new(),
        }
    );
    host.sync_params(engine.params());

    let mut game = Game {
        engine,
        host,
        frame: Frame::new(args.size),
        scene_path,
        paused: false,
        shutdown: false,
    };
    game.run(&stop);
    eprintln!(
        "engine {} stopped at tick {}",
        args.name,
        game.engine.tick()
    );
    Ok(())
}

struct Game {
    engine: Engine,
    host: Host,
    frame: Frame,
    scene_path: Option<PathBuf>,
    paused: bool,
    shutdown: bool,
}

impl Game {
    fn run(&mut self, stop: &AtomicBool) {
        self.tick_and_publish();
        let mut next = Instant::now();
        while !stop.load(Ordering::Relaxed) && !self.shutdown {
            let period = Duration::from_secs(1) / self.engine.settings().tick_rate.max(1);
            next += period;
            let now = Instant::now();
            if next + period * 4 < now {
                // Far behind (suspended, or overloaded): no catch-up burst.
                next = now;
            }
            // Wait on the mailbox until the tick is due: commands are
            // answered at once, at 1 fps as at 240.
            while let Some(cmd) = self.host.next_command(next) {
                self.handle(cmd);
                if stop.load(Ordering::Relaxed) || self.shutdown {
                    return;
                }
            }
            if !self.paused {
                self.tick_and_publish();
            }
        }
    }

    fn tick_and_publish(&mut self) {
        let started = Instant::now();
        self.engine.step();
        self.engine.render(&mut self.frame);
        self.host.record_tick_time(started.elapsed());
        self.publish();
        self.host
            .emit("tick", "tick", &json!({"tick": self.engine.tick()}));
    }

    /// Publishes the frame just rendered, and what happened in the world
    /// since the last publish as `world` events.
    fn publish(&mut self) {
        if let Err(e) = self.host.publish(self.engine.tick(), self.frame.pixels()) {
            self.host.log(&format!("frame not published: {e}"));
        }
        for ev in self.engine.drain_events() {
            let data = serde_json::to_value(&ev).unwrap_or(Json::Null);
            self.host.emit("world", "event", &data);
        }
    }

    fn handle(&mut self, cmd: Command) {
        let before = self.engine.params().revision();
        let host = &mut self.host;
        let unhandled = self.engine.update_params(|p| host.handle_params(p, cmd));
        let Some(cmd) = unhandled else {
            // tick_rate is live: only a params.* command can change it.
            if self.engine.params().revision() != before {
                self.host
                    .set_fps(f64::from(self.engine.settings().tick_rate));
            }
            return;
        };
        let result = match cmd.method.as_str() {
            "engine.reboot" => self.reboot(&cmd.params),
            "engine.pause" => Ok(self.set_paused(true)),
            "engine.resume" => Ok(self.set_paused(false)),
            "engine.step" => self.step(&cmd.params),
            "engine.input" => self.input(&cmd.params),
            "engine.shutdown" => {
                self.shutdown = true;
                self.host.emit("engine", "shutdown", &json!({}));
                Ok(json!({"stopping": true}))
            }
            "world.entities" => Ok(json!({"entities": self.engine.entities()})),
            "world.get" => self.world_get(&cmd.params),
            "world.set" => self.world_set(&cmd.params),
            "frame.snapshot" => self.snapshot(&cmd.params),
            other => Err(RpcError::method_not_found(other)),
        };
        cmd.reply(result);
    }

    fn set_paused(&mut self, paused: bool) -> Json {
        if self.paused != paused {
            self.paused = paused;
            self.host.set_paused(paused);
            let kind = if paused { "paused" } else { "resumed" };
            self.host
                .emit("engine", kind, &json!({"tick": self.engine.tick()}));
        }
        json!({"paused": self.paused, "tick": self.engine.tick()})
    }

    fn step(&mut self, p: &Json) -> Result<Json, RpcError> {
        let count = p.get("count").map_or(Some(1), Json::as_u64);
        let count = count
            .filter(|c| (1..=10_000).contains(c))
            .ok_or_else(|| RpcError::invalid_params("count: an integer from 1 to 10000"))?;
        self.set_paused(true);
        for _ in 0..count {
            self.engine.step();
        }
        self.engine.render(&mut self.frame);
        self.publish();
        self.host.emit(
            "engine",
            "stepped",
            &json!({"count": count, "tick": self.engine.tick()}),
        );
        Ok(json!({"tick": self.engine.tick(), "paused": true, "stepped": count}))
    }

    fn reboot(&mut self, p: &Json) -> Result<Json, RpcError> {
        let keep = p
            .get("keep_progress")
            .and_then(Json::as_bool)
            .unwrap_or(true);
        let confirmed = p.get("confirm").and_then(Json::as_bool).unwrap_or(false);
        if !keep && !confirmed {
            let w = self.engine.world();
            let (x, y) = w.player.tile();
            let flags: Vec<&String> = w.flags.iter().collect();
            return Err(RpcError::new(
                codes::CONFIRM_REQUIRED,
                format!(
                    "a fresh reboot throws away the player's position (tile {x}, {y}) and {} flag(s){}; \
                     call again with \"confirm\": true",
                    flags.len(),
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({})",
                            flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
                        )
                    }
                ),
            )
            .with_data(json!({"would_lose": {"tile": [x, y], "flags": flags}})));
        }
        // Re-read the scene so an edited file takes effect; if it is broken,
        // nothing changes and the old scene keeps running.
        let scene = load::scene(self.scene_path.as_deref()).map_err(|e| {
            RpcError::new(
                codes::FAILED,
                format!("{e:#}; the engine keeps running the old scene"),
            )
        })?;
        self.host
            .emit("engine", "rebooting", &json!({"keep_progress": keep}));
        let progress = if keep {
            Progress::Keep
        } else {
            Progress::Discard
        };
        let report = self.engine.reboot(scene, progress);
        self.host.sync_params(self.engine.params());
        self.engine.render(&mut self.frame);
        self.publish();
        let report = serde_json::to_value(&report).unwrap_or(Json::Null);
        self.host.emit("engine", "rebooted", &report);
        Ok(report)
    }

    fn input(&mut self, p: &Json) -> Result<Json, RpcError> {
        let button: Button = p["button"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .map_err(|e: String| RpcError::invalid_params(format!("button: {e}")))?;
        let action: InputAction = p
            .get("action")
            .and_then(Json::as_str)
            .unwrap_or("tap")
            .parse()
            .map_err(|e: String| RpcError::invalid_params(format!("action: {e}")))?;
        self.engine.input(button, action);
        Ok(
            json!({"button": button.name(), "action": p.get("action").and_then(Json::as_str).unwrap_or("tap")}),
        )
    }

    fn world_get(&self, p: &Json) -> Result<Json, RpcError> {
        let id = p["id"].as_str().unwrap_or_default();
        self.engine.entity(id).ok_or_else(|| {
            RpcError::invalid_params(format!(
                "id: no entity `{id}`; ids are player and npc:0 to npc:{}",
                self.engine.world().npcs.len().saturating_sub(1)
            ))
        })
    }

    fn world_set(&mut self, p: &Json) -> Result<Json, RpcError> {
        let id = p["id"].as_str().unwrap_or_default();
        let attrs = p["attrs"].as_object().cloned().unwrap_or_default();
        let entity = self
            .engine
            .set_entity(id, &attrs)
            .map_err(RpcError::invalid_params)?;
        self.host
            .emit("world", "changed", &json!({"id": id, "attrs": attrs}));
        Ok(entity)
    }

    fn snapshot(&mut self, p: &Json) -> Result<Json, RpcError> {
        let mut scale = p.get("scale").and_then(Json::as_u64).unwrap_or(1);
        if !(1..=16).contains(&scale) {
            return Err(RpcError::invalid_params("scale: an integer from 1 to 16"));
        }
        if let Some(max) = p.get("max_width").and_then(Json::as_u64) {
            if max == 0 {
                return Err(RpcError::invalid_params("max_width: at least 1"));
            }
            while u64::from(self.frame.width()) / scale > max && scale < 16 {
                scale += 1;
            }
        }
        let small = downscale(&self.frame, scale as u32);
        let png = encode_png(&small, Compression::Fast)
            .map_err(|e| RpcError::new(codes::FAILED, e.to_string()))?;
        Ok(json!({
            "tick": self.engine.tick(),
            "width": small.width(),
            "height": small.height(),
            "hash": format!("{:016x}", hash_pixels(self.frame.pixels())),
            "png_base64": base64::engine::general_purpose::STANDARD.encode(png),
        }))
    }
}

/// Box-filter downscale by an integer factor (1 returns a copy).
fn downscale(frame: &Frame, k: u32) -> Frame {
    if k <= 1 {
        return frame.clone();
    }
    let (w, h) = ((frame.width() / k).max(1), (frame.height() / k).max(1));
    let Ok(size) = Size::new(w, h) else {
        return frame.clone();
    };
    let mut out = Frame::new(size);
    let src = frame.pixels();
    let sw = frame.width() as usize;
    let dst = out.pixels_mut();
    for y in 0..h as usize {
        for x in 0..w as usize {
            let mut acc = [0u32; 4];
            let mut n = 0;
            for sy in y * k as usize..((y + 1) * k as usize).min(frame.height() as usize) {
                for sx in x * k as usize..((x + 1) * k as usize).min(sw) {
                    let i = (sy * sw + sx) * 4;
                    for c in 0..4 {
                        acc[c] += u32::from(src[i + c]);
                    }
                    n += 1;
                }
            }
            let o = (y * w as usize + x) * 4;
            for c in 0..4 {
                dst[o + c] = (acc[c] / n.max(1)) as u8;
            }
        }
    }
    out
}
