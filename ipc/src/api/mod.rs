//! The protocol's one typed home: every method's name, its params and
//! result as serde structs, the events, the error codes, and the schema
//! `rpc.discover` reports. The server, [`Host`](crate::Host),
//! [`Client`](crate::client::Client), `advkit send` and the inspector all
//! encode and decode these same types; no other module spells a method
//! name. `docs/protocol.md` is the reference for people.
//!
//! - [`method`]: the names, and [`Method`] tying a name to its types.
//! - [`types`]: params and results of the built-in methods.
//! - [`event`]: [`Event`], every event the host and the demo send.
//! - [`error`]: [`RpcError`] (`{code, message, data}`) and [`codes`].
//! - [`tier`]: [`Tier`], what a token may call.
//! - [`schema`]: [`MethodSpec`], how a method's params are described and
//!   checked before any game code sees them; [`schema::host_methods`] lists the
//!   built-in ones.

pub mod error;
pub mod event;
pub mod method;
pub mod schema;
pub mod tier;
pub mod types;

pub use error::{RpcError, codes};
pub use event::{Event, Topic};
pub use method::Method;
pub use schema::{MethodSpec, ParamSpec, ParamType};
pub use tier::Tier;
pub use types::*;

/// Version of the protocol spoken here, reported by `hello`.
pub const PROTOCOL_VERSION: u32 = 1;
