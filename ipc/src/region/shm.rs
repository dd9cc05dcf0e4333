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
//!      `flock`. A reader in the writer's own process (the host's
//!      `frame.snapshot`, a Python thread in `wait_next`, a test) finds the
//!      file registered as written here (`own.rs`, by device and inode,
//!      registered before the file has its name) and copies pixels only
//!      while no slot is lent: the writer holds that region's exclusion
//!      from lending a slot until it is published or given back. So the
//!      plain stores race with nothing in the program that makes them: no
//!      data race in Rust's sense.
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
//!   validated by the seqlock. Within this crate, the borrow checker keeps
//!   a `SharedMap`'s own atomic views away from a live slice; a
//!   `FrameReader` on the same file is kept away by the exclusion.
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
    /// Its entry among the SIGBUS-guarded mappings (taken on drop).
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
    /// `map` under the SIGBUS guard, or an error (and `map` unmapped) if
    /// it cannot be guarded.
    fn guarded(map: Map) -> io::Result<SharedMap> {
        let (base, len) = match &map {
            Map::ReadWrite(m) => (m.as_ptr(), m.len()),
            Map::ReadOnly(m) => (m.as_ptr(), m.len()),
        };
        let guard = sigbus::guard(base as usize, len, matches!(map, Map::ReadWrite(_)))?;
        Ok(SharedMap {
            guard: Some(guard),
            map,
        })
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
        SharedMap::guarded(Map::ReadWrite(map))
    }

    /// Maps the header page of a region that a reader opened for writing,
    /// to count itself among the `waiters` and sleep on `frame_futex`.
    pub(crate) fn map_header_for_waiting(file: &File) -> io::Result<SharedMap> {
        // SAFETY: the caller checked with `fstat` that `file` is the region
        // it validated (same device and inode, at least a header page
        // long). Only atomic read-modify-writes on `waiters` and loads touch
        // this mapping; the writer uses the same fields atomically.
        let map = unsafe { MmapOptions::new().len(HEADER_PAGE).map_mut(file)? };
        SharedMap::guarded(Map::ReadWrite(map))
    }

    /// Maps the first `len` bytes of `file` read-only. The caller has checked
    /// with `fstat` that the file is at least that long.
    pub(crate) fn map_read_only(file: &File, len: usize) -> io::Result<SharedMap> {
        check_len(len)?;
        // SAFETY: see the module doc: only Relaxed atomic loads touch this
        // mapping, and the length was checked against the file just now.
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        SharedMap::guarded(Map::ReadOnly(map))
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
/// replace with anonymous pages.
///
/// The handler is ours only for a fault the kernel raised (`si_code`
/// `BUS_ADRERR`: an access past the end of a mapped file) at an address
/// inside a guarded mapping. Any other SIGBUS, one sent with `kill` or a
/// fault elsewhere, takes the disposition that was there before ours: the
/// previous handler is called, an ignored signal stays ignored, and the
/// default one ends the process as it would have without us. The handler
/// stays installed through all of it (and is put back if a previous
/// handler replaced it, as Rust's own does), so the next truncation is
/// still caught.
///
/// Everything the handler touches is an atomic in a static, `errno`
/// (saved and restored), or a system call: `mmap`, `getpid`, `gettid` and
/// `tgkill` as raw syscalls, and `sigaction` and `sigemptyset`, which POSIX
/// lists as async-signal-safe (the raw `rt_sigaction` would need the
/// kernel's own struct and a restorer).
mod sigbus {
    use std::io;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Mappings guarded at once; a process maps one region per engine it
    /// runs or watches (plus a header page per sleeping reader and one for
    /// the writer's heartbeat thread).
    pub(crate) const GUARDS: usize = 256;

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
    /// The disposition before ours, which a SIGBUS that is not ours takes.
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

    /// Guards `[start, start + len)`, installing the handler on first use.
    /// An error if the handler could not be installed or every entry of
    /// the table is in use: the caller unmaps rather than keep a mapping
    /// that a truncation would turn into a crash.
    pub(crate) fn guard(start: usize, len: usize, writable: bool) -> io::Result<&'static Guard> {
        install();
        if PREVIOUS.get().is_none() {
            return Err(io::Error::other(
                "could not install the SIGBUS handler that guards frame-region mappings",
            ));
        }
        let g = TABLE
            .iter()
            .find(|g| {
                g.used
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            })
            .ok_or_else(|| {
                io::Error::other(format!(
                    "this process already maps {GUARDS} frame regions (readers, writers and \
                     waiting readers' header pages), the most the SIGBUS guard covers; drop \
                     readers it no longer uses"
                ))
            })?;
        g.hit.store(false, Ordering::Relaxed);
        g.writable.store(writable, Ordering::Relaxed);
        g.len.store(len, Ordering::Relaxed);
        // The handler matches on `start` last written, so it never sees a
        // start with a stale length.
        g.start.store(start, Ordering::Release);
        Ok(g)
    }

    fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: `action` is ours(), a valid disposition; `previous`
            // receives the old one.
            unsafe {
                let action = ours();
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                    let _ = PREVIOUS.set(previous);
                }
            }
        });
    }

    /// This handler as a disposition.
    fn ours() -> libc::sigaction {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
        // value; the handler is an `extern "C"` fn with the SA_SIGINFO
        // signature. (`sigemptyset` is async-signal-safe.)
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            action
        }
    }

    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: `__errno_location` is this thread's errno; the handler
        // puts back what it found, whatever the calls below leave there.
        let errno = unsafe { *libc::__errno_location() };
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO
        // handlers; `si_addr` is read only for a fault, where it is the
        // faulting address (for a sent signal that union holds a pid).
        let fault = unsafe { (*info).si_code == libc::BUS_ADRERR };
        let ours = fault && replace_guarded(unsafe { (*info).si_addr() } as usize);
        if !ours {
            pass_on(sig, info, ctx, fault);
        }
        // SAFETY: as above.
        unsafe { *libc::__errno_location() = errno };
    }

    /// Maps zero pages over the guarded mapping holding `addr`; whether
    /// there was one.
    fn replace_guarded(addr: usize) -> bool {
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
                libc::syscall(
                    libc::SYS_mmap,
                    start,
                    len,
                    prot,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            // The raw call returns the address, or -errno.
            if p as usize == start {
                g.hit.store(true, Ordering::Release);
                return true;
            }
        }
        false
    }

    /// A SIGBUS that is not ours: what the disposition before ours would
    /// have done with it.
    fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void, fault: bool) {
        let Some(previous) = PREVIOUS.get() else {
            return die_by_default(fault);
        };
        match previous.sa_sigaction {
            // An ignored fault would repeat for ever; the kernel itself
            // never lets a fault be ignored, it kills.
            libc::SIG_IGN if fault => die_by_default(fault),
            libc::SIG_IGN => {}
            libc::SIG_DFL => die_by_default(fault),
            handler => {
                if previous.sa_flags & libc::SA_SIGINFO != 0 {
                    // SAFETY: installed with SA_SIGINFO, so this is the
                    // three-argument handler, called as the kernel would.
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        unsafe { std::mem::transmute(handler) };
                    f(sig, info, ctx);
                } else {
                    // SAFETY: installed without SA_SIGINFO: the one-argument
                    // handler.
                    let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
                    f(sig);
                }
                if !fault {
                    reinstall();
                }
            }
        }
    }

    /// Puts this handler back if the previous one replaced it. Rust's own
    /// SIGBUS handler (the standard library's stack-overflow report) resets
    /// the disposition to the default for any address outside a stack
    /// guard and returns, so that a fault, retried, ends the process; for
    /// a sent signal nothing is retried, and without this the guard would
    /// be gone for good (a later truncation would then kill the process).
    /// Never after a fault, whose retried access must meet what the
    /// previous handler left.
    fn reinstall() {
        // SAFETY: `sigaction` is async-signal-safe (POSIX); `current` is
        // filled in by the first call, and the second passes the same
        // action `install` did.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut current);
            if current.sa_sigaction != on_sigbus as *const () as usize {
                let action = ours();
                libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
            }
        }
    }

    /// The default disposition (end the process, with a core dump where
    /// enabled): set it, then let it act. A fault does so when its access
    /// is retried on return; a sent signal is sent again to this thread,
    /// and arrives as soon as this handler returns (SIGBUS is blocked
    /// while it runs).
    fn die_by_default(fault: bool) {
        // SAFETY: `sigaction` is async-signal-safe (POSIX); a zeroed
        // struct with SIG_DFL is a valid disposition.
        unsafe {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
        }
        if !fault {
            // SAFETY: raw getpid/gettid/tgkill take plain integers.
            unsafe {
                let pid = libc::syscall(libc::SYS_getpid);
                let tid = libc::syscall(libc::SYS_gettid);
                libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGBUS);
            }
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

/// A frame's pixels to copy into the region, read through a raw pointer
/// when they are memory that is not a Rust value of this process (a
/// Python buffer, a NumPy array): another native thread may be touching
/// it, as it may for C's `memcpy` from it, and a `&[u8]` over it would
/// promise Rust that nothing writes it meanwhile. A Rust slice is one too
/// ([`RawSrc::from_slice`]).
#[derive(Debug, Clone, Copy)]
pub struct RawSrc<'a> {
    ptr: *const u8,
    len: usize,
    _borrow: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> RawSrc<'a> {
    /// # Safety
    ///
    /// `ptr` must be valid for reads of `len` bytes (any alignment) for
    /// as long as the `RawSrc` lives: kept alive and not freed or shrunk
    /// meanwhile (a Python buffer export guarantees that).
    pub unsafe fn new(ptr: *const u8, len: usize) -> RawSrc<'a> {
        RawSrc {
            ptr,
            len,
            _borrow: std::marker::PhantomData,
        }
    }

    pub fn from_slice(bytes: &'a [u8]) -> RawSrc<'a> {
        RawSrc {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Converts the `dst.len()` bytes at `offset` into `dst` as RGBA and
    /// returns their row sums (see `words::convert_row_summing`).
    pub(crate) fn convert_row(
        &self,
        offset: usize,
        dst: &mut [u8],
        order: super::PixelOrder,
    ) -> [u64; 4] {
        assert!(
            offset <= self.len && dst.len() <= self.len - offset,
            "a row outside the source"
        );
        // SAFETY: offset + dst.len() <= self.len (asserted above), and the
        // constructor's caller promised (or a borrowed slice guarantees)
        // those bytes are readable for as long as `self` lives.
        unsafe { super::words::convert_row_summing(dst, order, self.ptr.add(offset)) }
    }
}

/// Memory that is not a Rust value of this process (a Python buffer, a
/// NumPy array) that a frame is copied into through a raw pointer, never
/// through a reference: another native thread may be touching it, as it
/// may for C's `memcpy` into it, and a `&mut [u8]` over it would promise
/// Rust that nothing else does.
#[derive(Debug)]
pub struct RawDest {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: a RawDest is a pointer and a length; what `new`'s caller
// promised (the memory stays valid for writes) does not depend on the
// thread, and writing needs `&mut self`, so one thread writes at a time.
unsafe impl Send for RawDest {}

impl RawDest {
    /// # Safety
    ///
    /// `ptr` must be valid for writes of `len` bytes (any alignment) for as
    /// long as the `RawDest` lives: kept alive and not freed or shrunk
    /// meanwhile (a Python buffer export guarantees that).
    pub unsafe fn new(ptr: *mut u8, len: usize) -> Option<RawDest> {
        std::ptr::NonNull::new(ptr).map(|ptr| RawDest { ptr, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `len` bytes loaded word by word from `src` at `offset`.
    pub(crate) fn store_row(&mut self, offset: usize, src: &[AtomicU64], len: usize) {
        assert!(
            offset <= self.len && len <= self.len - offset && src.len() >= len.div_ceil(8),
            "a row outside the destination"
        );
        let base = self.ptr.as_ptr();
        let whole = len / 8;
        // Four words a step, loads before stores (as `load_row` does): the
        // loads cannot be merged into wider ones (each is atomic), but the
        // stores can be issued back to back.
        let (blocks, singles) = src[..whole].as_chunks::<4>();
        for (b, words) in blocks.iter().enumerate() {
            let v = words
                .each_ref()
                .map(|w| w.load(Ordering::Relaxed).to_le_bytes());
            // SAFETY: offset + (b + 1) * 32 <= offset + whole * 8 <= offset
            // + len <= self.len (asserted above), and `new`'s caller
            // promised the range is writable; unaligned stores need no
            // alignment.
            unsafe {
                base.add(offset + b * 32)
                    .cast::<[[u8; 8]; 4]>()
                    .write_unaligned(v);
            }
        }
        let done = blocks.len() * 4;
        for (i, word) in singles.iter().enumerate() {
            // SAFETY: as above, for the word at done + i (< whole).
            unsafe {
                base.add(offset + (done + i) * 8)
                    .cast::<[u8; 8]>()
                    .write_unaligned(word.load(Ordering::Relaxed).to_le_bytes());
            }
        }
        let rest = len - whole * 8;
        if rest > 0 {
            let bytes = src[whole].load(Ordering::Relaxed).to_le_bytes();
            // SAFETY: as above, for the last `rest` (< 8) bytes of the row.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(offset + whole * 8), rest);
            }
        }
    }
}
