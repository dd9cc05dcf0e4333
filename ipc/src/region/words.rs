//! Copying pixels out of the region as atomic 8-byte words, and the slot
//! checksum.
//!
//! The checksum is cheap enough to compute from each row while it is in
//! the cache (four independent running sums, no multiply or carry chain),
//! and a repeated row reuses its sums:
//! treat each row's `width × 4` bytes, zero-padded to a multiple of 8, as
//! little-endian u64 words numbered from 0 across the whole frame; add word
//! `i` (wrapping) into lane `i % 4`; the checksum is
//! `lane0 ^ rotl(lane1, 16) ^ rotl(lane2, 32) ^ rotl(lane3, 48)`.
//!
//! Unsafe here (besides shm.rs, the one other module allowed it): calling
//! the AVX2 builds of the loops behind the CPU check, and reading a
//! row of pixels that is not a Rust value ([`RawSrc`](super::RawSrc)).
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Running state of a [`checksum`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Lanes {
    sums: [u64; 4],
}

impl Lanes {
    pub(crate) fn finish(self) -> u64 {
        let [a, b, c, d] = self.sums;
        a ^ b.rotate_left(16) ^ c.rotate_left(32) ^ d.rotate_left(48)
    }

    /// Adds the sums of a row (see [`row_sums`]) whose first word is word
    /// number `first_word` of the frame.
    pub(crate) fn add_row_sums(&mut self, sums: [u64; 4], first_word: usize) {
        let shift = first_word % 4;
        for (j, s) in sums.iter().enumerate() {
            let lane = &mut self.sums[(j + shift) % 4];
            *lane = lane.wrapping_add(*s);
        }
    }
}

/// A row's contribution to the checksum as if its first word were word 0:
/// sums rotated into place by [`Lanes::add_row_sums`]. Rows can then be
/// summed once and reused wherever the same row repeats.
pub(crate) fn row_sums(row: &[u8]) -> [u64; 4] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::row_sums(row) };
    }
    row_sums_portable(row)
}

#[inline(always)]
fn row_sums_portable(row: &[u8]) -> [u64; 4] {
    let (blocks, rest) = row.as_chunks::<32>();
    // Four sums in locals, four words a step: the compiler keeps them in
    // vector registers with no carried dependency between lanes.
    let mut sums = [0u64; 4];
    for block in blocks {
        add_block(&mut sums, block);
    }
    add_rest(&mut sums, rest);
    sums
}

/// Copies `src` over `dst` (same length) and returns [`row_sums`] of it,
/// in one pass: each word is loaded once, added and stored.
pub(crate) fn copy_row_summing(dst: &mut [u8], src: &[u8]) -> [u64; 4] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::copy_row_summing(dst, src) };
    }
    copy_row_summing_portable(dst, src)
}

/// The sums compiled for AVX2: 32-byte vectors, which the default x86-64
/// target (SSE2) cannot assume. Reached only behind a check that the CPU
/// has it (`is_x86_feature_detected!`, cached after its first call).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    #[target_feature(enable = "avx2")]
    pub(super) fn row_sums(row: &[u8]) -> [u64; 4] {
        super::row_sums_portable(row)
    }

    /// # Safety
    ///
    /// As [`super::convert_row_summing`]'s, and the CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn convert_row_summing(
        dst: &mut [u8],
        order: super::PixelOrder,
        src: *const u8,
    ) -> [u64; 4] {
        // SAFETY: as promised by the caller.
        unsafe { super::convert_row_summing_portable(dst, order, src) }
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn copy_row_summing(dst: &mut [u8], src: &[u8]) -> [u64; 4] {
        super::copy_row_summing_portable(dst, src)
    }
}

#[inline(always)]
fn copy_row_summing_portable(dst: &mut [u8], src: &[u8]) -> [u64; 4] {
    debug_assert_eq!(dst.len(), src.len());
    let (src_blocks, src_rest) = src.as_chunks::<32>();
    let (dst_blocks, dst_rest) = dst.as_chunks_mut::<32>();
    let mut sums = [0u64; 4];
    for (d, s) in dst_blocks.iter_mut().zip(src_blocks) {
        *d = *s;
        add_block(&mut sums, s);
    }
    dst_rest.copy_from_slice(src_rest);
    add_rest(&mut sums, src_rest);
    sums
}

/// The order of a pixel's four bytes in memory, in a frame handed to
/// [`Loan::put_rows_as`](super::Loan::put_rows_as): `Rgba` (the region's
/// own), or SDL's and most surfaces' `Bgra`; `…x` when the fourth byte is
/// not alpha (the frame is opaque, stored with alpha 255).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelOrder {
    Rgba,
    Rgbx,
    Bgra,
    Bgrx,
}

impl PixelOrder {
    /// Two pixels in this order (a little-endian word, the first pixel in
    /// its low half) as RGBA.
    #[inline(always)]
    fn to_rgba(self, v: u64) -> u64 {
        const ALPHA: u64 = 0xff00_0000_ff00_0000;
        const RED_BLUE: u64 = 0x0000_00ff_0000_00ff;
        let swap = |v: u64| {
            (v & !(RED_BLUE | RED_BLUE << 16)) | ((v >> 16) & RED_BLUE) | ((v & RED_BLUE) << 16)
        };
        match self {
            PixelOrder::Rgba => v,
            PixelOrder::Rgbx => v | ALPHA,
            PixelOrder::Bgra => swap(v),
            PixelOrder::Bgrx => swap(v) | ALPHA,
        }
    }
}

/// Writes a row as RGBA from `src`, the same number of bytes in `order`,
/// and returns [`row_sums`] of what it wrote: one pass, each word loaded,
/// reordered, stored and summed while in a register.
///
/// # Safety
///
/// `src` must be valid for reads of `dst.len()` bytes (any alignment).
pub(crate) unsafe fn convert_row_summing(
    dst: &mut [u8],
    order: PixelOrder,
    src: *const u8,
) -> [u64; 4] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above; `src` as promised.
        return unsafe { avx2::convert_row_summing(dst, order, src) };
    }
    // SAFETY: as promised.
    unsafe { convert_row_summing_portable(dst, order, src) }
}

/// [`convert_row_summing`], with the same contract.
#[inline(always)]
unsafe fn convert_row_summing_portable(
    dst: &mut [u8],
    order: PixelOrder,
    src: *const u8,
) -> [u64; 4] {
    // The `n` bytes at byte `at` of the row as a little-endian number:
    // called below only with at + n <= dst.len().
    let len = dst.len();
    let read = |at: usize, n: usize| -> u64 {
        debug_assert!(at + n <= len);
        // SAFETY: at + n <= dst.len() (every call below), and `src` is
        // valid for dst.len() bytes of reads; reads are unaligned.
        unsafe {
            let p = src.add(at);
            match n {
                8 => u64::from_le_bytes(p.cast::<[u8; 8]>().read_unaligned()),
                _ => u64::from(u32::from_le_bytes(p.cast::<[u8; 4]>().read_unaligned())),
            }
        }
    };
    let (blocks, rest) = dst.as_chunks_mut::<32>();
    let mut sums = [0u64; 4];
    for (b, block) in blocks.iter_mut().enumerate() {
        let (words, _) = block.as_chunks_mut::<8>();
        for (j, (w, s)) in words.iter_mut().zip(&mut sums).enumerate() {
            // b * 32 + j * 8 + 8 <= blocks.len() * 32 <= len.
            let v = order.to_rgba(read(b * 32 + j * 8, 8));
            *w = v.to_le_bytes();
            *s = s.wrapping_add(v);
        }
    }
    // The last, partial block: whole words, then half of one (a row of an
    // odd width: rows are whole pixels), zero-padded as the checksum
    // reads it.
    let at = len - rest.len();
    debug_assert!(rest.len().is_multiple_of(4));
    for (j, w) in rest.chunks_mut(8).enumerate() {
        let n = if w.len() == 8 { 8 } else { 4 };
        // at + j * 8 + n <= at + rest.len() = len (rows of whole pixels).
        let v = order.to_rgba(read(at + j * 8, n));
        let v = if n == 8 { v } else { v & 0xffff_ffff };
        w.copy_from_slice(&v.to_le_bytes()[..w.len()]);
        sums[j] = sums[j].wrapping_add(v);
    }
    sums
}

/// Adds four whole words, one to each lane.
#[inline(always)]
fn add_block(sums: &mut [u64; 4], block: &[u8; 32]) {
    let (w, _) = block.as_chunks::<8>();
    for (s, w) in sums.iter_mut().zip(w) {
        *s = s.wrapping_add(u64::from_le_bytes(*w));
    }
}

/// Adds the last, partial block of a row (fewer than 32 bytes).
fn add_rest(sums: &mut [u64; 4], rest: &[u8]) {
    for (s, w) in sums.iter_mut().zip(rest.chunks(8)) {
        *s = s.wrapping_add(le_word(w));
    }
}

/// The slot checksum of a tight RGBA frame with rows of `row_bytes`.
pub fn checksum(pixels: &[u8], row_bytes: usize) -> u64 {
    let mut lanes = Lanes::default();
    if row_bytes.is_multiple_of(8) {
        // Rows are whole words: the frame is one long row.
        lanes.add_row_sums(row_sums(pixels), 0);
    } else {
        let row_words = row_bytes.div_ceil(8);
        for (y, row) in pixels.chunks(row_bytes.max(1)).enumerate() {
            lanes.add_row_sums(row_sums(row), y * row_words);
        }
    }
    lanes.finish()
}

/// Up to 8 bytes as a little-endian word, zero-padded.
#[inline(always)]
fn le_word(bytes: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(b) => u64::from_le_bytes(b),
        Err(_) => {
            let mut b = [0u8; 8];
            b[..bytes.len()].copy_from_slice(bytes);
            u64::from_le_bytes(b)
        }
    }
}

/// Loads `dst.len()` bytes from `src` word by word.
pub(crate) fn load_row(src: &[AtomicU64], dst: &mut [u8]) {
    debug_assert_eq!(src.len(), dst.len().div_ceil(8));
    let (dst_blocks, dst_rest) = dst.as_chunks_mut::<32>();
    let (src_blocks, src_rest) = src.split_at(dst_blocks.len() * 4);
    let (src_blocks, _) = src_blocks.as_chunks::<4>();
    for (t, s) in dst_blocks.iter_mut().zip(src_blocks) {
        let (w, _) = t.as_chunks_mut::<8>();
        w[0] = s[0].load(Relaxed).to_le_bytes();
        w[1] = s[1].load(Relaxed).to_le_bytes();
        w[2] = s[2].load(Relaxed).to_le_bytes();
        w[3] = s[3].load(Relaxed).to_le_bytes();
    }
    for (t, s) in dst_rest.chunks_mut(8).zip(src_rest) {
        let n = t.len();
        t.copy_from_slice(&s.load(Relaxed).to_le_bytes()[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_round_trips_any_length_and_row_sums_match_checksum() {
        for len in [0usize, 1, 4, 7, 8, 9, 31, 32, 33, 68, 100, 1280] {
            let src: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let dst: Vec<AtomicU64> = src.chunks(8).map(|w| AtomicU64::new(le_word(w))).collect();
            let mut back = vec![0u8; len];
            load_row(&dst, &mut back);
            assert_eq!(back, src, "len {len}");
            let mut lanes = Lanes::default();
            lanes.add_row_sums(row_sums(&src), 0);
            assert_eq!(lanes.finish(), checksum(&src, len.max(1)), "len {len}");
        }
    }

    #[test]
    fn rows_converted_in_any_order_are_what_a_plain_reorder_gives_and_summed_alike() {
        let orders = [
            (PixelOrder::Rgba, [0, 1, 2, 3], false),
            (PixelOrder::Rgbx, [0, 1, 2, 3], true),
            (PixelOrder::Bgra, [2, 1, 0, 3], false),
            (PixelOrder::Bgrx, [2, 1, 0, 3], true),
        ];
        // Widths with whole blocks, a partial block and a last half word.
        for width in [1usize, 2, 7, 8, 9, 17, 640] {
            let src: Vec<u8> = (0..width * 4).map(|i| (i * 37 % 251) as u8).collect();
            for (order, from, opaque) in orders {
                let mut expect = vec![0u8; width * 4];
                for (o, p) in expect.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                    for (c, f) in from.iter().enumerate() {
                        o[c] = p[*f];
                    }
                    if opaque {
                        o[3] = 255;
                    }
                }
                let mut got = vec![0u8; width * 4];
                // SAFETY: src holds got.len() bytes.
                let sums = unsafe { convert_row_summing(&mut got, order, src.as_ptr()) };
                assert_eq!(got, expect, "{order:?} width {width}");
                assert_eq!(sums, row_sums(&expect), "{order:?} width {width}");
                let mut plain = vec![0u8; width * 4];
                // SAFETY: as above.
                let portable =
                    unsafe { convert_row_summing_portable(&mut plain, order, src.as_ptr()) };
                assert_eq!((plain, portable), (got, sums), "{order:?} width {width}");
            }
        }
    }

    #[test]
    fn checksum_numbers_words_across_rows() {
        // Two 12-byte rows: words are row0[0..8], row0[8..12]+pad, row1[0..8], ...
        let pixels: Vec<u8> = (1..=24).collect();
        let w = |b: &[u8]| le_word(b);
        let expect = w(&pixels[0..8])
            ^ w(&pixels[8..12]).rotate_left(16)
            ^ w(&pixels[12..20]).rotate_left(32)
            ^ w(&pixels[20..24]).rotate_left(48);
        assert_eq!(checksum(&pixels, 12), expect);
    }

    #[test]
    fn copying_while_summing_gives_the_same_bytes_and_sums() {
        for len in [0usize, 3, 8, 31, 32, 33, 68, 1280, 1283] {
            let src: Vec<u8> = (0..len).map(|i| (i * 13 + 7) as u8).collect();
            let mut dst = vec![0u8; len];
            assert_eq!(
                copy_row_summing(&mut dst, &src),
                row_sums(&src),
                "len {len}"
            );
            assert_eq!(dst, src);
        }
    }

    #[test]
    fn row_sums_combine_to_the_frame_checksum_in_any_order() {
        // 3 rows of 20 bytes: 3 words each, so rows start in lanes 0, 3, 2.
        let pixels: Vec<u8> = (0..60).map(|i| (i * 29 + 3) as u8).collect();
        let mut lanes = Lanes::default();
        for y in [2usize, 0, 1] {
            lanes.add_row_sums(row_sums(&pixels[y * 20..][..20]), y * 3);
        }
        assert_eq!(lanes.finish(), checksum(&pixels, 20));
    }

    #[test]
    fn checksum_sees_swapped_words_in_different_lanes() {
        let a: Vec<u8> = (0..64).collect();
        let mut b = a.clone();
        b[0..8].copy_from_slice(&a[8..16]);
        b[8..16].copy_from_slice(&a[0..8]);
        assert_ne!(checksum(&a, 64), checksum(&b, 64));
    }
}

/// The test vectors docs/frame-region.md gives, so a reader in another
/// language can check its checksum against advkit's.
#[cfg(test)]
mod vectors {
    use super::checksum;

    #[test]
    fn the_documented_test_vectors() {
        // A 1x1 frame: one pixel R=1 G=2 B=3 A=4, zero-padded to one word.
        assert_eq!(checksum(&[1, 2, 3, 4], 4), 0x0000_0000_0403_0201);
        // A 3x2 frame (odd width: 12-byte rows, 2 words each, padded),
        // bytes 0, 1, 2, … 23 in order.
        let bytes: Vec<u8> = (0..24).collect();
        assert_eq!(checksum(&bytes, 12), VECTOR_3X2);
    }

    const VECTOR_3X2: u64 = 0x1d1c_0302_1918_0706;
}

/// A frame's content hash from the XXH3-64 of each of its rows, top to
/// bottom: the XXH3-64 of those hashes as little-endian bytes. What
/// [`Loan::content_hash`](super::Loan::content_hash) gives and the host's history compares; a tight
/// frame's is [`frame_fingerprint`].
pub(crate) fn fingerprint_of(row_hashes: impl Iterator<Item = u64>) -> u64 {
    let bytes: Vec<u8> = row_hashes.flat_map(u64::to_le_bytes).collect();
    advkit_frame::hash_pixels(&bytes)
}

/// [`Loan::content_hash`](super::Loan::content_hash) of a tight RGBA frame of rows `row_bytes` long.
pub fn frame_fingerprint(pixels: &[u8], row_bytes: usize) -> u64 {
    fingerprint_of(
        pixels
            .chunks(row_bytes.max(1))
            .map(advkit_frame::hash_pixels),
    )
}
