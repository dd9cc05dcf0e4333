//! A frame's bytes on the wire (docs/protocol.md), each way: [`Encoder`]
//! on the server, [`FrameDecoder`] on the viewer.

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::api::FrameMessage;

/// zstd's level for frames: its fastest that still finds the long runs of
/// zeros an XOR of two similar frames is (`cargo bench --bench remote`).
pub const ZSTD_LEVEL: i32 = 1;

/// The encodings a frame comes in (docs/protocol.md): the picture's rows,
/// or their XOR with the same rows of frame `base`; in both, a row equal
/// to the row above it is one byte of the row map, not a row.
pub const WHOLE: &str = "zstd-rows";
pub const DELTA: &str = "zstd-rows-xor";

/// Row map values: the row follows in the data, or equals the row above.
const ROW_SENT: u8 = 0;
const ROW_REPEATS: u8 = 1;

/// Encodes frames for one viewer: each as [`WHOLE`] or, when smaller,
/// [`DELTA`] against a frame the viewer has. The XOR is mostly zeros while
/// little moves; when much moved (a pan seen a few frames apart) the frame
/// itself can be smaller. Rows repeating the row above (a game drawn small
/// and scaled up: five rows in six at 1080p) cost a byte and no
/// compression.
///
/// Compressing both to keep the smaller would double the cost of every
/// frame, so: an XOR at least half of whose 8-byte words are zero is sent
/// as it is (the frame could not be much smaller); otherwise both are
/// compressed once every [`Encoder::TRIAL`] frames and the smaller kind
/// is used, alone, until the next trial (how a picture moves changes
/// slowly).
///
/// A large frame is cut into bands of rows, as many as
/// [`advkit_frame::threads_for`] its bytes, each compared, XOR-ed and
/// compressed on its own thread into its own zstd frame; the payload is
/// those frames one after the other, which decompress to the same bytes
/// as one would. A small frame is one band, on the calling thread.
#[derive(Default)]
pub struct Encoder {
    /// The row map, then each band's rows sent (band `b`'s from its first
    /// row's offset, packed). Reused: it only grows, so it is zero-filled
    /// once, not at every frame.
    scratch: Vec<u8>,
    /// A zstd context a band, reused.
    zstd: Vec<zstd::bulk::Compressor<'static>>,
    /// Bands every frame is cut into, if fixed (else by its size).
    bands: Option<usize>,
    /// The kind that was smaller at the last trial, and frames since.
    whole_won: bool,
    since_trial: Option<u32>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("bands", &self.bands)
            .field("whole_won", &self.whole_won)
            .field("since_trial", &self.since_trial)
            .finish_non_exhaustive()
    }
}

/// One band's rows: the first row, how many, and (once put) the bytes
/// sent and how many 8-byte words of them are zero.
#[derive(Clone, Copy, Default)]
struct Band {
    first: usize,
    rows: usize,
    len: usize,
    zeros: usize,
}

impl Encoder {
    /// Frames between trials of both kinds.
    pub const TRIAL: u32 = 8;

    /// An encoder that cuts every frame into `bands` bands (at most one a
    /// row), whatever its size and the cores there are; one is every
    /// frame on the calling thread.
    pub fn with_bands(bands: usize) -> Self {
        Encoder {
            bands: Some(bands),
            ..Encoder::default()
        }
    }

    /// `pixels` (tight RGBA8 rows `width` wide) as sent: (encoding, its
    /// base's seq, compressed bytes).
    pub fn encode(
        &mut self,
        pixels: &[u8],
        width: u32,
        base: Option<(u64, &[u8])>,
    ) -> (&'static str, Option<u64>, Vec<u8>) {
        let stride = (width as usize * 4).max(1);
        let height = pixels.len() / stride;
        let base = base.filter(|(_, b)| b.len() == pixels.len());
        let pixels = &pixels[..height * stride];
        let count = self
            .bands
            .unwrap_or_else(|| advkit_frame::threads_for(pixels.len()))
            .clamp(1, height.max(1));
        let per = height.div_ceil(count).max(1);
        let mut bands: Vec<Band> = (0..height)
            .step_by(per)
            .map(|first| Band {
                first,
                rows: per.min(height - first),
                ..Band::default()
            })
            .collect();
        if bands.is_empty() {
            bands.push(Band::default());
        }
        if self.scratch.len() < height + pixels.len() {
            self.scratch.resize(height + pixels.len(), 0);
        }
        while self.zstd.len() < bands.len() {
            let mut zstd = zstd::bulk::Compressor::default();
            // A level in range on a new context: this cannot fail (and if
            // it did, zstd's default level would still compress, more
            // slowly).
            let _ = zstd.set_compression_level(ZSTD_LEVEL);
            self.zstd.push(zstd);
        }
        self.put(&mut bands, pixels, stride, base.map(|(_, b)| b), true);
        let Some((seq, _)) = base else {
            return (WHOLE, None, self.compress(&bands, stride));
        };
        let (len, zeros) = bands
            .iter()
            .fold((0, 0), |(l, z), b| (l + b.len, z + b.zeros));
        if zeros * 2 >= len / 8 {
            return (DELTA, Some(seq), self.compress(&bands, stride));
        }
        let n = self.since_trial.map_or(Self::TRIAL, |n| n + 1);
        let trial = n >= Self::TRIAL;
        self.since_trial = Some(if trial { 0 } else { n });
        if !trial && !self.whole_won {
            return (DELTA, Some(seq), self.compress(&bands, stride));
        }
        let delta = trial.then(|| self.compress(&bands, stride));
        self.put(&mut bands, pixels, stride, None, false);
        let whole = self.compress(&bands, stride);
        match delta {
            Some(delta) if delta.len() < whole.len() => {
                self.whole_won = false;
                (DELTA, Some(seq), delta)
            }
            _ => {
                self.whole_won |= trial;
                (WHOLE, None, whole)
            }
        }
    }

    /// Fills each band's rows sent (XOR-ed with `base`'s when given), and
    /// the row map first if `fill_map`, a thread a band.
    fn put(
        &mut self,
        bands: &mut [Band],
        pixels: &[u8],
        stride: usize,
        base: Option<&[u8]>,
        fill_map: bool,
    ) {
        let height = pixels.len() / stride;
        let (map, rows) = self.scratch.split_at_mut(height);
        let (mut map, mut rows) = (map, &mut rows[..pixels.len()]);
        let mut work = Vec::with_capacity(bands.len());
        for band in bands.iter_mut() {
            let (m, rest) = std::mem::take(&mut map).split_at_mut(band.rows);
            let (r, rest_rows) = std::mem::take(&mut rows).split_at_mut(band.rows * stride);
            (map, rows) = (rest, rest_rows);
            work.push((band, m, r));
        }
        let run = |(band, map, out): (&mut Band, &mut [u8], &mut [u8])| {
            let rows = Rows {
                first: band.first,
                pixels,
                stride,
                fill_map,
            };
            (band.len, band.zeros) = rows.put(map, out, base);
        };
        let mut work = work.into_iter();
        let first = work.next();
        std::thread::scope(|s| {
            for w in work {
                s.spawn(move || run(w));
            }
            if let Some(w) = first {
                run(w);
            }
        });
    }

    /// The row map and the bands' rows, compressed: one zstd frame a band
    /// (the map goes with the first), a thread a band.
    fn compress(&mut self, bands: &[Band], stride: usize) -> Vec<u8> {
        let height = bands.iter().map(|b| b.rows).sum::<usize>();
        let scratch = &self.scratch[..];
        let part = |i: usize, b: &Band| {
            let start = height + b.first * stride;
            if i == 0 {
                &scratch[..start + b.len]
            } else {
                &scratch[start..start + b.len]
            }
        };
        // Compressing a buffer in memory fails only on allocation failure.
        let squeeze = |zstd: &mut zstd::bulk::Compressor<'static>, bytes: &[u8]| {
            zstd.compress(bytes).unwrap_or_default()
        };
        let mut contexts = self.zstd.iter_mut();
        let Some(own) = contexts.next() else {
            return Vec::new();
        };
        let mut out = std::thread::scope(|s| {
            let others: Vec<_> = contexts
                .zip(bands.iter().enumerate().skip(1))
                .map(|(zstd, (i, b))| s.spawn(move || squeeze(zstd, part(i, b))))
                .collect();
            let mut parts = vec![squeeze(own, part(0, &bands[0]))];
            // A band's thread panics only if zstd does.
            parts.extend(others.into_iter().map(|h| h.join().unwrap_or_default()));
            parts
        });
        if out.len() == 1 {
            return out.pop().unwrap_or_default();
        }
        out.concat()
    }
}

/// A band's rows of a frame, from `first` on.
struct Rows<'a> {
    first: usize,
    pixels: &'a [u8],
    stride: usize,
    /// Whether to fill the row map (or read it, filled before).
    fill_map: bool,
}

impl Rows<'_> {
    /// Writes into `out`, packed, the rows `map` says are sent, each
    /// XOR-ed with the same row of `base` if given; returns the bytes
    /// written and how many 8-byte words of them are zero.
    fn put(&self, map: &mut [u8], out: &mut [u8], base: Option<&[u8]>) -> (usize, usize) {
        let Rows {
            first,
            pixels,
            stride,
            fill_map,
        } = *self;
        let (mut len, mut zeros) = (0, 0);
        let mut above = first
            .checked_sub(1)
            .map(|r| &pixels[r * stride..][..stride]);
        let rows = pixels[first * stride..].chunks_exact(stride);
        for ((r, m), row) in (first..).zip(map.iter_mut()).zip(rows) {
            if fill_map {
                *m = if above == Some(row) {
                    ROW_REPEATS
                } else {
                    ROW_SENT
                };
                above = Some(row);
            }
            if *m == ROW_REPEATS {
                continue;
            }
            let dst = &mut out[len..len + stride];
            match base {
                Some(base) => zeros += xor_into(dst, row, &base[r * stride..][..stride]),
                None => dst.copy_from_slice(row),
            }
            len += stride;
        }
        (len, zeros)
    }
}

/// `d = a ^ b` (same lengths), eight bytes at a time (the loop
/// vectorises); returns how many of those 8-byte words are zero.
fn xor_into(d: &mut [u8], a: &[u8], b: &[u8]) -> usize {
    let (dw, dt) = d.as_chunks_mut::<8>();
    let (aw, at) = a.as_chunks::<8>();
    let (bw, bt) = b.as_chunks::<8>();
    let mut zeros = 0;
    for ((d, a), b) in dw.iter_mut().zip(aw).zip(bw) {
        let x = u64::from_ne_bytes(*a) ^ u64::from_ne_bytes(*b);
        zeros += usize::from(x == 0);
        *d = x.to_ne_bytes();
    }
    for ((d, a), b) in dt.iter_mut().zip(at).zip(bt) {
        *d = a ^ b;
    }
    zeros
}

/// The viewer's side: turns `frame` notifications back into pixels.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// Frames decoded lately, newest last: a delta's base is one of them.
    recent: VecDeque<(u64, Vec<u8>)>,
}

/// How many decoded frames a decoder keeps for later deltas (the window's
/// most, and one acknowledged before it).
const KEEP: usize = 18;

impl FrameDecoder {
    /// The pixels (tight RGBA8 rows) of `msg`.
    pub fn decode(&mut self, msg: &FrameMessage) -> Result<&[u8], String> {
        let seq = msg.seq;
        let (stride, height) = (msg.width as usize * 4, msg.height as usize);
        let size = stride * height;
        let data = BASE64
            .decode(&msg.data)
            .map_err(|e| format!("frame {seq}: data is not base64: {e}"))?;
        let raw = zstd::bulk::decompress(&data, height + size)
            .map_err(|e| format!("frame {seq}: not zstd: {e}"))?;
        let base = match (msg.encoding.as_str(), msg.base) {
            (WHOLE, _) => None,
            (DELTA, Some(base)) => match self.recent.iter().find(|(s, _)| *s == base) {
                Some((_, b)) if b.len() == size => Some(&b[..]),
                Some(_) => return Err(format!("frame {seq}: base {base} is of another size")),
                None => return Err(format!("frame {seq}: its base {base} is not here")),
            },
            (other, _) => return Err(format!("frame {seq}: unknown encoding {other:?}")),
        };
        let (map, mut rows) = raw.split_at(height.min(raw.len()));
        let sent = map.iter().filter(|&&m| m == ROW_SENT).count();
        if map.len() != height
            || rows.len() != sent * stride
            || map.first() == Some(&ROW_REPEATS)
            || map.iter().any(|&m| m > ROW_REPEATS)
        {
            return Err(format!(
                "frame {seq}: {} bytes do not make a row map and the rows it names ({}x{} RGBA)",
                raw.len(),
                msg.width,
                msg.height
            ));
        }
        let mut pixels = vec![0u8; size];
        for (r, &m) in map.iter().enumerate() {
            let (done, row) = pixels.split_at_mut(r * stride);
            let row = &mut row[..stride];
            if m == ROW_REPEATS {
                row.copy_from_slice(&done[done.len() - stride..]);
                continue;
            }
            let (this, rest) = rows.split_at(stride);
            rows = rest;
            match base {
                Some(b) => _ = xor_into(row, this, &b[r * stride..][..stride]),
                None => row.copy_from_slice(this),
            }
        }
        if self.recent.len() == KEEP {
            self.recent.pop_front();
        }
        self.recent.push_back((msg.seq, pixels));
        Ok(&self.recent.back().map(|(_, p)| p).expect("just pushed")[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 6×5 picture whose rows 1–2 repeat row 0 and row 4 repeats row 3.
    fn picture(shade: u8) -> Vec<u8> {
        [0u8, 0, 0, 3, 3]
            .iter()
            .flat_map(|&r| (0..6u8).flat_map(move |x| [shade, r * 40 + x, 7, 255]))
            .collect()
    }

    fn message(seq: u64, (encoding, base, data): (&str, Option<u64>, Vec<u8>)) -> FrameMessage {
        FrameMessage {
            seq,
            frame: seq,
            tick: seq,
            width: 6,
            height: 5,
            encoding: encoding.into(),
            base,
            data: BASE64.encode(data),
        }
    }

    #[test]
    fn repeated_rows_are_a_byte_of_the_map_and_come_back() {
        let mut encoder = Encoder::default();
        let first = encoder.encode(&picture(1), 6, None);
        let raw = zstd::bulk::decompress(&first.2, 1000).expect("zstd");
        assert_eq!(&raw[..5], &[0, 1, 1, 0, 1], "the row map");

        assert_eq!(raw.len(), 5 + 2 * 6 * 4, "two rows sent");
        let mut decoder = FrameDecoder::default();
        assert_eq!(
            decoder.decode(&message(1, first)).expect("whole"),
            &picture(1)[..]
        );
        // The same bytes as two zstd frames one after the other.
        let (map_and_row, rest) = raw.split_at(5 + 24);
        let mut two = zstd::bulk::compress(map_and_row, 1).expect("zstd");
        two.extend(zstd::bulk::compress(rest, 1).expect("zstd"));
        assert_eq!(
            FrameDecoder::default()
                .decode(&message(1, (WHOLE, None, two)))
                .expect("two zstd frames"),
            &picture(1)[..]
        );
        let second = encoder.encode(&picture(2), 6, Some((1, &picture(1))));
        assert_eq!((second.0, second.1), (DELTA, Some(1)));
        assert_eq!(
            decoder.decode(&message(2, second)).expect("delta"),
            &picture(2)[..]
        );
    }

    #[test]
    fn a_payload_that_does_not_match_its_map_is_an_error() {
        let mut decoder = FrameDecoder::default();
        let row = [9u8; 24];
        let cases: [(&str, Vec<u8>); 4] = [
            (
                "the first row repeats",
                [&[1u8, 1, 1, 1, 1][..], &row].concat(),
            ),
            ("a map value 2", [&[0u8, 2, 1, 1, 1][..], &row].concat()),
            ("a row short", [&[0u8, 0, 1, 1, 1][..], &row].concat()),
            ("no map", vec![0u8; 3]),
        ];
        for (what, raw) in cases {
            let data = zstd::bulk::compress(&raw, 1).expect("zstd");
            let err = decoder
                .decode(&message(1, (WHOLE, None, data)))
                .expect_err(what);
            assert!(err.contains("row map"), "{what}: {err}");
        }
    }

    #[test]
    fn both_kinds_are_tried_every_trial_frames_and_the_smaller_kept_between() {
        // 64×8: `noise` compresses badly; `flat` well. The XOR of a picture
        // with `noise` is noise (whole wins); the XOR of `noise` with
        // `noise ^ stripes` is the stripes (delta wins), with few zero words.
        let noise: Vec<u8> = (0..64 * 8 * 4u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let flat = vec![40u8; noise.len()];
        let stripes: Vec<u8> = noise
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ if i % 16 < 12 { 0x5a } else { 0 })
            .collect();
        let mut encoder = Encoder::default();
        let kinds: Vec<&str> = (0..2 * Encoder::TRIAL)
            .map(|i| {
                let (picture, base) = if i < 2 {
                    (&flat, &noise)
                } else {
                    (&stripes, &noise)
                };
                encoder.encode(picture, 64, Some((1, base))).0
            })
            .collect();
        // Trial at frame 0 (whole won), kept until the trial at frame 8.
        let mut want = vec![WHOLE; Encoder::TRIAL as usize];
        want.extend([DELTA; Encoder::TRIAL as usize]);
        assert_eq!(kinds, want);
        // And it decodes, whichever kind came.
        let mut decoder = FrameDecoder::default();
        let msg = |seq, e: (&str, Option<u64>, Vec<u8>)| FrameMessage {
            width: 64,
            height: 8,
            ..message(seq, e)
        };
        decoder
            .decode(&msg(1, Encoder::default().encode(&noise, 64, None)))
            .expect("whole");
        let mut shown = &noise;
        for (seq, picture) in [(2, &stripes), (3, &flat), (4, &noise)] {
            let e = encoder.encode(picture, 64, Some((seq - 1, shown)));
            let decoded = decoder.decode(&msg(seq, e)).expect("decodes");
            assert!(
                decoded == &picture[..],
                "frame {seq} decodes to its picture"
            );
            shown = picture;
        }
    }

    #[test]
    fn a_large_frame_is_cut_into_bands_that_decode_as_one() {
        // 768×1100 (3.4 MB, three bands of 367 rows): rows repeat in
        // threes, so a repeat falls on each band's first row.
        let (width, height) = (768usize, 1100usize);
        let picture = |shift: usize| -> Vec<u8> {
            (0..height)
                .flat_map(|y| {
                    (0..width).flat_map(move |x| {
                        let v = ((x + shift) / 5 + (y / 3) * 7) as u8;
                        [v, v.wrapping_mul(3), (y / 3) as u8, 255]
                    })
                })
                .collect()
        };
        let (before, after) = (picture(0), picture(4));
        assert_eq!(
            after[367 * width * 4..][..width * 4],
            after[366 * width * 4..][..width * 4],
            "the second band starts on a repeated row"
        );
        let msg = |seq, e: (&str, Option<u64>, Vec<u8>)| FrameMessage {
            width: width as u32,
            height: height as u32,
            ..message(seq, e)
        };
        let frames = |mut data: &[u8]| {
            let mut n = 0;
            while !data.is_empty() {
                let len = zstd::zstd_safe::find_frame_compressed_size(data).expect("a zstd frame");
                data = &data[len..];
                n += 1;
            }
            n
        };
        let (mut one, mut three) = (Encoder::with_bands(1), Encoder::with_bands(3));
        let mut decoder = FrameDecoder::default();
        for (seq, base) in [(1, None), (2, Some((1, &before[..])))] {
            let picture = if base.is_some() { &after } else { &before };
            let banded = three.encode(picture, width as u32, base);
            let single = one.encode(picture, width as u32, base);
            assert_eq!((banded.0, banded.1), (single.0, single.1));
            assert_eq!((frames(&banded.2), frames(&single.2)), (3, 1));
            let raw = |d: &[u8]| zstd::bulk::decompress(d, height * (1 + width * 4)).expect("zstd");
            assert!(
                raw(&banded.2) == raw(&single.2),
                "frame {seq}: the same bytes"
            );
            let decoded = decoder.decode(&msg(seq, banded)).expect("decodes");
            assert!(
                decoded == &picture[..],
                "frame {seq} decodes to its picture"
            );
        }
    }

    #[test]
    fn frames_are_compressed_at_zstd_level() {
        // A picture on which zstd's default level (3) and level 1 differ:
        // random bytes and copies of random earlier spans, as LZ77 sees
        // text.
        let mut seed = 12_345u64;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        let mut picture: Vec<u8> = (0..64).map(|_| next(256) as u8).collect();
        while picture.len() < 256 * 64 * 4 {
            if next(4) == 0 {
                picture.push(next(256) as u8);
            } else {
                let len = 4 + next(60) as usize;
                let from = next(picture.len() as u64) as usize;
                for k in 0..len {
                    picture.push(picture[from + k % (picture.len() - from)]);
                }
            }
        }
        picture.truncate(256 * 64 * 4);
        let (kind, _, data) = Encoder::default().encode(&picture, 256, None);
        assert_eq!(kind, WHOLE);
        let raw = zstd::bulk::decompress(&data, 64 + picture.len()).expect("zstd");
        let at = |level| zstd::bulk::compress(&raw, level).expect("zstd");
        assert_ne!(at(ZSTD_LEVEL), at(3), "the picture tells the levels apart");
        assert_eq!(data, at(ZSTD_LEVEL));
    }
}
