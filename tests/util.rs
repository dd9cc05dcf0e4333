//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_advkit"))
        .args(&args)
        .output()
        .expect("run advkit");
    Run { out, args }
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
