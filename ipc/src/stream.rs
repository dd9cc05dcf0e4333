//! Frames over a control connection (`frames.subscribe`), for a viewer on
//! another machine: the newest frame only, never a queue, each sent once
//! the ones before it are acknowledged, as a zstd-compressed XOR against
//! the last frame the viewer acknowledged (so a still picture costs
//! nothing and a moving one little). docs/protocol.md has the wire format.
//!
//! - [`FrameStream`]: the server's side, one per subscribed connection,
//!   reading the engine's own frame region.
//! - [`FrameDecoder`]: the viewer's side.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::api::{
    FrameMessage, FramesAckParams, FramesAcked, FramesSubscribeParams, FramesSubscribed, RpcError,
    codes,
};
use crate::region::{AlignedBuf, FrameReader};

/// zstd's level for frames: its fastest that still finds the long runs of
/// zeros an XOR of two similar frames is (`cargo bench --bench remote`).
pub const ZSTD_LEVEL: i32 = 1;

/// The server's side of one connection's frame subscription.
pub struct FrameStream {
    reader: FrameReader,
    buf: AlignedBuf,
    interval: Duration,
    window: u64,
    /// The size frames are sent at, when smaller than the engine's.
    size: Option<(u32, u32)>,
    /// Keeps the colour bits asked for (alpha whole), per pixel.
    mask: u32,
    next_seq: u64,
    acked: u64,
    /// Frames sent and not yet acknowledged: (seq, pixels).
    sent: VecDeque<(u64, Vec<u8>)>,
    /// The newest acknowledged frame: what the viewer surely has.
    base: Option<(u64, Vec<u8>)>,
    /// The region's frame number and checksum sent last.
    last: Option<(u64, u64)>,
    next_at: Instant,
    xor: Vec<u8>,
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
            encodings: vec!["zstd".into(), "zstd-xor".into()],
        };
        let buf = reader.buffer();
        Ok((
            FrameStream {
                reader,
                buf,
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
                last: None,
                next_at: Instant::now(),
                xor: Vec::new(),
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
                    self.base = Some((s, pixels));
                    break;
                }
            }
        }
        Ok(self.acked)
    }

    /// The `frame` notification line for the newest frame, if there is one
    /// newer (and different) than the last sent; then waits an interval.
    pub fn poll(&mut self) -> Option<String> {
        self.next_at = Instant::now() + self.interval;
        let newest = self.reader.latest_frame();
        if newest == 0 || self.last.is_some_and(|(n, _)| n >= newest) {
            return None; // paused, or nothing new: nothing sent
        }
        let info = self.reader.read_latest(&mut self.buf).ok()?;
        if let Some((n, sum)) = self.last {
            self.skipped += info.frame.saturating_sub(n + 1);
            if sum == info.checksum {
                self.last = Some((info.frame, sum));
                return None; // the same picture again
            }
        }
        self.last = Some((info.frame, info.checksum));
        let g = self.reader.geometry();
        // read_latest copies tight rows.
        let (width, height, mut pixels) = match self.size {
            Some((w, h)) if (w, h) != (g.width, g.height) => {
                let out = advkit_frame::Size {
                    width: w,
                    height: h,
                };
                let small = advkit_frame::downsample(self.buf.as_slice(), g.width, g.height, out)?;
                (w, h, small.into_pixels())
            }
            _ => (
                g.width,
                g.height,
                self.buf.as_slice()[..g.frame_bytes()].to_vec(),
            ),
        };
        if self.mask != u32::MAX {
            let (px, _) = pixels.as_chunks_mut::<4>();
            for p in px {
                *p = (u32::from_le_bytes(*p) & self.mask).to_le_bytes();
            }
        }
        let base = self.base.as_ref().map(|(seq, b)| (*seq, &b[..]));
        let (encoding, base, compressed) = encode(&pixels, base, &mut self.xor);
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

/// A frame as sent: `zstd` of the pixels, or `zstd-xor` of their XOR with
/// `base` (a frame the viewer has, by seq) when that is smaller. The XOR is
/// mostly zeros while little moves; when much moved (a pan seen a few
/// frames apart) the frame itself can be smaller. `scratch` is reused.
pub fn encode(
    pixels: &[u8],
    base: Option<(u64, &[u8])>,
    scratch: &mut Vec<u8>,
) -> (&'static str, Option<u64>, Vec<u8>) {
    let whole = compress(pixels);
    match base {
        Some((seq, base)) if base.len() == pixels.len() => {
            scratch.resize(pixels.len(), 0);
            // Eight bytes at a time: the loop vectorises.
            let (d, _) = scratch.as_chunks_mut::<8>();
            let (a, _) = pixels.as_chunks::<8>();
            let (b, _) = base.as_chunks::<8>();
            for ((d, a), b) in d.iter_mut().zip(a).zip(b) {
                *d = (u64::from_ne_bytes(*a) ^ u64::from_ne_bytes(*b)).to_ne_bytes();
            }
            let tail = pixels.len() / 8 * 8;
            for i in tail..pixels.len() {
                scratch[i] = pixels[i] ^ base[i];
            }
            let delta = compress(scratch);
            if delta.len() < whole.len() {
                ("zstd-xor", Some(seq), delta)
            } else {
                ("zstd", None, whole)
            }
        }
        _ => ("zstd", None, whole),
    }
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    // Compressing a buffer in memory fails only on allocation failure.
    zstd::bulk::compress(bytes, ZSTD_LEVEL).unwrap_or_default()
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
        let size = msg.width as usize * msg.height as usize * 4;
        let data = BASE64
            .decode(&msg.data)
            .map_err(|e| format!("frame {}: data is not base64: {e}", msg.seq))?;
        let raw = zstd::bulk::decompress(&data, size)
            .map_err(|e| format!("frame {}: not zstd: {e}", msg.seq))?;
        if raw.len() != size {
            return Err(format!(
                "frame {}: {} bytes, not {size} ({}x{} RGBA)",
                msg.seq,
                raw.len(),
                msg.width,
                msg.height
            ));
        }
        let pixels = match (msg.encoding.as_str(), msg.base) {
            ("zstd", _) => raw,
            ("zstd-xor", Some(base)) => {
                let Some((_, b)) = self.recent.iter().find(|(s, _)| *s == base) else {
                    return Err(format!("frame {}: its base {base} is not here", msg.seq));
                };
                if b.len() != size {
                    return Err(format!("frame {}: base {base} is of another size", msg.seq));
                }
                raw.iter().zip(b).map(|(a, b)| a ^ b).collect()
            }
            (other, _) => return Err(format!("frame {}: unknown encoding {other:?}", msg.seq)),
        };
        if self.recent.len() == KEEP {
            self.recent.pop_front();
        }
        self.recent.push_back((msg.seq, pixels));
        Ok(&self.recent.back().map(|(_, p)| p).expect("just pushed")[..])
    }
}
