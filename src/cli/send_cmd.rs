//! `advkit send` (one command to a running engine) and `advkit watch`
//! (print its events). Exit status: 0 success, 1 error reply, 2 no engine
//! or connection failure.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use advkit_ipc::api::event::Notification;
use advkit_ipc::api::{
    DiffParams, DiffResult, InputParams, NoParams, ParamsChange, ParamsGetParams,
    ParamsResetParams, ParamsSetParams, Progress, RebootParams, RebootResult, RpcError,
    RunUntilParams, SeekParams, SnapshotParams, StepParams, Topic, TopicsParams, WatchParams,
    WatchResult, codes, method,
};
use advkit_ipc::client::{Client, ClientError};
use advkit_ipc::region::Gone;
use advkit_ipc::{FrameReader, RuntimeDir};
use advkit_params::{Applied, show_json};
use anyhow::Result;
use base64::Engine as _;
use serde_json::Value;

/// Which engine to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Engine name (see `advkit ls`).
    #[arg(long, value_name = "NAME", default_value = "default", global = true,
          value_parser = super::load::engine_name)]
    name: String,
    /// Control socket path, instead of the name's.
    #[arg(long, value_name = "PATH", global = true, conflicts_with = "tcp")]
    socket: Option<PathBuf>,
    /// Connect over TCP instead (the engine must run with --tcp).
    #[arg(long, value_name = "ADDR", global = true)]
    tcp: Option<SocketAddr>,
    /// Token for --tcp; read from <runtime dir>/<NAME>.token when omitted.
    #[arg(
        long,
        value_name = "TOKEN",
        global = true,
        requires = "tcp",
        conflicts_with = "token_file"
    )]
    token: Option<String>,
    /// Token for --tcp, read from a file (keeps it out of `ps`).
    #[arg(long, value_name = "FILE", global = true, requires = "tcp")]
    token_file: Option<PathBuf>,
    /// Print the raw JSON result instead of text for people.
    #[arg(long, global = true)]
    json: bool,
}

impl Target {
    /// The token for TCP: `--token`, else the token file of `--name` in
    /// this machine's runtime directory.
    fn token_file(&self) -> PathBuf {
        self.token_file
            .clone()
            .unwrap_or_else(|| RuntimeDir::from_env().token_path(&self.name))
    }

    /// Connects to the engine. An engine whose frame region says it has
    /// stopped answering (stopped, hung) is reported at once, with its
    /// pid, rather than after the reply's timeout.
    pub fn connect(&self) -> Result<Client, ClientError> {
        if self.tcp.is_none() && self.socket.is_none() {
            let frames = RuntimeDir::from_env().frames_path(&self.name);
            if let Ok(reader) = FrameReader::open(&frames)
                && let Err(Gone::Unresponsive { pid, silent }) = reader.liveness()
            {
                return Err(ClientError::NotResponding {
                    name: self.name.clone(),
                    pid,
                    silent,
                });
            }
        }
        if let Some(addr) = self.tcp {
            let token = match &self.token {
                Some(t) => Some(t.clone()),
                None => std::fs::read_to_string(self.token_file())
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

    /// A client error with what to do about it: over TCP without a token,
    /// which file was looked for and `--token`; for a refused fresh reboot,
    /// the command that goes ahead.
    pub fn explain(&self, e: ClientError) -> anyhow::Error {
        match e {
            ClientError::Rpc(rpc) if rpc.code == codes::AUTH_REQUIRED && self.token.is_none() => {
                let file = self.token_file();
                let looked = if file.exists() {
                    format!("the token in {} was not accepted", file.display())
                } else {
                    format!("there is no {} on this machine", file.display())
                };
                anyhow::Error::new(ClientError::Rpc(rpc)).context(format!(
                    "{looked}; pass --token TOKEN (the contents of <name>.token in the \
                     engine's runtime directory)"
                ))
            }
            ClientError::Rpc(rpc) if rpc.code == codes::CONFIRM_REQUIRED => {
                let name = if self.name == "default" {
                    String::new()
                } else {
                    format!(" --name {}", self.name)
                };
                anyhow::anyhow!(
                    "{}\nto go ahead: advkit send{name} reboot --fresh --yes",
                    rpc.message
                )
            }
            other => other.into(),
        }
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
    Reset {
        /// The param; every param when omitted. (Its own id: a field
        /// called `name` would be the global `--name`, the engine.)
        #[arg(value_name = "PARAM")]
        param: Option<String>,
    },
    /// Save params to the engine's params file (--params).
    Save,
    /// Load params from the engine's params file.
    Load,
    /// Rebuild the world, keeping progress (a game method; the demo re-reads its scene).
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
        #[arg(default_value_t = 1, allow_negative_numbers = true, value_parser = super::load::count)]
        count: u64,
    },
    /// Tick, fps, tick times, frames, clients.
    Stats,
    /// Play: `input tap left`, `input press action`, `input release up`
    /// (a game method).
    Input {
        /// press, release or tap.
        action: String,
        /// up, down, left, right or action.
        button: String,
    },
    /// List the entities: the demo's player and NPCs (a game method).
    Entities,
    /// Write the engine's current frame as a PNG (fetched over the socket).
    Snapshot {
        #[arg(long, value_name = "FILE.png")]
        out: PathBuf,
        /// Downscale by this factor.
        #[arg(long, default_value_t = 1)]
        scale: u32,
    },
    /// Stop the engine cleanly.
    Shutdown,
    /// What the history holds: oldest and newest tick, keyframes, bytes.
    History,
    /// Rewind or fast-forward inside the history and pause there:
    /// `seek 1500`; `seek -- -120` (120 ticks back) or `seek +60`.
    Seek {
        /// A tick, or a signed number of ticks from the one shown now.
        #[arg(value_name = "TICK|±N", allow_hyphen_values = true)]
        tick: String,
    },
    /// Run as fast as the game steps until a condition holds, and pause
    /// there: `until 'player.tile == [20, 20]'`. Exits 1 when --max ticks
    /// pass first. Conditions: docs/debugging.md.
    Until {
        condition: String,
        /// Give up after this many ticks.
        #[arg(long, value_name = "TICKS", default_value_t = 100_000, value_parser = super::load::count)]
        max: u64,
    },
    /// Watchpoints that pause the engine the tick they hold:
    /// `watch add 'npc:0.tile changed'`, `watch list`, `watch rm 1`.
    #[command(subcommand)]
    Watch(WatchCmd),
    /// What changed in the world between two ticks of the history:
    /// `diff 1400 1500`.
    Diff {
        #[arg(value_parser = super::load::count)]
        from: u64,
        #[arg(value_parser = super::load::count)]
        to: u64,
    },
    /// Call any method, a game's own included:
    /// `call world.set '{"id":"player","attrs":{"tile":[20,20]}}'`;
    /// `call rpc.discover` lists what the engine answers.
    Call {
        method: String,
        /// Params as JSON (an object).
        #[arg(default_value = "{}")]
        params: String,
    },
}

#[derive(Debug, clap::Subcommand)]
enum WatchCmd {
    /// Watch a condition: the engine pauses the tick it holds.
    Add { condition: String },
    /// List the watchpoints with their hits.
    List,
    /// Remove a watchpoint by id.
    #[command(alias = "remove")]
    Rm {
        #[arg(value_parser = super::load::count)]
        id: u64,
    },
}

pub fn run(args: SendArgs) -> Result<()> {
    let mut client = args.target.connect()?;
    if matches!(args.what, What::Until { .. }) {
        // It answers when the condition holds, however long that takes.
        client.set_timeout(std::time::Duration::from_secs(24 * 3600));
    }
    let (text, json) = exec(&mut client, &args.what).map_err(|e| args.target.explain(e))?;
    let mut stdout = std::io::stdout().lock();
    if args.target.json {
        writeln!(stdout, "{json}")?;
    } else {
        writeln!(stdout, "{text}")?;
    }
    if let What::Until { max, .. } = args.what
        && json["found"] == false
    {
        anyhow::bail!("the condition did not hold within {max} ticks");
    }
    Ok(())
}

/// One typed request: what to print for people, and the raw result.
type Said = (String, Value);

fn said<T: serde::Serialize>(text: String, result: &T) -> Result<Said, ClientError> {
    let json = serde_json::to_value(result)
        .map_err(|e| ClientError::Protocol(format!("result not serialisable: {e}")))?;
    Ok((text, json))
}

fn exec(client: &mut Client, what: &What) -> Result<Said, ClientError> {
    match what {
        What::Hello => {
            let r = client.request::<method::Hello>(&NoParams {})?.result;
            said(pretty(&r), &r)
        }
        What::Get { names } => {
            let p = ParamsGetParams {
                names: (!names.is_empty()).then(|| names.clone()),
                name: None,
            };
            let r = client.request::<method::ParamsGet>(&p)?.result;
            let width = r.values.keys().map(String::len).max().unwrap_or(0);
            let lines: Vec<String> = r
                .values
                .iter()
                .map(|(k, v)| format!("{k:<width$}  {v}"))
                .collect();
            said(lines.join("\n"), &r)
        }
        What::Set { pairs, if_revision } => {
            if pairs.len() % 2 != 0 {
                return Err(ClientError::Rpc(RpcError::invalid_params(format!(
                    "set takes NAME VALUE pairs; `{}` has no value",
                    pairs[pairs.len() - 1]
                ))));
            }
            // The engine parses the text with its own schema: one round trip.
            let p = ParamsSetParams {
                values: Some(
                    pairs
                        .chunks(2)
                        .map(|nv| (nv[0].clone(), Value::String(nv[1].clone())))
                        .collect(),
                ),
                if_revision: *if_revision,
                from_text: true,
                ..ParamsSetParams::default()
            };
            let r = client.request::<method::ParamsSet>(&p)?;
            said(describe_change(&r.result, r.tick), &r.result)
        }
        What::Reset { param } => {
            let p = ParamsResetParams {
                name: param.clone(),
            };
            let r = client.request::<method::ParamsReset>(&p)?;
            said(describe_change(&r.result, r.tick), &r.result)
        }
        What::Load => {
            let r = client.request::<method::ParamsLoad>(&NoParams {})?;
            said(describe_change(&r.result, r.tick), &r.result)
        }
        What::Save => {
            let r = client.request::<method::ParamsSave>(&NoParams {})?.result;
            let text = format!("saved {} params to {}", r.saved, r.path.display());
            said(text, &r)
        }
        What::Reboot { fresh, yes } => {
            let p = RebootParams {
                keep_progress: !fresh,
                confirm: *yes,
            };
            let r = client.request::<method::Reboot>(&p)?.result;
            said(describe_reboot(&r), &r)
        }
        What::Pause | What::Resume => {
            let r = if matches!(what, What::Pause) {
                client.request::<method::Pause>(&NoParams {})?
            } else {
                client.request::<method::Resume>(&NoParams {})?
            }
            .result;
            let state = if r.paused { "paused" } else { "running" };
            said(format!("{state} at tick {}", r.tick), &r)
        }
        What::Step { count } => {
            let r = client
                .request::<method::Step>(&StepParams { count: *count })?
                .result;
            let text = format!("stepped {} to tick {} (paused)", r.stepped, r.tick);
            said(text, &r)
        }
        What::Stats => {
            let r = client.request::<method::Stats>(&NoParams {})?.result;
            let text = format!(
                "tick {}  fps {} (target {})  tick time p50 {} ms p99 {} ms  frames {}  clients {}{}",
                r.tick,
                r.fps,
                r.target_fps,
                r.tick_ms_p50,
                r.tick_ms_p99,
                r.frames_published,
                r.clients,
                if r.paused { "  PAUSED" } else { "" }
            );
            said(text, &r)
        }
        What::Input { action, button } => {
            let p = InputParams {
                button: button.clone(),
                action: Some(action.clone()),
            };
            let r = client.request::<method::Input>(&p)?;
            let text = format!("{} {} at tick {}", r.result.action, r.result.button, r.tick);
            said(text, &r.result)
        }
        What::Entities => {
            let r = client.request::<method::Entities>(&NoParams {})?.result;
            let lines: Vec<String> = r.entities.iter().map(describe_entity).collect();
            said(lines.join("\n"), &r)
        }
        What::Snapshot { out, scale } => {
            let p = SnapshotParams {
                scale: Some(*scale),
                max_width: None,
            };
            let r = client.request::<method::Snapshot>(&p)?.result;
            let png = base64::engine::general_purpose::STANDARD
                .decode(&r.png_base64)
                .map_err(|e| ClientError::Protocol(format!("snapshot is not base64: {e}")))?;
            std::fs::write(out, png)?;
            let text = format!(
                "{}x{} tick {} hash {} -> {}",
                r.width,
                r.height,
                r.tick,
                r.hash,
                out.display()
            );
            said(text, &r)
        }
        What::Shutdown => {
            let r = client.request::<method::Shutdown>(&NoParams {})?.result;
            said("engine is shutting down".to_owned(), &r)
        }
        What::History => {
            let r = client.request::<method::History>(&NoParams {})?.result;
            let text = format!(
                "ticks {} to {} (now {}), {} keyframes every {} ticks, {} requests, {} frames, \
                 {:.1} MB of at most {:.0} MB ({} s kept){}",
                r.oldest,
                r.newest,
                r.now,
                r.keyframes.len(),
                r.keyframe_every,
                r.requests,
                r.frames,
                r.bytes as f64 / 1e6,
                r.max_bytes as f64 / 1e6,
                r.seconds,
                if r.watch_hits.is_empty() {
                    String::new()
                } else {
                    format!(", watch hits at {:?}", r.watch_hits)
                }
            );
            said(text, &r)
        }
        What::Seek { tick } => {
            let p = seek_params(tick)?;
            let r = client.request::<method::Seek>(&p)?.result;
            let text = format!(
                "at tick {} (paused): replayed {} ticks from the keyframe at {} in {} ms, {} \
                 frames checked against the live ones{}{}",
                r.tick,
                r.simulated,
                r.keyframe,
                r.ms,
                r.checked,
                if r.verified {
                    ""
                } else {
                    " (this tick was not shown live, so its frame was not checked)"
                },
                if r.future > 0 {
                    format!(
                        "; {} ticks of this branch lie ahead (resuming drops them)",
                        r.future
                    )
                } else {
                    String::new()
                }
            );
            said(text, &r)
        }
        What::Until { condition, max } => {
            let p = RunUntilParams {
                condition: condition.clone(),
                max_ticks: *max,
            };
            let r = client.request::<method::RunUntil>(&p)?.result;
            let values: Vec<String> = r.values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let text = if r.found {
                format!(
                    "holds at tick {} after {} ticks ({} ticks/s), paused: {}",
                    r.tick,
                    r.ticks,
                    r.rate,
                    values.join(", ")
                )
            } else if r.interrupted {
                format!(
                    "stopped by engine.pause at tick {} after {} ticks",
                    r.tick, r.ticks
                )
            } else {
                format!(
                    "did not hold within {} ticks (paused at tick {}): {}",
                    r.ticks,
                    r.tick,
                    values.join(", ")
                )
            };
            said(text, &r)
        }
        What::Watch(cmd) => {
            let p = match cmd {
                WatchCmd::Add { condition } => WatchParams {
                    add: Some(condition.clone()),
                    remove: None,
                },
                WatchCmd::List => WatchParams::default(),
                WatchCmd::Rm { id } => WatchParams {
                    add: None,
                    remove: Some(*id),
                },
            };
            let r = client.request::<method::Watch>(&p)?.result;
            said(describe_watches(cmd, &r), &r)
        }
        What::Diff { from, to } => {
            let p = DiffParams {
                from: *from,
                to: *to,
            };
            let r = client.request::<method::WorldDiff>(&p)?.result;
            said(describe_diff(&r), &r)
        }
        What::Call { method, params } => {
            let p: Value = serde_json::from_str(params).map_err(|e| {
                ClientError::Rpc(RpcError::invalid_params(format!(
                    "params `{params}` are not JSON: {e}"
                )))
            })?;
            let r = client.call(method, p)?.result;
            said(pretty(&r), &r)
        }
    }
}

/// `1500` is a tick; `-120` and `+60` are relative to the tick shown.
fn seek_params(text: &str) -> Result<SeekParams, ClientError> {
    let bad = || {
        ClientError::Rpc(RpcError::invalid_params(format!(
            "seek takes a tick (1500) or a signed number of ticks from now (-120, +60), not `{text}`"
        )))
    };
    let t = text.trim();
    if t.starts_with(['-', '+']) {
        let by: i64 = t.parse().map_err(|_| bad())?;
        Ok(SeekParams {
            tick: None,
            by: Some(by),
        })
    } else {
        let tick: u64 = t.parse().map_err(|_| bad())?;
        Ok(SeekParams {
            tick: Some(tick),
            by: None,
        })
    }
}

fn describe_watches(cmd: &WatchCmd, r: &WatchResult) -> String {
    let mut lines = Vec::new();
    match (cmd, r.id) {
        (WatchCmd::Add { .. }, Some(id)) => lines.push(format!("added watch {id}")),
        (WatchCmd::Rm { .. }, Some(id)) => lines.push(format!("removed watch {id}")),
        _ => {}
    }
    if r.watches.is_empty() {
        lines.push("no watchpoints".to_owned());
    }
    for w in &r.watches {
        let last = w
            .last_hit
            .map_or_else(String::new, |t| format!(", last at tick {t}"));
        lines.push(format!(
            "{:>3}  {}  ({} hits{last})",
            w.id, w.condition, w.hits
        ));
    }
    lines.join("\n")
}

/// The same table golden forensics print: key, then its two values.
fn describe_diff(r: &DiffResult) -> String {
    let mut lines = vec![format!(
        "world from tick {} to tick {}: {} changed",
        r.from,
        r.to,
        r.changes.len()
    )];
    for id in &r.added {
        lines.push(format!("  + {id} (added)"));
    }
    for id in &r.removed {
        lines.push(format!("  - {id} (removed)"));
    }
    let width = r.changes.iter().map(|c| c.key.len()).max().unwrap_or(0);
    let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_owned(), Value::to_string);
    for c in &r.changes {
        lines.push(format!(
            "  {:<width$}  {} -> {}",
            c.key,
            show(&c.from),
            show(&c.to)
        ));
    }
    lines.join("\n")
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// What `params.set`, `reset` and `load` did, a line per param.
fn describe_change(r: &ParamsChange, tick: u64) -> String {
    let mut lines: Vec<String> = r
        .results
        .iter()
        .map(|(k, how)| {
            let v = r.values.get(k).map(ToString::to_string).unwrap_or_default();
            match how {
                Applied::PendingReboot => {
                    format!("{k} = {v} (pending: applies at the next reboot, `advkit send reboot`)")
                }
                Applied::Applied => format!("{k} = {v} (applied)"),
            }
        })
        .collect();
    lines.push(format!("revision {} at tick {tick}", r.revision));
    lines.join("\n")
}

fn describe_reboot(r: &RebootResult) -> String {
    let kept = r.progress == Progress::Keep;
    let mut s = format!(
        "rebooted at tick {} ({})",
        r.tick,
        if kept { "progress kept" } else { "fresh start" }
    );
    if let Some(c) = r.carried.as_ref().and_then(Value::as_object) {
        s.push_str(&format!(
            "; position {}, {} flag(s) kept",
            if c.get("position_kept") == Some(&Value::Bool(true)) {
                "kept"
            } else {
                "reset to spawn (no longer walkable)"
            },
            c.get("flags_kept").map_or("0".to_owned(), show_json)
        ));
    }
    if !r.applied.is_empty() {
        s.push_str(&format!("; applied pending: {}", r.applied.join(", ")));
    }
    s
}

/// `player   Wren       tile    12,30  facing down`; only `id` is
/// required of a game's entities.
fn describe_entity(e: &Value) -> String {
    let field = |k: &str| e.get(k).map_or("-".to_owned(), show_json);
    format!(
        "{:<8} {:<10} tile {:>8}  facing {}",
        field("id"),
        field("name"),
        field("tile"),
        field("facing")
    )
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
        Topic::ALL
            .iter()
            .filter(|t| **t != Topic::Tick)
            .map(|t| t.name().to_owned())
            .collect()
    } else {
        args.topics.clone()
    };
    client.request::<method::Subscribe>(&TopicsParams {
        topics: Some(topics.clone()),
    })?;
    eprintln!(
        "watching {} on engine {} (Ctrl-C stops)",
        topics.join(", "),
        args.target.name
    );
    let mut out = std::io::stdout().lock();
    loop {
        let Notification { tick, event } = match client.next_event(None) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(ClientError::Closed) => {
                eprintln!("the engine closed the connection");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let (topic, kind, data) = event.encode(tick);
        if args.target.json {
            let line =
                serde_json::json!({"topic": topic, "event": kind, "tick": tick, "data": data});
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "[tick {tick}] {topic} {kind} {data}")?;
        }
        out.flush()?;
    }
}
