//! Frames over a control connection (`frames.subscribe`), for a viewer on
//! another machine: the newest frame only, never a queue, each sent once
//! the ones before it are acknowledged, as a zstd-compressed XOR against
//! the last frame the viewer acknowledged (so a still picture costs
//! nothing and a moving one little), rows that repeat the row above sent
//! as one byte. docs/protocol.md has the wire format.
//!
//! - [`FrameStream`]: the server's side, one per subscribed connection,
//!   reading the engine's own frame region.
//! - [`Encoder`] and [`FrameDecoder`] (in `codec`): a frame's bytes on the
//!   wire, each way.

mod codec;

pub use codec::{DELTA, Encoder, FrameDecoder, WHOLE, ZSTD_LEVEL};

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::api::{
    FrameMessage, FramesAckParams, FramesAcked, FramesSubscribeParams, FramesSubscribed, RpcError,
    codes,
};
use crate::region::{AlignedBuf, FrameInfo, FrameReader, RowsShare};

/// The bytes of a frame read at a time for a scaled subscription: a band
/// that stays in the cache while it is averaged.
const READ_BAND_BYTES: usize = 128 << 10;

/// The server's side of one connection's frame subscription.
pub struct FrameStream {
    reader: FrameReader,
    buf: AlignedBuf,
    /// A band of rows a thread, for a scaled frame averaged as it is read.
    scratch: Vec<AlignedBuf>,
    interval: Duration,
    window: u64,
    /// The size frames are sent at, when smaller than the engine's.
    size: Option<(u32, u32)>,
    /// Keeps the colour bits asked for (alpha whole), per pixel.
    mask: u32,
    next_seq: u64,
    acked: u64,
    /// Frames sent and not yet acknowledged: (seq, pixels).
    sent: VecDeque<(u64, AlignedBuf)>,
    /// The newest acknowledged frame: what the viewer surely has.
    base: Option<(u64, AlignedBuf)>,
    /// Buffers of frames no longer needed, for the next frames: a fresh
    /// 8 MB buffer a 1080p frame, and its page faults, cost more than the
    /// frame's encoding.
    spare: Vec<AlignedBuf>,
    /// The region's frame number and checksum sent last.
    last: Option<(u64, u64)>,
    next_at: Instant,
    encoder: Encoder,
    /// Bytes of `frame` lines sent, and frames the engine published that
    /// this viewer never got (it was behind, or they came too fast).
    pub bytes_sent: u64,
    pub skipped: u64,
}

impl std::fmt::Debug for FrameStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameStream")
            .field("next_seq", &self.next_seq)
            .field("acked", &self.acked)
            .finish_non_exhaustive()
    }
}

impl FrameStream {
    /// A subscription to the region at `frames`.
    pub fn open(
        frames: &Path,
        params: FramesSubscribeParams,
    ) -> Result<(FrameStream, FramesSubscribed), RpcError> {
        let reader = FrameReader::open(frames)
            .map_err(|e| RpcError::new(codes::FAILED, format!("the engine's frames: {e}")))?;
        let max_fps = params.max_fps.unwrap_or(30.0).clamp(0.1, 240.0);
        let window = params.window.unwrap_or(2).clamp(1, 16);
        let bits = params.bits.unwrap_or(8).clamp(1, 8);
        let g0 = reader.geometry();
        let size = match params.size {
            None => None,
            Some([w, h]) if w >= 1 && h >= 1 => Some((w.min(g0.width), h.min(g0.height))),
            Some([w, h]) => {
                return Err(RpcError::invalid_params(format!(
                    "frames.subscribe: size [{w}, {h}] has no pixels; give [width, height] of at \
                     least [1, 1] (the engine's is [{}, {}])",
                    g0.width, g0.height
                )));
            }
        };
        let g = reader.geometry();
        let subscribed = FramesSubscribed {
            width: g.width,
            height: g.height,
            max_fps,
            window,
            bits,
            encodings: vec![WHOLE.into(), DELTA.into()],
        };
        // Sized by the first full-size read (a scaled subscription reads
        // in bands, into `scratch`).
        let buf = AlignedBuf::zeroed(0);
        Ok((
            FrameStream {
                reader,
                buf,
                scratch: Vec::new(),
                interval: Duration::from_secs_f64(1.0 / max_fps),
                window: u64::from(window),
                size,
                mask: u32::from_le_bytes([
                    0xff << (8 - bits),
                    0xff << (8 - bits),
                    0xff << (8 - bits),
                    0xff,
                ]),
                next_seq: 1,
                acked: 0,
                sent: VecDeque::new(),
                base: None,
                spare: Vec::new(),
                last: None,
                next_at: Instant::now(),
                encoder: Encoder::default(),
                bytes_sent: 0,
                skipped: 0,
            },
            subscribed,
        ))
    }

    /// The newest frame acknowledged (0: none).
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// When to look for a newer frame; `None` while the window is full
    /// (nothing is sent until an acknowledgement).
    pub fn due(&self) -> Option<Instant> {
        (self.next_seq - 1 - self.acked < self.window).then_some(self.next_at)
    }

    /// Frame `seq` and every one before it arrived: the newest of them is
    /// the base of the next delta.
    pub fn ack(&mut self, seq: u64) -> Result<u64, RpcError> {
        if seq >= self.next_seq {
            return Err(RpcError::invalid_params(format!(
                "frames.ack: seq {seq} was not sent yet (the newest sent is {})",
                self.next_seq - 1
            )));
        }
        if seq > self.acked {
            self.acked = seq;
            while let Some((s, pixels)) = self.sent.pop_front() {
                if s == seq {
                    if let Some((_, old)) = self.base.replace((s, pixels)) {
                        self.keep_spare(old);
                    }
                    break;
                }
                self.keep_spare(pixels);
            }
        }
        Ok(self.acked)
    }

    /// Keeps `pixels`' buffer for a later frame (two at most: the rest of
    /// the window's are freed).
    fn keep_spare(&mut self, pixels: AlignedBuf) {
        if self.spare.len() < 2 {
            self.spare.push(pixels);
        }
    }

    /// The newest frame averaged down to `out`, a band of rows at a time
    /// as it is read, while the band is in the cache (copying the whole
    /// frame out first took as long as the average itself); a share of the
    /// rows a thread for a large frame.
    fn read_scaled(&mut self, out: advkit_frame::Size) -> Option<(FrameInfo, advkit_frame::Frame)> {
        let g = self.reader.geometry();
        let threads = advkit_frame::threads_for(g.frame_bytes());
        let mut parts = advkit_frame::Downsampler::parts(g.width, g.height, out, threads)?;
        if self.scratch.len() < parts.len() {
            self.scratch
                .resize_with(parts.len(), || AlignedBuf::zeroed(0));
        }
        let rows: Vec<_> = parts.iter().map(|d| d.source_rows()).collect();
        // Each part starts over when handed its first row again (a torn
        // read is made again).
        let mut feeds: Vec<_> = parts
            .iter_mut()
            .zip(&rows)
            .map(|(d, rows)| {
                let start = rows.start;
                move |first: usize, band: &[u8]| {
                    if first == start {
                        d.restart();
                    }
                    d.feed(first, band);
                }
            })
            .collect();
        let mut shares: Vec<RowsShare<'_>> = feeds
            .iter_mut()
            .zip(&mut self.scratch)
            .zip(rows)
            .map(|((each, scratch), rows)| RowsShare {
                rows,
                scratch,
                each,
            })
            .collect();
        let band = (READ_BAND_BYTES / g.row_bytes().max(1)).max(1);
        let info = self.reader.read_latest_in_bands(band, &mut shares).ok()?;
        drop(shares);
        drop(feeds);
        Some((info, advkit_frame::Downsampler::join(out, parts)?))
    }

    /// The `frame` notification line for the newest frame, if there is one
    /// newer (and different) than the last sent; then waits an interval.
    pub fn poll(&mut self) -> Option<String> {
        self.next_at = Instant::now() + self.interval;
        let newest = self.reader.latest_frame();
        if newest == 0 || self.last.is_some_and(|(n, _)| n >= newest) {
            return None; // paused, or nothing new: nothing sent
        }
        let g = self.reader.geometry();
        let scaled = self.size.filter(|&size| size != (g.width, g.height));
        let mut small = None;
        let info = match scaled {
            Some((width, height)) => {
                let (info, frame) = self.read_scaled(advkit_frame::Size { width, height })?;
                small = Some(frame);
                info
            }
            None => self.reader.read_latest(&mut self.buf).ok()?,
        };
        if let Some((n, sum)) = self.last {
            self.skipped += info.frame.saturating_sub(n + 1);
            if sum == info.checksum {
                self.last = Some((info.frame, sum));
                return None; // the same picture again
            }
        }
        self.last = Some((info.frame, info.checksum));
        let (width, height, mut pixels) = match small {
            Some(small) => {
                let mut pixels = self.spare.pop().unwrap_or_else(|| AlignedBuf::zeroed(0));
                pixels.resize(small.pixels().len());
                pixels.as_mut_slice().copy_from_slice(small.pixels());
                (small.size().width, small.size().height, pixels)
            }
            // read_latest copies tight rows. The frame read is the frame
            // sent; another buffer reads the next.
            None => {
                let next = self.spare.pop().unwrap_or_else(|| AlignedBuf::zeroed(0));
                (g.width, g.height, std::mem::replace(&mut self.buf, next))
            }
        };
        if self.mask != u32::MAX {
            let (px, _) = pixels.as_mut_slice().as_chunks_mut::<4>();
            for p in px {
                *p = (u32::from_le_bytes(*p) & self.mask).to_le_bytes();
            }
        }
        let base = self.base.as_ref().map(|(seq, b)| (*seq, b.as_slice()));
        let (encoding, base, compressed) = self.encoder.encode(pixels.as_slice(), width, base);
        let seq = self.next_seq;
        self.next_seq += 1;
        let msg = FrameMessage {
            seq,
            frame: info.frame,
            tick: info.tick,
            width,
            height,
            encoding: encoding.into(),
            base,
            data: BASE64.encode(compressed),
        };
        self.sent.push_back((seq, pixels));
        let line = crate::protocol::notification(crate::api::method::FRAME, info.tick, &msg);
        self.bytes_sent += line.len() as u64;
        Some(line)
    }
}

/// The server's answer to `frames.subscribe`, `frames.ack` and
/// `frames.unsubscribe` on a connection whose subscription is `frames`
/// (the engine's region at `path`).
pub(crate) fn call(
    frames: &mut Option<FrameStream>,
    path: &Path,
    method: &str,
    params: serde_json::Value,
) -> Result<serde_json::Value, RpcError> {
    use crate::server::parse;
    let acked = match method {
        crate::api::method::FRAMES_SUBSCRIBE => {
            let (stream, subscribed) = FrameStream::open(path, parse(params)?)?;
            *frames = Some(stream);
            return Ok(serde_json::to_value(subscribed).unwrap_or_default());
        }
        crate::api::method::FRAMES_ACK => {
            let p: FramesAckParams = parse(params)?;
            match frames.as_mut() {
                Some(f) => f.ack(p.seq)?,
                None => {
                    return Err(RpcError::invalid_params(
                        "frames.ack: this connection is not subscribed to frames \
                         (frames.subscribe first)",
                    ));
                }
            }
        }
        _ => frames.take().map_or(0, |f| f.acked()),
    };
    Ok(serde_json::to_value(FramesAcked { acked }).unwrap_or_default())
}
