//! The control protocol: JSON-RPC 2.0, one object per line, in UTF-8.
//!
//! Pure functions over bytes and values — no sockets here, so framing and
//! parsing are tested on their own (mini-redis's `frame.rs` style).
//! `docs/protocol.md` is the reference for people.

use serde::Serialize;
use serde_json::{Value, json};

/// Version of the protocol spoken here, reported by `hello`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest accepted line, newline included.
pub const MAX_LINE: usize = 1 << 20;

/// Every error code, JSON-RPC's own and advkit's (−32000 to −32099).
pub mod codes {
    /// Not JSON, or not UTF-8.
    pub const PARSE_ERROR: i64 = -32700;
    /// JSON, but not a request object.
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// A TCP connection must `auth` first.
    pub const AUTH_REQUIRED: i64 = -32000;
    /// The engine's mailbox is full; retry shortly.
    pub const BUSY: i64 = -32001;
    /// `if_revision` did not match: someone else changed params first.
    pub const CONFLICT: i64 = -32002;
    /// A destructive call needs `confirm: true`.
    pub const CONFIRM_REQUIRED: i64 = -32003;
    /// A line longer than [`MAX_LINE`](super::MAX_LINE); the connection closes.
    pub const LINE_TOO_LONG: i64 = -32004;
    /// The connection cap is reached; the connection closes.
    pub const TOO_MANY_CONNECTIONS: i64 = -32005;
    /// The engine is shutting down or its loop has stopped.
    pub const ENGINE_GONE: i64 = -32006;
    /// The request was understood but failed (a file could not be written…).
    pub const FAILED: i64 = -32007;
    /// Wrong token.
    pub const AUTH_FAILED: i64 = -32008;
}

/// An error reply: a code from [`codes`], a message a person can act on,
/// and optional data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
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

    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }

    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(codes::INVALID_PARAMS, message)
    }

    pub fn method_not_found(method: &str) -> RpcError {
        RpcError::new(
            codes::METHOD_NOT_FOUND,
            format!("unknown method `{method}`; `rpc.discover` lists them all"),
        )
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}

/// A parsed request. `id` is `None` for a notification (no reply).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: Option<Value>,
    pub method: String,
    /// `params`, or `{}` when absent.
    pub params: Value,
}

/// Where the next complete line ends in `buf` (index of its `\n`), or
/// `Err` if `buf` already holds more than [`MAX_LINE`] bytes with no
/// newline. `Ok(None)`: wait for more bytes.
pub fn find_line(buf: &[u8]) -> Result<Option<usize>, RpcError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) if i < MAX_LINE => Ok(Some(i)),
        Some(_) => Err(line_too_long()),
        None if buf.len() >= MAX_LINE => Err(line_too_long()),
        None => Ok(None),
    }
}

fn line_too_long() -> RpcError {
    RpcError::new(
        codes::LINE_TOO_LONG,
        format!("line longer than {MAX_LINE} bytes; the connection will be closed"),
    )
}

/// Parses one line (without its `\n`). On error, also returns the id if one
/// could be read, so the error reply can carry it.
pub fn parse_request(line: &[u8]) -> Result<Request, (Option<Value>, RpcError)> {
    let text = std::str::from_utf8(line).map_err(|e| {
        (
            None,
            RpcError::new(
                codes::PARSE_ERROR,
                format!("line is not UTF-8 (bad byte at offset {})", e.valid_up_to()),
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text.trim_end_matches('\r')).map_err(|e| {
        (
            None,
            RpcError::new(codes::PARSE_ERROR, format!("invalid JSON: {e}")),
        )
    })?;
    let Value::Object(mut obj) = value else {
        let what = if value.is_array() {
            "a batch (array); send one request object per line"
        } else {
            "not an object"
        };
        return Err((
            None,
            RpcError::new(codes::INVALID_REQUEST, format!("request is {what}")),
        ));
    };
    let id = obj.remove("id");
    if let Some(bad) = id
        .as_ref()
        .filter(|v| !(v.is_string() || v.is_number() || v.is_null()))
    {
        return Err((
            None,
            RpcError::new(
                codes::INVALID_REQUEST,
                format!("`id` must be a string, number or null, not {bad}"),
            ),
        ));
    }
    let invalid = |msg: String| (id.clone(), RpcError::new(codes::INVALID_REQUEST, msg));
    match obj.get("jsonrpc") {
        Some(Value::String(v)) if v == "2.0" => {}
        _ => return Err(invalid("`jsonrpc` must be \"2.0\"".into())),
    }
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        Some(other) => return Err(invalid(format!("`method` must be a string, not {other}"))),
        None => return Err(invalid("`method` is missing".into())),
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => json!({}),
        Some(p @ (Value::Object(_) | Value::Array(_))) => p,
        Some(other) => {
            return Err((
                id,
                RpcError::invalid_params(format!(
                    "`params` must be an object or array, not {other}"
                )),
            ));
        }
    };
    Ok(Request { id, method, params })
}

/// A success reply line, stamped with the engine tick.
pub fn response(id: &Value, tick: u64, result: &Value) -> String {
    line(&json!({"jsonrpc": "2.0", "id": id, "tick": tick, "result": result}))
}

/// An error reply line, stamped with the engine tick.
pub fn error_response(id: Option<&Value>, tick: u64, error: &RpcError) -> String {
    line(&json!({"jsonrpc": "2.0", "id": id.unwrap_or(&Value::Null), "tick": tick, "error": error}))
}

/// An event notification line.
pub fn event(topic: &str, kind: &str, tick: u64, data: &Value) -> String {
    line(&json!({
        "jsonrpc": "2.0",
        "method": "event",
        "params": {"topic": topic, "event": kind, "tick": tick, "data": data},
    }))
}

fn line(v: &Value) -> String {
    let mut s = v.to_string();
    s.push('\n');
    s
}

/// Event topics a client can subscribe to.
pub const TOPICS: [&str; 5] = ["params", "engine", "log", "tick", "world"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_found_only_when_complete() {
        assert_eq!(find_line(b"{\"a\":1}"), Ok(None));
        assert_eq!(find_line(b"{}\n{}"), Ok(Some(2)));
        let long = vec![b'x'; MAX_LINE];
        assert_eq!(
            find_line(&long).map_err(|e| e.code),
            Err(codes::LINE_TOO_LONG)
        );
        let mut almost = vec![b'x'; MAX_LINE - 1];
        almost.push(b'\n');
        assert_eq!(find_line(&almost), Ok(Some(MAX_LINE - 1)));
    }

    #[test]
    fn requests_parse_with_defaults() {
        let r = parse_request(br#"{"jsonrpc":"2.0","id":7,"method":"hello"}"#).expect("valid");
        assert_eq!(r.id, Some(json!(7)));
        assert_eq!(r.method, "hello");
        assert_eq!(r.params, json!({}));
        let n = parse_request(br#"{"jsonrpc":"2.0","method":"engine.pause","params":{}}"#)
            .expect("notification");
        assert_eq!(n.id, None);
    }

    #[test]
    fn bad_lines_get_the_right_codes_and_keep_the_id() {
        let code = |line: &[u8]| parse_request(line).expect_err("bad").1.code;
        assert_eq!(code(b"not json"), codes::PARSE_ERROR);
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"h\xff\"}"),
            codes::PARSE_ERROR
        );
        assert_eq!(code(b"[1,2]"), codes::INVALID_REQUEST);
        assert_eq!(code(b"42"), codes::INVALID_REQUEST);
        assert_eq!(
            code(br#"{"id":1,"method":"hello"}"#),
            codes::INVALID_REQUEST
        );
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":1,"method":5}"#),
            codes::INVALID_REQUEST
        );
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#),
            codes::INVALID_REQUEST
        );
        let (id, err) = parse_request(br#"{"jsonrpc":"2.0","id":"a","method":"x","params":3}"#)
            .expect_err("bad params");
        assert_eq!((id, err.code), (Some(json!("a")), codes::INVALID_PARAMS));
    }

    #[test]
    fn replies_and_events_carry_the_tick() {
        let ok: Value =
            serde_json::from_str(&response(&json!(1), 42, &json!({"x": 1}))).expect("json");
        assert_eq!(ok["tick"], 42);
        assert_eq!(ok["result"]["x"], 1);
        let err: Value = serde_json::from_str(&error_response(
            None,
            3,
            &RpcError::method_not_found("nope"),
        ))
        .expect("json");
        assert_eq!(err["error"]["code"], -32601);
        assert_eq!(err["id"], Value::Null);
        let ev: Value =
            serde_json::from_str(&event("engine", "paused", 9, &json!({}))).expect("json");
        assert_eq!(ev["params"]["tick"], 9);
        assert!(ev.get("id").is_none(), "events are notifications");
    }
}
