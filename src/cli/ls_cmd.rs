//! `advkit ls`: the engines in the runtime directory: running, not
//! responding, stale (left by a killed engine) or broken.

use std::io::Write;

use advkit_ipc::api::codes;
use advkit_ipc::{FrameReader, Gone, RuntimeDir, system};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// One JSON object per engine, for scripts.
    #[arg(long)]
    json: bool,
    /// First remove what killed engines left behind: regions no engine
    /// holds (with their sockets and tokens), sockets nobody listens on.
    /// Live engines and files that are not advkit's are left alone.
    #[arg(long)]
    prune: bool,
    /// Only the names of running engines, one per line (for scripts and
    /// the shell completion of --name).
    #[arg(long, conflicts_with = "json")]
    names: bool,
    /// Engines on other machines too, each `tcp://HOST:PORT` (they run
    /// with --tcp), listed after the local ones as NAME@HOST:PORT.
    #[arg(value_name = "tcp://HOST:PORT", conflicts_with = "names")]
    remotes: Vec<String>,
    /// A file of remote engines, one `tcp://HOST:PORT [TOKEN-FILE]` a line
    /// (`#` starts a comment).
    #[arg(long, value_name = "FILE", conflicts_with = "names")]
    remote_list: Option<std::path::PathBuf>,
    /// The token for remote engines without one of their own in the list
    /// (any tier: listing only reads).
    #[arg(long, value_name = "FILE")]
    token_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    /// `running`, `busy` (the process runs, its game loop has not called in
    /// for over a second), `not responding`, `stale` or `broken`; a remote
    /// one `running`, `paused`, `needs token` or `unreachable`.
    state: &'static str,
    pid: Option<u32>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    uptime_s: Option<u64>,
    frames: Option<u64>,
    /// Why it is not running, and what to do.
    note: Option<String>,
}

pub fn run(args: LsArgs) -> Result<()> {
    let dir = RuntimeDir::from_env();
    dir.check()?;
    if args.prune {
        let removed = advkit_ipc::region::prune(dir.path())?;
        // On stderr, so `--json` output stays one object per engine.
        for path in &removed {
            eprintln!("removed {}", path.display());
        }
        if removed.is_empty() {
            eprintln!("nothing to prune in {}", dir.path().display());
        }
    }
    if args.names {
        let mut out = std::io::stdout().lock();
        for name in dir.engine_names()? {
            let alive =
                FrameReader::open(&dir.frames_path(&name)).is_ok_and(|r| r.liveness().is_ok());
            if alive {
                writeln!(out, "{name}")?;
            }
        }
        return Ok(());
    }
    let mut rows: Vec<Row> = dir
        .engine_names()?
        .into_iter()
        .map(|name| row(&dir, name))
        .collect();
    for (target, token_file) in remote_targets(&args)? {
        rows.push(remote_row(&target, token_file.as_deref()));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        for r in &rows {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        }
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no engines in {} (start one with `advkit run`)",
            dir.path().display()
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<16} {:>8}  {:>9}  {:>5}  {:>9}  {:>8}  STATE",
        "NAME", "PID", "SIZE", "FPS", "UPTIME", "FRAMES"
    )?;
    for r in &rows {
        let dash = || "-".to_owned();
        writeln!(
            out,
            "{:<16} {:>8}  {:>9}  {:>5}  {:>9}  {:>8}  {}{}",
            r.name,
            r.pid.map_or_else(dash, |p| p.to_string()),
            r.width
                .zip(r.height)
                .map_or_else(dash, |(w, h)| format!("{w}x{h}")),
            r.fps.map_or_else(dash, |f| format!("{f:.0}")),
            r.uptime_s.map_or_else(dash, uptime),
            r.frames.map_or_else(dash, |f| f.to_string()),
            r.state,
            r.note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

impl Row {
    /// A row that knows nothing yet but its name and state.
    fn bare(name: String, state: &'static str) -> Row {
        Row {
            name,
            state,
            pid: None,
            width: None,
            height: None,
            fps: None,
            uptime_s: None,
            frames: None,
            note: None,
        }
    }
}

fn row(dir: &RuntimeDir, name: String) -> Row {
    let mut row = Row::bare(name, "broken");
    let reader = match FrameReader::open(&dir.frames_path(&row.name)) {
        Ok(r) => r,
        Err(e) => {
            row.note = Some(e.to_string());
            return row;
        }
    };
    let info = reader.info();
    row.pid = Some(info.pid);
    row.width = Some(info.width);
    row.height = Some(info.height);
    row.fps = Some(info.fps);
    row.frames = Some(reader.latest_frame());
    match reader.liveness() {
        Ok(()) => {
            row.state = "running";
            row.uptime_s = Some(system::unix_ms().saturating_sub(info.started_unix_ms) / 1000);
            // Its process beats, but its game loop has not called in.
            if let Some(quiet) = reader
                .loop_silence()
                .filter(|q| *q > advkit_ipc::region::HEARTBEAT_TIMEOUT)
            {
                row.state = "busy";
                row.note = Some(format!(
                    "its game loop has not called the host for {:.1} s (loading, or long in a \
                     frame); the process is alive, and requests wait for the loop",
                    quiet.as_secs_f64()
                ));
            }
        }
        Err(gone @ Gone::Exited { .. }) => {
            row.state = "stale";
            row.note = Some(format!(
                "{gone}; `advkit run --name {}` replaces it, `advkit ls --prune` removes it",
                row.name
            ));
        }
        // Still holding its lock, so nothing can replace it: stopped
        // (SIGSTOP, Ctrl-Z), hung, or in a debugger.
        Err(gone @ Gone::Unresponsive { pid, .. }) => {
            row.state = "not responding";
            row.note = Some(format!(
                "{gone}: stopped or hung, and it still holds the name; `kill -CONT {pid}` resumes a stopped one, `kill {pid}` ends it"
            ));
        }
    }
    row
}

/// The remote engines asked for: each target with its token file.
fn remote_targets(args: &LsArgs) -> Result<Vec<(String, Option<std::path::PathBuf>)>> {
    let mut targets: Vec<_> = args
        .remotes
        .iter()
        .map(|t| (t.clone(), args.token_file.clone()))
        .collect();
    if let Some(list) = &args.remote_list {
        let text = std::fs::read_to_string(list)
            .map_err(|e| anyhow::anyhow!("{}: {e}", list.display()))?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            if let Some(target) = words.next() {
                let token = words
                    .next()
                    .map(std::path::PathBuf::from)
                    .or_else(|| args.token_file.clone());
                targets.push((target.to_owned(), token));
            }
        }
    }
    Ok(targets)
}

/// A remote engine's row: its `hello` and `engine.stats` over TCP, or why
/// it could not be asked.
fn remote_row(target: &str, token_file: Option<&std::path::Path>) -> Row {
    use std::net::ToSocketAddrs;
    let hostport = target.strip_prefix("tcp://").unwrap_or(target);
    let mut row = Row::bare(format!("?@{hostport}"), "unreachable");
    let asked = (|| -> Result<()> {
        let addr = hostport
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| anyhow::anyhow!("{hostport} has no address"))?;
        let token = token_file
            .map(|f| super::load::token(Some(f), "", target))
            .transpose()?;
        let mut c = advkit_ipc::client::Client::connect_tcp(addr, token.as_deref())?;
        let hello = c.request::<advkit_ipc::api::method::Hello>(&advkit_ipc::api::NoParams {})?;
        row.name = format!("{}@{hostport}", hello.result.name);
        row.width = Some(hello.result.frames.width);
        row.height = Some(hello.result.frames.height);
        let stats = c.request::<advkit_ipc::api::method::Stats>(&advkit_ipc::api::NoParams {});
        let s = match stats {
            Ok(s) => s.result,
            Err(advkit_ipc::client::ClientError::Rpc(e))
                if [codes::AUTH_REQUIRED, codes::AUTH_FAILED].contains(&e.code) =>
            {
                row.state = "needs token";
                anyhow::bail!(
                    "{}; give --token-file, or a token file after its address in --remote-list",
                    e.message
                );
            }
            Err(e) => return Err(e.into()),
        };
        row.fps = Some(s.target_fps);
        row.uptime_s = Some(s.uptime_s);
        row.frames = Some(s.frames_published);
        row.state = if s.paused { "paused" } else { "running" };
        Ok(())
    })();
    if let Err(e) = asked {
        row.note = Some(format!("{e}"));
    }
    row
}

fn uptime(s: u64) -> String {
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s / 60 % 60),
    }
}
