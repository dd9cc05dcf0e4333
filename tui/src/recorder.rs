//! The inspector's recording key: runs `advkit record` (the command the
//! binary hands over in [`RecordWith`]) as a child process on the engine
//! being inspected, and stops it with SIGINT, as Ctrl-C would, so it
//! writes its scenario and replays it to check. This crate knows no
//! recording format: the child does the work and says what it did.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// How to start a recording: `program args… --out FILE` plus how it starts.
#[derive(Debug, Clone)]
pub struct RecordWith {
    pub program: PathBuf,
    /// Everything before `--out`, e.g. `record --name game`.
    pub args: Vec<String>,
    /// Where scenario files go (their goldens go where the command puts
    /// them by default).
    pub dir: PathBuf,
}

/// How a recording starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From where the game is (`--from-now`: it saves its state).
    FromNow,
    /// From a fresh reboot, already confirmed (`--yes`).
    Fresh,
}

/// A recording under way.
#[derive(Debug)]
pub struct Recorder {
    child: Child,
    pub out: PathBuf,
    lines: Receiver<String>,
    stopping: Option<Instant>,
}

/// What a finished recording said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub ok: bool,
    /// Everything it printed, stdout then stderr lines as they came.
    pub lines: Vec<String>,
}

impl Recorder {
    /// Starts recording to the first free `<dir>/<engine>-<n>.json`.
    pub fn start(with: &RecordWith, engine: &str, start: Start) -> std::io::Result<Recorder> {
        let out = free_name(&with.dir, engine);
        let mut child = Command::new(&with.program)
            .args(&with.args)
            .arg(match start {
                Start::FromNow => "--from-now",
                Start::Fresh => "--yes",
            })
            .arg("--out")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (tx, lines) = channel();
        if let Some(out) = child.stdout.take() {
            pass_lines(out, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            pass_lines(err, tx);
        }
        Ok(Recorder {
            child,
            out,
            lines,
            stopping: None,
        })
    }

    /// Asks it to stop (SIGINT): it writes the scenario, then checks it.
    pub fn stop(&mut self) {
        if self.stopping.is_none() {
            let pid = rustix::process::Pid::from_child(&self.child);
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
            self.stopping = Some(Instant::now());
        }
    }

    pub fn stopping(&self) -> bool {
        self.stopping.is_some()
    }

    /// Lines printed since the last call, and once it has exited, how.
    pub fn poll(&mut self) -> (Vec<String>, Option<bool>) {
        let exited = match self.child.try_wait() {
            Ok(Some(status)) => Some(status.success()),
            Ok(None) => None,
            Err(_) => Some(false),
        };
        // After it exits, its pipes close: wait for their last lines.
        if exited.is_some() {
            std::thread::sleep(Duration::from_millis(20));
        }
        (self.lines.try_iter().collect(), exited)
    }

    /// Stops it and waits (at most `limit`) for it to finish writing.
    pub fn finish(mut self, limit: Duration) -> Finished {
        self.stop();
        let deadline = Instant::now() + limit;
        let mut lines = Vec::new();
        loop {
            let (more, exited) = self.poll();
            lines.extend(more);
            if let Some(ok) = exited {
                return Finished { ok, lines };
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                lines.push(format!(
                    "the recorder did not finish within {} s and was killed",
                    limit.as_secs()
                ));
                return Finished { ok: false, lines };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Never left running behind the inspector.
        if let Ok(None) = self.child.try_wait() {
            self.stop();
            let _ = self.child.wait();
        }
    }
}

fn pass_lines(from: impl Read + Send + 'static, to: Sender<String>) {
    let _ = std::thread::Builder::new()
        .name("advkit-recorder-output".into())
        .spawn(move || {
            for line in BufReader::new(from).lines().map_while(Result::ok) {
                if to.send(line).is_err() {
                    return;
                }
            }
        });
}

/// `<dir>/<engine>-<n>.json` for the first `n` not taken.
fn free_name(dir: &Path, engine: &str) -> PathBuf {
    (1..)
        .map(|n| dir.join(format!("{engine}-{n}.json")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{engine}.json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_count_up_past_taken_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            free_name(dir.path(), "game"),
            dir.path().join("game-1.json")
        );
        std::fs::write(dir.path().join("game-1.json"), "{}").expect("write");
        assert_eq!(
            free_name(dir.path(), "game"),
            dir.path().join("game-2.json")
        );
    }
}
