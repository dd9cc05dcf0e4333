//! advkit-ipc: how an engine talks to the world.
//!
//! - [`region`]: the frame region, frames in shared memory
//!   (`docs/frame-region.md`).
//! - [`runtime`]: the runtime directory and the file names in it.
//! - [`system`]: clocks and process facts.
//!
//! Any game loop can use it, not only advkit's engine: create a
//! [`FrameWriter`] and call [`FrameWriter::publish`] once per frame.

#![deny(unsafe_code)]

pub mod region;
pub mod runtime;
pub mod system;

pub use region::{AlignedBuf, FrameInfo, FrameReader, FrameWriter, Gone, OpenError, ReadError};
pub use runtime::{RuntimeDir, RuntimeError};
