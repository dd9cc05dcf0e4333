//! Opening a frame region read-only and copying frames out of it.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rustix::thread::futex;
use rustix::time::Timespec;

use super::layout::{FORMAT_RGBA8, Geometry, HEADER_PAGE, Header, MAGIC, VERSION};
use super::own::{self, Busy, Exclusion};
use super::shm::{AlignedBuf, RawDest, SharedMap};
use super::words::load_row;
use super::{engine_name, o_nonblock, try_lock_shared};
use crate::system;

/// A heartbeat older than this means the writer is not running any more
/// (stopped, hung, or killed without releasing its lock).
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a region could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("engine {name} is not running (no {}); start it with `advkit run --name {name}`", path.display())]
    NotRunning { name: String, path: PathBuf },
    #[error("{} is not an advkit frame region ({reason}); remove it or stop whatever writes it", path.display())]
    Foreign { path: PathBuf, reason: String },
    #[error(
        "{} is truncated: {len} bytes, but its header describes {expected}; \
         the engine that wrote it is gone or broken, start it again",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        len: u64,
        expected: u64,
    },
    #[error(
        "{} has frame-region layout version {found}, this advkit reads version {VERSION}; \
         use the same advkit version for the engine and its readers",
        path.display()
    )]
    Version { path: PathBuf, found: u32 },
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// Why a read did not produce a frame.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("engine {name} is not running ({gone})")]
    WriterGone { name: String, gone: Gone },
    #[error("engine {name} has not published a frame yet")]
    NoFrameYet { name: String },
    #[error("the buffer holds {got} bytes, but a frame is {expected} (width x height x 4, RGBA)")]
    WrongBuffer { got: usize, expected: usize },
    #[error(
        "{} shrank to {len} bytes while mapped (expected {expected}); something other than \
         the engine truncated it, and a live engine makes it anew: open it again",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        len: u64,
        expected: u64,
    },
    #[error(
        "engine {name} overwrote every slot during {attempts} read attempts; this reader copies \
         too slowly for the engine's frame rate"
    )]
    Contended { name: String, attempts: u32 },
    #[error(
        "frame {frame} of engine {name} stayed half-written (its slot's sequence odd) through \
         {attempts} read attempts while no newer frame came: the engine seems stuck in the \
         middle of publishing; check it is alive (`advkit ls`)"
    )]
    Stuck {
        name: String,
        frame: u64,
        attempts: u32,
    },
    #[error("timed out after {waited:?} waiting for a new frame from engine {name}")]
    Timeout { name: String, waited: Duration },
    #[error("could not check {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "this thread holds a loan into engine {name}'s frame region, which this process writes; \
         publish or drop the loan before reading the region"
    )]
    OwnLoan { name: String },
    #[error(
        "engine {name}'s frame region is written by this process, and its writer has held a \
         slot for over {waited:?} (a leaked loan, or a game stopped while drawing)"
    )]
    LoanHeld { name: String, waited: Duration },
}

/// How a writer was found to be gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Its lock is free or its process no longer exists.
    Exited { pid: u32 },
    /// It still holds the lock but has not beaten its heart for this long
    /// (stopped with SIGSTOP, hung, or frozen by a debugger).
    Unresponsive { pid: u32, silent: Duration },
}

impl fmt::Display for Gone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gone::Exited { pid } => write!(f, "pid {pid} gone"),
            Gone::Unresponsive { pid, silent } => write!(
                f,
                "pid {pid} has not responded for {:.1} s",
                silent.as_secs_f64()
            ),
        }
    }
}

/// Where a copy goes: a buffer of ours, memory of someone else's, or a
/// band of rows at a time through buffers of ours to the shares' `each`.
enum Dest<'a, 's> {
    Buf(&'a mut AlignedBuf),
    Raw(&'a mut RawDest),
    Bands {
        rows: usize,
        shares: &'a mut [RowsShare<'s>],
    },
}

/// One thread's share of [`FrameReader::read_latest_in_bands`]: source
/// rows `rows`, copied a band at a time into `scratch` and handed to
/// `each(first_row, tight_rows)`.
pub struct RowsShare<'a> {
    pub rows: std::ops::Range<usize>,
    pub scratch: &'a mut AlignedBuf,
    pub each: &'a mut (dyn FnMut(usize, &[u8]) + Send),
}

impl fmt::Debug for RowsShare<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowsShare")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// Metadata of one copied frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The frame number (1 for the first frame of a session).
    pub frame: u64,
    /// The engine tick it shows.
    pub tick: u64,
    /// The writer's checksum of its pixels (see [`super::checksum`]).
    pub checksum: u64,
    /// `CLOCK_MONOTONIC` nanoseconds when it was published.
    pub published_ns: u64,
}

/// What the header says about the writer.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterInfo {
    pub name: String,
    pub pid: u32,
    pub session_id: u64,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub started_unix_ms: u64,
}

/// A read-only view of an engine's frame region.
#[derive(Debug)]
pub struct FrameReader {
    path: PathBuf,
    name: String,
    file: File,
    map: SharedMap,
    geometry: Geometry,
    pid: u32,
    start_ticks: u64,
    session_id: u64,
    /// (dev, inode) of the file when opened, to notice a replacement.
    identity: (u64, u64),
    /// The header mapped writable for [`FrameReader::wait_next`]; `None`
    /// inside if the file cannot be opened for writing.
    waiter: OnceLock<Option<SharedMap>>,
    /// Set when this process writes the region: every copy of pixels then
    /// waits until no slot is lent (`own.rs`).
    own: Option<Arc<Exclusion>>,
}

/// How often a waiting reader checks that the writer is still alive.
const LIVENESS_EVERY: Duration = Duration::from_millis(250);

/// Sleeps until `frame_futex` moves past frame `after` (or `slice` ends).
/// The reader counts itself in `waiters` first, so the writer, which
/// stores `frame_futex` before it reads `waiters`, either wakes it or has
/// already changed the word (then the wait returns at once).
fn sleep_on_futex(h: &Header, after: u64, slice: Duration) {
    h.waiters.fetch_add(1, Ordering::SeqCst);
    let word = h.frame_futex.load(Ordering::SeqCst);
    if h.latest_frame.load(Ordering::SeqCst) <= after {
        let ts = Timespec {
            tv_sec: slice.as_secs() as i64,
            tv_nsec: i64::from(slice.subsec_nanos()),
        };
        // Woken, timed out, interrupted or the word moved: the caller looks
        // at `latest_frame` again in every case.
        let _ = futex::wait(&h.frame_futex, futex::Flags::empty(), word, Some(&ts));
    }
    h.waiters.fetch_sub(1, Ordering::SeqCst);
}

/// How many times a read retries before reporting contention.
const ATTEMPTS: u32 = 64;

impl FrameReader {
    /// Opens and validates the region at `path`: magic, version, format
    /// and every size against the real file length, before any pixel is
    /// touched.
    pub fn open(path: &Path) -> Result<FrameReader, OpenError> {
        let name = engine_name(path);
        // Non-blocking, so a FIFO (or a symlink to one) planted under the
        // region's name cannot hang the reader in `open`; anything that is
        // not a regular file is refused right after.
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(o_nonblock())
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(OpenError::NotRunning {
                    name,
                    path: path.to_owned(),
                });
            }
            Err(source) => {
                return Err(OpenError::Io {
                    what: "open",
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let meta = file.metadata().map_err(|source| OpenError::Io {
            what: "stat",
            path: path.to_owned(),
            source,
        })?;
        let foreign = |reason: String| OpenError::Foreign {
            path: path.to_owned(),
            reason,
        };
        if !meta.is_file() {
            return Err(foreign("not a regular file".into()));
        }
        let len = meta.len();
        if len < HEADER_PAGE as u64 {
            return Err(foreign(format!(
                "{len} bytes, shorter than the {HEADER_PAGE}-byte header"
            )));
        }
        let head =
            SharedMap::map_read_only(&file, HEADER_PAGE).map_err(|source| OpenError::Io {
                what: "map",
                path: path.to_owned(),
                source,
            })?;
        let h = head.header();
        let r = Ordering::Relaxed;
        let magic = h.magic.load(r);
        if magic != MAGIC {
            return Err(foreign(format!(
                "magic {:?}",
                String::from_utf8_lossy(&magic.to_le_bytes())
            )));
        }
        // Pairs with the writer's Release store of the magic.
        fence(Ordering::Acquire);
        let version = h.version.load(r);
        if version != VERSION {
            return Err(OpenError::Version {
                path: path.to_owned(),
                found: version,
            });
        }
        if h.pixel_format.load(r) != FORMAT_RGBA8 {
            return Err(foreign(format!("pixel format {}", h.pixel_format.load(r))));
        }
        if h.header_size.load(r) as usize != HEADER_PAGE {
            return Err(foreign(format!("header size {}", h.header_size.load(r))));
        }
        let (width, height, slots) = (h.width.load(r), h.height.load(r), h.slot_count.load(r));
        let geometry = Geometry::new(width, height, slots).ok_or_else(|| {
            foreign(format!(
                "impossible geometry {width}x{height} with {slots} slots"
            ))
        })?;
        if h.stride.load(r) as usize != geometry.stride
            || h.slot_stride.load(r) as usize != geometry.slot_stride
            || h.file_size.load(r) as usize != geometry.file_size()
        {
            return Err(foreign(format!(
                "sizes disagree: stride {}, slot stride {}, file size {} for {width}x{height}",
                h.stride.load(r),
                h.slot_stride.load(r),
                h.file_size.load(r)
            )));
        }
        let expected = geometry.file_size() as u64;
        if len < expected {
            return Err(OpenError::Truncated {
                path: path.to_owned(),
                len,
                expected,
            });
        }
        let (pid, start_ticks, session_id) = (
            h.writer_pid.load(r),
            h.writer_start_ticks.load(r),
            h.session_id.load(r),
        );
        drop(head);
        let map = SharedMap::map_read_only(&file, geometry.file_size()).map_err(|source| {
            OpenError::Io {
                what: "map",
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(FrameReader {
            path: path.to_owned(),
            name,
            file,
            map,
            geometry,
            pid,
            start_ticks,
            session_id,
            identity: (meta.dev(), meta.ino()),
            waiter: OnceLock::new(),
            own: own::written_here((meta.dev(), meta.ino())),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    pub fn info(&self) -> WriterInfo {
        let h = self.map.header();
        WriterInfo {
            name: self.name.clone(),
            pid: self.pid,
            session_id: self.session_id,
            width: self.geometry.width,
            height: self.geometry.height,
            fps: f64::from(h.fps_milli.load(Ordering::Relaxed)) / 1000.0,
            started_unix_ms: h.started_unix_ms.load(Ordering::Relaxed),
        }
    }

    /// The newest published frame number (0: none yet).
    pub fn latest_frame(&self) -> u64 {
        self.map.header().latest_frame.load(Ordering::Relaxed)
    }

    /// A buffer of the right size and alignment for [`read_latest`](Self::read_latest).
    pub fn buffer(&self) -> AlignedBuf {
        AlignedBuf::zeroed(self.geometry.frame_bytes())
    }

    /// Copies the newest frame into `buf` (resized to a tight RGBA frame),
    /// retrying under the slot's seqlock until it has a consistent copy.
    pub fn read_latest(&self, buf: &mut AlignedBuf) -> Result<FrameInfo, ReadError> {
        self.read_newest(&mut Dest::Buf(buf), true)
    }

    /// The newest frame `rows` rows at a time, for work that reads a frame
    /// once (an area average): each share's rows, top to bottom, are
    /// copied a band at a time into its scratch buffer and handed to its
    /// `each(first_row, tight_rows)` while still in the cache, instead of
    /// the whole frame being copied out and read again; each share after
    /// the first on a thread of its own. A copy found torn is made again,
    /// so `each` starts over whenever handed its share's first row. What
    /// `each` made counts only if this returns `Ok`.
    pub fn read_latest_in_bands(
        &self,
        rows: usize,
        shares: &mut [RowsShare<'_>],
    ) -> Result<FrameInfo, ReadError> {
        let height = self.geometry.height as usize;
        for share in shares.iter_mut() {
            share.rows = share.rows.start.min(height)..share.rows.end.min(height);
        }
        self.read_newest(
            &mut Dest::Bands {
                rows: rows.max(1),
                shares,
            },
            true,
        )
    }

    /// [`read_latest`](Self::read_latest) into memory that is not ours (a
    /// Python buffer), in one copy, through a raw pointer. `dst` must be
    /// exactly a tight RGBA frame ([`Geometry::frame_bytes`]).
    pub fn read_latest_raw(&self, dst: &mut RawDest) -> Result<FrameInfo, ReadError> {
        let expected = self.geometry.frame_bytes();
        if dst.len() != expected {
            return Err(ReadError::WrongBuffer {
                got: dst.len(),
                expected,
            });
        }
        self.read_newest(&mut Dest::Raw(dst), true)
    }

    /// [`read_latest`](Self::read_latest) with the seqlock's second
    /// sequence check removed: a deliberately broken reader, so the tear
    /// test can show that it catches torn copies. Never use it to read.
    #[doc(hidden)]
    pub fn read_latest_without_second_check(
        &self,
        buf: &mut AlignedBuf,
    ) -> Result<FrameInfo, ReadError> {
        self.read_newest(&mut Dest::Buf(buf), false)
    }

    fn read_newest(&self, buf: &mut Dest<'_, '_>, recheck: bool) -> Result<FrameInfo, ReadError> {
        self.check_length()?;
        let first = self.latest_frame();
        for _ in 0..ATTEMPTS {
            let latest = self.latest_frame();
            fence(Ordering::Acquire);
            if latest == 0 {
                return Err(ReadError::NoFrameYet {
                    name: self.name.clone(),
                });
            }
            if let Some(info) = self.try_copy(latest, buf, recheck)? {
                // Truncated mid-copy: the guard gave zero pages; not a frame.
                if self.map.faulted() {
                    self.check_length()?;
                }
                return Ok(info);
            }
            std::hint::spin_loop();
        }
        // Frames moved on meanwhile: the reader is slow. They did not, and
        // the newest frame's slot is mid-write: the writer is stuck there.
        let latest = self.latest_frame();
        let odd = self
            .slot_of(latest)
            .is_some_and(|s| s.seq.load(Ordering::Relaxed) % 2 == 1);
        if latest == first && odd {
            return Err(ReadError::Stuck {
                name: self.name.clone(),
                frame: latest,
                attempts: ATTEMPTS,
            });
        }
        Err(ReadError::Contended {
            name: self.name.clone(),
            attempts: ATTEMPTS,
        })
    }

    /// Copies frame `number` if its slot still holds it; `Ok(None)` once
    /// the writer has moved on (a slot is reused every 3 frames).
    pub fn read_frame(
        &self,
        number: u64,
        buf: &mut AlignedBuf,
    ) -> Result<Option<FrameInfo>, ReadError> {
        self.check_length()?;
        for _ in 0..ATTEMPTS {
            if let Some(info) = self.try_copy(number, &mut Dest::Buf(buf), true)? {
                return Ok(Some(info));
            }
            let slot = self.slot_of(number);
            let held = slot.map(|s| s.frame.load(Ordering::Relaxed)).unwrap_or(0);
            if held != number && slot.is_some_and(|s| s.seq.load(Ordering::Relaxed) % 2 == 0) {
                return Ok(None);
            }
            std::hint::spin_loop();
        }
        Ok(None)
    }

    /// The metadata of frame `number` (tick, checksum, when it was
    /// published) without copying its pixels; `None` if its slot no longer
    /// holds it or is being written.
    pub fn peek(&self, number: u64) -> Option<FrameInfo> {
        self.under_seqlock(number, true, || {})
    }

    fn slot_of(&self, number: u64) -> Option<&super::layout::SlotEntry> {
        self.map
            .slot((number % u64::from(self.geometry.slot_count)) as usize)
    }

    /// One seqlock-guarded copy of frame `number`; `None` if it was being
    /// overwritten or is no longer in its slot.
    fn try_copy(
        &self,
        number: u64,
        buf: &mut Dest<'_, '_>,
        recheck: bool,
    ) -> Result<Option<FrameInfo>, ReadError> {
        let g = self.geometry;
        let index = (number % u64::from(g.slot_count)) as usize;
        let Some(words) = self.map.words(g.slot_offset(index), g.slot_stride / 8) else {
            return Ok(None);
        };
        self.outside_loans(|| self.copy_slot(number, words, buf, recheck))
    }

    /// Runs `copy` at once for another process's region; for one this
    /// process writes, while none of its slots is lent.
    fn outside_loans<T>(&self, copy: impl FnOnce() -> T) -> Result<T, ReadError> {
        let Some(own) = &self.own else {
            return Ok(copy());
        };
        own.read(copy).map_err(|busy| match busy {
            Busy::OwnLoan => ReadError::OwnLoan {
                name: self.name.clone(),
            },
            Busy::Held => ReadError::LoanHeld {
                name: self.name.clone(),
                waited: own::READ_PATIENCE,
            },
        })
    }

    fn copy_slot(
        &self,
        number: u64,
        words: &[AtomicU64],
        dst: &mut Dest<'_, '_>,
        recheck: bool,
    ) -> Option<FrameInfo> {
        let g = self.geometry;
        self.under_seqlock(number, recheck, || {
            let row_bytes = g.row_bytes();
            match dst {
                Dest::Buf(buf) => {
                    buf.resize(g.frame_bytes());
                    let dst = buf.as_mut_slice();
                    if row_bytes == g.stride {
                        load_row(&words[..dst.len().div_ceil(8)], dst);
                    } else {
                        let row_words = row_bytes.div_ceil(8);
                        for (y, row) in dst.chunks_exact_mut(row_bytes).enumerate() {
                            let start = y * g.stride / 8;
                            load_row(&words[start..start + row_words], row);
                        }
                    }
                }
                Dest::Bands { rows, shares } => {
                    let rows = *rows;
                    let work = |share: &mut RowsShare<'_>| {
                        share.scratch.resize(rows.min(share.rows.len()) * row_bytes);
                        for first in share.rows.clone().step_by(rows) {
                            let n = rows.min(share.rows.end - first);
                            let band = &mut share.scratch.as_mut_slice()[..n * row_bytes];
                            for (y, row) in (first..).zip(band.chunks_exact_mut(row_bytes)) {
                                let start = y * g.stride / 8;
                                load_row(&words[start..start + row_bytes.div_ceil(8)], row);
                            }
                            (share.each)(first, band);
                        }
                    };
                    if let Some((own, others)) = shares.split_first_mut() {
                        std::thread::scope(|s| {
                            for share in others {
                                s.spawn(|| work(share));
                            }
                            work(own);
                        });
                    }
                }
                Dest::Raw(raw) => {
                    if row_bytes == g.stride {
                        raw.store_row(0, words, g.frame_bytes());
                    } else {
                        for y in 0..g.height as usize {
                            let start = y * g.stride / 8;
                            raw.store_row(y * row_bytes, &words[start..], row_bytes);
                        }
                    }
                }
            }
        })
    }

    /// Reads frame `number`'s slot fields and runs `copy` between the two
    /// looks at its sequence; `None` unless the slot held that frame,
    /// unchanged, throughout (`recheck: false` skips the second look, for
    /// the tear test's broken reader only).
    fn under_seqlock(&self, number: u64, recheck: bool, copy: impl FnOnce()) -> Option<FrameInfo> {
        let slot = self.slot_of(number)?;
        let r = Ordering::Relaxed;
        let before = slot.seq.load(r);
        fence(Ordering::Acquire);
        if before % 2 == 1 || slot.frame.load(r) != number {
            return None;
        }
        let info = FrameInfo {
            frame: number,
            tick: slot.tick.load(r),
            checksum: slot.checksum.load(r),
            published_ns: slot.published_ns.load(r),
        };
        copy();
        // Everything loaded above is ordered before the second look.
        fence(Ordering::Acquire);
        (!recheck || slot.seq.load(r) == before).then_some(info)
    }

    /// Is the writer still there? Its lock is checked first (free means it
    /// exited, however it died), then its heartbeat.
    pub fn liveness(&self) -> Result<(), Gone> {
        let pid = self.pid;
        match try_lock_shared(&self.file) {
            Ok(true) => return Err(Gone::Exited { pid }),
            Ok(false) => {}
            // Could not ask the lock: fall back on the process table.
            Err(_) if !system::process_alive(pid, self.start_ticks) => {
                return Err(Gone::Exited { pid });
            }
            Err(_) => {}
        }
        let beat = self.map.header().heartbeat_ns.load(Ordering::Relaxed);
        let silent = Duration::from_nanos(system::monotonic_ns().saturating_sub(beat));
        if silent > HEARTBEAT_TIMEOUT {
            return Err(Gone::Unresponsive { pid, silent });
        }
        Ok(())
    }

    /// How long since the game loop last called the host (published, or
    /// waited while paused), when the writer keeps it. Long while
    /// [`liveness`](Self::liveness) is fine: the process runs, but its game
    /// is busy (loading, or long in a frame).
    pub fn loop_silence(&self) -> Option<Duration> {
        let at = self.map.header().loop_ns.load(Ordering::Relaxed);
        (at != 0).then(|| Duration::from_nanos(system::monotonic_ns().saturating_sub(at)))
    }

    /// [`liveness`](Self::liveness) as a [`ReadError`].
    pub fn check_alive(&self) -> Result<(), ReadError> {
        self.liveness().map_err(|gone| ReadError::WriterGone {
            name: self.name.clone(),
            gone,
        })
    }

    /// Waits until a frame newer than `after` is published and returns its
    /// number (read it with [`read_frame`](Self::read_frame) or
    /// [`read_latest`](Self::read_latest)). The reader sleeps on the
    /// region's futex and the writer wakes it at the publish, so an idle
    /// wait costs nothing; it wakes at least every 250 ms to check that the
    /// writer lives. Where the file cannot be opened for writing (the futex
    /// needs the `waiters` count), it polls every millisecond instead.
    pub fn wait_next(&self, after: u64, timeout: Duration) -> Result<u64, ReadError> {
        let start = Instant::now();
        let mut last_check: Option<Instant> = None;
        loop {
            let latest = self.latest_frame();
            if latest > after {
                return Ok(latest);
            }
            let now = Instant::now();
            if last_check.is_none_or(|t| now.duration_since(t) >= LIVENESS_EVERY) {
                self.check_alive()?;
                last_check = Some(now);
            }
            let waited = now.duration_since(start);
            if waited >= timeout {
                return Err(ReadError::Timeout {
                    name: self.name.clone(),
                    waited: timeout,
                });
            }
            let slice = (timeout - waited).min(LIVENESS_EVERY);
            match self.waiting_header() {
                Some(h) => sleep_on_futex(h, after, slice),
                None => std::thread::sleep(slice.min(Duration::from_millis(1))),
            }
        }
    }

    /// Whether [`wait_next`](Self::wait_next) sleeps on the futex (`true`)
    /// or polls (`false`: the file could not be opened for writing).
    pub fn can_sleep(&self) -> bool {
        self.waiting_header().is_some()
    }

    /// The header page mapped writable, for the `waiters` count; opened on
    /// first use, `None` if that is not possible.
    fn waiting_header(&self) -> Option<&Header> {
        self.waiter
            .get_or_init(|| {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(o_nonblock())
                    .open(&self.path)
                    .ok()?;
                let meta = file.metadata().ok()?;
                // Only the region this reader validated, never a file that
                // has replaced it since.
                if !meta.is_file()
                    || (meta.dev(), meta.ino()) != self.identity
                    || meta.len() < HEADER_PAGE as u64
                {
                    return None;
                }
                SharedMap::map_header_for_waiting(&file).ok()
            })
            .as_ref()
            .map(SharedMap::header)
    }

    /// Whether the path now names a different file (the engine was
    /// restarted); reopen to follow it.
    pub fn is_replaced(&self) -> bool {
        std::fs::metadata(&self.path)
            .map(|m| (m.dev(), m.ino()) != self.identity)
            .unwrap_or(true)
    }

    /// A plain `memcpy` of the newest slot's pixels into `buf`: the
    /// baseline that `read_latest` is measured against. Not a read: it
    /// ignores the seqlock, so the copy may be torn.
    #[doc(hidden)]
    pub fn baseline_memcpy(&self, buf: &mut AlignedBuf) -> bool {
        let g = self.geometry;
        let index = (self.latest_frame() % u64::from(g.slot_count)) as usize;
        buf.resize(g.frame_bytes());
        self.outside_loans(|| {
            self.map
                .baseline_copy_out(g.slot_offset(index), buf.as_mut_slice())
        })
        .unwrap_or(false)
    }

    /// Guards against SIGBUS: a file shorter than the mapping would fault.
    fn check_length(&self) -> Result<(), ReadError> {
        let len = self
            .file
            .metadata()
            .map_err(|source| ReadError::Io {
                path: self.path.clone(),
                source,
            })?
            .len();
        let expected = self.map.len() as u64;
        if len < expected || self.map.faulted() {
            return Err(ReadError::Truncated {
                path: self.path.clone(),
                len,
                expected,
            });
        }
        Ok(())
    }
}
