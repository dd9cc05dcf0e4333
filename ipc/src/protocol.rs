//! The control protocol: JSON-RPC 2.0, one object per line, in UTF-8.
//!
//! Pure functions over bytes and values — no sockets here, so framing and
//! parsing are tested on their own (mini-redis's `frame.rs` style).
//! `docs/protocol.md` is the reference for people.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::api::{Event, method};

pub use crate::api::{PROTOCOL_VERSION, RpcError, codes};

/// Longest accepted line, newline included.
pub const MAX_LINE: usize = 1 << 20;

/// A request id as the client wrote it (a string, a number or null), so
/// the reply echoes it exactly: `18446744073709551616` stays that, not
/// `1.8446744073709552e19`.
#[derive(Debug, Clone)]
pub struct Id(Box<RawValue>);

impl Id {
    /// The id `null`, for replies to requests whose id could not be read.
    pub fn null() -> Id {
        Id(RawValue::from_string("null".to_owned()).expect("null is JSON"))
    }

    /// The id's JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    fn from_value(v: &Value) -> Id {
        Id(serde_json::value::to_raw_value(v).unwrap_or_else(|_| Id::null().0))
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// A parsed request. `id` is `None` for a notification (no reply).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: Option<Id>,
    pub method: String,
    /// `params`, or `{}` when absent.
    pub params: Value,
}

/// Where the next complete line ends in `buf` (index of its `\n`), or
/// `Err` once the line is longer than [`MAX_LINE`] bytes (not counting
/// its `\n`): a line of exactly 1 MiB is allowed, as documented.
/// `Ok(None)`: wait for more bytes.
pub fn find_line(buf: &[u8]) -> Result<Option<usize>, RpcError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) if i <= MAX_LINE => Ok(Some(i)),
        Some(_) => Err(line_too_long()),
        None if buf.len() > MAX_LINE => Err(line_too_long()),
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
pub fn parse_request(line: &[u8]) -> Result<Request, (Option<Id>, RpcError)> {
    let text = std::str::from_utf8(line).map_err(|e| {
        (
            None,
            RpcError::new(
                codes::PARSE_ERROR,
                format!("line is not UTF-8 (bad byte at offset {})", e.valid_up_to()),
            ),
        )
    })?;
    let text = text.trim_end_matches('\r');
    let value: Value = serde_json::from_str(text).map_err(|e| {
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
    let id = id.map(|v| exact_id(text, &v));
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
    // JSON-RPC 2.0: "If present, parameters for the rpc call MUST be
    // provided as a Structured value" — anything else, `null` included,
    // makes the request invalid (not its params).
    let params = match obj.remove("params") {
        None => json!({}),
        Some(p @ (Value::Object(_) | Value::Array(_))) => p,
        Some(other) => {
            return Err(invalid(format!(
                "`params` must be an object or array (or absent), not {other}"
            )));
        }
    };
    Ok(Request { id, method, params })
}

/// The id as written. A number that `Value` holds exactly (any i64 or
/// u64) is kept as parsed; only wider integers and fractions are read
/// again from the text, which costs a second parse of the line.
fn exact_id(text: &str, id: &Value) -> Id {
    if let Value::Number(n) = id
        && n.as_i64().is_none()
        && n.as_u64().is_none()
    {
        #[derive(serde::Deserialize)]
        struct RawId {
            id: Box<RawValue>,
        }
        if let Ok(raw) = serde_json::from_str::<RawId>(text) {
            return Id(raw.id);
        }
    }
    Id::from_value(id)
}

#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    jsonrpc: &'static str,
    id: &'a Id,
    tick: u64,
    result: &'a T,
}

/// A success reply line, stamped with the engine tick. The result is
/// serialised straight into the line (no intermediate JSON value).
pub fn response<T: Serialize>(id: &Id, tick: u64, result: &T) -> String {
    let mut s = serde_json::to_string(&Success {
        jsonrpc: "2.0",
        id,
        tick,
        result,
    })
    .unwrap_or_else(|e| {
        let err = RpcError::new(
            codes::INTERNAL_ERROR,
            format!("reply not serialisable: {e}"),
        );
        error_response(Some(id), tick, &err).trim_end().to_owned()
    });
    s.push('\n');
    s
}

/// An error reply line, stamped with the engine tick; `id` null when the
/// request's id could not be read.
pub fn error_response(id: Option<&Id>, tick: u64, error: &RpcError) -> String {
    #[derive(Serialize)]
    struct Failure<'a> {
        jsonrpc: &'static str,
        id: Option<&'a Id>,
        tick: u64,
        error: &'a RpcError,
    }
    let mut s = serde_json::to_string(&Failure {
        jsonrpc: "2.0",
        id,
        tick,
        error,
    })
    .expect("an error reply is always serialisable");
    s.push('\n');
    s
}

/// An event notification line.
pub fn event(event: &Event, tick: u64) -> String {
    let (topic, kind, data) = event.encode(tick);
    line(&json!({
        "jsonrpc": "2.0",
        "method": method::EVENT,
        "params": {"topic": topic, "event": kind, "tick": tick, "data": data},
    }))
}

/// A notification line of `method` with `params` (a `frame`, …).
pub fn notification<T: Serialize>(method: &str, tick: u64, params: &T) -> String {
    line(&json!({
        "jsonrpc": "2.0",
        "method": method,
        "tick": tick,
        "params": params,
    }))
}

fn line(v: &Value) -> String {
    let mut s = v.to_string();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_found_only_when_complete() {
        assert_eq!(find_line(b"{\"a\":1}"), Ok(None));
        assert_eq!(find_line(b"{}\n{}"), Ok(Some(2)));
        // Exactly 1 MiB is allowed (docs/protocol.md: "over 1 MiB" is not).
        let mut full = vec![b'x'; MAX_LINE];
        assert_eq!(find_line(&full), Ok(None), "still waiting for its newline");
        full.push(b'\n');
        assert_eq!(find_line(&full), Ok(Some(MAX_LINE)));
        let over = vec![b'x'; MAX_LINE + 1];
        assert_eq!(
            find_line(&over).map_err(|e| e.code),
            Err(codes::LINE_TOO_LONG)
        );
        let mut over_with_newline = over.clone();
        over_with_newline.push(b'\n');
        assert_eq!(
            find_line(&over_with_newline).map_err(|e| e.code),
            Err(codes::LINE_TOO_LONG)
        );
    }

    #[test]
    fn requests_parse_with_defaults() {
        let r = parse_request(br#"{"jsonrpc":"2.0","id":7,"method":"hello"}"#).expect("valid");
        assert_eq!(r.id.as_ref().map(Id::get), Some("7"));
        assert_eq!(r.method, method::HELLO);
        assert_eq!(r.params, json!({}));
        let n = parse_request(br#"{"jsonrpc":"2.0","method":"game.jump","params":{}}"#)
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
    }

    #[test]
    fn params_that_are_not_structured_make_the_request_invalid_and_keep_the_id() {
        for params in ["3", "\"x\"", "true", "null"] {
            let line = format!(r#"{{"jsonrpc":"2.0","id":"a","method":"x","params":{params}}}"#);
            let (id, err) = parse_request(line.as_bytes()).expect_err("not structured");
            assert_eq!(err.code, codes::INVALID_REQUEST, "{params}");
            assert_eq!(id.as_ref().map(Id::get), Some("\"a\""), "{params}");
        }
        // No usable id: the reply's id is null.
        let (id, err) = parse_request(br#"{"jsonrpc":"2.0","id":{},"method":"x","params":5}"#)
            .expect_err("bad id");
        assert_eq!((id, err.code), (None, codes::INVALID_REQUEST));
        let reply: Value =
            serde_json::from_str(&error_response(None, 0, &err)).expect("reply is JSON");
        assert_eq!(reply["id"], Value::Null);
    }

    #[test]
    fn ids_are_echoed_exactly_as_written() {
        for id in [
            "18446744073709551616",
            "-99999999999999999999999",
            "1.5",
            "0.1000000000000000000001",
            "7",
            "\"x-1\"",
            "null",
        ] {
            let line = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"hello"}}"#);
            let r = parse_request(line.as_bytes()).expect("valid");
            let reply = response(r.id.as_ref().expect("has an id"), 1, &json!({}));
            assert!(
                reply.starts_with(&format!(r#"{{"jsonrpc":"2.0","id":{id},"#)),
                "{id} → {reply}"
            );
            let err = error_response(r.id.as_ref(), 1, &RpcError::failed("x"));
            assert!(err.contains(&format!(r#""id":{id},"#)), "{id} → {err}");
        }
    }

    #[test]
    fn replies_and_events_carry_the_tick() {
        let ok: Value =
            serde_json::from_str(&response(&Id::null(), 42, &json!({"x": 1}))).expect("json");
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
        let ev: Value = serde_json::from_str(&event(&Event::Paused, 9)).expect("json");
        assert_eq!(ev["params"]["tick"], 9);
        assert_eq!(ev["params"]["topic"], "engine");
        assert!(ev.get("id").is_none(), "events are notifications");
    }
}
