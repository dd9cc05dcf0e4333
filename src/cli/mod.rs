//! The `advkit` command line (clap), and its exit codes; each command
//! lives in a module of its own here. The binary (`src/bin/advkit.rs`)
//! and the Python wheel's console script both call [`run`], so `pip
//! install` brings the same command.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::{Parser, Subcommand};

mod golden_cmd;
mod inspect_cmd;
mod load;
mod ls_cmd;
mod output;
mod params_cmd;
mod record_cmd;
mod render_cmd;
mod run_cmd;
mod send_cmd;
mod snapshot_cmd;

/// Run a tile adventure headless, look inside it while it runs, and guard what it draws.
#[derive(Debug, Parser)]
#[command(
    name = "advkit",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start an engine on the built-in scene and inspect it in this terminal;
    /// quitting the inspector stops the engine.
    Demo(inspect_cmd::DemoArgs),
    /// Show a running engine live in the terminal and tune its params
    /// (works in tmux and over `ssh -t`). Press ? inside for the keys.
    Inspect(inspect_cmd::InspectArgs),
    /// Run the engine headless (no sockets) and write one frame as a PNG.
    ///
    /// Prints the frame's tick and content hash. The same arguments always
    /// give the same picture, byte for byte.
    Render(render_cmd::RenderArgs),
    /// List every parameter: type, range or choices, default, when it applies.
    Params(params_cmd::ParamsArgs),
    /// Run the engine live: a fixed-tick loop that publishes every frame to
    /// shared memory (<runtime dir>/<name>.frames) and answers control
    /// commands on <name>.sock, until SIGINT, SIGTERM or `advkit send shutdown`.
    ///
    /// The runtime dir is $XDG_RUNTIME_DIR/advkit, or /dev/shm/advkit-<uid>
    /// when XDG_RUNTIME_DIR is not set.
    Run(run_cmd::RunArgs),
    /// Write the newest frame of a running engine as a PNG.
    Snapshot(snapshot_cmd::SnapshotArgs),
    /// List engines in the runtime directory: name, pid, size, fps, uptime, and those not running (--prune removes what killed ones left); given tcp://HOST:PORT, engines elsewhere too.
    Ls(ls_cmd::LsArgs),
    /// Send one command to a running engine: get, set, reboot, pause, step, stats…
    ///
    /// Works on any engine on advkit's host (`advkit run`, or a game of your
    /// own): params, pause, step, stats, snapshot and shutdown always; reboot,
    /// input and entities where the game answers them; `call` for the rest.
    ///
    /// Exit status: 0 on success, 1 when the engine answers with an error,
    /// 2 when there is no engine or the connection fails. The protocol is
    /// in docs/protocol.md.
    Send(send_cmd::SendArgs),
    /// Print a running engine's events as they arrive (params, engine, log, tick, world, applied).
    Watch(send_cmd::WatchArgs),
    /// Golden-frame testing: run scenarios, compare with blessed PNGs, review.
    Golden(golden_cmd::GoldenArgs),
    /// Record a running engine's session (any game on advkit's Host) as a
    /// golden scenario that replays it.
    ///
    /// Starts the engine fresh (a fresh reboot: asks first, --yes skips the
    /// question) or, with --from-now, from where it is (its saved state),
    /// then records every input, param change, reboot, entity edit and
    /// mutating method of the game's own, from every client, with the tick
    /// the game applied it at, and the hash of every frame. Stops on
    /// Ctrl-C, SIGTERM, --ticks N or when the engine exits; writes the
    /// scenario, captures every --capture-every ticks and at the last tick,
    /// and replays it headless twice to check it reproduces the session.
    /// The inspector's Ctrl-R runs it too.
    Record(record_cmd::RecordArgs),
    /// Print a shell completion script: `advkit completions bash > /etc/bash_completion.d/advkit`.
    /// In bash, zsh and fish, --name completes the engines running at the time.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Where a command reads its scene from.
#[derive(Debug, clap::Args)]
struct SceneArg {
    /// Scene file (JSON, see docs/scene.md); the built-in demo when omitted.
    #[arg(long, value_name = "PATH")]
    scene: Option<PathBuf>,
}

/// The `advkit` command itself, for the subcommands that start it again
/// (the inspector's recorder, `golden check --protocol`): the binary, or
/// the console script of a Python environment.
static EXE: OnceLock<PathBuf> = OnceLock::new();

/// The `advkit` command being run (see [`run`]).
pub fn exe() -> &'static Path {
    EXE.get().map_or(Path::new("advkit"), PathBuf::as_path)
}

/// Runs the command line `args` (its first word the program's name) and
/// returns the exit status: 0 done, 1 failed, 2 no engine to talk to (or
/// a usage error). `exe` is the `advkit` command itself ([`exe`]).
pub fn run<I, T>(args: I, exe: PathBuf) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let _ = EXE.set(exe);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed; a usage error says
            // what is wrong, with status 2.
            let _ = e.print();
            return e.exit_code();
        }
    };
    let result = match cli.command {
        Command::Demo(args) => inspect_cmd::demo(args),
        Command::Inspect(args) => inspect_cmd::inspect(args),
        Command::Render(args) => render_cmd::run(args),
        Command::Params(args) => params_cmd::run(args),
        Command::Run(args) => run_cmd::run(args),
        Command::Snapshot(args) => snapshot_cmd::run(args),
        Command::Ls(args) => ls_cmd::run(args),
        Command::Send(args) => send_cmd::run(args),
        Command::Watch(args) => send_cmd::watch(args),
        Command::Golden(args) => golden_cmd::run(args),
        Command::Record(args) => record_cmd::run(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Generated in memory and written here, so a closed pipe
            // (`| head`) ends quietly instead of panicking in clap_complete.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "advkit", &mut script);
            let script = complete_engine_names(shell, &String::from_utf8_lossy(&script));
            io::stdout()
                .write_all(script.as_bytes())
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(()) => 0,
        Err(err) if is_broken_pipe(&err) => 0,
        Err(err) => {
            let _ = writeln!(io::stderr(), "error: {err:#}");
            i32::from(exit_code(&err))
        }
    }
}

/// The names of running engines (`advkit ls --names`), asked of advkit
/// when completing.
const ENGINE_NAMES: &str = "advkit ls --names 2>/dev/null";

/// clap_complete's script with `--name` completing the running engines
/// instead of file names (bash, zsh and fish; other shells as generated).
fn complete_engine_names(shell: clap_complete::Shell, script: &str) -> String {
    use clap_complete::Shell;
    let mut out = String::with_capacity(script.len() + 256);
    match shell {
        Shell::Bash => {
            let mut after_name = false;
            for line in script.lines() {
                let files = r#"COMPREPLY=($(compgen -f "${cur}"))"#;
                if after_name && line.trim() == files {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    out.push_str(&format!(
                        r#"{indent}COMPREPLY=($(compgen -W "$({ENGINE_NAMES})" -- "${{cur}}"))"#
                    ));
                } else {
                    out.push_str(line);
                }
                out.push('\n');
                after_name = line.trim() == "--name)";
            }
        }
        Shell::Zsh => {
            for (i, line) in script.lines().enumerate() {
                if line.starts_with("'--name=") {
                    out.push_str(&line.replace(":NAME:_default'", ":NAME:_advkit_engines'"));
                } else {
                    out.push_str(line);
                }
                out.push('\n');
                if i == 0 {
                    out.push_str(&format!(
                        "\n_advkit_engines() {{\n    local -a names\n    names=(${{(f)\"$({ENGINE_NAMES})\"}})\n    _describe -t engines 'running engine' names\n}}\n"
                    ));
                }
            }
        }
        Shell::Fish => {
            for line in script.lines() {
                match line.strip_suffix(" -r") {
                    Some(head) if head.contains(" -l name ") => {
                        out.push_str(&format!("{head} -x -a '({ENGINE_NAMES})'"));
                    }
                    _ => out.push_str(line),
                }
                out.push('\n');
            }
        }
        _ => out.push_str(script),
    }
    out
}

/// 1 for ordinary failures and error replies; 2 when there is no engine to
/// talk to or the connection failed (so scripts can tell the two apart).
/// One meaning per code, for every command: 0 done, 1 failed (an error
/// reply, a mismatch, bad input), 2 no engine to talk to (not running,
/// gone, or the connection failed) — and clap's usage errors, also 2.
fn exit_code(err: &anyhow::Error) -> u8 {
    use advkit_ipc::{OpenError, ReadError, client::ClientError};
    for e in err.chain() {
        if let Some(c) = e.downcast_ref::<ClientError>() {
            return c.exit_code();
        }
        if matches!(
            e.downcast_ref::<OpenError>(),
            Some(OpenError::NotRunning { .. })
        ) || matches!(
            e.downcast_ref::<ReadError>(),
            Some(ReadError::WriterGone { .. })
        ) {
            return 2;
        }
    }
    1
}

/// A reader that went away (`advkit params | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}
