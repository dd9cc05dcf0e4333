//! The scenario format: what a scenario file says (scene or engine,
//! params, inputs, reboots, requests, captures and how they compare), read
//! and checked, and its actions laid out by tick ([`Plan`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use advkit_core::{Button, InputAction, InputEvent, SceneError, Size, Timeline};

use crate::compare::Tolerance;

/// A reboot in the middle of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reboot {
    /// Rebooted just before this tick's update.
    pub tick: u64,
    #[serde(default = "yes")]
    pub keep_progress: bool,
}

fn yes() -> bool {
    true
}

/// One frame to compare with a golden.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    /// File stem of the golden: `fixtures/golden/<scenario>/<name>.png`.
    pub name: String,
    /// Captured after this many ticks.
    pub tick: u64,
    /// Overrides the scenario's size for this capture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Overrides the scenario's tolerance for this capture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Tolerance>,
    /// Parts of this capture not compared (besides the scenario's `mask`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mask: Vec<Mask>,
    /// A known failure, and why (a bug filed, a platform that draws
    /// otherwise): failing is expected and does not fail the check;
    /// passing does, so the mark is removed once it is fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xfail: Option<String>,
}

/// A part of a frame left out of the comparison: a rectangle, or wherever
/// an entity is drawn at the capture's tick (its `box` in
/// `world.entities`). Exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mask {
    /// `[x, y, width, height]` in frame pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rect: Option<[u32; 4]>,
    /// An entity id, e.g. `npc:2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

impl Mask {
    /// The rectangle this mask covers, given the entities at that tick (as
    /// `world.entities` lists them, with `box`). An entity out of view
    /// covers nothing; an unknown one is an error.
    pub fn resolve(&self, entities: &[Json]) -> Result<Option<[u32; 4]>, String> {
        match (&self.rect, &self.entity) {
            (Some(r), None) => Ok(Some(*r)),
            (None, Some(id)) => {
                let e = entities
                    .iter()
                    .find(|e| e.get("id").and_then(Json::as_str) == Some(id))
                    .ok_or_else(|| {
                        let ids: Vec<&str> = entities
                            .iter()
                            .filter_map(|e| e.get("id").and_then(Json::as_str))
                            .collect();
                        format!(
                            "mask: no entity `{id}` at this tick (there are: {})",
                            ids.join(", ")
                        )
                    })?;
                match e.get("box") {
                    None => Err(format!(
                        "mask: entity `{id}` has no `box` in world.entities, so the game \
                         does not say where it is drawn; mask a \"rect\" instead"
                    )),
                    Some(Json::Null) => Ok(None),
                    Some(b) => serde_json::from_value(b.clone())
                        .map(Some)
                        .map_err(|e| format!("mask: entity `{id}`'s box {b}: {e}")),
                }
            }
            _ => Err("a mask is either {\"rect\": [x, y, w, h]} or {\"entity\": \"id\"}".into()),
        }
    }
}

/// A protocol request sent to the engine at a tick, as `advkit record`
/// writes them: applied just before the update from `tick` to `tick + 1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Injected {
    pub tick: u64,
    pub method: String,
    #[serde(default, skip_serializing_if = "Json::is_null")]
    pub params: Json,
}

/// How to start a game that is not the built-in demo, to replay a scenario
/// through the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSpec {
    /// The program and its arguments. A first word with a `/` is relative
    /// to `cwd`. With `example`, only the arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// A cargo example of the project in `cwd` to start instead of a
    /// program: built on demand with the profile advkit itself was built
    /// with (`cargo build --example NAME`), in `CARGO_TARGET_DIR` or the
    /// project's `target/`, so the scenario works on any checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// The working directory, relative to the scenario file (default: the
    /// scenario file's directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// A scenario file (`fixtures/scenarios/*.json`, see `docs/golden.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The game to start, for one that is not the built-in demo: replayed
    /// through the protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineSpec>,
    /// Scene file, relative to the scenario file; the built-in demo if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u32>,
    /// Frame size, `WxH`; 320x180 if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Param values (as in `params.set`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Json>,
    /// The run starts from a fresh world at this tick: the engine runs this
    /// many ticks, then reboots fresh (how `advkit record` starts). 0: a
    /// new engine at tick 0. With `state`, the tick the state is at.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_tick: u64,
    /// The game's state at `start_tick`, as `world.save` answered it
    /// (what `advkit record --from-now` writes): the run starts fresh with
    /// the scenario's params, loads it, and goes on from `start_tick`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Json>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reboots: Vec<Reboot>,
    /// Protocol requests at their ticks (what `advkit record` writes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Injected>,
    #[serde(default, skip_serializing_if = "Tolerance::is_exact")]
    pub tolerance: Tolerance,
    /// Parts of every capture not compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mask: Vec<Mask>,
    /// Record the hash of every frame, so a failure names the ticks where
    /// the run diverged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record_hashes: bool,
    /// Also compare the world after every update (what the game's
    /// `world.entities` lists, kept beside the hashes as `states.jsonl`),
    /// so a change no frame shows (off screen, a flag) fails too. Needs
    /// `record_hashes`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub check_world: bool,
    /// Which frames are kept beside the hash sequence (`frames.bin`), so a
    /// divergence shows the expected picture at its first divergent tick,
    /// or at the kept frame nearest to it. Needs `record_hashes`; absent:
    /// [`KeepFrames::default`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_frames: Option<KeepFrames>,
    pub captures: Vec<Capture>,
}

/// Which frames of a hash-recorded run are kept, PNG-compressed, beside
/// its hashes: the first, every `every`-th tick, and `around` ticks either
/// side of each capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepFrames {
    /// Every this many ticks (0: none but the first and those around
    /// captures).
    #[serde(default)]
    pub every: u64,
    /// This many ticks before and after each capture.
    #[serde(default)]
    pub around: u64,
}

impl Default for KeepFrames {
    /// Twice a second at 60 ticks/s, and the tick before and after each
    /// capture: ~2.5 KB a 320x180 frame, so a five-minute recording with a
    /// capture a second keeps ~3 MB.
    fn default() -> KeepFrames {
        KeepFrames {
            every: 30,
            around: 1,
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One thing done to the engine just before the update from a tick to the
/// next, in the order a run does them.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Reboot { keep_progress: bool },
    Input { button: Button, action: InputAction },
    Request { method: String, params: Json },
}

/// Every action of a scenario, by tick.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    actions: std::collections::BTreeMap<u64, Vec<Action>>,
}

impl Plan {
    /// What is done at `tick` (before its update), in order.
    pub fn at(&self, tick: u64) -> &[Action] {
        self.actions.get(&tick).map_or(&[], Vec::as_slice)
    }

    /// The last tick at or before `tick` where something was done, and what.
    pub fn last_before(&self, tick: u64) -> Option<(u64, &[Action])> {
        self.actions
            .range(..=tick)
            .next_back()
            .map(|(t, a)| (*t, a.as_slice()))
    }
}

impl Scenario {
    /// Parses a scenario; errors name the file, line and column.
    pub fn parse(source_name: &str, text: &str) -> Result<Scenario, SceneError> {
        let s: Scenario =
            serde_json::from_str(text).map_err(|e| SceneError::from_json(source_name, &e))?;
        let fail = |message: String| SceneError {
            source_name: source_name.to_owned(),
            line: 1,
            column: 1,
            message,
        };
        if s.captures.is_empty() {
            return Err(fail("a scenario needs at least one capture".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &s.captures {
            let plain = !c.name.is_empty()
                && c.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
            if !plain {
                return Err(fail(format!(
                    "capture name `{}` must be letters, digits, - or _ (it names a file)",
                    c.name
                )));
            }
            if !names.insert(&c.name) {
                return Err(fail(format!("capture `{}` appears twice", c.name)));
            }
            if c.tick == 0 {
                return Err(fail(format!(
                    "capture `{}`: tick must be at least 1",
                    c.name
                )));
            }
        }
        s.size().map_err(fail)?;
        s.tolerance.check().map_err(&fail)?;
        if s.check_world && !s.record_hashes {
            return Err(fail(
                "check_world needs \"record_hashes\": true (the world is kept beside the frame hashes)"
                    .into(),
            ));
        }
        if s.keep_frames.is_some() && !s.record_hashes {
            return Err(fail(
                "keep_frames needs \"record_hashes\": true (the frames are kept beside the frame hashes)"
                    .into(),
            ));
        }
        for c in &s.captures {
            if let Some(t) = &c.tolerance {
                t.check()
                    .map_err(|e| fail(format!("capture `{}`: {e}", c.name)))?;
            }
        }
        if let Some(engine) = &s.engine {
            match &engine.example {
                Some(name) if name.is_empty() || name.contains('/') => {
                    return Err(fail(format!(
                        "engine: example `{name}` must be the name of a cargo example"
                    )));
                }
                None if engine.command.is_empty() => {
                    return Err(fail(
                        "engine: give a \"command\" (the program and its arguments) or an \"example\" (a cargo example's name)".into(),
                    ));
                }
                _ => {}
            }
        }
        for c in &s.captures {
            s.capture_size(c).map_err(fail)?;
            for m in s.masks_for(c) {
                if m.rect.is_some() == m.entity.is_some() {
                    return Err(fail(format!(
                        "capture `{}`: a mask is either {{\"rect\": [x, y, w, h]}} or {{\"entity\": \"id\"}}",
                        c.name
                    )));
                }
            }
        }
        Ok(s)
    }

    pub fn size(&self) -> Result<Size, String> {
        self.size.as_deref().unwrap_or("320x180").parse()
    }

    pub fn capture_size(&self, c: &Capture) -> Result<Size, String> {
        match &c.size {
            Some(s) => s.parse(),
            None => self.size(),
        }
    }

    pub fn tolerance_for(&self, c: &Capture) -> Tolerance {
        c.tolerance.unwrap_or(self.tolerance)
    }

    /// The scenario's masks and the capture's own.
    pub fn masks_for<'a>(&'a self, c: &'a Capture) -> impl Iterator<Item = &'a Mask> {
        self.mask.iter().chain(&c.mask)
    }

    /// Whether a capture's masks need the entities at its tick.
    pub fn needs_entities(&self, c: &Capture) -> bool {
        self.masks_for(c).any(|m| m.entity.is_some())
    }

    /// Whether the frame at `tick` is kept beside the hash sequence
    /// ([`KeepFrames`]); never without `record_hashes`.
    pub fn keeps_frame(&self, tick: u64) -> bool {
        if !self.record_hashes {
            return false;
        }
        let keep = self.keep_frames.unwrap_or_default();
        tick == self.start_tick + 1
            || (keep.every > 0 && tick.is_multiple_of(keep.every))
            || self
                .captures
                .iter()
                .any(|c| c.tick.abs_diff(tick) <= keep.around)
    }

    /// The tick of the last frame the run makes (its last capture).
    pub fn last_tick(&self) -> u64 {
        self.captures.iter().map(|c| c.tick).max().unwrap_or(0)
    }

    /// Reboots, inputs and requests by tick: at one tick reboots come
    /// first, then inputs (holds expanded), then requests, each in the
    /// order written.
    pub fn plan(&self) -> Plan {
        let mut plan = Plan::default();
        let mut push = |tick: u64, a: Action| plan.actions.entry(tick).or_default().push(a);
        for r in &self.reboots {
            push(
                r.tick,
                Action::Reboot {
                    keep_progress: r.keep_progress,
                },
            );
        }
        for (tick, button, action) in Timeline::new(&self.inputs).events() {
            push(tick, Action::Input { button, action });
        }
        for r in &self.requests {
            push(
                r.tick,
                Action::Request {
                    method: r.method.clone(),
                    params: r.params.clone(),
                },
            );
        }
        plan
    }
}
