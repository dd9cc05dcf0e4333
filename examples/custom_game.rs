//! A game that is not advkit's demo engine, controlled through advkit-ipc:
//! a square bouncing around, with two params. Try:
//!
//!     cargo run --example custom_game &
//!     advkit send --name custom set speed 6 color blue
//!     advkit snapshot --name custom --out custom.png
//!     advkit send --name custom shutdown

use std::time::{Duration, Instant};

use advkit_core::{Params, Spec, Value};
use advkit_ipc::protocol::RpcError;
use advkit_ipc::{Host, HostConfig};
use serde_json::json;

const W: u32 = 160;
const H: u32 = 120;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut params = Params::new(vec![
        Spec::float("speed", 0.0, 10.0, 0.5, "px/tick", 2.0).describe("How fast the square moves"),
        Spec::choice("color", &["red", "green", "blue"], "red").describe("The square's colour"),
    ]);
    let mut host = Host::start(HostConfig {
        engine: "custom_game example".into(),
        ..HostConfig::new("custom", W, H)
    })?;
    host.sync_params(&params);
    eprintln!("custom game on {}", host.socket_path().display());

    let (mut x, mut y, mut dx, mut dy) = (10.0f64, 20.0f64, 1.0f64, 1.0f64);
    let mut pixels = vec![0u8; (W * H * 4) as usize];
    let mut next = Instant::now();
    for tick in 1.. {
        let speed = params.get("speed").and_then(Value::as_f64).unwrap_or(2.0);
        (x, y) = (x + dx * speed, y + dy * speed);
        if !(0.0..f64::from(W - 16)).contains(&x) {
            dx = -dx;
            x = x.clamp(0.0, f64::from(W - 16));
        }
        if !(0.0..f64::from(H - 16)).contains(&y) {
            dy = -dy;
            y = y.clamp(0.0, f64::from(H - 16));
        }
        let rgb = match params.get("color").and_then(Value::as_str) {
            Some("green") => [40, 200, 60],
            Some("blue") => [50, 90, 230],
            _ => [220, 50, 40],
        };
        for (i, px) in pixels.chunks_exact_mut(4).enumerate() {
            let (px_x, px_y) = ((i as u32 % W) as f64, (i as u32 / W) as f64);
            let inside = px_x >= x && px_x < x + 16.0 && px_y >= y && px_y < y + 16.0;
            px.copy_from_slice(&if inside {
                [rgb[0], rgb[1], rgb[2], 255]
            } else {
                [16, 16, 32, 255]
            });
        }
        host.publish(tick, &pixels)?;

        next += Duration::from_millis(33);
        while let Some(cmd) = host.next_command(next) {
            let Some(cmd) = host.handle_params(&mut params, cmd) else {
                continue;
            };
            if cmd.method == "engine.shutdown" {
                cmd.reply(Ok(json!({"stopping": true})));
                return Ok(());
            }
            let err = RpcError::method_not_found(&cmd.method);
            cmd.reply(Err(err));
        }
    }
    Ok(())
}
