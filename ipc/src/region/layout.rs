//! The byte layout of a frame region, pinned by const asserts.
//!
//! `docs/frame-region.md` is the same table for people writing readers in
//! other languages; keep the two in step (a test checks the offsets quoted
//! there).
//!
//! ```text
//! 0        header (128 bytes)                       ┐
//! 128      slot table: slot_count × 64 bytes        ├ header page, 4096 bytes
//!          (zero)                                   ┘
//! 4096     slot 0 pixels: height rows × stride bytes, padded to a page
//! 4096 + slot_stride       slot 1 pixels
//! 4096 + 2 × slot_stride   slot 2 pixels
//! ```
//!
//! All integers are little-endian (the crate refuses to build elsewhere).
//! Every header and slot-table field is read and written as an atomic of
//! its own width; pixels are written by the writer with plain stores into
//! a slot no reader is directed to (see `shm`) and read as atomic words.
//!
//! Version 2 (this one) added `waiters` and `frame_futex` for readers that
//! sleep until the next frame; version 1 readers are refused with a message.

use std::mem::{offset_of, size_of};
use std::sync::atomic::{AtomicU32, AtomicU64};

#[cfg(not(target_endian = "little"))]
compile_error!("the frame region layout is little-endian; this target is not");

/// `b"ADVKFRM1"` read as a little-endian u64. Written last when creating.
pub const MAGIC: u64 = u64::from_le_bytes(*b"ADVKFRM1");
/// Bumped on any incompatible change to this file's layout.
pub const VERSION: u32 = 2;
/// Size of the header page; slot pixels start here, page-aligned.
pub const HEADER_PAGE: usize = 4096;
/// Where the slot table starts inside the header page.
pub const SLOT_TABLE: usize = 128;
/// Bytes per slot-table entry (one cache line, so slots never share one).
pub const SLOT_ENTRY: usize = 64;
/// Slots a writer creates: with 3, a reader at 60 fps practically never retries.
pub const SLOTS: u32 = 3;
/// The most slots that fit in the header page.
pub const MAX_SLOTS: u32 = ((HEADER_PAGE - SLOT_TABLE) / SLOT_ENTRY) as u32;
/// Row strides are a multiple of this, so every row starts on a cache line.
pub const STRIDE_ALIGN: usize = 64;
/// Slot pixel areas are a multiple of this, so each starts on a page.
pub const PAGE: usize = 4096;
/// `pixel_format` value for 8-bit R, G, B, A in that byte order.
pub const FORMAT_RGBA8: u32 = 1;
/// Largest frame a reader accepts (8K RGBA), so a corrupt header cannot make
/// it allocate gigabytes.
pub const MAX_WIDTH: u32 = 7680;
pub const MAX_HEIGHT: u32 = 4320;

/// The first 128 bytes of the file.
#[repr(C)]
#[derive(Debug)]
pub struct Header {
    /// [`MAGIC`]; zero until the writer has filled in everything else.
    pub magic: AtomicU64,
    /// [`VERSION`].
    pub version: AtomicU32,
    /// [`HEADER_PAGE`]: where slot 0's pixels start.
    pub header_size: AtomicU32,
    /// Random on every start: a reader that sees it change knows the engine
    /// was restarted under the same name.
    pub session_id: AtomicU64,
    pub writer_pid: AtomicU32,
    /// [`FORMAT_RGBA8`].
    pub pixel_format: AtomicU32,
    /// The writer's start time in clock ticks after boot (field 22 of
    /// `/proc/<pid>/stat`), so a reused pid is not mistaken for the writer.
    pub writer_start_ticks: AtomicU64,
    pub width: AtomicU32,
    pub height: AtomicU32,
    /// Bytes from one row to the next; a multiple of [`STRIDE_ALIGN`].
    pub stride: AtomicU32,
    pub slot_count: AtomicU32,
    /// Bytes from one slot's pixels to the next; a multiple of [`PAGE`].
    pub slot_stride: AtomicU64,
    /// The file size the writer created; a reader refuses a shorter file.
    pub file_size: AtomicU64,
    /// Nominal frames per second × 1000 (for `advkit ls`).
    pub fps_milli: AtomicU32,
    /// Readers blocked in a futex wait on [`frame_futex`](Self::frame_futex)
    /// (added by each waiter before it sleeps, removed when it wakes). The
    /// writer makes the `FUTEX_WAKE` call only while this is not zero.
    pub waiters: AtomicU32,
    /// Wall-clock start, milliseconds since the Unix epoch (for uptime).
    pub started_unix_ms: AtomicU64,
    /// Number of the newest complete frame (0: none yet). Frame `n` lives in
    /// slot `n % slot_count`.
    pub latest_frame: AtomicU64,
    /// `CLOCK_MONOTONIC` in nanoseconds, refreshed every 100 ms by a
    /// thread of the writer's own while its process runs, whatever its
    /// game loop does: it goes stale only when the process is stopped.
    pub heartbeat_ns: AtomicU64,
    /// The low 32 bits of `latest_frame`, stored right after it: the
    /// futex word readers wait on (futexes are 32 bits wide).
    pub frame_futex: AtomicU32,
    pub reserved0: AtomicU32,
    /// `CLOCK_MONOTONIC` in nanoseconds when the game loop last called the
    /// host (a publish, or a wait while paused); 0 from a writer that does
    /// not keep it. Stale while the heartbeat is fresh: the game is busy.
    pub loop_ns: AtomicU64,
    pub reserved: AtomicU64,
}

/// One slot-table entry, guarded by its own sequence counter.
#[repr(C)]
#[derive(Debug)]
pub struct SlotEntry {
    /// Odd while the writer is filling the slot; bumped by 2 per publish.
    pub seq: AtomicU64,
    /// The frame number held (0: never written).
    pub frame: AtomicU64,
    /// The engine tick the frame shows.
    pub tick: AtomicU64,
    /// [`checksum`](super::checksum) of the pixels.
    pub checksum: AtomicU64,
    /// `CLOCK_MONOTONIC` nanoseconds at publish.
    pub published_ns: AtomicU64,
    pub reserved: [AtomicU64; 3],
}

const _: () = {
    assert!(offset_of!(Header, magic) == 0);
    assert!(offset_of!(Header, version) == 8);
    assert!(offset_of!(Header, header_size) == 12);
    assert!(offset_of!(Header, session_id) == 16);
    assert!(offset_of!(Header, writer_pid) == 24);
    assert!(offset_of!(Header, pixel_format) == 28);
    assert!(offset_of!(Header, writer_start_ticks) == 32);
    assert!(offset_of!(Header, width) == 40);
    assert!(offset_of!(Header, height) == 44);
    assert!(offset_of!(Header, stride) == 48);
    assert!(offset_of!(Header, slot_count) == 52);
    assert!(offset_of!(Header, slot_stride) == 56);
    assert!(offset_of!(Header, file_size) == 64);
    assert!(offset_of!(Header, fps_milli) == 72);
    assert!(offset_of!(Header, waiters) == 76);
    assert!(offset_of!(Header, started_unix_ms) == 80);
    assert!(offset_of!(Header, latest_frame) == 88);
    assert!(offset_of!(Header, heartbeat_ns) == 96);
    assert!(offset_of!(Header, loop_ns) == 112);
    assert!(offset_of!(Header, frame_futex) == 104);
    assert!(size_of::<Header>() == SLOT_TABLE);
    assert!(offset_of!(SlotEntry, seq) == 0);
    assert!(offset_of!(SlotEntry, frame) == 8);
    assert!(offset_of!(SlotEntry, tick) == 16);
    assert!(offset_of!(SlotEntry, checksum) == 24);
    assert!(offset_of!(SlotEntry, published_ns) == 32);
    assert!(size_of::<SlotEntry>() == SLOT_ENTRY);
    assert!(SLOTS <= MAX_SLOTS);
};

/// The sizes that follow from a frame's width and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub width: u32,
    pub height: u32,
    /// Bytes per row in the region (≥ width × 4, a multiple of 64).
    pub stride: usize,
    pub slot_count: u32,
    /// Bytes per slot (≥ stride × height, a multiple of a page).
    pub slot_stride: usize,
}

impl Geometry {
    pub fn new(width: u32, height: u32, slot_count: u32) -> Option<Geometry> {
        if width == 0
            || height == 0
            || width > MAX_WIDTH
            || height > MAX_HEIGHT
            || slot_count == 0
            || slot_count > MAX_SLOTS
        {
            return None;
        }
        let stride = (width as usize * 4).next_multiple_of(STRIDE_ALIGN);
        let slot_stride = (stride * height as usize).next_multiple_of(PAGE);
        Some(Geometry {
            width,
            height,
            stride,
            slot_count,
            slot_stride,
        })
    }

    /// Bytes of pixels in a row, without padding.
    pub fn row_bytes(&self) -> usize {
        self.width as usize * 4
    }

    /// Bytes of a tight RGBA copy of one frame.
    pub fn frame_bytes(&self) -> usize {
        self.row_bytes() * self.height as usize
    }

    pub fn file_size(&self) -> usize {
        HEADER_PAGE + self.slot_stride * self.slot_count as usize
    }

    /// Offset of slot `i`'s first pixel.
    pub fn slot_offset(&self, slot: usize) -> usize {
        HEADER_PAGE + slot * self.slot_stride
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_pads_rows_to_cache_lines_and_slots_to_pages() {
        let g = Geometry::new(320, 180, 3).expect("valid");
        assert_eq!(g.stride, 1280);
        assert_eq!(g.slot_stride, 233_472); // 230,400 rounded up to a page
        assert_eq!(g.file_size(), 4096 + 3 * 233_472);
        let odd = Geometry::new(17, 3, 3).expect("valid");
        assert_eq!(odd.stride, 128);
        assert_eq!(odd.row_bytes(), 68);
        assert_eq!(odd.slot_offset(1) % PAGE, 0);
        assert!(Geometry::new(0, 10, 3).is_none());
        assert!(Geometry::new(10, 10, MAX_SLOTS + 1).is_none());
        assert!(Geometry::new(MAX_WIDTH + 1, 10, 3).is_none());
    }

    #[test]
    fn magic_reads_as_text_in_a_hex_dump() {
        assert_eq!(&MAGIC.to_le_bytes(), b"ADVKFRM1");
    }
}
