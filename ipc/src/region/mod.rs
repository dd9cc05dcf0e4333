//! The frame region: one memory-mapped file per engine that carries every
//! frame to any number of readers. The writer never waits; a reader never
//! accepts a torn frame.
//!
//! - [`layout`]: the byte layout (also in `docs/frame-region.md`).
//! - [`FrameWriter`]: create, publish, heartbeat, clean up; `beat`: the
//!   thread that keeps the process's heartbeat while the game loop is busy.
//! - [`FrameReader`]: validate, copy under the seqlock, detect a dead writer.
//! - `dir`: the runtime directory's lock and [`prune`].
//! - `own`: the regions this process writes, so a reader in the writer's
//!   own process never copies a slot while it is lent.
//! - `shm`: the one module with `unsafe` (the mapping and its atomics).
//! - `words`: atomic word copies and the slot [`checksum`].

use std::fs::File;
use std::io;
use std::path::Path;

use rustix::fs::{FlockOperation, flock};

mod beat;
mod dir;
pub mod layout;
mod own;
mod reader;
mod shm;
mod words;
mod writer;

pub use dir::prune;
pub use layout::Geometry;
pub use reader::{
    FrameInfo, FrameReader, Gone, HEARTBEAT_TIMEOUT, OpenError, ReadError, RowsShare, WriterInfo,
};
pub use shm::{AlignedBuf, RawDest, RawSrc};
pub use words::frame_fingerprint;
pub use words::{PixelOrder, checksum};
pub use writer::{CreateError, FrameWriter, Loan, WrongSize};

/// `default` for `…/default.frames`.
fn engine_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_suffix(".frames").unwrap_or(n).to_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `O_NONBLOCK` for `OpenOptionsExt::custom_flags`: opening a region never
/// waits (on a regular file the flag changes nothing; a FIFO would block).
fn o_nonblock() -> i32 {
    rustix::fs::OFlags::NONBLOCK.bits() as i32
}

/// `Ok(true)` if nobody holds an exclusive lock on `file` (it is released
/// again at once), `Ok(false)` if a writer holds it.
fn try_lock_shared(file: &File) -> io::Result<bool> {
    match flock(file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => {
            flock(file, FlockOperation::Unlock)?;
            Ok(true)
        }
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}
