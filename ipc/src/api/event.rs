//! Events: notifications pushed to subscribed connections,
//! `{"jsonrpc":"2.0","method":"event","params":{"topic","event","tick","data"}}`.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::types::{ParamsChange, RebootResult};

/// What a client subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topic {
    /// A param changed, was reset or loaded.
    Params,
    /// Paused, resumed, stepped, rebooting, rebooted, shutdown, lagged,
    /// a watchpoint fired, a seek arrived.
    Engine,
    /// Lines of text from the engine.
    Log,
    /// Every published frame.
    Tick,
    /// The game's own happenings, and entity changes.
    World,
    /// Every request that changed the game's course (inputs, reboots,
    /// entity edits, the game's mutating methods), once the game loop
    /// applied it: what `advkit record` replays.
    Applied,
}

impl Topic {
    pub const ALL: [Topic; 6] = [
        Topic::Params,
        Topic::Engine,
        Topic::Log,
        Topic::Tick,
        Topic::World,
        Topic::Applied,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Topic::Params => "params",
            Topic::Engine => "engine",
            Topic::Log => "log",
            Topic::Tick => "tick",
            Topic::World => "world",
            Topic::Applied => "applied",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == s)
    }

    /// "params, engine, log, tick, world, applied"
    pub fn list() -> String {
        Topic::ALL.map(Topic::name).join(", ")
    }
}

/// How params changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamsHow {
    Changed,
    Reset,
    Loaded,
}

/// Every event, typed. Games add theirs as [`Event::World`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Params {
        how: ParamsHow,
        change: ParamsChange,
    },
    Paused,
    Resumed,
    Stepped {
        count: u64,
    },
    Rebooting {
        keep_progress: bool,
    },
    Rebooted(RebootResult),
    Shutdown,
    /// This connection read too slowly and `missed` events were dropped.
    Lagged {
        missed: u64,
    },
    Log {
        message: String,
    },
    /// A frame was published.
    Tick,
    /// The game's own: `kind` is `event` for happenings in the world,
    /// `changed` for an entity changed through `world.set`.
    World {
        kind: String,
        data: Json,
    },
    /// A request of the game's own that changed its course was applied
    /// (answered without error) at the event's tick, before the next
    /// update: `method` and `params` as they can be sent again.
    Applied {
        method: String,
        params: Json,
        /// The connection that sent it.
        by: u64,
    },
    /// A watchpoint held at the event's tick and paused the engine.
    Watch {
        id: u64,
        condition: String,
        /// What the condition read, by term.
        values: serde_json::Map<String, Json>,
    },
    /// `engine.seek` reached the event's tick; `future` ticks of this
    /// branch lie after it.
    Seeked {
        tick: u64,
        future: u64,
    },
    /// An event this version does not know (from a newer engine).
    Other {
        topic: String,
        kind: String,
        data: Json,
    },
}

impl Event {
    /// The topic it is sent on; `None` for [`Event::Other`] of an unknown topic.
    pub fn topic(&self) -> Option<Topic> {
        Some(match self {
            Event::Params { .. } => Topic::Params,
            Event::Paused
            | Event::Resumed
            | Event::Stepped { .. }
            | Event::Rebooting { .. }
            | Event::Rebooted(_)
            | Event::Shutdown
            | Event::Lagged { .. }
            | Event::Watch { .. }
            | Event::Seeked { .. } => Topic::Engine,
            Event::Log { .. } => Topic::Log,
            Event::Tick => Topic::Tick,
            Event::World { .. } => Topic::World,
            Event::Applied { .. } => Topic::Applied,
            Event::Other { topic, .. } => return Topic::parse(topic),
        })
    }

    /// `(topic, event, data)` as they travel, at `tick`.
    pub fn encode(&self, tick: u64) -> (String, String, Json) {
        let topic = match self {
            Event::Other { topic, .. } => topic.clone(),
            _ => self.topic().map_or("", Topic::name).to_owned(),
        };
        let (kind, data): (&str, Json) = match self {
            Event::Params { how, change } => (
                match how {
                    ParamsHow::Changed => "changed",
                    ParamsHow::Reset => "reset",
                    ParamsHow::Loaded => "loaded",
                },
                serde_json::to_value(change).unwrap_or(Json::Null),
            ),
            Event::Paused => ("paused", json!({"tick": tick})),
            Event::Resumed => ("resumed", json!({"tick": tick})),
            Event::Stepped { count } => ("stepped", json!({"count": count, "tick": tick})),
            Event::Rebooting { keep_progress } => {
                ("rebooting", json!({"keep_progress": keep_progress}))
            }
            Event::Rebooted(r) => ("rebooted", serde_json::to_value(r).unwrap_or(Json::Null)),
            Event::Shutdown => ("shutdown", json!({})),
            Event::Lagged { missed } => (
                "lagged",
                json!({"missed": missed, "hint": "this client read too slowly; events were dropped"}),
            ),
            Event::Watch {
                id,
                condition,
                values,
            } => (
                "watch",
                json!({"id": id, "condition": condition, "tick": tick, "values": values}),
            ),
            Event::Seeked { tick, future } => ("seeked", json!({"tick": tick, "future": future})),
            Event::Log { message } => ("line", json!({"message": message})),
            Event::Tick => ("tick", json!({"tick": tick})),
            Event::World { kind, data } => (kind.as_str(), data.clone()),
            Event::Applied { method, params, by } => (
                "request",
                json!({"method": method, "params": params, "by": by}),
            ),
            Event::Other { kind, data, .. } => (kind.as_str(), data.clone()),
        };
        (topic, kind.to_owned(), data)
    }

    /// The event from its travelling form; unknown ones become [`Event::Other`].
    pub fn decode(topic: &str, kind: &str, data: &Json) -> Event {
        let typed = |how| {
            serde_json::from_value(data.clone())
                .ok()
                .map(|change| Event::Params { how, change })
        };
        let known = match (topic, kind) {
            ("params", "changed") => typed(ParamsHow::Changed),
            ("params", "reset") => typed(ParamsHow::Reset),
            ("params", "loaded") => typed(ParamsHow::Loaded),
            ("engine", "paused") => Some(Event::Paused),
            ("engine", "resumed") => Some(Event::Resumed),
            ("engine", "stepped") => data["count"].as_u64().map(|count| Event::Stepped { count }),
            ("engine", "rebooting") => Some(Event::Rebooting {
                keep_progress: data["keep_progress"].as_bool().unwrap_or(true),
            }),
            ("engine", "rebooted") => serde_json::from_value(data.clone())
                .ok()
                .map(Event::Rebooted),
            ("engine", "shutdown") => Some(Event::Shutdown),
            ("engine", "lagged") => data["missed"]
                .as_u64()
                .map(|missed| Event::Lagged { missed }),
            ("engine", "watch") => match (data["id"].as_u64(), data["condition"].as_str()) {
                (Some(id), Some(condition)) => Some(Event::Watch {
                    id,
                    condition: condition.to_owned(),
                    values: data["values"].as_object().cloned().unwrap_or_default(),
                }),
                _ => None,
            },
            ("engine", "seeked") => match (data["tick"].as_u64(), data["future"].as_u64()) {
                (Some(tick), Some(future)) => Some(Event::Seeked { tick, future }),
                _ => None,
            },
            ("log", "line") => data["message"].as_str().map(|m| Event::Log {
                message: m.to_owned(),
            }),
            ("tick", "tick") => Some(Event::Tick),
            ("world", kind) => Some(Event::World {
                kind: kind.to_owned(),
                data: data.clone(),
            }),
            ("applied", "request") => match (data["method"].as_str(), data["by"].as_u64()) {
                (Some(method), Some(by)) => Some(Event::Applied {
                    method: method.to_owned(),
                    params: data["params"].clone(),
                    by,
                }),
                _ => None,
            },
            _ => None,
        };
        known.unwrap_or_else(|| Event::Other {
            topic: topic.to_owned(),
            kind: kind.to_owned(),
            data: data.clone(),
        })
    }
}

/// An event as a client receives it: the event and the engine's tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub tick: u64,
    pub event: Event,
}

impl Notification {
    /// From a notification's `params` (`{topic, event, tick, data}`).
    pub fn from_params(p: &Json) -> Option<Notification> {
        Some(Notification {
            tick: p["tick"].as_u64()?,
            event: Event::decode(p["topic"].as_str()?, p["event"].as_str()?, &p["data"]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_decodes_to_itself() {
        let change = ParamsChange {
            revision: 3,
            results: [("speed".to_owned(), advkit_params::Applied::Applied)].into(),
            values: [("speed".to_owned(), advkit_params::Value::Float(2.0))].into(),
            by: Some(4),
        };
        let events = [
            Event::Params {
                how: ParamsHow::Reset,
                change,
            },
            Event::Paused,
            Event::Resumed,
            Event::Stepped { count: 5 },
            Event::Rebooting {
                keep_progress: false,
            },
            Event::Shutdown,
            Event::Lagged { missed: 9 },
            Event::Watch {
                id: 2,
                condition: "player.hp < 3".into(),
                values: [("player.hp".to_owned(), json!(2))].into_iter().collect(),
            },
            Event::Seeked {
                tick: 7,
                future: 40,
            },
            Event::Log {
                message: "hi".into(),
            },
            Event::Tick,
            Event::World {
                kind: "event".into(),
                data: json!({"talk": "npc:1"}),
            },
            Event::Applied {
                method: crate::api::method::INPUT.into(),
                params: json!({"button": "left"}),
                by: 2,
            },
            Event::Other {
                topic: "future".into(),
                kind: "x".into(),
                data: json!(1),
            },
        ];
        for e in events {
            let (topic, kind, data) = e.encode(7);
            assert_eq!(Event::decode(&topic, &kind, &data), e, "{topic} {kind}");
        }
    }
}
