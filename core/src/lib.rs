//! advkit-core: a small, deterministic, sans-IO tile adventure.
//!
//! It reads no clock, file, socket or terminal: the host hands it scene
//! text, inputs and a framebuffer, and gets frames and values back. Same
//! scene + same seed + same inputs ⇒ the same frames, bit for bit.
//!
//! - [`scene`]: the JSON scene format and its validation.
//! - [`params`]: the demo's params (specs and [`Settings`]); the registry
//!   itself is advkit-params.
//! - [`world`]: the simulation (player, NPCs, triggers, flags).
//! - [`render`]: the software renderer into an RGBA8 [`Frame`].
//! - [`engine`]: all of the above behind one [`Engine`], with reboot and save/restore.
//! - [`entities`]: the player and NPCs as JSON records tools can edit.
//! - [`input`]: buttons and the input [`Timeline`] that scripts a run.
//! - [`frame`], [`image`]: frames and PNG, re-exported from advkit-frame.

#![forbid(unsafe_code)]

// Frames and PNG are advkit-frame's; re-exported under the names the
// engine has always used.
pub use advkit_frame::frame;
pub use advkit_frame::png as image;

pub mod engine;
pub mod entities;
pub mod input;
pub mod params;
pub mod render;
pub mod rng;
pub mod scene;
mod sprites;
pub mod world;

pub use advkit_frame::Canvas;
pub use engine::{Engine, Progress, RebootReport, StateError};
pub use frame::{Frame, Size, hash_pixels};
pub use image::{Compression, PngError, decode_png, encode_png};
pub use input::{Button, InputAction, InputEvent, Timeline};
pub use params::{Applied, Apply, Kind, ParamError, Params, Spec, Value};
pub use scene::{Scene, SceneError};
pub use world::{Settings, WalkMode, World, WorldEvent};
