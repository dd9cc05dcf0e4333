//! World states, generic JSON for any game: what `world.entities` listed
//! at a tick, flattened to `entity.attribute` keys. `world.diff` compares
//! two of them key by key; golden forensics store them as a delta log
//! (`states.jsonl`) beside a scenario's `hashes.txt` and compare them
//! where a run leaves the recorded one. Conditions
//! ([`crate::debug::Condition`]) read the same keys.
//!
//! A line of `states.jsonl` is `{"tick": T, "set": {key: value…},
//! "gone": [key…]}`: what changed since the line before. The first line
//! sets everything; a tick with no line changed nothing.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// One world state: `"npc:2.tile" → [5, 6]`, `"player.flags.met" → true`.
pub type Flat = BTreeMap<String, Json>;

/// Flattens `world.entities` (objects with an `id`; nested objects such
/// as flags become `id.flags.name`; arrays stay whole). Boxes (`box`,
/// where an entity is drawn) are left out: they follow the camera, not
/// the world.
pub fn flatten(entities: &[Json]) -> Flat {
    let mut flat = Flat::new();
    for (i, e) in entities.iter().enumerate() {
        let id = e
            .get("id")
            .and_then(Json::as_str)
            .map_or_else(|| format!("#{i}"), str::to_owned);
        match e {
            Json::Object(m) => {
                for (k, v) in m {
                    if k != "id" && k != "box" {
                        put(&mut flat, format!("{id}.{k}"), v);
                    }
                }
            }
            other => {
                flat.insert(id, other.clone());
            }
        }
    }
    flat
}

/// [`flatten`] for each `(tick, entities)`.
pub fn flatten_each(states: &[(u64, Vec<Json>)]) -> Vec<(u64, Flat)> {
    states.iter().map(|(t, e)| (*t, flatten(e))).collect()
}

fn put(flat: &mut Flat, key: String, v: &Json) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                put(flat, format!("{key}.{k}"), v);
            }
        }
        _ => {
            flat.insert(key, v.clone());
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    tick: u64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    set: Map<String, Json>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    gone: Vec<String>,
}

/// The delta log of `states` (in tick order).
pub fn log_text(states: &[(u64, Flat)]) -> String {
    let mut out = String::new();
    let empty = Flat::new();
    let mut prev = &empty;
    for (tick, flat) in states {
        let set: Map<String, Json> = flat
            .iter()
            .filter(|(k, v)| prev.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let gone: Vec<String> = prev
            .keys()
            .filter(|k| !flat.contains_key(*k))
            .cloned()
            .collect();
        if !set.is_empty() || !gone.is_empty() || out.is_empty() {
            let line = Line {
                tick: *tick,
                set,
                gone,
            };
            out.push_str(&serde_json::to_string(&line).unwrap_or_default());
            out.push('\n');
        }
        prev = flat;
    }
    out
}

/// A recorded delta log, to ask for the state at any tick.
#[derive(Debug, Default)]
pub struct Log {
    lines: Vec<Line>,
}

impl Log {
    /// Parses `states.jsonl`; errors name the line.
    pub fn parse(name: &str, text: &str) -> Result<Log, String> {
        let mut lines: Vec<Line> = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let line: Line =
                serde_json::from_str(l).map_err(|e| format!("{name}:{}: {e}", i + 1))?;
            if lines.last().is_some_and(|p| p.tick >= line.tick) {
                return Err(format!("{name}:{}: ticks must increase", i + 1));
            }
            lines.push(line);
        }
        Ok(Log { lines })
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The state after `tick`'s update; `None` before the first line.
    pub fn at(&self, tick: u64) -> Option<Flat> {
        if self.lines.first().is_none_or(|l| l.tick > tick) {
            return None;
        }
        let mut flat = Flat::new();
        for line in self.lines.iter().take_while(|l| l.tick <= tick) {
            for k in &line.gone {
                flat.remove(k);
            }
            flat.extend(line.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Some(flat)
    }
}

/// One key that differs between the recorded and the actual state.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: String,
    pub recorded: Option<Json>,
    pub actual: Option<Json>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Json>| v.as_ref().map_or("(absent)".to_owned(), Json::to_string);
        write!(
            f,
            "{}: recorded {}, now {}",
            self.key,
            show(&self.recorded),
            show(&self.actual)
        )
    }
}

/// Every key whose value differs, in key order.
pub fn diff(recorded: &Flat, actual: &Flat) -> Vec<Change> {
    let mut keys: Vec<&String> = recorded.keys().chain(actual.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| recorded.get(*k) != actual.get(*k))
        .map(|k| Change {
            key: k.clone(),
            recorded: recorded.get(k).cloned(),
            actual: actual.get(k).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_delta_log_gives_back_every_state() {
        let states: Vec<(u64, Flat)> = vec![
            (
                1,
                flatten(&[json!({"id": "player", "tile": [1, 1], "flags": {"met": false}})]),
            ),
            (
                2,
                flatten(&[json!({"id": "player", "tile": [1, 1], "flags": {"met": false}})]),
            ),
            (
                3,
                flatten(&[
                    json!({"id": "player", "tile": [2, 1], "flags": {"met": true}, "box": [0, 0, 16, 16]}),
                ]),
            ),
            (4, flatten(&[json!({"id": "player", "tile": [2, 1]})])),
        ];
        let text = log_text(&states);
        assert_eq!(text.lines().count(), 3, "tick 2 changed nothing:\n{text}");
        let log = Log::parse("states.jsonl", &text).expect("parses");
        assert_eq!(log.at(0), None);
        for (tick, flat) in &states {
            assert_eq!(log.at(*tick).as_ref(), Some(flat), "tick {tick}");
        }
        let changes = diff(&states[0].1, &states[2].1);
        let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "player.flags.met: recorded false, now true",
                "player.tile: recorded [1,1], now [2,1]"
            ]
        );
        assert!(Log::parse("s", "{\"tick\": 2}\n{\"tick\": 1}").is_err());
    }
}
