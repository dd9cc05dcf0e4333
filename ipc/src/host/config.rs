//! What a [`Host`](super::Host) needs to start ([`HostConfig`]), and why
//! it may not ([`HostError`]).

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use advkit_params::Params;

use super::history::HistoryConfig;
use crate::api::{MethodSpec, Tier, schema};
use crate::region::CreateError;
use crate::runtime::{RuntimeDir, RuntimeError};
use crate::server::Limits;

/// What a [`Host`](super::Host) needs to start.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub name: String,
    pub dir: RuntimeDir,
    pub width: u32,
    pub height: u32,
    /// Ticks per second, for [`Host::next_deadline`](super::Host::next_deadline) and stats.
    pub fps: f64,
    /// Reported by `hello`, e.g. `"mygame 1.2"`.
    pub engine: String,
    /// The game's params; `params.*` are answered against them.
    pub params: Params,
    /// The game's own methods, and the standard game methods it answers
    /// ([`with_standard`](Self::with_standard)).
    pub methods: Vec<MethodSpec>,
    /// Also listen on TCP (token required).
    pub tcp: Option<SocketAddr>,
    /// The TCP tokens and what each may call ([`read_token_file`] reads
    /// one, checked owner-only). None given: one `admin` token is made and
    /// written to `<runtime dir>/<name>.token`.
    pub tokens: Vec<(Tier, String)>,
    /// Allow a TCP address that is not loopback.
    pub allow_remote: bool,
    /// Where `params.save` / `params.load` go.
    pub params_file: Option<PathBuf>,
    /// Connection caps per transport and deadlines (auth, line, idle).
    pub limits: Limits,
    /// Stop [`Host::running`](super::Host::running) on SIGINT, SIGTERM and SIGHUP, so the loop
    /// ends and dropping the host removes its files (default on).
    pub handle_signals: bool,
    /// Start paused: nothing ticks until `engine.resume` or `engine.step`.
    /// [`HostConfig::new`] sets it when `ADVKIT_PAUSED` is set in the
    /// environment (to anything but empty, `0` or `false`), so a tool can
    /// start any game paused before its first update (`advkit golden`
    /// replays that way).
    pub paused: bool,
    /// The history kept for `engine.seek`, `world.diff` and the
    /// inspector's timeline (on by default; it needs the game to answer
    /// `world.save` and `world.load`).
    pub history: HistoryConfig,
    /// Names given to [`with_standard`](Self::with_standard) that are no
    /// standard method: [`Host::start`](super::Host::start) refuses them by name.
    pub unknown_standard: Vec<String>,
}

impl HostConfig {
    pub fn new(name: &str, width: u32, height: u32) -> HostConfig {
        HostConfig {
            name: name.to_owned(),
            dir: RuntimeDir::from_env(),
            width,
            height,
            fps: 30.0,
            engine: format!("advkit-ipc {}", env!("CARGO_PKG_VERSION")),
            params: Params::new(Vec::new()),
            methods: Vec::new(),
            tcp: None,
            tokens: Vec::new(),
            allow_remote: false,
            params_file: None,
            limits: Limits::default(),
            handle_signals: true,
            paused: std::env::var_os("ADVKIT_PAUSED")
                .is_some_and(|v| !v.is_empty() && v != "0" && v != "false"),
            history: HistoryConfig::default(),
            unknown_standard: Vec::new(),
        }
    }

    /// Keeps `seconds` of history (0: none); see [`HistoryConfig`].
    pub fn with_history(mut self, seconds: f64) -> HostConfig {
        self.history.seconds = seconds;
        self
    }

    pub fn with_params(mut self, params: Params) -> HostConfig {
        self.params = params;
        self
    }

    /// Registers a method of the game's own; it reaches the loop as
    /// [`Request::Custom`] once its params fit `spec`.
    pub fn with_method(mut self, spec: MethodSpec) -> HostConfig {
        self.methods.push(spec);
        self
    }

    /// Registers standard game methods the game answers, by name:
    /// `engine.reboot`, `engine.input`, `world.entities`, `world.get`,
    /// `world.set` (unknown names are ignored).
    /// Adds the standard game methods named (`engine.reboot`,
    /// `world.save`, …: [`schema::GAME_METHODS`]); a name that is none of
    /// them makes [`Host::start`](super::Host::start) fail, saying which.
    pub fn with_standard(mut self, names: &[&str]) -> HostConfig {
        for name in names {
            match schema::game_method(name) {
                Some(spec) => self.methods.push(spec),
                None => self.unknown_standard.push((*name).to_owned()),
            }
        }
        self
    }

    pub fn with_fps(mut self, fps: f64) -> HostConfig {
        self.fps = fps;
        self
    }

    pub fn with_engine(mut self, engine: &str) -> HostConfig {
        self.engine = engine.to_owned();
        self
    }
}

/// Why a host could not start. Its `Debug` is its sentence too, so a
/// game's `main` that returns the error (as `?` makes it) prints what is
/// wrong, not a struct dump.
#[derive(thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Region(#[from] CreateError),
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "refusing to listen on {addr}, which is not loopback: anyone who can reach it could try the token; \
         add --allow-remote if that is what you want"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("could not listen on {addr}: {source}")]
    Tcp { addr: SocketAddr, source: io::Error },
    #[error("could not start the control server thread: {0}")]
    Thread(io::Error),
    #[error("could not install the SIGINT/SIGTERM/SIGHUP handlers: {0}")]
    Signals(io::Error),
    #[error("method `{0}` is registered twice (or is one the host answers itself)")]
    DuplicateMethod(String),
    #[error("token file {}: {why}", path.display())]
    TokenFile { path: PathBuf, why: String },
    #[error(
        "{} not a standard method; the standard ones are {}",
        names.iter().map(|n| format!("`{n}` is")).collect::<Vec<_>>().join(", "),
        schema::GAME_METHODS.join(", ")
    )]
    UnknownStandard { names: Vec<String> },
}

impl std::fmt::Debug for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A token from `path`: its one line, the file owner-only (a token others
/// on the machine can read is no secret) and at least 16 characters.
pub fn read_token_file(path: &Path) -> Result<String, HostError> {
    use std::os::unix::fs::MetadataExt;
    let fail = |why: String| HostError::TokenFile {
        path: path.to_owned(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if meta.mode() & 0o077 != 0 {
        return Err(fail(format!(
            "others can read it (mode {:o}); make it owner-only: chmod 600 {}",
            meta.mode() & 0o777,
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let token = text.trim();
    if token.len() < 16 || token.contains(char::is_whitespace) {
        return Err(fail(
            "a token is one line of at least 16 characters without spaces; make one with \
             `head -c 16 /dev/urandom | xxd -p > FILE && chmod 600 FILE`"
                .to_owned(),
        ));
    }
    Ok(token.to_owned())
}
