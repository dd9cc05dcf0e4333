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
