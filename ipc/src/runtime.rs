//! The runtime directory: where an engine's frame region, control socket
//! and token live, and how they are named.
//!
//! `$XDG_RUNTIME_DIR/advkit/`, or `/dev/shm/advkit-<uid>/` when that is not
//! set (tmpfs either way, so frames never touch a disk). It must belong to
//! the user and be closed to everyone else (mode 0700); anything else is
//! refused, since whoever can write there can feed frames and commands to
//! the user's tools.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What can be wrong with the runtime directory or an engine name.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "runtime directory {} belongs to uid {owner}, not to you (uid {uid}); \
         remove it or point XDG_RUNTIME_DIR at a directory of your own",
        path.display()
    )]
    NotOwned { path: PathBuf, owner: u32, uid: u32 },
    #[error(
        "runtime directory {} has mode {mode:04o}, so others can reach it; run `chmod 700 {}`",
        path.display(),
        path.display()
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("runtime directory {} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("runtime directory {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "engine name `{name}` is not allowed: use 1-64 letters, digits, `-`, `_` or `.`, not starting with `.`"
    )]
    BadName { name: String },
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;

/// The directory that holds running engines' files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDir {
    path: PathBuf,
}

impl RuntimeDir {
    /// The directory this user's engines use, from the environment.
    pub fn from_env() -> RuntimeDir {
        match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
            Some(xdg) => RuntimeDir::at(Path::new(&xdg).join("advkit")),
            None => RuntimeDir::at(format!(
                "/dev/shm/advkit-{}",
                rustix::process::getuid().as_raw()
            )),
        }
    }

    pub fn at(path: impl Into<PathBuf>) -> RuntimeDir {
        RuntimeDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory lives on a disk rather than in memory (tmpfs
    /// or ramfs): then every published frame is written back to that disk.
    /// Unknown (`false`) when the filesystem cannot be asked.
    pub fn on_disk(&self) -> bool {
        const TMPFS_MAGIC: u64 = 0x0102_1994;
        const RAMFS_MAGIC: u64 = 0x8584_58f6;
        rustix::fs::statfs(&self.path)
            .is_ok_and(|s| !matches!(s.f_type as u64, TMPFS_MAGIC | RAMFS_MAGIC))
    }

    /// The warning [`on_disk`](Self::on_disk) deserves, naming the directory
    /// and what to do.
    pub fn disk_warning(&self) -> String {
        format!(
            "the runtime directory {} is on a disk, not in memory (tmpfs): every frame the engine \
             publishes is also written back to that disk (a 1920x1080 engine at 240 fps wrote \
             124 MB a minute). Point XDG_RUNTIME_DIR at a tmpfs such as /run/user/{} (or unset \
             it, for /dev/shm)",
            self.path.display(),
            rustix::process::getuid().as_raw()
        )
    }

    /// Creates the directory (mode 0700) if needed, then [`check`](Self::check)s it.
    pub fn create(&self) -> Result<()> {
        match fs::DirBuilder::new().mode(0o700).create(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(RuntimeError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        }
        self.check().map(|_| ())
    }

    /// Checks ownership and mode; `Ok(false)` if the directory does not exist.
    pub fn check(&self) -> Result<bool> {
        let meta = match fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(RuntimeError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if !meta.is_dir() {
            return Err(RuntimeError::NotADirectory {
                path: self.path.clone(),
            });
        }
        let uid = rustix::process::getuid().as_raw();
        if meta.uid() != uid {
            return Err(RuntimeError::NotOwned {
                path: self.path.clone(),
                owner: meta.uid(),
                uid,
            });
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(RuntimeError::TooOpen {
                path: self.path.clone(),
                mode,
            });
        }
        Ok(true)
    }

    /// `<dir>/<name>.frames`: the frame region.
    pub fn frames_path(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}.frames"))
    }

    /// `<dir>/<name>.sock`: the control socket.
    pub fn socket_path(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}.sock"))
    }

    /// `<dir>/<name>.token`: the TCP auth token.
    pub fn token_path(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}.token"))
    }

    /// Names of engines with a frame region here, sorted (running or stale).
    pub fn engine_names(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.path) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RuntimeError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".frames")?;
                validate_name(stem).ok()?;
                Some(stem.to_owned())
            })
            .collect();
        names.sort();
        Ok(names)
    }
}

/// Engine names become file names, so they are kept plain.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(RuntimeError::BadName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_an_owner_only_directory_and_refuses_an_open_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = RuntimeDir::at(tmp.path().join("advkit"));
        assert!(!dir.check().expect("missing is fine"));
        dir.create().expect("create");
        let mode = fs::metadata(dir.path()).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let err = dir.create().expect_err("0755 is refused");
        assert!(err.to_string().contains("mode 0755"), "{err}");
        assert!(err.to_string().contains("chmod 700"), "{err}");
    }

    #[test]
    fn a_file_in_the_way_is_reported() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("advkit");
        fs::write(&path, "x").expect("write");
        let err = RuntimeDir::at(&path).create().expect_err("a file");
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn names_are_plain() {
        for ok in ["default", "game-2", "a.b_c"] {
            validate_name(ok).expect(ok);
        }
        for bad in ["", ".hidden", "a/b", "../x", "sp ace", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
