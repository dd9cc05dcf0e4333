//! Area-average downsampling: every source pixel counts towards the output
//! pixel it falls in. Used for `frame.snapshot`'s `scale`, for a remote
//! viewer's scaled frames and for drawing frames in terminal cells.
//! Nearest-neighbour would make every one-pixel camera pan change most
//! output pixels; averaging keeps them steady.
//!
//! The box is separable: each band of source rows is first summed down
//! the columns (16-bit lanes in vector registers; the source is read
//! once), then each output pixel adds its columns. The sums, and so the
//! rounding, are exactly those of adding the box pixel by pixel. A large
//! source is averaged in bands of output rows, a thread a band.

use crate::frame::{Frame, Size};

/// Rows whose bytes a `u16` column sum holds without overflow
/// (257 × 255 = 65 535). Box sums are `u64`: an 8K frame into one pixel
/// adds 255 × 33 million.
const ROWS_PER_PASS: usize = 257;

/// `rgba` (tight, `width` × `height`) averaged down to `out`, rounding to
/// the nearest value per channel. `None` when `rgba` is shorter than the
/// size says or either size is not a frame's ([`Size::new`]: no side
/// zero, none past [`Size::MAX`]). `out` larger than the source repeats pixels.
pub fn downsample(rgba: &[u8], width: u32, height: u32, out: Size) -> Option<Frame> {
    let bytes = width as usize * height as usize * 4;
    if rgba.len() < bytes {
        return None;
    }
    // Bands of output rows, a thread each, when the source is large.
    in_bands(rgba, width, height, out, threads_for(bytes))
}

/// [`downsample`] in `bands` bands of output rows (at least one, at most
/// one a row), each on its own thread; `rgba` holds the whole source.
fn in_bands(rgba: &[u8], width: u32, height: u32, out: Size, bands: usize) -> Option<Frame> {
    let mut parts = Downsampler::parts(width, height, out, bands)?;
    let stride = width as usize * 4;
    let feed = |d: &mut Downsampler| {
        let rows = d.source_rows();
        d.feed(rows.start, &rgba[rows.start * stride..rows.end * stride]);
    };
    if let Some((own, others)) = parts.split_first_mut() {
        std::thread::scope(|s| {
            for d in others {
                s.spawn(|| feed(d));
            }
            feed(own);
        });
    }
    Downsampler::join(out, parts)
}

/// The least bytes of pixels worth a thread of their own: below this,
/// starting a thread costs more than it saves.
pub const BAND_BYTES: usize = 1 << 20;

/// The threads worth giving work over `bytes` of pixels cut into bands:
/// one a core (at most 4), each band at least [`BAND_BYTES`]; 1 for a
/// small frame (a 1080p frame is two on two cores, a 320×180 one is one).
pub fn threads_for(bytes: usize) -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // Asked once: on Linux it reads cgroup files.
    let cores =
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)));
    cores.min(bytes / BAND_BYTES).max(1)
}

/// Area-averages a source picture fed a band of rows at a time, top to
/// bottom, as [`downsample`] does the whole: for reading a frame band by
/// band while each band is still in the cache, instead of copying it
/// whole and then reading it again.
///
/// ```
/// use advkit_frame::{Downsampler, Size};
/// let (w, h) = (8usize, 6usize);
/// let rgba: Vec<u8> = (0..w * h * 4).map(|i| i as u8).collect();
/// let out = Size::new(3, 2).unwrap();
/// let mut d = Downsampler::new(w as u32, h as u32, out).unwrap();
/// for (i, band) in rgba.chunks(w * 4 * 4).enumerate() {
///     d.feed(i * 4, band); // rows 0-3, then 4-5
/// }
/// let whole = advkit_frame::downsample(&rgba, w as u32, h as u32, out).unwrap();
/// assert_eq!(d.finish().pixels(), whole.pixels());
/// ```
#[derive(Debug)]
pub struct Downsampler {
    stride: usize,
    height: usize,
    out: Size,
    /// Each output column's source columns `[x0, x1)`.
    columns: Vec<(usize, usize)>,
    /// The output rows this one makes.
    rows: std::ops::Range<usize>,
    /// The output row being summed, and the source row its sums reach.
    row: usize,
    summed_to: usize,
    column: Vec<u16>,
    acc: Vec<[u64; 4]>,
    /// Each output pixel's box size as a divisor, by the row's height
    /// (which takes at most two values, ⌊h / out_h⌋ and ⌈h / out_h⌉).
    divisors: Vec<(usize, Vec<Divisor>)>,
    pixels: Vec<u8>,
}

impl Downsampler {
    /// `width` × `height` into `out`; `None` when either is not a frame's
    /// size ([`Size::new`]).
    pub fn new(width: u32, height: u32, out: Size) -> Option<Downsampler> {
        Downsampler::for_rows(width, height, out, 0..out.height as usize)
    }

    /// As [`new`](Self::new), making output rows `rows` only (within the
    /// output's): several, each fed the [`source_rows`](Self::source_rows)
    /// it needs (on threads of their own), make the picture's parts.
    pub fn for_rows(
        width: u32,
        height: u32,
        out: Size,
        rows: std::ops::Range<usize>,
    ) -> Option<Downsampler> {
        let frame_size = |w, h| Size::new(w, h).is_ok();
        if !frame_size(width, height) || !frame_size(out.width, out.height) {
            return None;
        }
        let out_h = out.height as usize;
        let rows = rows.start.min(out_h)..rows.end.min(out_h);
        Some(Downsampler::rows(
            width as usize,
            height as usize,
            out,
            rows,
        ))
    }

    /// `width` × `height` into `out` in `parts` parts of output rows (at
    /// least one, at most one a row), each to be fed its
    /// [`source_rows`](Self::source_rows), on a thread of its own if
    /// wanted; [`join`](Self::join) makes the picture of them.
    pub fn parts(width: u32, height: u32, out: Size, parts: usize) -> Option<Vec<Downsampler>> {
        let out_h = out.height as usize;
        let per = out_h.div_ceil(parts.clamp(1, out_h.max(1)));
        (0..out_h.max(1))
            .step_by(per.max(1))
            .map(|first| Downsampler::for_rows(width, height, out, first..first + per))
            .collect()
    }

    /// The picture of `parts` ([`parts`](Self::parts), in order), once
    /// each was fed all its source rows; `None` if they do not make `out`.
    pub fn join(out: Size, parts: Vec<Downsampler>) -> Option<Frame> {
        let mut parts = parts.into_iter();
        let mut pixels = parts.next()?.pixels;
        for d in parts {
            pixels.extend_from_slice(&d.pixels);
        }
        Frame::from_pixels(out, pixels)
    }

    /// Output rows `rows` only, of valid sizes.
    fn rows(w: usize, h: usize, out: Size, rows: std::ops::Range<usize>) -> Downsampler {
        let out_w = out.width as usize;
        let columns = (0..out_w).map(|ox| span(ox, w, out_w)).collect();
        let mut d = Downsampler {
            stride: w * 4,
            height: h,
            out,
            columns,
            row: rows.start,
            summed_to: 0,
            pixels: Vec::with_capacity(rows.len() * out_w * 4),
            rows,
            column: vec![0u16; w * 4],
            acc: vec![[0u64; 4]; out_w],
            divisors: Vec::with_capacity(2),
        };
        d.restart();
        d
    }

    /// The source rows its output rows need, `[first, end)`: what to feed.
    pub fn source_rows(&self) -> std::ops::Range<usize> {
        if self.rows.is_empty() {
            return 0..0;
        }
        let (h, out_h) = (self.height, self.out.height as usize);
        span(self.rows.start, h, out_h).0..span(self.rows.end - 1, h, out_h).1
    }

    /// Its output rows (tight RGBA), once all its source rows were fed.
    pub fn into_rows(self) -> Vec<u8> {
        self.pixels
    }

    /// Forgets every row fed: the next band starts the picture again.
    pub fn restart(&mut self) {
        self.row = self.rows.start;
        self.summed_to = span(self.row, self.height, self.out.height as usize).0;
        self.acc.fill([0; 4]);
        self.pixels.clear();
    }

    /// Source rows from `first_row` on (tight, whole rows), following the
    /// rows fed before: a band that skips rows leaves them out of the sums
    /// (its output row averages what it was given) rather than fail.
    pub fn feed(&mut self, first_row: usize, band: &[u8]) {
        let stride = self.stride;
        let end = first_row + band.len() / stride;
        let out_h = self.out.height as usize;
        while self.rows.contains(&self.row) {
            let (y0, y1) = span(self.row, self.height, out_h);
            let from = self.summed_to.max(y0).max(first_row);
            let to = y1.min(end);
            if from < to {
                let rows = &band[(from - first_row) * stride..(to - first_row) * stride];
                self.add_rows(rows);
            }
            self.summed_to = self.summed_to.max(to);
            if to < y1 {
                break; // the rest of this output row comes in the next band
            }
            self.finish_row(y1 - y0);
            self.row += 1;
            // A larger output repeats source rows: the next output row
            // may start on rows already summed.
            self.summed_to = span(self.row, self.height, out_h).0;
        }
    }

    /// The picture, once every source row was fed (output rows not
    /// reached stay black).
    pub fn finish(self) -> Frame {
        let mut frame = Frame::new(self.out);
        let at = self.rows.start * self.out.width as usize * 4;
        frame.pixels_mut()[at..][..self.pixels.len()].copy_from_slice(&self.pixels);
        frame
    }

    /// Adds `rows` (whole source rows of the current output row) to its
    /// sums: down the columns, then each output pixel's columns.
    fn add_rows(&mut self, rows: &[u8]) {
        for pass in rows.chunks(ROWS_PER_PASS * self.stride) {
            sum_columns(pass, self.stride, &mut self.column);
            let (sums, _) = self.column.as_chunks::<4>();
            for (a, &(x0, x1)) in self.acc.iter_mut().zip(&self.columns) {
                // At most 257 rows × 7680 columns (Size::MAX) × 255: 32 bits.
                let mut sum = [0u32; 4];
                for px in &sums[x0..x1] {
                    for c in 0..4 {
                        sum[c] += u32::from(px[c]);
                    }
                }
                for c in 0..4 {
                    a[c] += u64::from(sum[c]);
                }
            }
        }
    }

    /// The current output row from its sums, over `rows` source rows.
    fn finish_row(&mut self, rows: usize) {
        let at = match self.divisors.iter().position(|(r, _)| *r == rows) {
            Some(at) => at,
            None => {
                let row = self
                    .columns
                    .iter()
                    .map(|&(x0, x1)| Divisor::new(rows * (x1 - x0)));
                self.divisors.push((rows, row.collect()));
                self.divisors.len() - 1
            }
        };
        for (a, d) in self.acc.iter().zip(&self.divisors[at].1) {
            self.pixels.extend(a.map(|sum| d.rounded(sum)));
        }
        self.acc.fill([0; 4]);
    }
}

/// `column[i]` = the sum of byte `i` of every row of `band` (at most
/// [`ROWS_PER_PASS`] rows of `stride` bytes). Down one strip of 64 bytes
/// (a cache line) at a time, in a local the compiler keeps in vector
/// registers: a pass adding each row into `column` in memory took twice
/// as long.
fn sum_columns(band: &[u8], stride: usize, column: &mut [u16]) {
    const STRIP: usize = 64;
    let (strips, tail) = column.as_chunks_mut::<STRIP>();
    for (i, out) in strips.iter_mut().enumerate() {
        let mut acc = [0u16; STRIP];
        for row in band.chunks_exact(stride) {
            let (bytes, _) = row[i * STRIP..].as_chunks::<STRIP>();
            for (a, &b) in acc.iter_mut().zip(&bytes[0]) {
                *a += u16::from(b);
            }
        }
        *out = acc;
    }
    let start = stride - tail.len();
    tail.fill(0);
    for row in band.chunks_exact(stride) {
        for (a, &b) in tail.iter_mut().zip(&row[start..]) {
            *a += u16::from(b);
        }
    }
}

/// Division by a box's pixel count as a multiplication: a hardware divide
/// per channel took over a third of the time of a 1080p frame into an
/// inspector's cells. With `magic` = ⌈2⁶⁴ / n⌉ = (2⁶⁴ + e) / n, `e` < n,
/// the product `x * magic / 2⁶⁴` exceeds `x / n` by `x·e / (n·2⁶⁴)`, less
/// than `1/n` (so the floor is `x / n` exactly) while `x·e` < 2⁶⁴ (Lemire,
/// Kaser & Kurz, "Faster remainder by direct computation", 2019). Here
/// `x` < 256·n and n ≤ 7680·4320 < 2²⁵, so `x·e` < 2⁵⁸.
#[derive(Debug, Clone, Copy)]
struct Divisor {
    n: u64,
    magic: u128,
}

impl Divisor {
    fn new(n: usize) -> Self {
        let n = (n as u64).max(1);
        // ⌈2⁶⁴ / n⌉ = ⌊(2⁶⁴ − 1) / n⌋ + 1, a 64-bit division.
        Divisor {
            n,
            magic: u128::from(u64::MAX / n) + 1,
        }
    }

    /// `sum / n` rounded to the nearest (a channel's average, ≤ 255).
    fn rounded(self, sum: u64) -> u8 {
        let x = u128::from(sum + self.n / 2);
        ((x * self.magic) >> 64) as u8
    }
}

/// The source indices `[start, end)` output index `i` of `out` averages
/// over a side of `len`: at least one, so a larger output repeats pixels.
fn span(i: usize, len: usize, out: usize) -> (usize, usize) {
    let start = i * len / out;
    let end = ((i + 1) * len / out).max(start + 1).min(len);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(w: u32, h: u32) -> Size {
        Size::new(w, h).expect("valid")
    }

    #[test]
    fn halving_averages_each_block_of_four() {
        // 4x2: left block is 0/100/200/100 in red, right block all 50.
        let px: Vec<u8> = [0u8, 100, 50, 50, 200, 100, 50, 50]
            .iter()
            .flat_map(|&r| [r, 0, 0, 255])
            .collect();
        let small = downsample(&px, 4, 2, size(2, 1)).expect("fits");
        assert_eq!(small.pixel(0, 0), [100, 0, 0, 255]);
        assert_eq!(small.pixel(1, 0), [50, 0, 0, 255]);
    }

    #[test]
    fn same_size_is_a_copy_and_short_input_is_refused() {
        let px: Vec<u8> = (0..3 * 2 * 4).map(|i| (i * 11) as u8).collect();
        let same = downsample(&px, 3, 2, size(3, 2)).expect("fits");
        assert_eq!(same.pixels(), &px[..]);
        assert!(downsample(&px[..10], 3, 2, size(1, 1)).is_none());
        assert!(downsample(&px, 0, 2, size(1, 1)).is_none());
        let no_pixels = Size {
            width: 0,
            height: 1,
        };
        assert!(downsample(&px, 3, 2, no_pixels).is_none());
    }

    /// The box added pixel by pixel: what the separable sums must equal.
    fn naive(rgba: &[u8], w: usize, h: usize, out_w: usize, out_h: usize) -> Vec<u8> {
        let mut dst = vec![0u8; out_w * out_h * 4];
        for oy in 0..out_h {
            let (y0, y1) = span(oy, h, out_h);
            for ox in 0..out_w {
                let (x0, x1) = span(ox, w, out_w);
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                for c in 0..4 {
                    let mut sum = 0u32;
                    for y in y0..y1 {
                        for x in x0..x1 {
                            sum += u32::from(rgba[(y * w + x) * 4 + c]);
                        }
                    }
                    dst[(oy * out_w + ox) * 4 + c] = ((sum + n / 2) / n) as u8;
                }
            }
        }
        dst
    }

    #[test]
    fn equals_the_box_added_pixel_by_pixel() {
        // Uneven boxes, repeats (a larger output), and a band taller than
        // one 16-bit pass (600 rows into 1), all of bright bytes so a
        // wrong carry would show.
        let cases = [
            (7, 5, 3, 2),
            (10, 10, 10, 10),
            (5, 3, 9, 7),
            (13, 600, 2, 1),
            (640, 3, 7, 3),
            (31, 17, 4, 16),
        ];
        for (w, h, ow, oh) in cases {
            let px: Vec<u8> = (0..w * h * 4)
                .map(|i| 255 - ((i * 7919) % 61) as u8)
                .collect();
            let small =
                downsample(&px, w as u32, h as u32, size(ow as u32, oh as u32)).expect("fits");
            let want = naive(&px, w, h, ow, oh);
            assert_eq!(small.pixels(), &want[..], "{w}x{h} -> {ow}x{oh}");
            // In bands of output rows (threads), the same: three, and one
            // a row.
            for bands in [3, oh] {
                let banded = in_bands(&px, w as u32, h as u32, size(ow as u32, oh as u32), bands)
                    .expect("fits");
                assert_eq!(
                    banded.pixels(),
                    &want[..],
                    "{w}x{h} -> {ow}x{oh} in {bands}"
                );
            }
            // Fed in bands of source rows (one row, 7, 300: past a 16-bit
            // pass), after a false start, the same.
            for rows in [1, 7, 300] {
                let mut d = Downsampler::new(w as u32, h as u32, size(ow as u32, oh as u32))
                    .expect("sizes");
                d.feed(0, &vec![255u8; w * 4 * rows.min(h)]);
                d.restart();
                for (i, band) in px.chunks(w * 4 * rows).enumerate() {
                    d.feed(i * rows, band);
                }
                let fed = d.finish();
                assert_eq!(fed.pixels(), &want[..], "{w}x{h} -> {ow}x{oh} fed {rows}");
            }
        }
    }

    #[test]
    fn a_box_of_more_than_sixteen_million_pixels_does_not_overflow() {
        // 255 × 4200 × 4100 is past u32::MAX.
        let px = vec![255u8; 4200 * 4100 * 4];
        let one = downsample(&px, 4200, 4100, size(1, 1)).expect("fits");
        assert_eq!(one.pixel(0, 0), [255; 4]);
    }

    #[test]
    fn the_divisor_rounds_like_a_division() {
        let sizes = [
            1u64,
            2,
            3,
            7,
            10,
            97,
            100,
            255,
            4096,
            1_000_003,
            7680 * 4320,
        ];
        for n in sizes {
            let d = Divisor::new(n as usize);
            let top = 255 * n;
            for sum in [0, 1, n / 2, n, top / 2, top - 1, top] {
                assert_eq!(u64::from(d.rounded(sum)), (sum + n / 2) / n, "{sum} / {n}");
            }
        }
    }
}
