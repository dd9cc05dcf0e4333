//! advkit-tui: the terminal side of advkit.
//!
//! - [`halfblock`]: frames drawn in `▀` cells (area-average downsampling,
//!   truecolor / 256 / 16 colours).
//! - [`terminal`]: setting the terminal up and always restoring it.

#![forbid(unsafe_code)]

pub mod halfblock;
pub mod terminal;
