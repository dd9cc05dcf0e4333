//! advkit-tui: `advkit inspect`, the terminal inspector. It reaches engines
//! only through advkit-ipc (frame region + control client).
//!
//! - [`app`]: state, and how keys, replies and events change it (no IO).
//! - [`view`]: drawing the state (`impl Widget for &App`) and the layout.
//! - [`run`]: the loop: attach, reattach, input, capped-rate drawing.
//! - [`halfblock`]: frames drawn in `▀` cells (area-average downsampling,
//!   truecolor / 256 / 16 colours).
//! - [`terminal`]: setting the terminal up and always restoring it.

#![forbid(unsafe_code)]

pub mod app;
pub mod halfblock;
pub mod run;
pub mod terminal;
pub mod view;

pub use run::{Options, run};
