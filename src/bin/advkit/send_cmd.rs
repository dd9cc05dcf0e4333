//! `advkit send` (one command to a running engine) and `advkit watch`
//! (print its events). Exit status: 0 success, 1 error reply, 2 no engine
//! or connection failure.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use advkit_core::{Params, Spec};
use advkit_ipc::RuntimeDir;
use advkit_ipc::client::{Client, ClientError, Reply};
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::{Value, json};

/// Which engine to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Engine name (see `advkit ls`).
    #[arg(long, value_name = "NAME", default_value = "default", global = true)]
    name: String,
    /// Control socket path, instead of the name's.
    #[arg(long, value_name = "PATH", global = true, conflicts_with = "tcp")]
    socket: Option<PathBuf>,
    /// Connect over TCP instead (the engine must run with --tcp).
    #[arg(long, value_name = "ADDR", global = true)]
    tcp: Option<SocketAddr>,
    /// Token for --tcp; read from <runtime dir>/<NAME>.token when omitted.
    #[arg(long, value_name = "TOKEN", global = true, requires = "tcp")]
    token: Option<String>,
    /// Print the raw JSON result instead of text for people.
    #[arg(long, global = true)]
    json: bool,
}

impl Target {
    pub fn connect(&self) -> Result<Client, ClientError> {
        if let Some(addr) = self.tcp {
            let token = match &self.token {
                Some(t) => Some(t.clone()),
                None => std::fs::read_to_string(RuntimeDir::from_env().token_path(&self.name))
                    .ok()
                    .map(|t| t.trim().to_owned()),
            };
            return Client::connect_tcp(addr, token.as_deref());
        }
        let path = match &self.socket {
            Some(p) => p.clone(),
            None => RuntimeDir::from_env().socket_path(&self.name),
        };
        Client::connect_unix(&path)
    }
}

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    #[command(flatten)]
    target: Target,
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Protocol version, engine, frame region and param schema.
    Hello,
    /// Show param values (all, or the ones named).
    Get { names: Vec<String> },
    /// Set params atomically: `set walk_speed 3 walk_mode pixel`.
    Set {
        /// NAME VALUE pairs; values as for `advkit run --set`.
        #[arg(value_name = "NAME VALUE", num_args = 2.., required = true)]
        pairs: Vec<String>,
        /// Only if the params revision is still N (compare-and-set).
        #[arg(long, value_name = "N")]
        if_revision: Option<u64>,
    },
    /// Put a param (or all) back to its default.
    Reset { name: Option<String> },
    /// Save params to the engine's params file (--params).
    Save,
    /// Load params from the engine's params file.
    Load,
    /// Rebuild the world from the scene file, keeping progress.
    Reboot {
        /// Throw progress away (position, flags).
        #[arg(long)]
        fresh: bool,
        /// Confirm a --fresh reboot.
        #[arg(long, requires = "fresh")]
        yes: bool,
    },
    /// Stop ticking.
    Pause,
    /// Tick again.
    Resume,
    /// Advance N ticks (pauses first).
    Step {
        #[arg(default_value_t = 1)]
        count: u64,
    },
    /// Tick, fps, tick times, frames, clients.
    Stats,
    /// Play: `input tap left`, `input press action`, `input release up`.
    Input {
        /// press, release or tap.
        action: String,
        /// up, down, left, right or action.
        button: String,
    },
    /// List the player and NPCs.
    Entities,
    /// Write the engine's current frame as a PNG (fetched over the socket).
    Snapshot {
        #[arg(long, value_name = "FILE.png")]
        out: PathBuf,
        /// Downscale by this factor.
        #[arg(long, default_value_t = 1)]
        scale: u64,
    },
    /// Stop the engine cleanly.
    Shutdown,
    /// Call any method: `call world.set '{"id":"player","attrs":{"tile":[20,20]}}'`.
    Call {
        method: String,
        /// Params as JSON (an object).
        #[arg(default_value = "{}")]
        params: String,
    },
}

pub fn run(args: SendArgs) -> Result<()> {
    let mut client = args.target.connect()?;
    let json_out = args.target.json;
    let (method, params) = match &args.what {
        What::Hello => ("hello", json!({})),
        What::Get { names } if names.is_empty() => ("params.get", json!({})),
        What::Get { names } => ("params.get", json!({"names": names})),
        What::Set { pairs, if_revision } => {
            if pairs.len() % 2 != 0 {
                bail!(
                    "set takes NAME VALUE pairs; `{}` has no value",
                    pairs[pairs.len() - 1]
                );
            }
            let values = typed_values(&mut client, pairs)?;
            let mut p = json!({"values": values});
            if let Some(r) = if_revision {
                p["if_revision"] = json!(r);
            }
            ("params.set", p)
        }
        What::Reset { name: Some(n) } => ("params.reset", json!({"name": n})),
        What::Reset { name: None } => ("params.reset", json!({})),
        What::Save => ("params.save", json!({})),
        What::Load => ("params.load", json!({})),
        What::Reboot { fresh, yes } => (
            "engine.reboot",
            json!({"keep_progress": !fresh, "confirm": *yes}),
        ),
        What::Pause => ("engine.pause", json!({})),
        What::Resume => ("engine.resume", json!({})),
        What::Step { count } => ("engine.step", json!({"count": count})),
        What::Stats => ("engine.stats", json!({})),
        What::Input { action, button } => {
            ("engine.input", json!({"button": button, "action": action}))
        }
        What::Entities => ("world.entities", json!({})),
        What::Snapshot { scale, .. } => ("frame.snapshot", json!({"scale": scale})),
        What::Shutdown => ("engine.shutdown", json!({})),
        What::Call { method, params } => {
            let p: Value = serde_json::from_str(params)
                .with_context(|| format!("params `{params}` are not JSON"))?;
            (method.as_str(), p)
        }
    };
    let reply = match client.call(method, params) {
        Err(ClientError::Rpc(e)) if e.code == advkit_ipc::protocol::codes::CONFIRM_REQUIRED => {
            bail!(
                "{}\nto go ahead: advkit send reboot --fresh --yes",
                e.message
            );
        }
        other => other?,
    };
    if let What::Snapshot { out, .. } = &args.what {
        let b64 = reply.result["png_base64"].as_str().unwrap_or_default();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .context("the engine sent a snapshot that is not base64")?;
        std::fs::write(out, png).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    if json_out {
        writeln!(stdout, "{}", reply.result)?;
    } else {
        writeln!(stdout, "{}", describe(&args.what, &reply))?;
    }
    Ok(())
}

/// Converts command-line values with the engine's own param schema, so
/// `on`, `pixel` and `hero,brave` mean what they mean to `--set`.
fn typed_values(client: &mut Client, pairs: &[String]) -> Result<Value> {
    let list = client.call("params.list", json!({}))?;
    let specs: Vec<Spec> = list.result["params"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| serde_json::from_value(p.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    let schema = Params::new(specs);
    let mut values = serde_json::Map::new();
    for pair in pairs.chunks(2) {
        let value = schema.parse(&pair[0], &pair[1]).map_err(|e| {
            ClientError::Rpc(advkit_ipc::protocol::RpcError::invalid_params(
                e.to_string(),
            ))
        })?;
        values.insert(pair[0].clone(), serde_json::to_value(value)?);
    }
    Ok(Value::Object(values))
}

fn describe(what: &What, reply: &Reply) -> String {
    let r = &reply.result;
    let tick = reply.tick;
    match what {
        What::Get { .. } => {
            let mut lines = Vec::new();
            if let Some(values) = r["values"].as_object() {
                let width = values.keys().map(String::len).max().unwrap_or(0);
                for (k, v) in values {
                    lines.push(format!("{k:<width$}  {}", show(v)));
                }
            }
            lines.join("\n")
        }
        What::Set { .. } | What::Reset { .. } | What::Load => {
            let mut lines = Vec::new();
            if let Some(results) = r["results"].as_object() {
                for (k, how) in results {
                    let v = show(&r["values"][k]);
                    lines.push(match how.as_str() {
                        Some("pending_reboot") => {
                            format!("{k} = {v} (pending: applies at the next reboot, `advkit send reboot`)")
                        }
                        _ => format!("{k} = {v} (applied)"),
                    });
                }
            }
            lines.push(format!("revision {} at tick {tick}", r["revision"]));
            lines.join("\n")
        }
        What::Save => format!(
            "saved {} params to {}",
            r["saved"],
            r["path"].as_str().unwrap_or("?")
        ),
        What::Reboot { .. } => {
            let kept = r["progress"] == "keep";
            let mut s = format!(
                "rebooted at tick {} ({})",
                r["tick"],
                if kept { "progress kept" } else { "fresh start" }
            );
            if let Some(c) = r["carried"].as_object() {
                s.push_str(&format!(
                    "; position {}, {} flag(s) kept",
                    if c.get("position_kept") == Some(&json!(true)) {
                        "kept"
                    } else {
                        "reset to spawn (no longer walkable)"
                    },
                    c.get("flags_kept").unwrap_or(&json!(0))
                ));
            }
            if let Some(applied) = r["applied"].as_array().filter(|a| !a.is_empty()) {
                let names: Vec<&str> = applied.iter().filter_map(Value::as_str).collect();
                s.push_str(&format!("; applied pending: {}", names.join(", ")));
            }
            s
        }
        What::Pause | What::Resume => format!(
            "{} at tick {}",
            if r["paused"] == json!(true) {
                "paused"
            } else {
                "running"
            },
            r["tick"]
        ),
        What::Step { .. } => format!("stepped {} to tick {} (paused)", r["stepped"], r["tick"]),
        What::Stats => format!(
            "tick {}  fps {} (target {})  tick time p50 {} ms p99 {} ms  frames {}  clients {}{}",
            r["tick"],
            r["fps"],
            r["target_fps"],
            r["tick_ms_p50"],
            r["tick_ms_p99"],
            r["frames_published"],
            r["clients"],
            if r["paused"] == json!(true) {
                "  PAUSED"
            } else {
                ""
            }
        ),
        What::Input { .. } => format!(
            "{} {} at tick {tick}",
            r["action"].as_str().unwrap_or("?"),
            r["button"].as_str().unwrap_or("?")
        ),
        What::Entities => r["entities"]
            .as_array()
            .map(|es| {
                es.iter()
                    .map(|e| {
                        format!(
                            "{:<8} {:<10} tile {:>8}  facing {}",
                            e["id"].as_str().unwrap_or("?"),
                            e["name"].as_str().unwrap_or("?"),
                            show(&e["tile"]),
                            e["facing"].as_str().unwrap_or("?")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        What::Snapshot { out, .. } => format!(
            "{}x{} tick {} hash {} -> {}",
            r["width"],
            r["height"],
            r["tick"],
            r["hash"].as_str().unwrap_or("?"),
            out.display()
        ),
        What::Shutdown => "engine is shutting down".to_owned(),
        What::Hello | What::Call { .. } => serde_json::to_string_pretty(r).unwrap_or_default(),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    target: Target,
    /// Topics: params, engine, log, tick, world (default: all but tick).
    topics: Vec<String>,
}

pub fn watch(args: WatchArgs) -> Result<()> {
    let mut client = args.target.connect()?;
    let topics: Vec<String> = if args.topics.is_empty() {
        ["params", "engine", "log", "world"]
            .map(String::from)
            .to_vec()
    } else {
        args.topics.clone()
    };
    client.call("events.subscribe", json!({"topics": topics}))?;
    eprintln!(
        "watching {} on engine {} (Ctrl-C stops)",
        topics.join(", "),
        args.target.name
    );
    let mut out = std::io::stdout().lock();
    loop {
        let event = match client.next_event(None) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(ClientError::Closed) => {
                eprintln!("the engine closed the connection");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let p = &event["params"];
        if args.target.json {
            writeln!(out, "{p}")?;
        } else {
            writeln!(
                out,
                "[tick {}] {} {} {}",
                p["tick"],
                p["topic"].as_str().unwrap_or("?"),
                p["event"].as_str().unwrap_or("?"),
                p["data"]
            )?;
        }
        out.flush()?;
    }
}
