//! Errors as they travel: `{code, message, data}`. Clients act on `code`
//! and `data`; `message` is for people.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every error code, JSON-RPC's own and advkit's (−32000 to −32099).
pub mod codes {
    /// Not JSON, or not UTF-8.
    pub const PARSE_ERROR: i64 = -32700;
    /// JSON, but not a request object.
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    /// A bug, or a game's handler that failed without saying why.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// A TCP connection must `auth` first.
    pub const AUTH_REQUIRED: i64 = -32000;
    /// The engine's mailbox is full; retry shortly.
    pub const BUSY: i64 = -32001;
    /// `if_revision` did not match: someone else changed params first.
    /// `data`: [`ConflictData`](crate::api::ConflictData).
    pub const CONFLICT: i64 = -32002;
    /// A destructive call needs `confirm: true`. `data`:
    /// [`ConfirmData`](crate::api::ConfirmData).
    pub const CONFIRM_REQUIRED: i64 = -32003;
    /// A line longer than [`MAX_LINE`](crate::protocol::MAX_LINE); the connection closes.
    pub const LINE_TOO_LONG: i64 = -32004;
    /// The connection cap is reached; the connection closes.
    pub const TOO_MANY_CONNECTIONS: i64 = -32005;
    /// The engine is shutting down or its loop has stopped.
    pub const ENGINE_GONE: i64 = -32006;
    /// The request was understood but failed (a file could not be written…).
    pub const FAILED: i64 = -32007;
    /// Wrong token.
    pub const AUTH_FAILED: i64 = -32008;
    /// The connection did not authenticate in time, sent a line too
    /// slowly, or was idle too long; it closes.
    pub const TIMED_OUT: i64 = -32009;
    /// The engine keeps no history: the game does not answer `world.save`
    /// and `world.load`, or history is off (`--history 0`).
    pub const NO_HISTORY: i64 = -32010;
    /// Re-simulating the past gave another frame than the one shown live:
    /// the game is not deterministic. `data`:
    /// [`NotDeterministicData`](crate::api::NotDeterministicData).
    pub const NOT_DETERMINISTIC: i64 = -32011;
    /// The connection's token does not allow the method. `data`:
    /// `{"needs": tier, "holds": tier}`.
    pub const FORBIDDEN: i64 = -32012;
}

/// An error reply: a code from [`codes`], a message a person can act on,
/// and optional structured data for programs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches `data`, any serialisable value (a typed struct from
    /// [`types`](super::types) where one exists).
    pub fn with_data(mut self, data: impl Serialize) -> RpcError {
        self.data = serde_json::to_value(data).ok();
        self
    }

    /// `data` as a typed struct, if it is one.
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.data.clone()?).ok()
    }

    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(codes::INVALID_PARAMS, message)
    }

    pub fn failed(message: impl Into<String>) -> RpcError {
        RpcError::new(codes::FAILED, message)
    }

    pub fn method_not_found(method: &str) -> RpcError {
        RpcError::new(
            codes::METHOD_NOT_FOUND,
            format!("unknown method `{method}`; `rpc.discover` lists what this engine answers"),
        )
    }

    pub fn engine_gone(message: impl Into<String>) -> RpcError {
        RpcError::new(codes::ENGINE_GONE, message)
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}
