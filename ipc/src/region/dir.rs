//! The runtime directory's lock, which serialises engines starting under
//! a name, and `prune`, which clears what killed engines left there.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};

use super::layout::MAGIC;
use super::writer::{CreateError, io_err};
use super::{o_nonblock, try_lock_shared};
use crate::system;

/// The writer pid of an existing region, read with plain `read` (no map).
pub(super) fn read_pid(file: &File) -> Option<u32> {
    let mut head = [0u8; 28];
    (&*file).read_exact(&mut head).ok()?;
    (u64::from_le_bytes(head[0..8].try_into().ok()?) == MAGIC)
        .then(|| u32::from_le_bytes([head[24], head[25], head[26], head[27]]))
}

/// Removes what killed engines left in the runtime directory `dir`: a
/// region nobody holds (with its socket and token), a socket with no
/// region and no listener, and a half-made region of a dead process. Runs
/// under the directory lock that engines take to start, so it never races
/// one; a live engine's files, and files that are not advkit's, are left
/// alone. Returns the paths removed.
pub fn prune(dir: &Path) -> Result<Vec<PathBuf>, CreateError> {
    let dir_handle = match File::open(dir) {
        Ok(h) => h,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("open", dir)(e)),
    };
    lock_dir(&dir_handle, dir)?;
    let mut removed = Vec::new();
    let mut remove = |path: PathBuf| {
        if fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    };
    let names: Vec<String> = fs::read_dir(dir)
        .map_err(io_err("list", dir))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let sibling = |name: &str, ext: &str| dir.join(format!("{name}.{ext}"));
    for file in &names {
        if let Some(name) = file.strip_suffix(".frames") {
            let path = dir.join(file);
            let Ok(f) = OpenOptions::new()
                .read(true)
                .custom_flags(o_nonblock())
                .open(&path)
            else {
                continue;
            };
            // An advkit region (its magic) that no writer holds.
            let ours = f.metadata().is_ok_and(|m| m.is_file()) && read_pid(&f).is_some();
            if ours && matches!(try_lock_shared(&f), Ok(true)) {
                remove(path);
                remove(sibling(name, "sock"));
                remove(sibling(name, "token"));
            }
        } else if let Some(name) = file.strip_suffix(".sock") {
            let refused = std::os::unix::net::UnixStream::connect(dir.join(file))
                .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused);
            if refused && !sibling(name, "frames").exists() {
                remove(dir.join(file));
                remove(sibling(name, "token"));
            }
        } else if let Some(pid) = file
            .strip_prefix('.')
            .and_then(|f| f.strip_suffix(".tmp"))
            .and_then(|f| f.rsplit_once(".frames."))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
            && !system::process_alive(pid, 0)
        {
            remove(dir.join(file));
        }
    }
    drop(dir_handle);
    removed.sort();
    Ok(removed)
}

/// Takes the exclusive lock on the runtime directory `dir` (open as
/// `handle`) that serialises engines starting (and `prune`), waiting up to
/// 2 s for another holder.
pub(super) fn lock_dir(handle: &File, dir: &Path) -> Result<(), CreateError> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match flock(handle, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                return Err(CreateError::Busy {
                    path: dir.to_owned(),
                });
            }
            Err(e) => return Err(io_err("lock", dir)(e.into())),
        }
    }
}
