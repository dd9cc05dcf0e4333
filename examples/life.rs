//! Conway's Game of Life on advkit: a game that is not the built-in demo,
//! written only against the public `Host` API. The host gives it params,
//! pause, step, stats, snapshots and events; it answers `engine.reboot`
//! (reseed), `world.save` and `world.load` (so the host keeps its history:
//! seek, diff) and three methods of its own. Try:
//!
//!     cargo run --example life &
//!     advkit inspect --name life
//!     advkit send --name life set palette amber generation_ticks 1
//!     advkit send --name life call life.toggle '{"x": 10, "y": 5}'
//!     advkit send --name life seek -- -60
//!     advkit send --name life shutdown
//!
//! `--no-save` leaves world.save and world.load out: a game that cannot
//! save its state, and what advkit says about that.

use std::time::Instant;

use advkit_ipc::api::{
    ConfirmData, MethodSpec, ParamSpec, ParamType, Progress, RebootResult, RpcError, WorldLoaded,
    WorldState, codes, method,
};
use advkit_ipc::{Canvas, Host, HostConfig, Request};
use advkit_params::{Params, Spec, Value};
use serde_json::{Value as Json, json};

const COLS: usize = 80;
const ROWS: usize = 60;
/// Pixels per cell side.
const CELL: usize = 2;
const W: usize = COLS * CELL;
const H: usize = ROWS * CELL;

fn params() -> Params {
    Params::new(vec![
        Spec::int("generation_ticks", 1, 30, "ticks", 3)
            .describe("Ticks per generation: lower is faster"),
        Spec::choice("palette", &["green", "amber", "ice"], "green")
            .describe("Colours of live cells"),
        Spec::boolean("wrap", true).describe("Edges wrap around (a torus)"),
        Spec::float("density", 0.05, 0.9, 0.05, "", 0.3)
            .describe("Share of live cells after a reboot")
            .on_reboot(),
        Spec::int("seed", 0, 1_000_000, "", 42)
            .describe("Random seed of the next reboot")
            .on_reboot(),
    ])
}

fn methods() -> Vec<MethodSpec> {
    let coord = |name: &str, max: usize| {
        ParamSpec::new(name, ParamType::Integer, "cell coordinate")
            .range(0.0, (max - 1) as f64)
            .required()
    };
    vec![
        MethodSpec::new("life.toggle", "Flip one cell between alive and dead")
            .param(coord("x", COLS))
            .param(coord("y", ROWS)),
        MethodSpec::new("life.clear", "Kill every cell"),
        MethodSpec::new(
            "life.population",
            "Live cells, the generation, and requests seen",
        )
        .read_only(),
    ]
}

struct Life {
    cells: Vec<bool>,
    generation: u64,
    /// Custom requests that reached the game loop (tests check that a
    /// malformed one never does).
    requests_seen: u64,
}

impl Life {
    fn seeded(seed: i64, density: f64) -> Life {
        let mut state = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let cells = (0..COLS * ROWS)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 10_000) as f64 / 10_000.0 < density
            })
            .collect();
        Life {
            cells,
            generation: 0,
            requests_seen: 0,
        }
    }

    fn step(&mut self, wrap: bool) {
        let alive = |x: isize, y: isize| -> bool {
            let (x, y) = if wrap {
                (x.rem_euclid(COLS as isize), y.rem_euclid(ROWS as isize))
            } else if x < 0 || y < 0 || x >= COLS as isize || y >= ROWS as isize {
                return false;
            } else {
                (x, y)
            };
            self.cells[y as usize * COLS + x as usize]
        };
        let next = (0..COLS * ROWS)
            .map(|i| {
                let (x, y) = ((i % COLS) as isize, (i / COLS) as isize);
                let n = [
                    (-1, -1),
                    (0, -1),
                    (1, -1),
                    (-1, 0),
                    (1, 0),
                    (-1, 1),
                    (0, 1),
                    (1, 1),
                ]
                .iter()
                .filter(|(dx, dy)| alive(x + dx, y + dy))
                .count();
                matches!((self.cells[i], n), (true, 2 | 3) | (false, 3))
            })
            .collect();
        self.cells = next;
        self.generation += 1;
    }

    /// Draws the board straight into the frame region's slot: each row of
    /// cells is built once and repeated `CELL` times.
    fn draw(&self, palette: &str, canvas: &mut impl Canvas) {
        let live = match palette {
            "amber" => [255, 176, 0, 255],
            "ice" => [120, 200, 255, 255],
            _ => [60, 220, 90, 255],
        };
        let mut row = [0u8; W * 4];
        for (y, cells) in self.cells.chunks_exact(COLS).enumerate() {
            for (px, x) in row.chunks_exact_mut(4).zip(0..) {
                px.copy_from_slice(if cells[x / CELL] {
                    &live
                } else {
                    &[12, 14, 24, 255]
                });
            }
            let top = (y * CELL) as u32;
            canvas.put_row(top, &row);
            for dy in 1..CELL as u32 {
                canvas.copy_row(top, top + dy);
            }
        }
    }

    fn population(&self) -> usize {
        self.cells.iter().filter(|&&c| c).count()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--no-save` plays a game that cannot save its state: no world.save
    // or world.load, so no history, and what advkit says about that.
    let saves = !std::env::args().any(|a| a == "--no-save");
    let standard: &[&str] = if saves {
        &[method::REBOOT, method::WORLD_SAVE, method::WORLD_LOAD]
    } else {
        &[method::REBOOT]
    };
    let mut cfg = HostConfig::new("life", W as u32, H as u32)
        .with_engine("life example")
        .with_params(params())
        .with_standard(standard);
    cfg.methods.extend(methods());
    let mut host = Host::start(cfg)?;
    eprintln!("life running on {}", host.socket_path().display());

    let int = |p: &Params, n: &str| p.get(n).and_then(Value::as_i64).unwrap_or(0);
    let mut life = Life::seeded(int(host.params(), "seed"), 0.3);
    let mut tick = 0u64;
    let mut deadline = Instant::now();
    // Draw only when something changed: a paused board publishes nothing.
    let mut changed = true;
    let mut revision = host.params().revision();
    while host.running() {
        while let Some(req) = host.next_request(deadline) {
            handle(&mut host, &mut life, &mut tick, req);
            changed = true;
        }
        let p = host.params();
        let (every, wrap) = (
            int(p, "generation_ticks").max(1) as u64,
            p.get("wrap") != Some(&Value::Bool(false)),
        );
        for _ in 0..host.ticks_due() {
            tick += 1;
            changed = true;
            if tick.is_multiple_of(every) {
                life.step(wrap);
            }
        }
        let now = host.params().revision();
        changed |= now != revision;
        revision = now;
        if changed {
            let palette = host.params().get("palette").and_then(Value::as_str);
            let palette = palette.unwrap_or("green").to_owned();
            let mut frame = host.frame();
            life.draw(&palette, &mut frame);
            frame.publish(tick);
            changed = false;
        }
        deadline = host.next_deadline(deadline);
    }
    Ok(())
}

fn handle(host: &mut Host, life: &mut Life, tick: &mut u64, req: Request) {
    match req {
        // The whole state, so the host can keep history (seek, diff) and
        // `advkit record --from-now` can start here.
        Request::WorldSave { reply } => {
            let cells: String = life
                .cells
                .iter()
                .map(|&c| if c { '1' } else { '0' })
                .collect();
            reply.ok(WorldState {
                tick: *tick,
                state: json!({"tick": *tick, "cells": cells, "generation": life.generation}),
            });
        }
        Request::WorldLoad { params, reply } => {
            let cells = params.state["cells"].as_str().unwrap_or("");
            let generation = params.state["generation"].as_u64();
            let (Some(generation), Some(at)) = (generation, params.state.get("tick")) else {
                return reply.err(RpcError::invalid_params(
                    "state: not one life's world.save gave; nothing changed",
                ));
            };
            if cells.len() != COLS * ROWS {
                return reply.err(RpcError::invalid_params(format!(
                    "state: {} cells, not {}; nothing changed",
                    cells.len(),
                    COLS * ROWS
                )));
            }
            life.cells = cells.bytes().map(|b| b == b'1').collect();
            life.generation = generation;
            *tick = at.as_u64().unwrap_or(*tick);
            reply.ok(WorldLoaded { tick: *tick });
        }
        Request::Reboot { params, reply } => {
            if !params.keep_progress && !params.confirm {
                // As the protocol asks: a destructive call says what it
                // would throw away and waits for `confirm`.
                let would_lose = [
                    ("generation".to_owned(), json!(life.generation)),
                    ("live cells".to_owned(), json!(life.population())),
                ];
                let err = RpcError::new(
                    codes::CONFIRM_REQUIRED,
                    "a fresh reboot reseeds the board; call again with \"confirm\": true",
                )
                .with_data(ConfirmData {
                    would_lose: would_lose.into(),
                });
                return reply.err(err);
            }
            let applied = host.apply_pending_params();
            let p = host.params();
            let density = p.get("density").and_then(Value::as_f64).unwrap_or(0.3);
            let seed = p.get("seed").and_then(Value::as_i64).unwrap_or(0);
            // Keeping progress keeps the board; a fresh reboot reseeds it.
            if !params.keep_progress {
                *life = Life::seeded(seed, density);
            }
            reply.ok(RebootResult {
                tick: *tick,
                progress: if params.keep_progress {
                    Progress::Keep
                } else {
                    Progress::Discard
                },
                applied,
                carried: params
                    .keep_progress
                    .then(|| json!({"generation": life.generation})),
                scene: None,
            });
        }
        Request::Custom {
            method,
            params,
            reply,
        } => {
            life.requests_seen += 1;
            let result: Result<Json, RpcError> = match method.as_str() {
                "life.toggle" => {
                    // The schema guarantees integers in range.
                    let at = |k: &str| params[k].as_u64().unwrap_or(0) as usize;
                    let i = at("y") * COLS + at("x");
                    life.cells[i] = !life.cells[i];
                    Ok(json!({"alive": life.cells[i]}))
                }
                "life.clear" => {
                    life.cells.fill(false);
                    host.log("board cleared");
                    Ok(json!({"cleared": true}))
                }
                "life.population" => Ok(json!({
                    "alive": life.population(),
                    "generation": life.generation,
                    "requests_seen": life.requests_seen,
                })),
                _ => Err(RpcError::method_not_found(&method)),
            };
            reply.send(result);
        }
        other => other.unsupported(),
    }
}
