//! `frame.snapshot`, answered by the host for any game: the newest frame
//! it published, read back from its own frame region (so the game keeps
//! no copy), downscaled and encoded as PNG.

use std::path::PathBuf;

use advkit_frame::{Compression, Size, downsample, encode_png, hash_pixels};
use base64::Engine as _;

use super::Host;
use crate::api::{RpcError, SnapshotParams, SnapshotResult};
use crate::region::{AlignedBuf, FrameReader};

/// A reader on the host's own region, opened on first use.
#[derive(Debug)]
pub(super) struct SelfReader {
    path: PathBuf,
    open: Option<(FrameReader, AlignedBuf)>,
}

impl SelfReader {
    pub(super) fn new(path: PathBuf) -> SelfReader {
        SelfReader { path, open: None }
    }
}

impl Host {
    pub(super) fn snapshot(&mut self, p: SnapshotParams) -> Result<SnapshotResult, RpcError> {
        self.note_new_region();
        let snapshots = &mut self.snapshots;
        if snapshots.open.is_none() {
            let reader = FrameReader::open(&snapshots.path)
                .map_err(|e| RpcError::failed(format!("cannot read own frames: {e}")))?;
            let buf = reader.buffer();
            snapshots.open = Some((reader, buf));
        }
        let Some((reader, buf)) = snapshots.open.as_mut() else {
            return Err(RpcError::failed("cannot read own frames"));
        };
        let info = reader
            .read_latest(buf)
            .map_err(|e| RpcError::failed(e.to_string()))?;
        let g = reader.geometry();
        let pixels = buf.as_slice();
        let scaled = |k: u32| ((g.width / k).max(1), (g.height / k).max(1));
        let mut scale = p.scale.unwrap_or(1).max(1);
        if let Some(max) = p.max_width {
            while scaled(scale).0 > max && scale < g.width {
                scale += 1;
            }
        }
        let (w, h) = scaled(scale);
        let out = Size::new(w, h).map_err(RpcError::failed)?;
        let small = downsample(pixels, g.width, g.height, out)
            .ok_or_else(|| RpcError::failed("the frame region holds no whole frame"))?;
        let png =
            encode_png(&small, Compression::Fast).map_err(|e| RpcError::failed(e.to_string()))?;
        Ok(SnapshotResult {
            tick: info.tick,
            width: small.width(),
            height: small.height(),
            hash: format!("{:016x}", hash_pixels(pixels)),
            png_base64: base64::engine::general_purpose::STANDARD.encode(png),
        })
    }
}
