//! advkit-params: the parameter registry. Typed, with the metadata a UI
//! builds its widgets from, validated on every change, with reboot-only
//! values held as pending. No game inside: every game, the built-in demo
//! included, declares its own [`Spec`]s.
//!
//! - [`Params`]: specs, values, pending values, a revision for
//!   compare-and-set.
//! - [`Spec`] / [`Kind`] / [`Apply`]: what a parameter is; serialised flat,
//!   as `params.list` sends it.
//! - [`Value`]: a value as it travels in JSON; [`show_value`] writes one as
//!   a person types it.

#![forbid(unsafe_code)]

use std::fmt;

use serde::{Deserialize, Serialize};

/// A parameter value as it travels in JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<String>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Text(_) => "a string",
            Value::List(_) => "a list",
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[String]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
}

/// A value as a person types it (what [`Params::parse`] reads back):
/// `3.0`, `12`, `true`, `pixel`, `hero,brave`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => write!(f, "{x:.1}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
            Value::List(l) => f.write_str(&l.join(",")),
        }
    }
}

/// Any JSON value as a person reads it: a param value as it is typed
/// (see [`Value`]'s `Display`), anything else as compact JSON. The one
/// printer every advkit tool uses for values.
pub fn show_json(v: &serde_json::Value) -> String {
    match serde_json::from_value::<Value>(v.clone()) {
        Ok(value) => value.to_string(),
        Err(_) => v.to_string(),
    }
}

/// When a change takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Apply {
    /// On the next tick.
    Live,
    /// Held as pending until the next reboot.
    Reboot,
}

/// The type of a parameter and its allowed values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    Float {
        min: f64,
        max: f64,
        step: f64,
        unit: String,
    },
    Int {
        min: i64,
        max: i64,
        step: i64,
        unit: String,
    },
    Bool,
    Enum {
        choices: Vec<String>,
    },
    StringList {
        max_items: usize,
        max_len: usize,
    },
}

impl Kind {
    /// "0.25 to 8 px/tick", "tile | pixel", "on | off", "up to 8 items"
    pub fn describe(&self) -> String {
        match self {
            Kind::Float { min, max, unit, .. } => format!("{min} to {max}{}", unit_suffix(unit)),
            Kind::Int { min, max, unit, .. } => format!("{min} to {max}{}", unit_suffix(unit)),
            Kind::Bool => "true | false".to_owned(),
            Kind::Enum { choices } => choices.join(" | "),
            Kind::StringList { max_items, max_len } => {
                format!("up to {max_items} items of up to {max_len} characters")
            }
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Float { .. } => "float",
            Kind::Int { .. } => "int",
            Kind::Bool => "bool",
            Kind::Enum { .. } => "enum",
            Kind::StringList { .. } => "string list",
        }
    }
}

fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

/// One parameter's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    #[serde(flatten)]
    pub kind: Kind,
    pub default: Value,
    pub description: String,
    pub apply: Apply,
}

/// Builders, so that a game declares its parameters in a line each:
/// `Spec::float("gravity", 0.0, 50.0, 0.5, "m/s²", 9.8).describe("…").on_reboot()`.
impl Spec {
    fn with(name: &str, kind: Kind, default: Value) -> Spec {
        Spec {
            name: name.into(),
            kind,
            default,
            description: String::new(),
            apply: Apply::Live,
        }
    }

    pub fn float(name: &str, min: f64, max: f64, step: f64, unit: &str, default: f64) -> Spec {
        let kind = Kind::Float {
            min,
            max,
            step,
            unit: unit.into(),
        };
        Spec::with(name, kind, Value::Float(default))
    }

    pub fn int(name: &str, min: i64, max: i64, unit: &str, default: i64) -> Spec {
        let kind = Kind::Int {
            min,
            max,
            step: 1,
            unit: unit.into(),
        };
        Spec::with(name, kind, Value::Int(default))
    }

    pub fn boolean(name: &str, default: bool) -> Spec {
        Spec::with(name, Kind::Bool, Value::Bool(default))
    }

    pub fn choice(name: &str, choices: &[&str], default: &str) -> Spec {
        let kind = Kind::Enum {
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        };
        Spec::with(name, kind, Value::Text(default.into()))
    }

    pub fn string_list(name: &str, max_items: usize, max_len: usize, default: &[&str]) -> Spec {
        let kind = Kind::StringList { max_items, max_len };
        Spec::with(
            name,
            kind,
            Value::List(default.iter().map(|s| (*s).to_owned()).collect()),
        )
    }

    /// The one-line description a UI shows.
    pub fn describe(mut self, description: &str) -> Spec {
        self.description = description.into();
        self
    }

    /// The change waits for a reboot.
    pub fn on_reboot(mut self) -> Spec {
        self.apply = Apply::Reboot;
        self
    }
}

/// What happened to an accepted change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    Applied,
    PendingReboot,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("unknown parameter `{name}`{hint}; known: {known}")]
    Unknown {
        name: String,
        hint: String,
        known: String,
    },
    #[error("{name} = {value} is out of range: allowed {allowed}")]
    OutOfRange {
        name: String,
        value: String,
        allowed: String,
    },
    #[error("{name} = {value:?} is not one of the choices: {choices}")]
    NotAChoice {
        name: String,
        value: String,
        choices: String,
    },
    #[error("{name} takes {expected}, not {got}")]
    WrongType {
        name: String,
        expected: String,
        got: String,
    },
    #[error("{name}: {reason}")]
    Invalid { name: String, reason: String },
}

impl ParamError {
    /// The parameter the error is about.
    pub fn name(&self) -> &str {
        match self {
            ParamError::Unknown { name, .. }
            | ParamError::OutOfRange { name, .. }
            | ParamError::NotAChoice { name, .. }
            | ParamError::WrongType { name, .. }
            | ParamError::Invalid { name, .. } => name,
        }
    }
}

/// One param as `params.list` sends it: its spec, flattened, with the value
/// in effect and the one pending for a reboot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub spec: Spec,
    pub value: Value,
    #[serde(default)]
    pub pending: Option<Value>,
}

/// The registry: specs, current values and pending (reboot-only) values.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    specs: Vec<Spec>,
    values: Vec<Value>,
    pending: Vec<Option<Value>>,
    revision: u64,
}

impl Params {
    /// A registry from specs, every value at its default.
    pub fn new(specs: Vec<Spec>) -> Params {
        let values = specs.iter().map(|s| s.default.clone()).collect();
        let pending = vec![None; specs.len()];
        Params {
            specs,
            values,
            pending,
            revision: 0,
        }
    }

    /// A registry as another process reported it (`params.list`): the
    /// schema and values of an engine, for a client to parse and check
    /// values with before it sends them. Values are taken as given.
    pub fn from_entries(entries: Vec<Entry>, revision: u64) -> Params {
        let mut p = Params {
            specs: Vec::with_capacity(entries.len()),
            values: Vec::with_capacity(entries.len()),
            pending: Vec::with_capacity(entries.len()),
            revision,
        };
        for e in entries {
            p.specs.push(e.spec);
            p.values.push(e.value);
            p.pending.push(e.pending);
        }
        p
    }

    /// Every param as `params.list` sends it.
    pub fn entries(&self) -> Vec<Entry> {
        self.iter()
            .map(|(spec, value, pending)| Entry {
                spec: spec.clone(),
                value: value.clone(),
                pending: pending.cloned(),
            })
            .collect()
    }

    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    pub fn spec(&self, name: &str) -> Option<&Spec> {
        self.specs.iter().find(|s| s.name == name)
    }

    /// The value in effect now.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.index(name).ok().map(|i| &self.values[i])
    }

    /// The value waiting for a reboot, if any.
    pub fn pending(&self, name: &str) -> Option<&Value> {
        self.index(name).ok().and_then(|i| self.pending[i].as_ref())
    }

    /// Every (name, value in effect, pending value).
    pub fn iter(&self) -> impl Iterator<Item = (&Spec, &Value, Option<&Value>)> {
        self.specs
            .iter()
            .zip(&self.values)
            .zip(&self.pending)
            .map(|((s, v), p)| (s, v, p.as_ref()))
    }

    /// Increases on every accepted change, for compare-and-set.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn has_pending(&self) -> bool {
        self.pending.iter().any(Option::is_some)
    }

    fn index(&self, name: &str) -> Result<usize, ParamError> {
        self.specs
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| {
                let hint = self
                    .specs
                    .iter()
                    .map(|s| (edit_distance(&s.name, name), &s.name))
                    .filter(|(d, _)| *d <= 3)
                    .min()
                    .map(|(_, n)| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                ParamError::Unknown {
                    name: name.to_owned(),
                    hint,
                    known: self
                        .specs
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })
    }

    /// Checks a value against its spec and returns it in canonical form
    /// (an integer given to a float parameter becomes a float, and so on).
    pub fn validate(&self, name: &str, value: Value) -> Result<Value, ParamError> {
        let spec = &self.specs[self.index(name)?];
        validate(spec, value)
    }

    /// Sets one value. A reboot-only parameter is held as pending.
    pub fn set(&mut self, name: &str, value: Value) -> Result<Applied, ParamError> {
        let i = self.index(name)?;
        let value = validate(&self.specs[i], value)?;
        Ok(self.store(i, value))
    }

    /// Sets several values atomically: all are validated first, and if any
    /// is rejected nothing changes.
    pub fn set_many(&mut self, changes: &[(String, Value)]) -> Result<Vec<Applied>, ParamError> {
        let mut checked = Vec::with_capacity(changes.len());
        for (name, value) in changes {
            let i = self.index(name)?;
            checked.push((i, validate(&self.specs[i], value.clone())?));
        }
        Ok(checked.into_iter().map(|(i, v)| self.store(i, v)).collect())
    }

    /// Sets a value given as JSON.
    pub fn set_json(
        &mut self,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<Applied, ParamError> {
        let value = self.from_json(name, value)?;
        self.set(name, value)
    }

    /// Converts JSON to a [`Value`] of the parameter's type, without storing it.
    pub fn from_json(&self, name: &str, value: &serde_json::Value) -> Result<Value, ParamError> {
        let i = self.index(name)?;
        let v: Value =
            serde_json::from_value(value.clone()).map_err(|_| ParamError::WrongType {
                name: name.to_owned(),
                expected: expected_type(&self.specs[i].kind),
                got: json_type(value).to_owned(),
            })?;
        validate(&self.specs[i], v)
    }

    /// Parses a value written on a command line: `2.5`, `pixel`, `on`,
    /// `hero,brave` (a comma-separated list; empty for no items), or a
    /// list as a JSON array, `["a", "b c"]`, for items with commas or
    /// spaces of their own.
    pub fn parse(&self, name: &str, text: &str) -> Result<Value, ParamError> {
        let spec = &self.specs[self.index(name)?];
        let wrong = || ParamError::WrongType {
            name: name.to_owned(),
            expected: expected_type(&spec.kind),
            got: format!("`{text}`"),
        };
        let t = text.trim();
        let v = match &spec.kind {
            Kind::Float { .. } => Value::Float(t.parse::<f64>().map_err(|_| wrong())?),
            Kind::Int { .. } => Value::Int(t.parse::<i64>().map_err(|_| wrong())?),
            Kind::Bool => Value::Bool(match t.to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => true,
                "false" | "off" | "no" | "0" => false,
                _ => return Err(wrong()),
            }),
            Kind::Enum { .. } => Value::Text(t.to_owned()),
            Kind::StringList { .. } if t.starts_with('[') => {
                Value::List(serde_json::from_str::<Vec<String>>(t).map_err(|e| {
                    ParamError::WrongType {
                        name: name.to_owned(),
                        expected: "a JSON array of strings".to_owned(),
                        got: format!("`{text}` ({e})"),
                    }
                })?)
            }
            Kind::StringList { .. } => Value::List(if t.is_empty() {
                Vec::new()
            } else {
                t.split(',').map(|s| s.trim().to_owned()).collect()
            }),
        };
        validate(spec, v)
    }

    /// Changes a parameter's default (and its value) without a pending
    /// state: used for the scene's own defaults, before the world exists.
    pub fn set_default(&mut self, name: &str, value: Value) -> Result<(), ParamError> {
        let i = self.index(name)?;
        let value = validate(&self.specs[i], value)?;
        self.specs[i].default = value.clone();
        self.values[i] = value;
        Ok(())
    }

    /// Puts one parameter (or all, with `None`) back to its default.
    /// Reboot-only ones become pending.
    pub fn reset(&mut self, name: Option<&str>) -> Result<Vec<(String, Applied)>, ParamError> {
        let indices: Vec<usize> = match name {
            Some(n) => vec![self.index(n)?],
            None => (0..self.specs.len()).collect(),
        };
        Ok(indices
            .into_iter()
            .map(|i| {
                let applied = self.store(i, self.specs[i].default.clone());
                (self.specs[i].name.clone(), applied)
            })
            .collect())
    }

    /// Applies every pending value (at a reboot); returns the names changed.
    pub fn apply_pending(&mut self) -> Vec<String> {
        let mut changed = Vec::new();
        for i in 0..self.specs.len() {
            if let Some(v) = self.pending[i].take() {
                self.values[i] = v;
                changed.push(self.specs[i].name.clone());
            }
        }
        if !changed.is_empty() {
            self.revision += 1;
        }
        changed
    }

    fn store(&mut self, i: usize, value: Value) -> Applied {
        self.revision += 1;
        if self.specs[i].apply == Apply::Reboot {
            if value == self.values[i] {
                self.pending[i] = None;
                Applied::Applied
            } else {
                self.pending[i] = Some(value);
                Applied::PendingReboot
            }
        } else {
            self.values[i] = value;
            Applied::Applied
        }
    }
}

fn expected_type(kind: &Kind) -> String {
    match kind {
        Kind::Float { .. } => "a number".into(),
        Kind::Int { .. } => "an integer".into(),
        Kind::Bool => "true or false".into(),
        Kind::Enum { choices } => format!("one of {}", choices.join(", ")),
        Kind::StringList { .. } => "a list of strings".into(),
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

fn validate(spec: &Spec, value: Value) -> Result<Value, ParamError> {
    let name = spec.name.clone();
    let wrong = |got: &Value| ParamError::WrongType {
        name: spec.name.clone(),
        expected: expected_type(&spec.kind),
        got: got.type_name().to_owned(),
    };
    let out_of_range = |v: String| ParamError::OutOfRange {
        name: spec.name.clone(),
        value: v,
        allowed: spec.kind.describe(),
    };
    match &spec.kind {
        Kind::Float { min, max, .. } => {
            let x = value.as_f64().ok_or_else(|| wrong(&value))?;
            if !x.is_finite() || x < *min || x > *max {
                return Err(out_of_range(x.to_string()));
            }
            Ok(Value::Float(x))
        }
        Kind::Int { min, max, .. } => {
            let i = match value {
                Value::Int(i) => i,
                Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
                ref other => return Err(wrong(other)),
            };
            if i < *min || i > *max {
                return Err(out_of_range(i.to_string()));
            }
            Ok(Value::Int(i))
        }
        Kind::Bool => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| wrong(&value)),
        Kind::Enum { choices } => {
            let s = value.as_str().ok_or_else(|| wrong(&value))?;
            if choices.iter().any(|c| c == s) {
                Ok(value)
            } else {
                Err(ParamError::NotAChoice {
                    name,
                    value: s.to_owned(),
                    choices: choices.join(", "),
                })
            }
        }
        Kind::StringList { max_items, max_len } => {
            let items = value.as_list().ok_or_else(|| wrong(&value))?;
            if items.len() > *max_items {
                return Err(ParamError::Invalid {
                    name,
                    reason: format!(
                        "{} items given; at most {max_items} are allowed",
                        items.len()
                    ),
                });
            }
            if let Some(bad) = items.iter().find(|s| {
                s.is_empty() || s.chars().count() > *max_len || s.chars().any(char::is_control)
            }) {
                return Err(ParamError::Invalid {
                    name,
                    reason: format!("item {bad:?} must be 1 to {max_len} printable characters"),
                });
            }
            Ok(value)
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry of every kind, shaped like a game's.
    fn params() -> Params {
        Params::new(vec![
            Spec::float("walk_speed", 0.25, 8.0, 0.25, "px/tick", 1.0),
            Spec::choice("walk_mode", &["tile", "pixel"], "tile"),
            Spec::int("npc_count", 0, 64, "", 6).on_reboot(),
            Spec::boolean("show_grid", false),
            Spec::string_list("player_tags", 8, 16, &["hero"]),
            Spec::int("tick_rate", 1, 240, "Hz", 30),
        ])
    }

    #[test]
    fn defaults_are_valid() {
        let p = params();
        for (spec, value, pending) in p.iter() {
            assert_eq!(
                validate(spec, value.clone()).as_ref(),
                Ok(value),
                "{}",
                spec.name
            );
            assert!(pending.is_none());
        }
        assert_eq!(p.get("npc_count"), Some(&Value::Int(6)));
    }

    #[test]
    fn out_of_range_is_rejected_and_old_value_stays() {
        let mut p = params();
        let err = p
            .set("walk_speed", Value::Float(99.0))
            .expect_err("too fast");
        assert_eq!(
            err.to_string(),
            "walk_speed = 99 is out of range: allowed 0.25 to 8 px/tick"
        );
        assert_eq!(p.get("walk_speed"), Some(&Value::Float(1.0)));
        assert!(p.set("walk_speed", Value::Float(f64::NAN)).is_err());
        assert_eq!(p.revision(), 0);
    }

    #[test]
    fn enum_choices_and_types_are_checked() {
        let mut p = params();
        let err = p
            .set("walk_mode", Value::Text("fly".into()))
            .expect_err("no flying");
        assert_eq!(
            err.to_string(),
            "walk_mode = \"fly\" is not one of the choices: tile, pixel"
        );
        let err = p.set("show_grid", Value::Int(1)).expect_err("not a bool");
        assert_eq!(
            err.to_string(),
            "show_grid takes true or false, not an integer"
        );
        assert_eq!(
            p.set("walk_mode", Value::Text("pixel".into())),
            Ok(Applied::Applied)
        );
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let err = params().set("walk_sped", Value::Int(1)).expect_err("typo");
        assert!(
            err.to_string()
                .starts_with("unknown parameter `walk_sped` (did you mean `walk_speed`?)"),
            "{err}"
        );
    }

    #[test]
    fn reboot_params_wait_as_pending() {
        let mut p = params();
        assert_eq!(
            p.set("npc_count", Value::Int(2)),
            Ok(Applied::PendingReboot)
        );
        assert_eq!(p.get("npc_count"), Some(&Value::Int(6)));
        assert_eq!(p.pending("npc_count"), Some(&Value::Int(2)));
        assert_eq!(p.apply_pending(), vec!["npc_count".to_owned()]);
        assert_eq!(p.get("npc_count"), Some(&Value::Int(2)));
        assert!(!p.has_pending());
        // Setting it back to the value in effect cancels a pending change.
        p.set("npc_count", Value::Int(5)).expect("valid");
        assert_eq!(p.set("npc_count", Value::Int(2)), Ok(Applied::Applied));
        assert!(!p.has_pending());
    }

    #[test]
    fn set_many_is_atomic() {
        let mut p = params();
        let err = p
            .set_many(&[
                ("walk_speed".into(), Value::Float(3.0)),
                ("walk_mode".into(), Value::Text("fly".into())),
            ])
            .expect_err("second is bad");
        assert_eq!(err.name(), "walk_mode");
        assert_eq!(p.get("walk_speed"), Some(&Value::Float(1.0)));
        p.set_many(&[
            ("walk_speed".into(), Value::Int(3)),
            ("show_grid".into(), Value::Bool(true)),
        ])
        .expect("valid");
        assert_eq!(p.get("walk_speed"), Some(&Value::Float(3.0)));
    }

    #[test]
    fn command_line_text_parses_by_type() {
        let p = params();
        assert_eq!(p.parse("walk_speed", "2.5"), Ok(Value::Float(2.5)));
        assert_eq!(p.parse("show_grid", "on"), Ok(Value::Bool(true)));
        assert_eq!(
            p.parse("player_tags", "hero, brave"),
            Ok(Value::List(vec!["hero".into(), "brave".into()]))
        );
        assert_eq!(p.parse("player_tags", ""), Ok(Value::List(vec![])));
        // A JSON array keeps commas and spaces inside items (issue 13: it
        // was split on every comma, giving `["a"` and `"b c"]`).
        assert_eq!(
            p.parse("player_tags", r#"["a,b", "c d"]"#),
            Ok(Value::List(vec!["a,b".into(), "c d".into()]))
        );
        let err = p.parse("player_tags", "[a").expect_err("not JSON");
        assert!(err.to_string().contains("JSON array of strings"), "{err}");
        assert!(p.parse("npc_count", "lots").is_err());
        assert!(p.parse("npc_count", "65").is_err());
        let err = p
            .parse("player_tags", "a,b,c,d,e,f,g,h,i")
            .expect_err("too many");
        assert!(err.to_string().contains("at most 8"), "{err}");
    }

    #[test]
    fn json_values_convert_and_reset_restores() {
        let mut p = params();
        p.set_json("tick_rate", &serde_json::json!(60.0))
            .expect("integral float is an int");
        assert_eq!(p.get("tick_rate"), Some(&Value::Int(60)));
        let err = p
            .set_json("tick_rate", &serde_json::json!("fast"))
            .expect_err("string");
        assert_eq!(err.to_string(), "tick_rate takes an integer, not a string");
        p.reset(Some("tick_rate")).expect("known");
        assert_eq!(p.get("tick_rate"), Some(&Value::Int(30)));
    }

    #[test]
    fn spec_serializes_flat_for_uis() {
        let p = params();
        let json =
            serde_json::to_value(p.spec("walk_speed").expect("exists")).expect("serializable");
        assert_eq!(json["type"], "float");
        assert_eq!(json["min"], 0.25);
        assert_eq!(json["apply"], "live");
        assert_eq!(json["unit"], "px/tick");
    }

    #[test]
    fn values_print_as_they_are_typed_and_entries_round_trip() {
        let p = params();
        for (spec, value, _) in p.iter() {
            let text = value.to_string();
            assert_eq!(p.parse(&spec.name, &text).as_ref(), Ok(value), "{text}");
        }
        assert_eq!(show_json(&serde_json::json!(3)), "3");
        assert_eq!(show_json(&serde_json::json!(3.0)), "3.0");
        assert_eq!(show_json(&serde_json::json!(["a", "b"])), "a,b");
        assert_eq!(show_json(&serde_json::json!({"x": 1})), "{\"x\":1}");
        let json = serde_json::to_value(p.entries()).expect("serializable");
        let entries: Vec<Entry> = serde_json::from_value(json).expect("parses back");
        assert_eq!(Params::from_entries(entries, p.revision()), p);
    }
}
