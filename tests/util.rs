//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A temporary directory that lives as long as the test.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write test file");
        p
    }
}

/// The result of running `advkit`, with readable failure messages.
pub struct Run {
    pub out: Output,
    pub args: Vec<String>,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn describe(&self) -> String {
        format!(
            "advkit {}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.out.status.code(),
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> String {
        assert!(
            self.out.status.success(),
            "expected success:\n{}",
            self.describe()
        );
        self.assert_no_panic();
        self.stdout()
    }

    /// Asserts failure with the given exit code and returns stderr.
    pub fn fails_with(&self, code: i32) -> String {
        assert_eq!(
            self.out.status.code(),
            Some(code),
            "unexpected exit:\n{}",
            self.describe()
        );
        self.assert_no_panic();
        self.stderr()
    }

    fn assert_no_panic(&self) {
        assert!(
            !self.stderr().contains("panicked"),
            "advkit panicked:\n{}",
            self.describe()
        );
    }
}

/// Runs the real `advkit` binary.
pub fn advkit<S: AsRef<str>>(args: &[S]) -> Run {
    advkit_env(&[], args)
}

/// Runs `advkit` with environment variables set (`Some`) or removed (`None`).
pub fn advkit_env<S: AsRef<str>>(env: &[(&str, Option<&str>)], args: &[S]) -> Run {
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_advkit"));
    cmd.args(&args);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().expect("run advkit");
    Run { out, args }
}

/// Waits until `done` holds, polling; panics naming `what` after 30 s
/// (a deadline for a hang, never a measure of speed).
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A little-endian header field of the frame region at `path`.
fn header_field<const N: usize>(path: &Path, offset: usize) -> Option<[u8; N]> {
    use std::io::Read;
    let mut bytes = [0u8; N];
    let mut file = std::fs::File::open(path).ok()?;
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset as u64)).ok()?;
    file.read_exact(&mut bytes).ok()?;
    Some(bytes)
}

/// The `waiters` count of the region at `path` (header offset 76): readers
/// asleep on its futex.
pub fn waiters(path: &Path) -> u32 {
    header_field(path, 76).map_or(0, u32::from_le_bytes)
}

/// Waits until the game loop of the engine writing `path` has called its
/// host over a span of `span` of the engine's own clock (`loop_ns`, header
/// offset 112), so a check that nothing happened meanwhile has watched a
/// loop that ran, however busy this machine is.
pub fn wait_loop_runs(path: &Path, span: Duration) {
    let at = || header_field(path, 112).map_or(0, u64::from_le_bytes);
    let from = at();
    wait_until("the engine's loop to run on", || {
        at() >= from + span.as_nanos() as u64
    });
}

/// A private runtime directory (`XDG_RUNTIME_DIR`) for engines started by
/// one test, so tests never see each other's engines.
pub struct Runtime {
    tmp: tempfile::TempDir,
}

impl Runtime {
    pub fn new() -> Runtime {
        let tmp = tempfile::tempdir().expect("create a temporary runtime directory");
        Runtime { tmp }
    }

    /// A runtime directory inside `parent` (to choose its filesystem).
    pub fn in_dir(parent: &Path) -> Runtime {
        let tmp = tempfile::tempdir_in(parent).expect("create a temporary runtime directory");
        Runtime { tmp }
    }

    /// `$XDG_RUNTIME_DIR` for this test.
    pub fn xdg(&self) -> &Path {
        self.tmp.path()
    }

    /// Where advkit keeps engine files: `$XDG_RUNTIME_DIR/advkit`.
    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("advkit")
    }

    /// Runs `advkit` with this runtime directory.
    pub fn advkit<S: AsRef<str>>(&self, args: &[S]) -> Run {
        advkit_env(&[("XDG_RUNTIME_DIR", Some(&path_str(self.xdg())))], args)
    }

    /// Starts `advkit run --name NAME ARGS...` and waits until it has
    /// published a frame.
    pub fn start(&self, name: &str, args: &[&str]) -> Engine {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_advkit"));
        cmd.args(["run", "--name", name])
            .args(args)
            .env("XDG_RUNTIME_DIR", self.xdg())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("start advkit run");
        let mut engine = Engine {
            child: Some(child),
            frames: self.dir().join(format!("{name}.frames")),
        };
        engine.wait_ready();
        engine
    }

    /// The tick of engine `name`'s newest frame, from its frame region.
    pub fn shown_tick(&self, name: &str) -> u64 {
        let reader = advkit_ipc::FrameReader::open(&self.dir().join(format!("{name}.frames")))
            .expect("the engine's frame region");
        let mut buf = reader.buffer();
        reader.read_latest(&mut buf).map(|f| f.tick).unwrap_or(0)
    }

    /// Waits until engine `name` has shown `n` more ticks: time passing
    /// in the game, not on the wall clock.
    pub fn wait_ticks(&self, name: &str, n: u64) {
        let from = self.shown_tick(name);
        wait_until(
            &format!("engine {name} to run {n} ticks past {from}"),
            || self.shown_tick(name) >= from + n,
        );
    }
}

impl Runtime {
    /// Starts `cargo run --example EXAMPLE` (a game of its own on
    /// advkit-ipc's Host, engine name NAME) and waits for its first frame.
    pub fn start_example(&self, example: &str, name: &str) -> Engine {
        self.start_example_with(example, name, &[])
    }

    /// [`start_example`](Self::start_example) with arguments.
    pub fn start_example_with(&self, example: &str, name: &str, args: &[&str]) -> Engine {
        let child = Command::new(example_path(example))
            .args(args)
            .env("XDG_RUNTIME_DIR", self.xdg())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the example");
        let mut engine = Engine {
            child: Some(child),
            frames: self.dir().join(format!("{name}.frames")),
        };
        engine.wait_ready();
        engine
    }
}

/// The built example binary, built first if `cargo test` was filtered in a
/// way that skipped examples.
pub fn example_path(example: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("examples").join(example))
        .expect("target dir");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "--example", example])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cargo build --example {example} failed");
    }
    path
}

/// A running `advkit run` (or example game), killed when dropped.
pub struct Engine {
    child: Option<Child>,
    pub frames: PathBuf,
}

impl Engine {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(bytes) = std::fs::read(&self.frames) {
                // This engine's region (writer_pid at offset 24), with a
                // frame out (latest_frame at offset 88 > 0); not a stale
                // file left by an earlier one.
                let pid = self.pid().to_le_bytes();
                if bytes.len() > 96 && bytes[24..28] == pid && bytes[88..96].iter().any(|&b| b != 0)
                {
                    return;
                }
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let out = self
                    .child
                    .take()
                    .expect("child")
                    .wait_with_output()
                    .expect("output");
                panic!(
                    "advkit run exited early ({status}):\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("advkit run did not publish a frame within 20 s");
    }

    /// Sends a signal with `kill(1)` (SIGKILL = "-9", SIGTERM = "-TERM").
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {sig} failed");
    }

    /// Waits for the engine to exit and returns its stderr.
    pub fn wait(mut self) -> (std::process::ExitStatus, String) {
        let out = self
            .child
            .take()
            .expect("child")
            .wait_with_output()
            .expect("wait for advkit run");
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// A detached tmux session running one command, for end-to-end tests of
/// terminal programs; killed when dropped.
///
/// Each session has a tmux server of its own (`-S`): on a shared server,
/// one test's `kill-session` of the last session makes the server exit
/// while another test's `new-session` is connecting to it, and that
/// fails with "server exited unexpectedly".
pub struct Tmux {
    pub session: String,
}

/// `tmux -S SOCKET`: a command to this session's own server.
fn tmux(session: &str) -> Command {
    let mut command = Command::new("tmux");
    command.arg("-S").arg(tmux_socket(session));
    command
}

/// The server's socket, removed by the guard (tmux leaves it behind).
fn tmux_socket(session: &str) -> PathBuf {
    std::env::temp_dir().join(session)
}

impl Tmux {
    /// Starts `command` (a shell line) in a `cols`x`rows` tmux window.
    pub fn start(command: &str, cols: u16, rows: u16) -> Tmux {
        let session = format!("advkit-test-{}-{}", std::process::id(), rand_suffix());
        let status = tmux(&session)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .arg(command)
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux runs (installed by .ci/run)");
        assert!(status.success(), "tmux new-session failed");
        Tmux { session }
    }

    /// The visible screen as text.
    pub fn screen(&self) -> String {
        let out = tmux(&self.session)
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen with its colours and attributes as SGR escapes
    /// (`capture-pane -e`).
    pub fn screen_with_colors(&self) -> String {
        let out = tmux(&self.session)
            .args(["capture-pane", "-p", "-e", "-t", &self.session])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen contains `text`; panics with the screen if not.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited {timeout:?} for {text:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen satisfies `done`; panics naming `what`, with
    /// the screen, if it does not within `timeout`.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited {timeout:?} for {what}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends keys as tmux names them (`q`, `Enter`, `Left`, `S-Right`…).
    pub fn keys(&self, keys: &[&str]) {
        let status = tmux(&self.session)
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }
}

impl Drop for Tmux {
    /// Ends everything the session started, even what left its process
    /// group (`script` runs its command in a session of its own, and
    /// outlived a killed tmux session): the pane's process and every
    /// descendant are killed, then the session.
    fn drop(&mut self) {
        let pane = tmux(&self.session)
            .args(["list-panes", "-t", &self.session, "-F", "#{pane_pid}"])
            .stderr(Stdio::null())
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .ok()
            });
        if let Some(pane) = pane {
            // The pane's own process too: a one-command shell runs it in
            // its place (`script` itself, here).
            for pid in descendants(pane).into_iter().chain([pane]) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        let _ = tmux(&self.session)
            .args(["kill-server"])
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(tmux_socket(&self.session));
    }
}

/// Every process below `root`, deepest first (from /proc's parent pids).
fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": the comm may hold spaces or parens.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.push((pid, ppid));
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &parents {
            if parent == p && !found.contains(&child) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found.reverse();
    found
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish() % 1_000_000
}
