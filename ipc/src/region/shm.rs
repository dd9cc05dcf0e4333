//! The only place in advkit with `unsafe`: mapping the region file,
//! viewing its bytes as atomics, lending the writer a slot's pixels as a
//! plain `&mut [u8]`, plus a 64-byte-aligned byte buffer.
//!
//! The soundness argument, once:
//!
//! - **Mapping.** `mmap` of a file is unsafe because another process may
//!   change or truncate the file under us. Changes are fine: readers touch
//!   the mapped bytes only through `AtomicU32`/`AtomicU64` (never a plain
//!   `&[u8]`), and the writer's plain stores go only to a slot of its own
//!   (below). Truncation turns an access past the new end into SIGBUS. The
//!   writer never shrinks its file, but anyone with the owner's rights can
//!   (`truncate -s 100 x.frames`), so every mapping is **guarded** the way
//!   Wayland compositors guard client pools (`wl_shm_buffer_begin_access`):
//!   a SIGBUS handler that finds the faulting address inside a guarded
//!   mapping maps anonymous zero pages over the whole mapping (`MAP_FIXED`)
//!   and flags it lost, and the faulting access is retried against them.
//!   To Rust this is the memory changing under a shared mapping, which
//!   the first point already accepts; the zeros are never published (the
//!   writer replaces a lost region before its next frame, [`SharedMap::faulted`])
//!   nor accepted (zeros fail a reader's header and seqlock checks). A
//!   SIGBUS at any other address goes to the previous disposition.
//! - **The writer's loaned slot.** [`SharedMap::slot_pixels_mut`] hands the
//!   writer a plain `&mut [u8]` over one slot's pixels, so a game draws
//!   (and `memcpy` vectorises) straight into shared memory. This is sound
//!   because:
//!   1. *Within the writer's program nothing else touches those bytes.*
//!      The slice borrows the `SharedMap` mutably, so no atomic view of the
//!      same mapping exists meanwhile; only the writer maps the file
//!      writable, and the one writer per region is guaranteed by its
//!      `flock`. (A reader in the writer's own process, such as the host's
//!      `frame.snapshot`, runs on the game's thread between loans, never
//!      while a slice is alive.) So the plain stores race with nothing in
//!      the program that makes them: no data race in Rust's sense.
//!   2. *Readers are not directed to that slot.* `latest_frame` names the
//!      previous frame, which lives in another slot; the lent slot held the
//!      frame `slot_count` publishes ago. Before lending, the writer makes
//!      the slot's sequence odd and issues a `Release` fence: at the
//!      compiler level a fence is an opaque memory operation that stores
//!      are not moved above; at the hardware level it is a store barrier on
//!      weakly ordered CPUs (x86 keeps stores in order anyway). So any
//!      store into the slot becomes visible after the odd sequence.
//!   3. *A reader still copying that slot's old frame* (one that read
//!      `latest_frame` a whole ring ago) keeps its per-word atomic loads
//!      and sees the sequence change at its second check, and retries. The
//!      bytes it copied are discarded, never interpreted.
//!   4. *Publishing* stores the slot fields and then the even sequence
//!      with `Release`: every pixel store before it is visible to a reader
//!      that loads that sequence and then fences with `Acquire`.
//!
//!   Readers in other processes are outside the writer's program; for them
//!   the slot is memory changed by another agent, read only atomically and
//!   validated by the seqlock. The cost is one rule for this crate: never
//!   read a slot of your own region while a slice into it is alive (the
//!   borrow checker enforces it for `SharedMap`; a second `FrameReader` on
//!   the same file in another thread of the writer's process would be a
//!   data race, so benchmarks and tests run their readers as processes).
//! - **Read-only mappings.** Readers map `PROT_READ`. The only operations
//!   they perform on those atomics are `Relaxed` loads of at most 8 bytes,
//!   which the standard library documents as sound on read-only memory
//!   ("Atomic accesses to read-only memory" in `core::sync::atomic`);
//!   ordering comes from explicit `fence`s instead of `Acquire` loads.
//!   [`SharedMap::is_writable`] lets the writer assert it holds the other kind.
//!   A reader that sleeps on the futex maps the header page a second time,
//!   writable, to count itself in `waiters`; that page holds only atomics.
//! - **Alignment.** The mapping starts on a page boundary; every offset
//!   handed out is checked to be a multiple of the atomic's size and to lie
//!   inside the mapping.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{Mmap, MmapMut, MmapOptions};

use super::layout::{HEADER_PAGE, Header, PAGE, SLOT_ENTRY, SLOT_TABLE, SlotEntry};

#[derive(Debug)]
enum Map {
    ReadWrite(MmapMut),
    ReadOnly(Mmap),
}

/// A mapped region file, seen only through atomics.
#[derive(Debug)]
pub(crate) struct SharedMap {
    map: Map,
    /// Its entry among the SIGBUS-guarded mappings (`None`: all in use,
    /// unguarded).
    guard: Option<&'static sigbus::Guard>,
}

impl Drop for SharedMap {
    fn drop(&mut self) {
        // Unguarded before `map` is unmapped (fields drop after this).
        if let Some(g) = self.guard.take() {
            g.release();
        }
    }
}

impl SharedMap {
    fn guarded(map: Map) -> SharedMap {
        let (base, len) = match &map {
            Map::ReadWrite(m) => (m.as_ptr(), m.len()),
            Map::ReadOnly(m) => (m.as_ptr(), m.len()),
        };
        SharedMap {
            guard: sigbus::guard(base as usize, len, matches!(map, Map::ReadWrite(_))),
            map,
        }
    }

    /// Whether `file` is now shorter than this mapping (one `fstat`).
    pub(crate) fn shrunk(&self, file: &File) -> bool {
        file.metadata().is_ok_and(|m| m.len() < self.len() as u64)
    }

    /// Whether an access faulted past the file's end and the guard put
    /// zero pages in its place: the mapping's bytes mean nothing any more.
    pub(crate) fn faulted(&self) -> bool {
        self.guard.is_some_and(sigbus::Guard::hit)
    }

    /// Maps `file` shared and writable; `file` must be at least `len` bytes.
    pub(crate) fn map_writable(file: &File, len: usize) -> io::Result<SharedMap> {
        check_len(len)?;
        // SAFETY: the file was just created by this process (O_EXCL, mode
        // 0600, in an owner-only directory) and sized to `len`; this process
        // never truncates it. Accesses go through atomics only (module doc).
        let map = unsafe { MmapOptions::new().len(len).map_mut(file)? };
        Ok(SharedMap::guarded(Map::ReadWrite(map)))
    }

    /// Maps the header page of a region that a reader opened for writing,
    /// to count itself among the `waiters` and sleep on `frame_futex`.
    pub(crate) fn map_header_for_waiting(file: &File) -> io::Result<SharedMap> {
        // SAFETY: the caller checked with `fstat` that `file` is the region
        // it validated (same device and inode, at least a header page
        // long). Only atomic read-modify-writes on `waiters` and loads touch
        // this mapping; the writer uses the same fields atomically.
        let map = unsafe { MmapOptions::new().len(HEADER_PAGE).map_mut(file)? };
        Ok(SharedMap::guarded(Map::ReadWrite(map)))
    }

    /// Maps the first `len` bytes of `file` read-only. The caller has checked
    /// with `fstat` that the file is at least that long.
    pub(crate) fn map_read_only(file: &File, len: usize) -> io::Result<SharedMap> {
        check_len(len)?;
        // SAFETY: see the module doc: only Relaxed atomic loads touch this
        // mapping, and the length was checked against the file just now.
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        Ok(SharedMap::guarded(Map::ReadOnly(map)))
    }

    pub(crate) fn len(&self) -> usize {
        match &self.map {
            Map::ReadWrite(m) => m.len(),
            Map::ReadOnly(m) => m.len(),
        }
    }

    pub(crate) fn is_writable(&self) -> bool {
        matches!(self.map, Map::ReadWrite(_))
    }

    fn base(&self) -> *const u8 {
        match &self.map {
            Map::ReadWrite(m) => m.as_ptr(),
            Map::ReadOnly(m) => m.as_ptr(),
        }
    }

    /// The header at offset 0. Readers may only `load(Relaxed)` from it.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: `check_len` guaranteed at least HEADER_PAGE bytes; the
        // mapping is page-aligned, so offset 0 is aligned for Header (align
        // 8); Header is repr(C) and made only of atomics, which are valid for
        // any bit pattern, and shared mutation through them is allowed.
        unsafe { &*self.base().cast::<Header>() }
    }

    /// Slot-table entry `i`, if it lies inside the header page.
    pub(crate) fn slot(&self, i: usize) -> Option<&SlotEntry> {
        let offset = SLOT_TABLE + i * SLOT_ENTRY;
        if offset + SLOT_ENTRY > HEADER_PAGE {
            return None;
        }
        // SAFETY: inside the header page (checked above and by `check_len`),
        // 64-byte aligned (SLOT_TABLE and SLOT_ENTRY are multiples of 64),
        // and SlotEntry is repr(C) atomics only, as for `header`.
        Some(unsafe { &*self.base().add(offset).cast::<SlotEntry>() })
    }

    /// `count` 8-byte words starting at `offset`, if that range is inside
    /// the mapping and aligned.
    pub(crate) fn words(&self, offset: usize, count: usize) -> Option<&[AtomicU64]> {
        let end = count.checked_mul(8)?.checked_add(offset)?;
        if !offset.is_multiple_of(8) || end > self.len() {
            return None;
        }
        // SAFETY: the range [offset, end) is inside the mapping and 8-byte
        // aligned (the base is page-aligned); AtomicU64 has the size and
        // alignment of u64 and is valid for any bits; all access is atomic.
        Some(unsafe {
            std::slice::from_raw_parts(self.base().add(offset).cast::<AtomicU64>(), count)
        })
    }

    /// The pixels of one slot, `[offset, offset + len)`, as plain bytes for
    /// the writer to fill. `None` on a read-only mapping or out of range.
    /// See "The writer's loaned slot" in the module doc for why this is
    /// sound; the caller must have made the slot's sequence odd first.
    pub(crate) fn slot_pixels_mut(&mut self, offset: usize, len: usize) -> Option<&mut [u8]> {
        let end = offset.checked_add(len)?;
        if offset < HEADER_PAGE || end > self.len() {
            return None;
        }
        let Map::ReadWrite(m) = &mut self.map else {
            return None;
        };
        // SAFETY: [offset, end) lies inside the mapping and after the header
        // page (checked above), so it overlaps no header or slot-table
        // atomic. `&mut self` makes this the only view of the mapping in
        // this program while the slice lives (point 1 of the module doc);
        // other processes only read these bytes, atomically, under the
        // seqlock (points 2 to 4). u8 is valid for any bits.
        Some(unsafe { std::slice::from_raw_parts_mut(m.as_mut_ptr().add(offset), len) })
    }

    /// Touches every page of a writable mapping so the first frames do not
    /// pay for page faults (≈ 7 ms for a fresh 1080p region).
    pub(crate) fn prefault(&self) {
        debug_assert!(self.is_writable());
        if !self.is_writable() {
            return;
        }
        for page in (0..self.len()).step_by(PAGE) {
            if let Some([w]) = self.words(page, 1) {
                // A store (not a load) so tmpfs allocates the page now.
                w.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Plain `memcpy` of `src` to `offset`, bypassing atomics and the
    /// seqlock. Only for benchmark baselines; see [`super::FrameWriter::baseline_memcpy`].
    pub(crate) fn baseline_copy_in(&mut self, offset: usize, src: &[u8]) -> bool {
        let Map::ReadWrite(m) = &mut self.map else {
            return false;
        };
        match m.get_mut(offset..offset + src.len()) {
            Some(dst) => {
                dst.copy_from_slice(src);
                true
            }
            None => false,
        }
    }

    /// Plain `memcpy` from `offset` into `dst`; benchmark baseline only.
    pub(crate) fn baseline_copy_out(&self, offset: usize, dst: &mut [u8]) -> bool {
        let Some(end) = offset.checked_add(dst.len()) else {
            return false;
        };
        if end > self.len() {
            return false;
        }
        // SAFETY: the range is inside the mapping (checked above) and `dst`
        // is a distinct buffer owned by the caller. The bytes may be changed
        // by the engine meanwhile; they are only copied, never interpreted,
        // which is why this is a baseline and not a read.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base().add(offset), dst.as_mut_ptr(), dst.len());
        }
        true
    }
}

/// The SIGBUS guard: a fixed table of mapped ranges the handler may
/// replace with anonymous pages. Everything the handler touches is an
/// atomic in a static or a raw syscall (`mmap`, `sigaction`), both
/// async-signal-safe on Linux.
mod sigbus {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Mappings guarded at once; a process maps one region per engine it
    /// runs or watches (plus a header page per sleeping reader).
    const GUARDS: usize = 256;

    #[derive(Debug)]
    pub(crate) struct Guard {
        used: AtomicBool,
        start: AtomicUsize,
        len: AtomicUsize,
        writable: AtomicBool,
        hit: AtomicBool,
    }

    impl Guard {
        const fn new() -> Guard {
            Guard {
                used: AtomicBool::new(false),
                start: AtomicUsize::new(0),
                len: AtomicUsize::new(0),
                writable: AtomicBool::new(false),
                hit: AtomicBool::new(false),
            }
        }

        pub(crate) fn hit(&self) -> bool {
            self.hit.load(Ordering::Acquire)
        }

        /// Stops guarding (before the range is unmapped).
        pub(crate) fn release(&self) {
            self.start.store(0, Ordering::Release);
            self.len.store(0, Ordering::Release);
            self.hit.store(false, Ordering::Release);
            self.used.store(false, Ordering::Release);
        }
    }

    static TABLE: [Guard; GUARDS] = [const { Guard::new() }; GUARDS];
    /// The disposition before ours, restored for a SIGBUS that is not ours.
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

    /// Guards `[start, start + len)`, installing the handler on first use.
    pub(crate) fn guard(start: usize, len: usize, writable: bool) -> Option<&'static Guard> {
        install();
        PREVIOUS.get()?;
        let g = TABLE.iter().find(|g| {
            g.used
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        g.hit.store(false, Ordering::Relaxed);
        g.writable.store(writable, Ordering::Relaxed);
        g.len.store(len, Ordering::Relaxed);
        // The handler matches on `start` last written, so it never sees a
        // start with a stale length.
        g.start.store(start, Ordering::Release);
        Some(g)
    }

    fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
            // value; the handler is an `extern "C"` fn with the SA_SIGINFO
            // signature; `previous` receives the old disposition.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                    let _ = PREVIOUS.set(previous);
                }
            }
        });
    }

    extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers;
        // for SIGBUS `si_addr` is the faulting address.
        let addr = unsafe { (*info).si_addr() } as usize;
        for g in &TABLE {
            let start = g.start.load(Ordering::Acquire);
            let len = g.len.load(Ordering::Relaxed);
            if start == 0 || addr < start || addr - start >= len {
                continue;
            }
            let prot = if g.writable.load(Ordering::Relaxed) {
                libc::PROT_READ | libc::PROT_WRITE
            } else {
                libc::PROT_READ
            };
            // SAFETY: `[start, start + len)` is a live mapping of ours (it is
            // unguarded before it is unmapped); MAP_FIXED replaces it in
            // place with private zero pages, so every reference into it
            // stays valid and the faulting access succeeds when retried.
            let p = unsafe {
                libc::mmap(
                    start as *mut libc::c_void,
                    len,
                    prot,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                g.hit.store(true, Ordering::Release);
                return;
            }
        }
        // Not a guarded mapping: the previous disposition, which the retried
        // access then meets (the default one ends the process as before).
        // SAFETY: restoring the disposition saved at install time, or the
        // default one if the fault came before it was saved.
        unsafe {
            match PREVIOUS.get() {
                Some(previous) => libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()),
                None => libc::signal(libc::SIGBUS, libc::SIG_DFL) as libc::c_int,
            };
        }
    }
}

fn check_len(len: usize) -> io::Result<()> {
    if len < HEADER_PAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{len} bytes is shorter than the {HEADER_PAGE}-byte header page"),
        ));
    }
    Ok(())
}

/// One cache line; the unit of [`AlignedBuf`].
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// A byte buffer whose start is 64-byte aligned: copying a frame into an
/// unaligned destination was measured up to 15× slower for small frames.
#[derive(Clone)]
pub struct AlignedBuf {
    lines: Vec<Line>,
    len: usize,
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len)
            .finish()
    }
}

impl AlignedBuf {
    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> AlignedBuf {
        AlignedBuf {
            lines: vec![Line([0; 64]); len.div_ceil(64)],
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Grows or shrinks to `len` bytes (new bytes are zero).
    pub fn resize(&mut self, len: usize) {
        self.lines.resize(len.div_ceil(64), Line([0; 64]));
        self.len = len;
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `lines` holds `lines.len() * 64 >= len` initialised bytes
        // (Line is a plain byte array with no padding: size 64, align 64).
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<u8>(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<u8>(), self.len) }
    }
}
