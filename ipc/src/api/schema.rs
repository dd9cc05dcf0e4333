//! How a method is described (`rpc.discover`) and how its params are
//! checked: the server refuses a call whose params do not fit — an unknown
//! member, a missing one, a wrong JSON type, a number out of range — with
//! −32602 naming the param, before the game loop sees it.
//!
//! A game describes its own methods the same way:
//!
//! ```
//! use advkit_ipc::api::{MethodSpec, ParamSpec, ParamType};
//! let spec = MethodSpec::new("life.seed", "Scatter live cells at random")
//!     .param(ParamSpec::new("density", ParamType::Number, "share of live cells").range(0.0, 1.0).required());
//! assert!(spec.check(&serde_json::json!({"density": 2})).is_err());
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::RpcError;
use super::method;
use super::tier::Tier;

/// A param's JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    Any,
}

impl ParamType {
    fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Object => "object",
            ParamType::Array => "array",
            ParamType::Any => "any",
        }
    }

    fn matches(self, v: &Value) -> bool {
        match self {
            ParamType::String => v.is_string(),
            ParamType::Integer => v.is_i64() || v.is_u64(),
            ParamType::Number => v.is_number(),
            ParamType::Boolean => v.is_boolean(),
            ParamType::Object => v.is_object(),
            ParamType::Array => v.is_array(),
            ParamType::Any => true,
        }
    }
}

/// One param of a method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    pub required: bool,
    pub description: String,
    /// Inclusive bounds, for integer and number params.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl ParamSpec {
    /// An optional param; see [`required`](Self::required) and [`range`](Self::range).
    pub fn new(name: &str, kind: ParamType, description: &str) -> ParamSpec {
        ParamSpec {
            name: name.to_owned(),
            kind,
            required: false,
            description: description.to_owned(),
            min: None,
            max: None,
        }
    }

    pub fn required(mut self) -> ParamSpec {
        self.required = true;
        self
    }

    pub fn range(mut self, min: f64, max: f64) -> ParamSpec {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    fn allowed(&self) -> String {
        let mut s = self.kind.name().to_owned();
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => s.push_str(&format!(" from {lo} to {hi}")),
            (Some(lo), None) => s.push_str(&format!(" of at least {lo}")),
            (None, Some(hi)) => s.push_str(&format!(" of at most {hi}")),
            (None, None) => {}
        }
        s
    }
}

/// A method as `rpc.discover` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodSpec {
    pub name: String,
    pub summary: String,
    /// Changes nothing in the game (a recorder can skip it).
    pub read_only: bool,
    /// The least a connection's token must allow to call it.
    #[serde(default = "admin")]
    pub tier: Tier,
    pub params: Vec<ParamSpec>,
}

fn admin() -> Tier {
    Tier::Admin
}

impl MethodSpec {
    /// A method that changes the game and takes no params yet.
    pub fn new(name: &str, summary: &str) -> MethodSpec {
        MethodSpec {
            name: name.to_owned(),
            summary: summary.to_owned(),
            read_only: false,
            tier: Tier::of_standard(name).unwrap_or(Tier::Admin),
            params: Vec::new(),
        }
    }

    pub fn param(mut self, p: ParamSpec) -> MethodSpec {
        self.params.push(p);
        self
    }

    /// The method only reads.
    /// The method only reads; a game's own read-only method is then
    /// open to `observe` tokens (unless given a tier).
    pub fn read_only(mut self) -> MethodSpec {
        self.read_only = true;
        if Tier::of_standard(&self.name).is_none() {
            self.tier = Tier::Observe;
        }
        self
    }

    /// The least a token must allow to call it (see [`Tier`]).
    pub fn tier(mut self, tier: Tier) -> MethodSpec {
        self.tier = tier;
        self
    }

    /// Checks `params` against this schema: an object, known members, the
    /// right JSON types, numbers in range, required ones present.
    pub fn check(&self, params: &Value) -> Result<(), RpcError> {
        let method = &self.name;
        let Value::Object(obj) = params else {
            return Err(RpcError::invalid_params(format!(
                "{method} takes named params (an object), not {params}"
            )));
        };
        for key in obj.keys() {
            if !self.params.iter().any(|p| &p.name == key) {
                let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(RpcError::invalid_params(if names.is_empty() {
                    format!("{method} takes no params, but got `{key}`")
                } else {
                    format!(
                        "{method} has no param `{key}`; it takes: {}",
                        names.join(", ")
                    )
                }));
            }
        }
        for p in &self.params {
            match obj.get(&p.name) {
                None if p.required => {
                    return Err(RpcError::invalid_params(format!(
                        "{method} needs `{}` ({}: {})",
                        p.name,
                        p.allowed(),
                        p.description
                    )));
                }
                None => {}
                Some(v) if !p.kind.matches(v) || !in_range(p, v) => {
                    return Err(RpcError::invalid_params(format!(
                        "{method}: `{}` must be {} ({}), not {v}",
                        p.name,
                        p.allowed(),
                        p.description
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

fn in_range(p: &ParamSpec, v: &Value) -> bool {
    let Some(x) = v.as_f64() else {
        return true;
    };
    p.min.is_none_or(|lo| x >= lo) && p.max.is_none_or(|hi| x <= hi)
}

fn req(name: &str, kind: ParamType, doc: &str) -> ParamSpec {
    ParamSpec::new(name, kind, doc).required()
}

fn opt(name: &str, kind: ParamType, doc: &str) -> ParamSpec {
    ParamSpec::new(name, kind, doc)
}

/// The methods every [`Host`](crate::Host) answers itself, whatever the game.
pub fn host_methods() -> Vec<MethodSpec> {
    use ParamType::*;
    let topics = "topics: params, engine, log, tick, world (all when omitted)";
    vec![
        MethodSpec::new(
            method::HELLO,
            "Protocol version, engine, tick, frame region, methods and the full param schema",
        )
        .read_only(),
        MethodSpec::new(method::AUTH, "Authenticate a TCP connection")
            .param(req("token", String, "contents of <name>.token"))
            .read_only(),
        MethodSpec::new(
            method::DISCOVER,
            "The methods this engine answers, with their params",
        )
        .read_only(),
        MethodSpec::new(
            method::PARAMS_LIST,
            "Every param: schema, value, pending value, and the revision",
        )
        .read_only(),
        MethodSpec::new(method::PARAMS_GET, "Current values, all or some")
            .param(opt("names", Array, "param names (all when omitted)"))
            .param(opt("name", String, "one param name"))
            .read_only(),
        MethodSpec::new(
            method::PARAMS_SET,
            "Set one value or many, atomically; reboot-only ones become pending",
        )
        .param(opt("name", String, "one param, with `value`"))
        .param(opt("value", Any, "its new value"))
        .param(opt("values", Object, "several: {name: value}"))
        .param(opt(
            "if_revision",
            Integer,
            "only if params.list's revision still equals this",
        ))
        .param(opt(
            "from_text",
            Boolean,
            "values are command-line text (`on`, `pixel`, `a,b`) for the engine to parse",
        )),
        MethodSpec::new(method::PARAMS_RESET, "Back to defaults, one param or all").param(opt(
            "name",
            String,
            "one param (all when omitted)",
        )),
        MethodSpec::new(
            method::PARAMS_SAVE,
            "Write current values to the engine's params file (atomically)",
        ),
        MethodSpec::new(
            method::PARAMS_LOAD,
            "Read the engine's params file and apply it (atomically)",
        ),
        MethodSpec::new(method::PAUSE, "Stop ticking (frames and commands go on)"),
        MethodSpec::new(method::RESUME, "Tick again"),
        MethodSpec::new(
            method::STEP,
            "Advance N ticks while paused (pauses first if running)",
        )
        .param(opt("count", Integer, "ticks to advance, default 1").range(1.0, 10_000.0)),
        MethodSpec::new(
            method::STATS,
            "Tick, fps, tick time p50/p99, frames published, clients",
        )
        .read_only(),
        MethodSpec::new(method::SNAPSHOT, "The current frame as PNG bytes in base64")
            .param(opt("scale", Integer, "downscale factor, default 1").range(1.0, 16.0))
            .param(
                opt("max_width", Integer, "downscale until at most this wide")
                    .range(1.0, f64::from(u32::MAX)),
            )
            .read_only(),
        MethodSpec::new(method::SUBSCRIBE, "Receive events on topics")
            .param(opt("topics", Array, topics))
            .read_only(),
        MethodSpec::new(method::UNSUBSCRIBE, "Stop receiving topics")
            .param(opt("topics", Array, topics))
            .read_only(),
        MethodSpec::new(
            method::FRAMES_SUBSCRIBE,
            "Receive the newest frames on this connection as `frame` notifications, \
             zstd-compressed deltas, each sent once the ones before it are acknowledged",
        )
        .param(opt("max_fps", Number, "frames a second at most (default 30)").range(0.1, 240.0))
        .param(
            opt("window", Integer, "frames sent and not yet acknowledged, at most (default 2)")
                .range(1.0, 16.0),
        )
        .param(
            opt("bits", Integer, "bits kept per colour channel (default 8)").range(1.0, 8.0),
        )
        .param(opt(
            "size",
            Array,
            "[width, height] to send frames at, area-averaged down (default: the engine's)",
        ))
        .read_only(),
        MethodSpec::new(method::FRAMES_ACK, "Frame `seq` (and those before it) arrived")
            .param(req("seq", Integer, "the seq of the newest frame decoded").range(0.0, 9.0e15))
            .read_only(),
        MethodSpec::new(method::FRAMES_UNSUBSCRIBE, "Stop receiving frames").read_only(),
        MethodSpec::new(method::SHUTDOWN, "Stop the engine cleanly"),
        MethodSpec::new(
            method::HISTORY,
            "What the history holds: oldest and newest tick, keyframes, bytes (needs world.save/world.load)",
        )
        .read_only(),
        MethodSpec::new(
            method::SEEK,
            "Rewind or fast-forward inside the history and pause there; the frame is checked against the one shown live",
        )
        .param(opt("tick", Integer, "the tick to show").range(0.0, 9e15))
        .param(opt("by", Integer, "ticks from the one shown now; negative goes back")),
        MethodSpec::new(
            method::RUN_UNTIL,
            "Run as fast as the game steps until a condition holds, and pause there",
        )
        .param(req(
            "condition",
            String,
            "e.g. player.hp < 10, door.open changed, log ~ \"bridge\", frame changed (docs/debugging.md)",
        ))
        .param(opt("max_ticks", Integer, "give up after this many ticks (default 100000)").range(1.0, 1e9)),
        MethodSpec::new(
            method::WATCH,
            "Watchpoints: conditions checked every tick that pause the engine when they hold",
        )
        .param(opt("add", String, "a condition to watch"))
        .param(opt("remove", Integer, "the id of a watchpoint to remove"))
        .read_only(),
        MethodSpec::new(
            method::WORLD_DIFF,
            "The world's difference between two ticks of the history: entities added, removed, attributes changed",
        )
        .param(req("from", Integer, "a tick in the history").range(0.0, 9e15))
        .param(req("to", Integer, "a tick in the history").range(0.0, 9e15))
        .read_only(),
    ]
}

/// A standard game method by name (`engine.reboot`, `engine.input`,
/// `world.entities`, `world.get`, `world.set`, `world.save`, `world.load`), for a game that answers it
/// to register; `None` for any other name.
pub fn game_method(name: &str) -> Option<MethodSpec> {
    use ParamType::*;
    let id = || req("id", String, "an entity id, as world.entities lists them");
    Some(match name {
        method::REBOOT => {
            MethodSpec::new(method::REBOOT, "Rebuild the world, applying pending params")
                .param(opt(
                    "keep_progress",
                    Boolean,
                    "carry the player's progress over (default true)",
                ))
                .param(opt(
                    "confirm",
                    Boolean,
                    "required with keep_progress: false",
                ))
        }
        method::INPUT => MethodSpec::new(method::INPUT, "Press, release or tap a game input")
            .param(req("button", String, "up, down, left, right or action"))
            .param(opt("action", String, "press, release or tap (default tap)")),
        method::ENTITIES => {
            MethodSpec::new(method::ENTITIES, "Every entity in the world").read_only()
        }
        method::WORLD_GET => MethodSpec::new(method::WORLD_GET, "One entity")
            .param(id())
            .read_only(),
        method::WORLD_SET => MethodSpec::new(method::WORLD_SET, "Change an entity's attributes")
            .param(id())
            .param(req(
                "attrs",
                Object,
                "attributes to change, e.g. {\"tile\": [10, 12]}",
            )),
        method::WORLD_PICK => MethodSpec::new(
            method::WORLD_PICK,
            "What is at a pixel of the frame: the game's own answer, e.g. the tile there",
        )
        .param(req("x", Integer, "frame pixel, from the left").range(0.0, f64::from(u32::MAX)))
        .param(req("y", Integer, "frame pixel, from the top").range(0.0, f64::from(u32::MAX)))
        .read_only(),
        method::WORLD_SAVE => MethodSpec::new(
            method::WORLD_SAVE,
            "The game's whole state and its tick, for world.load (advkit record --from-now)",
        )
        .read_only(),
        method::WORLD_LOAD => MethodSpec::new(
            method::WORLD_LOAD,
            "Go back to a state world.save gave; nothing changes if it does not fit",
        )
        .param(req("state", Object, "what world.save answered as `state`")),
        _ => return None,
    })
}

/// Every standard game method's name.
pub const GAME_METHODS: [&str; 8] = [
    method::REBOOT,
    method::INPUT,
    method::ENTITIES,
    method::WORLD_GET,
    method::WORLD_SET,
    method::WORLD_PICK,
    method::WORLD_SAVE,
    method::WORLD_LOAD,
];

/// The host's methods plus a game's, each name once (standard game methods
/// first in their usual order, then the game's own); `Err` names a method
/// the game gives that the host already has.
pub(crate) fn with_game_methods(game: &[MethodSpec]) -> Result<Vec<MethodSpec>, String> {
    let mut all = host_methods();
    let host_count = all.len();
    for m in game {
        if all.iter().any(|a| a.name == m.name) {
            return Err(m.name.clone());
        }
        all.push(m.clone());
    }
    let rank = |m: &MethodSpec| {
        GAME_METHODS
            .iter()
            .position(|g| *g == m.name)
            .map_or(1, |_| 0)
    };
    all[host_count..].sort_by_key(rank);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str) -> MethodSpec {
        host_methods()
            .into_iter()
            .chain(GAME_METHODS.iter().filter_map(|n| game_method(n)))
            .find(|m| m.name == name)
            .expect("a built-in method")
    }

    #[test]
    fn schemas_catch_unknown_missing_mistyped_and_out_of_range_params() {
        let step = spec(method::STEP);
        step.check(&json!({"count": 3})).expect("fine");
        let msg = |m: &MethodSpec, p: Value| m.check(&p).expect_err("refused").message;
        assert!(msg(&step, json!({"count": "3"})).contains("`count` must be integer"));
        assert!(msg(&step, json!({"count": 0})).contains("from 1 to 10000"));
        assert!(msg(&step, json!({"cuont": 3})).contains("no param `cuont`; it takes: count"));
        assert!(msg(&spec(method::WORLD_GET), json!({})).contains("needs `id`"));
        assert!(msg(&spec(method::PAUSE), json!({"x": 1})).contains("takes no params"));
        assert!(msg(&step, json!([3])).contains("named params"));
        assert!(msg(&spec(method::SNAPSHOT), json!({"scale": -1})).contains("from 1 to 16"));
    }

    #[test]
    fn names_are_unique_and_specs_serialise_as_discover_shows_them() {
        let all: Vec<MethodSpec> = host_methods()
            .into_iter()
            .chain(GAME_METHODS.iter().filter_map(|n| game_method(n)))
            .collect();
        let mut names: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        let v = serde_json::to_value(spec(method::STEP)).expect("json");
        assert_eq!(v["params"][0]["type"], "integer");
        assert_eq!(v["params"][0]["max"], 10000.0);
        assert_eq!(v["read_only"], false);
    }
}
