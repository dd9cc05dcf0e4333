//! Copying pixels in and out of the region as atomic 8-byte words, and the
//! slot checksum.
//!
//! The checksum is cheap enough to fold into the writer's copy (four
//! independent running sums, so no multiply or carry chain slows the copy):
//! treat each row's `width × 4` bytes, zero-padded to a multiple of 8, as
//! little-endian u64 words numbered from 0 across the whole frame; add word
//! `i` (wrapping) into lane `i % 4`; the checksum is
//! `lane0 ^ rotl(lane1, 16) ^ rotl(lane2, 32) ^ rotl(lane3, 48)`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Running state of a [`checksum`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Lanes {
    sums: [u64; 4],
    next: usize,
}

impl Lanes {
    pub(crate) fn finish(self) -> u64 {
        let [a, b, c, d] = self.sums;
        a ^ b.rotate_left(16) ^ c.rotate_left(32) ^ d.rotate_left(48)
    }

    /// Adds one row's bytes (padded with zeros to whole words).
    fn add_row(&mut self, row: &[u8]) {
        let shift = self.next % 4;
        self.sums.rotate_left(shift);
        let mut chunks = row.chunks_exact(32);
        for c in &mut chunks {
            for (j, w) in c.chunks_exact(8).enumerate() {
                self.sums[j] = self.sums[j].wrapping_add(le_word(w));
            }
        }
        for (j, w) in chunks.remainder().chunks(8).enumerate() {
            self.sums[j] = self.sums[j].wrapping_add(le_word(w));
        }
        self.sums.rotate_right(shift);
        self.next += row.len().div_ceil(8);
    }
}

/// The slot checksum of a tight RGBA frame with rows of `row_bytes`.
pub fn checksum(pixels: &[u8], row_bytes: usize) -> u64 {
    let mut lanes = Lanes::default();
    if row_bytes.is_multiple_of(8) {
        // Rows are whole words: the frame is one long row.
        lanes.add_row(pixels);
    } else {
        for row in pixels.chunks(row_bytes.max(1)) {
            lanes.add_row(row);
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

/// Stores `src` into `dst` word by word (the last word zero-padded) and adds
/// it to `lanes`. `dst` must hold `src.len().div_ceil(8)` words.
pub(crate) fn store_row(dst: &[AtomicU64], src: &[u8], lanes: &mut Lanes) {
    debug_assert_eq!(dst.len(), src.len().div_ceil(8));
    let shift = lanes.next % 4;
    lanes.sums.rotate_left(shift);
    // Four sums in locals (registers), four words per step: the checksum
    // then costs a few adds beside the stores, with no carried dependency.
    let [mut a, mut b, mut c, mut d] = lanes.sums;
    let (src_blocks, src_rest) = src.as_chunks::<32>();
    let (dst_blocks, dst_rest) = dst.split_at(src_blocks.len() * 4);
    let (dst_blocks, _) = dst_blocks.as_chunks::<4>();
    for (s, t) in src_blocks.iter().zip(dst_blocks) {
        let (w, _) = s.as_chunks::<8>();
        let (w0, w1, w2, w3) = (
            u64::from_le_bytes(w[0]),
            u64::from_le_bytes(w[1]),
            u64::from_le_bytes(w[2]),
            u64::from_le_bytes(w[3]),
        );
        a = a.wrapping_add(w0);
        b = b.wrapping_add(w1);
        c = c.wrapping_add(w2);
        d = d.wrapping_add(w3);
        t[0].store(w0, Relaxed);
        t[1].store(w1, Relaxed);
        t[2].store(w2, Relaxed);
        t[3].store(w3, Relaxed);
    }
    lanes.sums = [a, b, c, d];
    for (j, (s, t)) in src_rest.chunks(8).zip(dst_rest).enumerate() {
        let w = le_word(s);
        lanes.sums[j] = lanes.sums[j].wrapping_add(w);
        t.store(w, Relaxed);
    }
    lanes.sums.rotate_right(shift);
    lanes.next += src.len().div_ceil(8);
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

    fn atomics(n: usize) -> Vec<AtomicU64> {
        (0..n).map(|_| AtomicU64::new(0)).collect()
    }

    #[test]
    fn store_then_load_round_trips_any_length_and_matches_checksum() {
        for len in [0usize, 1, 4, 7, 8, 9, 31, 32, 33, 68, 100, 1280] {
            let src: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let dst = atomics(len.div_ceil(8));
            let mut lanes = Lanes::default();
            store_row(&dst, &src, &mut lanes);
            let mut back = vec![0u8; len];
            load_row(&dst, &mut back);
            assert_eq!(back, src, "len {len}");
            assert_eq!(lanes.finish(), checksum(&src, len.max(1)), "len {len}");
        }
    }

    #[test]
    fn checksum_numbers_words_across_rows() {
        // Two 12-byte rows: words are row0[0..8], row0[8..12]+pad, row1[0..8], ...
        let pixels: Vec<u8> = (1..=24).collect();
        let mut lanes = Lanes::default();
        for row in pixels.chunks(12) {
            let dst = atomics(2);
            store_row(&dst, row, &mut lanes);
        }
        assert_eq!(lanes.finish(), checksum(&pixels, 12));
        let w = |b: &[u8]| le_word(b);
        let expect = w(&pixels[0..8])
            ^ w(&pixels[8..12]).rotate_left(16)
            ^ w(&pixels[12..20]).rotate_left(32)
            ^ w(&pixels[20..24]).rotate_left(48);
        assert_eq!(checksum(&pixels, 12), expect);
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
