//! advkit-frame: what every part of advkit knows about a picture, and no
//! more. No game, no transport, no screen.
//!
//! - [`frame`]: [`Frame`] (tight RGBA8), [`Size`], and [`hash_pixels`], the
//!   content hash goldens and snapshots report.
//! - [`canvas`]: [`Canvas`], the row-by-row target renderers draw into
//!   (a [`Frame`], or a slot of the shared frame region).
//! - [`png`]: PNG encoding and decoding in memory.
//! - [`downsample`]: the one area-average downsampler (snapshots, the
//!   terminal views).

#![forbid(unsafe_code)]

pub mod canvas;
pub mod downsample;
pub mod frame;
pub mod png;

pub use canvas::Canvas;
pub use downsample::{Downsampler, downsample, threads_for};
pub use frame::{Frame, PixelHasher, Size, hash_pixels};
pub use png::{Compression, PngError, decode_png, encode_png};
