//! The method table: names, parameter schemas, and whether a method only
//! reads. `rpc.discover` returns it; the server checks every request's
//! params against it before anything runs, so a malformed call is refused
//! with −32602 and changes nothing.

use serde_json::{Value, json};

use crate::protocol::RpcError;

/// One parameter of a method.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// JSON type: string, integer, number, boolean, object, array, or any.
    pub kind: &'static str,
    pub required: bool,
    pub doc: &'static str,
}

#[derive(Debug)]
pub struct Method {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    /// Changes nothing (answered without waiting for the game loop where possible).
    pub read_only: bool,
}

const fn p(name: &'static str, kind: &'static str, required: bool, doc: &'static str) -> Param {
    Param {
        name,
        kind,
        required,
        doc,
    }
}

const fn m(
    name: &'static str,
    summary: &'static str,
    params: &'static [Param],
    read_only: bool,
) -> Method {
    Method {
        name,
        summary,
        params,
        read_only,
    }
}

/// Every method, in the order `docs/protocol.md` lists them.
pub const METHODS: &[Method] = &[
    m(
        "hello",
        "Protocol version, engine, tick, frame region and the full param schema",
        &[],
        true,
    ),
    m(
        "auth",
        "Authenticate a TCP connection",
        &[p("token", "string", true, "contents of <name>.token")],
        true,
    ),
    m(
        "rpc.discover",
        "This list of methods with their params",
        &[],
        true,
    ),
    m(
        "params.list",
        "Every param: schema, value, pending value, and the revision",
        &[],
        true,
    ),
    m(
        "params.get",
        "Current values, all or some",
        &[
            p("names", "array", false, "param names (all when omitted)"),
            p("name", "string", false, "one param name"),
        ],
        true,
    ),
    m(
        "params.set",
        "Set one value or many, atomically; reboot-only ones become pending",
        &[
            p("name", "string", false, "one param, with `value`"),
            p("value", "any", false, "its new value"),
            p("values", "object", false, "several: {name: value}"),
            p(
                "if_revision",
                "integer",
                false,
                "only if params.list's revision still equals this",
            ),
        ],
        false,
    ),
    m(
        "params.reset",
        "Back to defaults, one param or all",
        &[p("name", "string", false, "one param (all when omitted)")],
        false,
    ),
    m(
        "params.save",
        "Write current values to the engine's params file (atomically)",
        &[],
        false,
    ),
    m(
        "params.load",
        "Read the engine's params file and apply it (atomically)",
        &[],
        false,
    ),
    m(
        "engine.reboot",
        "Rebuild the world from the scene file, applying pending params",
        &[
            p(
                "keep_progress",
                "boolean",
                false,
                "carry position and flags over (default true)",
            ),
            p(
                "confirm",
                "boolean",
                false,
                "required with keep_progress: false",
            ),
        ],
        false,
    ),
    m(
        "engine.pause",
        "Stop ticking (frames and commands go on)",
        &[],
        false,
    ),
    m("engine.resume", "Tick again", &[], false),
    m(
        "engine.step",
        "Advance N ticks while paused (pauses first if running)",
        &[p("count", "integer", false, "1 to 10000, default 1")],
        false,
    ),
    m(
        "engine.stats",
        "Tick, fps, tick time p50/p99, frames published, clients",
        &[],
        true,
    ),
    m(
        "engine.input",
        "Press, release or tap a game input",
        &[
            p("button", "string", true, "up, down, left, right or action"),
            p(
                "action",
                "string",
                false,
                "press, release or tap (default tap)",
            ),
        ],
        false,
    ),
    m("world.entities", "The player and every NPC", &[], true),
    m(
        "world.get",
        "One entity",
        &[p("id", "string", true, "player or npc:<index>")],
        true,
    ),
    m(
        "world.set",
        "Change an entity's attributes",
        &[
            p("id", "string", true, "player or npc:<index>"),
            p(
                "attrs",
                "object",
                true,
                "e.g. {\"tile\": [10, 12], \"facing\": \"left\"}",
            ),
        ],
        false,
    ),
    m(
        "frame.snapshot",
        "The current frame as PNG bytes in base64",
        &[
            p(
                "scale",
                "integer",
                false,
                "downscale factor 1-16 (default 1)",
            ),
            p(
                "max_width",
                "integer",
                false,
                "downscale until at most this wide",
            ),
        ],
        true,
    ),
    m(
        "events.subscribe",
        "Receive events on topics: params, engine, log, tick, world",
        &[p("topics", "array", false, "topics (all when omitted)")],
        true,
    ),
    m(
        "events.unsubscribe",
        "Stop receiving topics",
        &[p("topics", "array", false, "topics (all when omitted)")],
        true,
    ),
    m("engine.shutdown", "Stop the engine cleanly", &[], false),
];

/// Answered by the server itself, from shared state.
pub const LOCAL: &[&str] = &[
    "hello",
    "auth",
    "rpc.discover",
    "params.list",
    "params.get",
    "engine.stats",
    "events.subscribe",
    "events.unsubscribe",
];

pub fn find(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.name == name)
}

/// `rpc.discover`'s result.
pub fn discover() -> Value {
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "summary": m.summary,
                "read_only": m.read_only,
                "params": m.params.iter().map(|p| json!({
                    "name": p.name, "type": p.kind, "required": p.required, "description": p.doc,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"methods": methods})
}

/// Checks `params` against the method's schema: an object, known members,
/// the right JSON types, required ones present. Unknown methods pass (the
/// caller reports −32601).
pub fn check_params(method: &str, params: &Value) -> Result<(), RpcError> {
    let Some(m) = find(method) else {
        return Ok(());
    };
    let Value::Object(obj) = params else {
        return Err(RpcError::invalid_params(format!(
            "{method} takes named params (an object), not a list"
        )));
    };
    let names = || {
        m.params
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for key in obj.keys() {
        if !m.params.iter().any(|p| p.name == key) {
            return Err(RpcError::invalid_params(if m.params.is_empty() {
                format!("{method} takes no params, but got `{key}`")
            } else {
                format!("{method} has no param `{key}`; it takes: {}", names())
            }));
        }
    }
    for p in m.params {
        match obj.get(p.name) {
            None if p.required => {
                return Err(RpcError::invalid_params(format!(
                    "{method} needs `{}` ({}: {})",
                    p.name, p.kind, p.doc
                )));
            }
            None => {}
            Some(v) if !type_matches(p.kind, v) => {
                return Err(RpcError::invalid_params(format!(
                    "{method}: `{}` must be {} ({}), not {v}",
                    p.name, p.kind, p.doc
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn type_matches(kind: &str, v: &Value) -> bool {
    match kind {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_catch_unknown_missing_and_mistyped_params() {
        check_params("engine.step", &json!({"count": 3})).expect("fine");
        let msg = |m: &str, p: Value| check_params(m, &p).expect_err("refused").message;
        assert!(msg("engine.step", json!({"count": "3"})).contains("`count` must be integer"));
        assert!(
            msg("engine.step", json!({"cuont": 3})).contains("no param `cuont`; it takes: count")
        );
        assert!(msg("world.get", json!({})).contains("needs `id`"));
        assert!(msg("engine.pause", json!({"x": 1})).contains("takes no params"));
        assert!(msg("engine.step", json!([3])).contains("named params"));
        check_params("no.such", &json!({"a": 1})).expect("unknown methods are reported elsewhere");
    }

    #[test]
    fn every_local_method_is_in_the_table() {
        for name in LOCAL {
            assert!(find(name).is_some(), "{name}");
        }
        assert_eq!(
            discover()["methods"].as_array().map(Vec::len),
            Some(METHODS.len())
        );
    }
}
