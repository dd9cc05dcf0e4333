//! The `advkit` package's library: what the command line and the project's
//! own tests share.
//!
//! - [`live`]: the built-in demo on an [`advkit_ipc::Host`] (`advkit run`),
//!   built only on the public host API.
//! - [`golden`]: golden-frame checks with files (scenarios, goldens,
//!   artifacts, reports), used by `advkit golden check` and by `cargo test`.
//! - [`record`]: a live session recorded as a scenario (`advkit record`);
//!   `launched`: how the recorded game was started, for the scenario.
//! - [`replay`]: a scenario replayed through the protocol on any game.

#![forbid(unsafe_code)]

pub mod cli;
pub mod golden;
mod launched;
pub mod live;
pub mod record;
pub mod replay;
pub use advkit_ipc::state;
