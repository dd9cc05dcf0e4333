//! advkit-ipc: how an engine talks to the world.
//!
//! - [`region`]: the frame region, frames in shared memory
//!   (`docs/frame-region.md`).
//! - [`api`]: the protocol's one typed home — method names, params and
//!   results, events, error codes, method schemas (`docs/protocol.md`).
//! - [`protocol`]: JSON-RPC framing, as pure functions over bytes.
//! - [`server`]: the tokio control server; [`host`]: the API a game loop
//!   embeds (`docs/embedding.md`); [`client`]: a blocking, typed client
//!   for tools.
//! - [`debug`]: conditions for run-until and watchpoints; [`state`]:
//!   world states flattened and diffed (`world.diff`, golden forensics).
//! - [`runtime`]: the runtime directory and the file names in it.
//! - [`system`]: clocks and process facts.
//!
//! Any game loop can use it, not only advkit's demo: start a [`Host`] and
//! publish a frame per tick; the host answers params, pause, step,
//! snapshot, stats and events for it. It knows no game and no screen.

#![deny(unsafe_code)]

pub mod api;
pub mod client;
pub mod debug;
pub mod host;
pub mod protocol;
pub mod region;
pub mod runtime;
pub mod server;
pub mod state;
pub mod stream;
pub mod system;

pub use advkit_frame::Canvas;
pub use host::{HistoryConfig, Host, HostConfig, HostError, HostFrame, Request, Responder, Waker};
pub use region::{
    AlignedBuf, FrameInfo, FrameReader, FrameWriter, Gone, Loan, OpenError, RawDest, ReadError,
};
pub use runtime::{RuntimeDir, RuntimeError};
pub use server::Limits;

/// docs/embedding.md, compiled as a doctest so its game stays true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/embedding.md")]
pub struct EmbeddingGuide;
