//! Creating a frame region and publishing frames into it.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{Ordering, fence};
use std::time::{Duration, Instant};

use advkit_frame::Canvas;
use rustix::fs::{FlockOperation, flock};
use rustix::thread::futex;

use super::beat::Beat;
use super::dir::{lock_dir, read_pid};
use super::layout::{FORMAT_RGBA8, Geometry, HEADER_PAGE, MAGIC, SLOTS, VERSION};
use super::own::Registration;
use super::shm::{RawSrc, SharedMap};
use super::words::{Lanes, PixelOrder, copy_row_summing, fingerprint_of, row_sums};
use super::{engine_name, o_nonblock, try_lock_shared};
use crate::system;

/// Why a frame region could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(
        "engine {name} is already running (pid {pid}, {}); stop it, or start this one under \
         another name (advkit run --name, the name given to the Host)",
        path.display()
    )]
    AlreadyRunning {
        name: String,
        pid: u32,
        path: PathBuf,
    },
    #[error("frame size {width}x{height} is not possible: 1x1 up to 7680x4320")]
    BadSize { width: u32, height: u32 },
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("another advkit is creating {} right now; try again", path.display())]
    Busy { path: PathBuf },
    #[error(
        "{} is not a regular file (a FIFO, a device or a directory?); remove it",
        path.display()
    )]
    NotAFile { path: PathBuf },
}

/// Why a frame was not published.
#[derive(Debug, thiserror::Error)]
#[error("frame has {got} bytes but the region holds {width}x{height} RGBA ({expected} bytes)")]
pub struct WrongSize {
    pub got: usize,
    pub expected: usize,
    pub width: u32,
    pub height: u32,
}

/// The engine's end of a frame region. It never waits for readers of
/// other processes; a reader in its own process holds a slot off only for
/// the length of one copy (`own.rs`).
///
/// Dropping it unlinks the file, unless another engine has since replaced
/// it.
#[derive(Debug)]
pub struct FrameWriter {
    path: PathBuf,
    /// Holds the exclusive `flock` that tells readers the writer lives.
    file: File,
    map: SharedMap,
    geometry: Geometry,
    next_frame: u64,
    session_id: u64,
    /// Per-row checksum sums of the slot being lent (`None`: not known,
    /// summed from the slot at publish). Kept to reuse its allocation.
    rows: Vec<Option<[u64; 4]>>,
    /// Per-row hashes of the slot being lent, for [`Loan::content_hash`]
    /// (`None`: hashed from the slot when asked).
    row_hashes: Vec<Option<u64>>,
    /// Hash rows as they are put ([`Loan::hash_rows`]).
    hashing: bool,
    fps: f64,
    /// Regions made anew because the file was truncated under this writer.
    recreated: u64,
    /// The last attempt to make one anew (at most one a second).
    last_attempt: Option<Instant>,
    /// The last `fstat` for a truncation no access has faulted on yet.
    last_size_check: Instant,
    /// What happened to the region the last time it was made anew.
    lost_how: &'static str,
    /// Another live engine holds this name now (it was free while this
    /// one's file was gone): this writer no longer remakes it.
    name_lost: bool,
    /// Keeps `heartbeat_ns` fresh while the process runs.
    _beat: Beat,
    /// This file, registered as written by this process: a reader here
    /// never copies a slot while it is lent.
    own: Registration,
}

pub(super) fn io_err<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> CreateError + 'a {
    move |source| CreateError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

impl FrameWriter {
    /// Creates `path` for frames of `width`×`height`, replacing a stale
    /// region left by a dead engine, refusing if a live one holds it.
    ///
    /// The file is built under a temporary name, sized, pre-faulted and
    /// filled in with the magic number written last, then renamed into
    /// place, so a reader never sees a half-made region.
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        fps: f64,
    ) -> Result<FrameWriter, CreateError> {
        let geometry =
            Geometry::new(width, height, SLOTS).ok_or(CreateError::BadSize { width, height })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        if path.file_name().and_then(|n| n.to_str()).is_none() {
            return Err(CreateError::Io {
                what: "use",
                path: path.to_owned(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
            });
        }

        // Two engines starting at once must not both decide the old file is
        // stale: creation is serialised by a lock on the directory.
        let dir_handle = File::open(dir).map_err(io_err("open", dir))?;
        lock_dir(&dir_handle, dir)?;

        // Not `File::open`: a FIFO under this name would block it for
        // ever while this process holds the directory lock.
        let existing = OpenOptions::new()
            .read(true)
            .custom_flags(o_nonblock())
            .open(path);
        if let Ok(existing) = existing {
            if !existing.metadata().is_ok_and(|m| m.is_file()) {
                return Err(CreateError::NotAFile {
                    path: path.to_owned(),
                });
            }
            match try_lock_shared(&existing) {
                Ok(true) => {} // stale: nobody holds it; replaced by the rename below
                Ok(false) => {
                    return Err(CreateError::AlreadyRunning {
                        name: engine_name(path),
                        pid: read_pid(&existing).unwrap_or(0),
                        path: path.to_owned(),
                    });
                }
                Err(e) => return Err(io_err("lock", path)(e)),
            }
        }

        let built = Self::build_at(path, geometry, fps);
        drop(dir_handle); // releases the directory lock
        built
    }

    /// Builds a region under a temporary name next to `path` and renames it
    /// into place.
    fn build_at(path: &Path, geometry: Geometry, fps: f64) -> Result<FrameWriter, CreateError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("region");
        let tmp = dir.join(format!(".{file_name}.{}.tmp", system::current_pid()));
        let _ = fs::remove_file(&tmp);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        let built = Self::build(&tmp, path, file, geometry, fps);
        if built.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        built
    }

    /// Makes the region anew if its file was truncated, deleted or
    /// replaced (by a FIFO, say) under the writer, by another process: the
    /// writer never does either. The new region has a new session, which
    /// readers treat as an engine restart; frames drawn between the loss
    /// and this went to private zero pages (shm.rs, the SIGBUS guard) or
    /// to the unlinked file, and are lost. Tried at most once a second
    /// while it fails. A name that another live engine took meanwhile is
    /// never taken back. [`loan`](Self::loan) and
    /// [`heartbeat`](Self::heartbeat) call it;
    /// [`regions_recreated`](Self::regions_recreated) counts what it did.
    fn recover_if_lost(&mut self) {
        if self.name_lost {
            return;
        }
        // A fault is one atomic load to notice; a shrink or a file gone
        // from its path that nothing has touched yet costs an `fstat` and
        // a `stat`, so those are asked every 100 ms, not every frame.
        let lost = if self.map.faulted() {
            Some("truncated")
        } else if self.last_size_check.elapsed() >= Duration::from_millis(100) {
            self.last_size_check = Instant::now();
            if self.map.shrunk(&self.file) {
                Some("truncated")
            } else if self.displaced() {
                Some("deleted or replaced")
            } else {
                None
            }
        } else {
            None
        };
        let Some(how) = lost else {
            return;
        };
        if self
            .last_attempt
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_attempt = Some(Instant::now());
        // Serialised with engines starting under this name, as at creation.
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let handle = File::open(dir);
        let locked = handle
            .as_ref()
            .map_err(|e| e.to_string())
            .and_then(|h| lock_dir(h, dir).map_err(|e| e.to_string()));
        if let Err(e) = locked {
            eprintln!(
                "advkit: the frame region {} was {how} by another process and could not be made anew ({e}); frames are not published until it can",
                self.path.display()
            );
            return;
        }
        if let Some(pid) = self.other_holder() {
            self.name_lost = true;
            eprintln!(
                "advkit: the frame region {} was {how} by another process, and engine pid {pid} has \
                 taken its name since; this engine keeps running, but no reader finds it: stop it",
                self.path.display()
            );
            return;
        }
        match Self::build_at(&self.path, self.geometry, self.fps) {
            Ok(mut fresh) => {
                fresh.recreated = self.recreated + 1;
                fresh.lost_how = how;
                // The old writer's drop leaves the path alone: it names the
                // new file now.
                *self = fresh;
            }
            Err(e) => eprintln!(
                "advkit: the frame region {} was {how} by another process and could not be made anew ({e}); frames are not published until it can",
                self.path.display()
            ),
        }
    }

    /// The path no longer names this writer's file.
    fn displaced(&self) -> bool {
        let ours = self.file.metadata().ok().map(|m| (m.dev(), m.ino()));
        let there = fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        ours.is_some() && ours != there
    }

    /// The pid of another live engine whose region the path names now.
    fn other_holder(&self) -> Option<u32> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(o_nonblock())
            .open(&self.path)
            .ok()?;
        let meta = file.metadata().ok()?;
        let ours = self.file.metadata().ok()?;
        if !meta.is_file() || (meta.dev(), meta.ino()) == (ours.dev(), ours.ino()) {
            return None;
        }
        // Held by someone: a live engine (a stale file's lock is free).
        matches!(try_lock_shared(&file), Ok(false)).then(|| read_pid(&file).unwrap_or(0))
    }

    /// How many times the region was made anew after its file was
    /// truncated, deleted or replaced under the writer.
    pub fn regions_recreated(&self) -> u64 {
        self.recreated
    }

    /// What happened to the file the last time the region was made anew:
    /// `truncated`, or `deleted or replaced`.
    pub fn lost_how(&self) -> &'static str {
        self.lost_how
    }

    /// Fills in the file at `tmp` and renames it to `path`.
    fn build(
        tmp: &Path,
        path: &Path,
        file: File,
        geometry: Geometry,
        fps: f64,
    ) -> Result<FrameWriter, CreateError> {
        flock(&file, FlockOperation::NonBlockingLockExclusive)
            .map_err(|e| io_err("lock", tmp)(e.into()))?;
        // Before the file has its name, so no reader of this process can
        // have opened it unregistered.
        let own = Registration::new(&file).map_err(io_err("stat", tmp))?;
        let len = geometry.file_size();
        file.set_len(len as u64).map_err(io_err("size", tmp))?;
        let map = SharedMap::map_writable(&file, len).map_err(io_err("map", tmp))?;
        map.prefault();

        let session_id = system::random_u64();
        let pid = system::current_pid();
        let h = map.header();
        let r = Ordering::Relaxed;
        h.version.store(VERSION, r);
        h.header_size.store(HEADER_PAGE as u32, r);
        h.session_id.store(session_id, r);
        h.writer_pid.store(pid, r);
        h.pixel_format.store(FORMAT_RGBA8, r);
        h.writer_start_ticks
            .store(system::process_start_ticks(pid).unwrap_or(0), r);
        h.width.store(geometry.width, r);
        h.height.store(geometry.height, r);
        h.stride.store(geometry.stride as u32, r);
        h.slot_count.store(geometry.slot_count, r);
        h.slot_stride.store(geometry.slot_stride as u64, r);
        h.file_size.store(len as u64, r);
        h.fps_milli.store(fps_milli(fps), r);
        h.started_unix_ms.store(system::unix_ms(), r);
        h.latest_frame.store(0, r);
        h.heartbeat_ns.store(system::monotonic_ns(), r);
        h.loop_ns.store(system::monotonic_ns(), r);
        // Everything above happens-before a reader that sees the magic.
        h.magic.store(MAGIC, Ordering::Release);
        fs::rename(tmp, path).map_err(io_err("rename into place", path))?;

        Ok(FrameWriter {
            _beat: Beat::start(&file),
            path: path.to_owned(),
            file,
            map,
            geometry,
            next_frame: 1,
            session_id,
            rows: Vec::new(),
            row_hashes: Vec::new(),
            hashing: false,
            fps,
            recreated: 0,
            last_attempt: None,
            last_size_check: Instant::now(),
            lost_how: "",
            name_lost: false,
            own,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// Frames published so far.
    pub fn frames_published(&self) -> u64 {
        self.next_frame - 1
    }

    /// Lends the next slot for the game to draw into, with no copy: fill
    /// it through [`Canvas`] (`put_row`, `copy_row`, `row_mut`) or
    /// [`Loan::rows_mut`], then [`Loan::publish`] it. Frame `n` goes to slot
    /// `n % slot_count`; while lent, that slot's sequence is odd, so a
    /// reader still copying the frame it held retries. Dropping the loan
    /// without publishing empties the slot (readers skip it).
    pub fn loan(&mut self) -> Loan<'_> {
        self.recover_if_lost();
        let g = self.geometry;
        let slot = (self.next_frame % u64::from(g.slot_count)) as usize;
        let Some(entry) = self.map.slot(slot) else {
            unreachable!("geometry was validated against the mapping at creation");
        };
        // Ended by `finish_loan` or `abandon_loan`.
        self.own.exclusion().begin_loan();
        let odd = entry.seq.load(Ordering::Relaxed) | 1;
        entry.seq.store(odd, Ordering::Relaxed);
        // The odd sequence is visible before any pixel store (shm.rs,
        // "The writer's loaned slot", point 2).
        fence(Ordering::Release);
        self.rows.clear();
        self.rows.resize(g.height as usize, None);
        self.row_hashes.clear();
        self.row_hashes.resize(g.height as usize, None);
        self.hashing = false;
        Loan {
            writer: self,
            slot,
            odd,
            done: false,
        }
    }

    /// Publishes a tight RGBA frame shown at `tick` from the game's own
    /// buffer (one copy into the next slot, checksummed row by row while
    /// each row is in the cache); returns its frame number.
    pub fn publish(&mut self, tick: u64, pixels: &[u8]) -> Result<u64, WrongSize> {
        let mut loan = self.loan();
        loan.copy_from(pixels)?;
        Ok(loan.publish(tick))
    }

    /// Nothing is known of the lent slot's rows any more: they are drawn
    /// where the writer does not see it.
    fn forget_rows(&mut self) {
        self.rows.iter_mut().for_each(|r| *r = None);
        self.row_hashes.iter_mut().for_each(|h| *h = None);
    }

    /// The slot's pixel bytes (all rows, with padding).
    fn slot_bytes(&mut self, slot: usize) -> &mut [u8] {
        let g = self.geometry;
        let len = g.stride * g.height as usize;
        match self.map.slot_pixels_mut(g.slot_offset(slot), len) {
            Some(bytes) => bytes,
            None => unreachable!("geometry was validated against the mapping at creation"),
        }
    }

    /// The checksum of a lent slot's pixels, as `finish_loan` stores it
    /// (rows written through `put_row` were summed as they were copied).
    fn slot_checksum(&mut self, slot: usize) -> u64 {
        let g = self.geometry;
        let row_bytes = g.row_bytes();
        let row_words = row_bytes.div_ceil(8);
        let mut rows = std::mem::take(&mut self.rows);
        let mut lanes = Lanes::default();
        {
            let bytes = self.slot_bytes(slot);
            for (y, sums) in rows.iter_mut().enumerate() {
                let sums =
                    *sums.get_or_insert_with(|| row_sums(&bytes[y * g.stride..][..row_bytes]));
                lanes.add_row_sums(sums, y * row_words);
            }
        }
        self.rows = rows;
        lanes.finish()
    }

    /// Finishes the checksum of a lent slot, stores its fields and makes
    /// it the newest frame; wakes readers that wait for one. Returns the
    /// frame number.
    fn finish_loan(&mut self, slot: usize, odd: u64, tick: u64) -> u64 {
        let checksum = self.slot_checksum(slot);
        let frame = self.next_frame;
        let Some(entry) = self.map.slot(slot) else {
            unreachable!("geometry was validated against the mapping at creation");
        };
        let r = Ordering::Relaxed;
        let now = system::monotonic_ns();
        entry.frame.store(frame, r);
        entry.tick.store(tick, r);
        entry.checksum.store(checksum, r);
        entry.published_ns.store(now, r);
        // Every pixel and field above is visible to a reader that sees this.
        entry.seq.store(odd + 1, Ordering::Release);

        let h = self.map.header();
        h.latest_frame.store(frame, Ordering::Release);
        h.frame_futex.store(frame as u32, Ordering::Release);
        h.heartbeat_ns.store(now, r);
        h.loop_ns.store(now, r);
        // Pairs with a waiter's increment of `waiters` before it reads
        // `frame_futex`: either it sees this frame and does not sleep, or
        // we see it waiting and wake it (docs/frame-region.md, "Waiting").
        fence(Ordering::SeqCst);
        if h.waiters.load(r) > 0 {
            // Errors are impossible here short of a bad address; a waiter
            // also wakes on its own timeout.
            let _ = futex::wake(&h.frame_futex, futex::Flags::empty(), i32::MAX as u32);
        }
        self.own.exclusion().end_loan();
        self.next_frame += 1;
        frame
    }

    /// A lent slot given back unpublished: it holds no frame any more.
    fn abandon_loan(&mut self, slot: usize, odd: u64) {
        if let Some(entry) = self.map.slot(slot) {
            entry.frame.store(0, Ordering::Relaxed);
            entry.seq.store(odd + 1, Ordering::Release);
        }
        self.own.exclusion().end_loan();
    }

    /// Tells readers the game loop is alive without publishing (call at
    /// least every 250 ms, e.g. while paused). The process's own heartbeat
    /// is kept by a thread of the writer's, whatever the loop does.
    pub fn heartbeat(&mut self) {
        self.recover_if_lost();
        let now = system::monotonic_ns();
        let h = self.map.header();
        h.heartbeat_ns.store(now, Ordering::Relaxed);
        h.loop_ns.store(now, Ordering::Relaxed);
    }

    /// Updates the nominal fps shown by `advkit ls`.
    pub fn set_fps(&mut self, fps: f64) {
        self.fps = fps;
        self.map
            .header()
            .fps_milli
            .store(fps_milli(fps), Ordering::Relaxed);
    }

    /// A plain `memcpy` of `pixels` into the next slot's pixel area, with no
    /// atomics, seqlock or checksum: the baseline that `publish` is measured
    /// against in `benches/frame_region.rs`. It does not publish anything.
    #[doc(hidden)]
    pub fn baseline_memcpy(&mut self, pixels: &[u8]) -> bool {
        let slot = (self.next_frame % u64::from(self.geometry.slot_count)) as usize;
        let offset = self.geometry.slot_offset(slot);
        self.own.exclusion().begin_loan();
        let copied = self.map.baseline_copy_in(offset, pixels);
        self.own.exclusion().end_loan();
        copied
    }
}

/// The next slot of a [`FrameWriter`], lent for drawing in place; see
/// [`FrameWriter::loan`]. Rows are `width × 4` bytes; the padding up to the
/// region's row stride is never handed out, so it stays zero.
#[derive(Debug)]
pub struct Loan<'a> {
    writer: &'a mut FrameWriter,
    slot: usize,
    odd: u64,
    done: bool,
}

impl Loan<'_> {
    pub fn geometry(&self) -> Geometry {
        self.writer.geometry
    }

    /// Every row, top to bottom, to draw into freely. The checksum of rows
    /// reached this way is computed at publish, from the slot.
    pub fn rows_mut(&mut self) -> impl Iterator<Item = &mut [u8]> {
        let g = self.writer.geometry;
        self.writer.forget_rows();
        self.writer
            .slot_bytes(self.slot)
            .chunks_exact_mut(g.stride)
            .map(move |row| &mut row[..g.row_bytes()])
    }

    /// The whole frame as one tight RGBA slice (`width × height × 4`
    /// bytes), when rows have no padding (`width × 4` a multiple of 64):
    /// for a copy made by someone else's code in one go, such as Python's
    /// buffer protocol. `None` for a padded frame: draw row by row.
    pub fn pixels_mut(&mut self) -> Option<&mut [u8]> {
        let g = self.writer.geometry;
        if g.stride != g.row_bytes() {
            return None;
        }
        self.writer.forget_rows();
        Some(&mut self.writer.slot_bytes(self.slot)[..g.frame_bytes()])
    }

    /// Copies a whole tight frame in from `src`, its pixels' bytes in
    /// `order`, as RGBA. One pass over the frame: each word is read,
    /// reordered, stored and summed for the checksum at once (for a frame
    /// in another order in a buffer the game keeps, such as an SDL
    /// surface's, or one that is not a Rust value: see [`RawSrc`]).
    pub fn copy_from_as(&mut self, src: &RawSrc<'_>, order: PixelOrder) -> Result<(), WrongSize> {
        let g = self.frame_of(src.len())?;
        let row_bytes = g.row_bytes();
        self.fill_rows_summing(|y, row| src.convert_row(y as usize * row_bytes, row, order));
        Ok(())
    }

    /// The geometry, if `len` bytes are one tight frame of it.
    fn frame_of(&self, len: usize) -> Result<Geometry, WrongSize> {
        let g = self.writer.geometry;
        if len == g.frame_bytes() {
            return Ok(g);
        }
        Err(WrongSize {
            got: len,
            expected: g.frame_bytes(),
            width: g.width,
            height: g.height,
        })
    }

    /// Each row drawn by `fill`, which returns its [`row_sums`].
    fn fill_rows_summing(&mut self, mut fill: impl FnMut(u32, &mut [u8]) -> [u64; 4]) {
        let g = self.writer.geometry;
        let w = &mut *self.writer;
        let hashing = w.hashing;
        let mut sums = std::mem::take(&mut w.rows);
        let mut hashes = std::mem::take(&mut w.row_hashes);
        let rows = w.slot_bytes(self.slot).chunks_exact_mut(g.stride);
        for (y, ((row, sum), hash)) in rows.zip(&mut sums).zip(&mut hashes).enumerate() {
            let row = &mut row[..g.row_bytes()];
            *sum = Some(fill(y as u32, row));
            *hash = hashing.then(|| advkit_frame::hash_pixels(row));
        }
        w.rows = sums;
        w.row_hashes = hashes;
    }

    /// Copies a whole tight RGBA frame in (what [`FrameWriter::publish`]
    /// does for a game that keeps its own buffer).
    pub fn copy_from(&mut self, pixels: &[u8]) -> Result<(), WrongSize> {
        let g = self.frame_of(pixels.len())?;
        for (y, row) in pixels.chunks_exact(g.row_bytes()).enumerate() {
            self.put_row(y as u32, row);
        }
        Ok(())
    }

    /// Publishes the slot as the frame shown at `tick`; returns its number.
    pub fn publish(mut self, tick: u64) -> u64 {
        self.done = true;
        self.writer.finish_loan(self.slot, self.odd, tick)
    }

    /// Hash each row as it is put ([`Canvas::put_row`]), and reuse the
    /// hash where [`Canvas::copy_row`] repeats it, for a
    /// [`content_hash`](Self::content_hash) that reads nothing back: what
    /// the host asks while its history is on.
    pub fn hash_rows(&mut self) {
        self.writer.hashing = true;
    }

    /// The content hash of the frame drawn so far: the XXH3-64 of the
    /// XXH3-64 of each row ([`frame_fingerprint`]). Unlike the region's
    /// checksum, which only has to catch a torn read, it tells any two
    /// different pictures apart: the host's history compares frames with
    /// it. A row repeated with `copy_row` is hashed once, and with
    /// [`hash_rows`](Self::hash_rows) rows are hashed while in the cache;
    /// others are hashed from the slot now.
    pub fn content_hash(&mut self) -> u64 {
        let g = self.writer.geometry;
        let mut hashes = std::mem::take(&mut self.writer.row_hashes);
        {
            let bytes = self.writer.slot_bytes(self.slot);
            for (y, h) in hashes.iter_mut().enumerate() {
                h.get_or_insert_with(|| {
                    advkit_frame::hash_pixels(&bytes[y * g.stride..][..g.row_bytes()])
                });
            }
        }
        let fingerprint = fingerprint_of(hashes.iter().flatten().copied());
        self.writer.row_hashes = hashes;
        fingerprint
    }

    /// A pixel drawn so far, RGBA; `None` outside the frame.
    pub fn pixel(&mut self, x: u32, y: u32) -> Option<[u8; 4]> {
        let g = self.writer.geometry;
        if x >= g.width || y >= g.height {
            return None;
        }
        let at = y as usize * g.stride + x as usize * 4;
        let bytes = &self.writer.slot_bytes(self.slot)[at..at + 4];
        Some([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

impl Canvas for Loan<'_> {
    fn width(&self) -> u32 {
        self.writer.geometry.width
    }

    fn height(&self) -> u32 {
        self.writer.geometry.height
    }

    fn put_row(&mut self, y: u32, row: &[u8]) {
        let g = self.writer.geometry;
        let w = &mut *self.writer;
        let start = y as usize * g.stride;
        let dst = &mut w.slot_bytes(self.slot)[start..][..g.row_bytes()];
        assert_eq!(row.len(), dst.len(), "put_row: a row is width x 4 bytes");
        // Summed in the same pass as the copy: each word is loaded once.
        w.rows[y as usize] = Some(copy_row_summing(dst, row));
        if w.hashing {
            // Hashed from the game's row, still in the cache.
            w.row_hashes[y as usize] = Some(advkit_frame::hash_pixels(row));
        }
    }

    fn copy_row(&mut self, from: u32, to: u32) {
        let g = self.writer.geometry;
        let w = &mut *self.writer;
        let start = from as usize * g.stride;
        w.slot_bytes(self.slot)
            .copy_within(start..start + g.row_bytes(), to as usize * g.stride);
        w.rows[to as usize] = w.rows[from as usize];
        w.row_hashes[to as usize] = w.row_hashes[from as usize];
    }

    fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let g = self.writer.geometry;
        let w = &mut *self.writer;
        w.rows[y as usize] = None;
        w.row_hashes[y as usize] = None;
        &mut w.slot_bytes(self.slot)[y as usize * g.stride..][..g.row_bytes()]
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.writer.abandon_loan(self.slot, self.odd);
        }
    }
}

impl Drop for FrameWriter {
    fn drop(&mut self) {
        // Only remove the file if it is still ours: a later engine may have
        // replaced a region we no longer own (never the case with the lock,
        // but unlinking someone else's file would be the worse mistake).
        let ours = self.file.metadata().ok().map(|m| (m.dev(), m.ino()));
        let there = fs::metadata(&self.path).ok().map(|m| (m.dev(), m.ino()));
        if ours.is_some() && ours == there {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn fps_milli(fps: f64) -> u32 {
    (fps * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32
}
