//! The `advkit` package's library: what the command line and the project's
//! own tests share.
//!
//! - [`golden`]: golden-frame checks with files (scenarios, goldens,
//!   artifacts, reports), used by `advkit golden check` and by `cargo test`.

#![forbid(unsafe_code)]

pub mod golden;
