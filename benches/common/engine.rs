//! A real `advkit run` for benchmarks that drive one over its socket,
//! killed when dropped.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Engine {
    pub child: Child,
    pub socket: PathBuf,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `advkit run --name NAME ARGS…` in `xdg`, once its socket answers.
pub fn start_engine(xdg: &Path, name: &str, args: &[&str]) -> Engine {
    let child = Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(["run", "--name", name])
        .args(args)
        .env("XDG_RUNTIME_DIR", xdg)
        .stderr(Stdio::null())
        .spawn()
        .expect("start advkit run");
    let socket = xdg.join("advkit").join(format!("{name}.sock"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "engine did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Engine { child, socket }
}
