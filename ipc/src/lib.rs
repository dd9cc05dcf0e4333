//! advkit-ipc: how an engine talks to the world.
//!
//! - [`region`]: the frame region, frames in shared memory
//!   (`docs/frame-region.md`).
//! - [`protocol`]: JSON-RPC framing and error codes (`docs/protocol.md`);
//!   [`methods`]: the method table.
//! - [`server`]: the tokio control server; [`host`]: the API a game loop
//!   embeds; [`client`]: a blocking client for tools.
//! - [`runtime`]: the runtime directory and the file names in it.
//! - [`system`]: clocks and process facts.
//!
//! Any game loop can use it, not only advkit's engine: create a
//! [`FrameWriter`] and call [`FrameWriter::publish`] once per frame.

#![deny(unsafe_code)]

pub mod client;
pub mod host;
pub mod methods;
pub mod protocol;
pub mod region;
pub mod runtime;
pub mod server;
pub mod system;

pub use host::{Host, HostConfig};
pub use region::{AlignedBuf, FrameInfo, FrameReader, FrameWriter, Gone, OpenError, ReadError};
pub use runtime::{RuntimeDir, RuntimeError};
