//! `advkit inspect` (attach the terminal inspector to an engine) and
//! `advkit demo` (start an engine and inspect it; quitting stops it).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use advkit_ipc::RuntimeDir;
use advkit_ipc::api::{NoParams, method};
use advkit_ipc::client::Client;
use advkit_tui::halfblock::ColorMode;
use anyhow::{Context, Result, bail};

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The engines to inspect, `n` moving from one to the next: each an
    /// engine on another machine, `tcp://HOST:PORT` (it runs with `--tcp`;
    /// frames and control over that one port, with the token of
    /// --token-file, tier observe or above), or the name of a local one.
    /// Omitted: the local engine --name.
    #[arg(value_name = "tcp://HOST:PORT|NAME")]
    targets: Vec<String>,
    /// Engine name (see `advkit ls`).
    #[arg(long, value_name = "NAME", default_value = "default")]
    name: String,
    /// The token for a remote engine, in a file (its tier decides what
    /// the inspector may do there); default: <runtime dir>/<NAME>.token.
    #[arg(long, value_name = "FILE", requires = "targets")]
    token_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    view: ViewArgs,
}

#[derive(Debug, clap::Args)]
pub struct ViewArgs {
    /// Inspector frames per second at most. The terminal's own answers
    /// pace it below that (at most two screens unanswered), so a slow link
    /// skips frames instead of falling behind.
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=120))]
    fps: u32,
    /// Colours: truecolor, 256, 16 or mono [default: mono with NO_COLOR or TERM=dumb,
    /// truecolor if COLORTERM says so, 256 if TERM names it, else 16].
    #[arg(long, value_name = "MODE", value_parser = ColorMode::parse)]
    colors: Option<ColorMode>,
    /// A ceiling on terminal output: at most N bytes in any one second (a
    /// screen that would go over waits; colour levels drop to keep up).
    #[arg(long, value_name = "BYTES")]
    max_bandwidth: Option<u64>,
    /// Bits per colour channel, 1-8: 5 halves what a camera pan sends
    /// compared with 8, with little visible loss. The inspector goes
    /// lower by itself while a slow link holds screens back.
    #[arg(long, value_name = "BITS", default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=8))]
    color_bits: u8,
    /// Where Ctrl-R writes recorded scenarios (`<engine>-<n>.json`; their
    /// goldens go to fixtures/golden/, as `advkit record` does).
    #[arg(long, value_name = "DIR", default_value = "fixtures/scenarios")]
    record_dir: std::path::PathBuf,
}

impl ViewArgs {
    fn options(&self, name: &str) -> advkit_tui::Options {
        advkit_tui::Options {
            name: name.to_owned(),
            dir: RuntimeDir::from_env(),
            fps: self.fps,
            colors: self.colors.unwrap_or_else(ColorMode::detect),
            max_bandwidth: self.max_bandwidth,
            color_bits: self.color_bits,
            record: Some(advkit_tui::recorder::RecordWith {
                program: super::exe().to_owned(),
                args: vec!["record".into(), "--name".into(), name.to_owned()],
                dir: self.record_dir.clone(),
            }),
            remote: None,
            others: Vec::new(),
        }
    }
}

/// `tcp://HOST:PORT` (or `HOST:PORT`) as an address.
fn remote_addr(target: &str) -> Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let hostport = target.strip_prefix("tcp://").unwrap_or(target);
    hostport
        .to_socket_addrs()
        .with_context(|| format!("{target}: not tcp://HOST:PORT"))?
        .next()
        .with_context(|| format!("{target}: the name has no address"))
}

/// The inspector draws on a terminal and reads keys from it: say so
/// plainly instead of the "No such device or address (os error 6)" that
/// opening one without it gives.
fn need_terminal(command: &str) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!(
            "advkit {command} needs a terminal (its input or output is not one): run it in a \
             terminal, over `ssh -t`, or in tmux; for a frame without one use `advkit snapshot`"
        );
    }
    Ok(())
}

pub fn inspect(args: InspectArgs) -> Result<()> {
    advkit_ipc::runtime::validate_name(&args.name)?;
    let mut opts = args.view.options(&args.name);
    let mut engines = Vec::new();
    for target in &args.targets {
        engines.push(engine_target(target, &args)?);
    }
    if !engines.is_empty() {
        let (name, remote) = engines.remove(0);
        if let Some(r) = &mut opts.record
            && let Some(i) = r.args.iter().position(|a| a == "--name")
        {
            r.args[i + 1] = name.clone();
        }
        opts.name = name;
        opts.remote = remote;
        opts.others = engines;
    }
    if opts.remote.is_some() && opts.others.is_empty() {
        opts.record = None;
    }
    need_terminal("inspect")?;
    advkit_tui::run(opts).context("the inspector failed")
}

/// A target on the command line: `tcp://HOST:PORT` with the token of
/// --token-file (or of --name here), or a local engine's name.
fn engine_target(
    target: &str,
    args: &InspectArgs,
) -> Result<(String, Option<advkit_tui::RemoteTarget>)> {
    if !target.starts_with("tcp://") {
        advkit_ipc::runtime::validate_name(target)?;
        return Ok((target.to_owned(), None));
    }
    let addr = remote_addr(target)?;
    let token = super::load::token(args.token_file.as_deref(), &args.name, target)?;
    Ok((
        addr.to_string(),
        Some(advkit_tui::RemoteTarget {
            addr,
            token: Some(token),
        }),
    ))
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Frame size of the demo engine.
    #[arg(long, value_name = "WxH", default_value = "320x180")]
    size: String,
    /// Params file for the demo engine: loaded at start if it exists, and
    /// where the inspector's `s` saves (and `l` loads) tuned values.
    #[arg(long, value_name = "FILE")]
    params: Option<std::path::PathBuf>,
    #[command(flatten)]
    view: ViewArgs,
}

pub fn demo(args: DemoArgs) -> Result<()> {
    need_terminal("demo")?;
    let dir = RuntimeDir::from_env();
    let taken = |n: &str| Client::connect_unix(&dir.socket_path(n)).is_ok();
    let name = if taken("demo") {
        format!("demo-{}", std::process::id())
    } else {
        "demo".to_owned()
    };
    let mut run = Command::new(super::exe());
    run.args(["run", "--name", &name, "--size", &args.size]);
    if let Some(file) = &args.params {
        run.arg("--params").arg(file);
    }
    let mut engine = run
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the demo engine")?;
    let socket = dir.socket_path(&name);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Client::connect_unix(&socket).is_err() {
        if let Some(status) = engine.try_wait()? {
            let out = engine.wait_with_output()?;
            bail!(
                "the demo engine exited ({status}):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if Instant::now() > deadline {
            let _ = engine.kill();
            bail!("the demo engine did not start within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let result = advkit_tui::run(args.view.options(&name));
    // Quitting the inspector stops the engine it started.
    if let Ok(mut c) = Client::connect_unix(&socket) {
        let _ = c.request::<method::Shutdown>(&NoParams {});
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while engine.try_wait()?.is_none() {
        if Instant::now() > deadline {
            let _ = engine.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = engine.wait();
    result.context("the inspector failed")?;
    println!("demo engine {name} stopped");
    Ok(())
}
