//! advkit-tui: the terminal UIs — `advkit inspect` and `advkit golden
//! review`. It reaches engines only through advkit-ipc (frame region +
//! control client) and knows no game.
//!
//! - [`app`]: state, and how keys, replies and events change it (no IO).
//! - [`keys`]: every key as data, one table per pane: the handlers,
//!   the key bar and the help read the same rows.
//! - [`entities`]: the entity panel, a component.
//! - [`params`]: the params panel, a component.
//! - [`log`]: the event log, a component (lines, scroll, filter, keys,
//!   drawing).
//! - [`view`]: drawing the state (`impl Widget for &App`) and the layout.
//! - [`run`]: the loop, a runner with named steps: attach, reattach,
//!   input, capped-rate drawing; `link`: the attachment to one engine
//!   (frame thread, call and event connections).
//! - [`timeline`]: the debugger as a component: the timeline line, the
//!   time keys, the watch pane.
//! - [`halfblock`]: frames drawn in `▀` cells (area-average downsampling,
//!   truecolor / 256 / 16 colours).
//! - [`recorder`]: the recording key, running `advkit record` beside.
//! - [`review`]: `advkit golden review`, pending and failed golden
//!   captures one at a time (state, keys and drawing apart, like the app).
//! - [`terminal`]: setting the terminal up and always restoring it.

#![forbid(unsafe_code)]

pub mod app;
pub mod encode;
pub mod entities;
pub mod flow;
pub mod halfblock;
pub mod input;
pub mod keys;
mod link;
pub mod log;
pub mod params;
pub mod picture;
pub mod recorder;
pub mod review;
pub mod run;
pub mod terminal;
pub mod timeline;
pub mod view;

pub use run::{Options, RemoteTarget, run};
