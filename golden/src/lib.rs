//! Golden frames, sans-IO: the scenario format, running a scenario to its
//! captures, comparing two frames with a tolerance (or perceptually), and
//! a diff heat map. A crate of its own, so `advkit-core` is only the demo
//! game: this one depends on it to run the demo in-process.
//!
//! Reading scenario files and goldens, writing artifacts and reports is the
//! host's job (`advkit::golden`); everything here is pure.

#![forbid(unsafe_code)]

mod perceptual;

use serde::{Deserialize, Serialize};

use serde_json::{Map, Value as Json};

use advkit_core::{
    Button, Engine, Frame, InputAction, InputEvent, Progress, Scene, SceneError, Size, Timeline,
    hash_pixels,
};

/// How different two frames may be and still match. The default is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    /// A pixel differs when any channel differs by more than this.
    #[serde(default)]
    pub max_diff: u8,
    /// How many pixels may differ.
    #[serde(default)]
    pub max_pixels: u64,
    /// The share of the frame's pixels that may differ (0 to 1), for
    /// captures of any size; the larger of this and `max_pixels` counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ratio: Option<f64>,
    /// Perceptual comparison, pixelmatch's (0 to 1; 0.1 is its default):
    /// a pixel counts as differing only when its YIQ colour distance is
    /// more than this share of the largest, and it is not anti-aliasing
    /// (a pixel between a darker and a brighter neighbour on an edge, by
    /// Vysniauskas 2009). An edge anti-aliased a little differently
    /// passes; a sprite in another place does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perceptual: Option<f64>,
}

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
    pub captures: Vec<Capture>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Tolerance {
    pub fn is_exact(&self) -> bool {
        *self == Tolerance::default()
    }

    /// What a scenario may say: ratios and SSIM between 0 and 1.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("max_ratio", self.max_ratio),
            ("perceptual", self.perceptual),
        ] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(format!(
                    "tolerance: {name} is {v}; give a number from 0 to 1"
                ));
            }
        }
        Ok(())
    }

    /// Pixels that may differ in a frame of `total` pixels.
    pub fn allowed(&self, total: u64) -> u64 {
        let share = self
            .max_ratio
            .map_or(0, |r| (r * total as f64).floor() as u64);
        self.max_pixels.max(share)
    }
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

    /// The engine this scenario starts with: scene, seed and params.
    pub fn engine(&self, scene: Scene) -> Result<Engine, String> {
        let mut params = advkit_core::params::for_scene(&scene);
        if let Some(seed) = self.seed {
            params
                .set("world_seed", advkit_core::Value::Int(seed.into()))
                .map_err(|e| e.to_string())?;
        }
        let changes = self
            .params
            .iter()
            .map(|(k, v)| Ok((k.clone(), params.from_json(k, v)?)))
            .collect::<Result<Vec<_>, advkit_core::ParamError>>()
            .map_err(|e| format!("params: {e}"))?;
        params
            .set_many(&changes)
            .map_err(|e| format!("params: {e}"))?;
        Ok(Engine::with_params(scene, params))
    }

    /// Runs the scenario in-process on the demo to its last capture (the
    /// [`Demo`] driver under [`run`]). Reboots and inputs are done here;
    /// each protocol request (`method`, `params`) is handed to `request`,
    /// which answers it as the live game would (this crate knows no
    /// protocol). With `record_hashes` the [`Ran`] holds the hash of the
    /// frame after every update, and with `states` the entities too.
    pub fn run<R>(
        &self,
        scene: &Scene,
        request: R,
        states: bool,
        capture: impl FnMut(&Capture, &Frame, &[Json]),
    ) -> Result<Ran, String>
    where
        R: FnMut(&mut Engine, &str, &Json) -> Result<(), String>,
    {
        let mut demo = Demo {
            engine: self.engine(scene.clone())?,
            scene: scene.clone(),
            request,
            frame: Frame::new(self.size()?),
            drawn: None,
        };
        run(self, &mut demo, states, capture)
    }
}

/// A game a scenario is run on, tick by tick: the demo in-process
/// ([`Demo`]), or any game through the protocol (`advkit::replay`). The one
/// loop that drives both is [`run`], so every path runs a scenario alike.
pub trait Driver {
    /// Brings the game to the scenario's start: its `state` loaded, or
    /// `start_tick` ticks run and then a fresh reboot, its params in effect.
    fn start(&mut self, scenario: &Scenario) -> Result<(), String>;
    /// Does one of the scenario's actions, just before the update from
    /// `tick`.
    fn act(&mut self, tick: u64, action: &Action) -> Result<(), String>;
    /// Runs the update from `tick` to `tick + 1`.
    fn step(&mut self, tick: u64) -> Result<(), String>;
    /// The frame shown now, at `size` (the scenario's, or a capture's own).
    fn frame(&mut self, size: Size) -> Result<&Frame, String>;
    /// What the game's `world.entities` lists now; `None` for a game that
    /// lists none.
    fn world(&mut self) -> Result<Option<Vec<Json>>, String>;
    /// The entities drawn in a frame of `size`, with their boxes, for
    /// entity masks.
    fn entities_in_frame(&mut self, size: Size) -> Result<Vec<Json>, String>;
}

/// Runs `scenario` on `driver` to its last capture: `capture` gets each
/// captured frame and, when a mask needs them, the entities at that tick.
/// With `record_hashes` the [`Ran`] holds the hash of the frame after every
/// update, and with `states` the world too.
pub fn run(
    scenario: &Scenario,
    driver: &mut impl Driver,
    states: bool,
    mut capture: impl FnMut(&Capture, &Frame, &[Json]),
) -> Result<Ran, String> {
    driver.start(scenario)?;
    let size = scenario.size()?;
    let plan = scenario.plan();
    let mut ran = Ran::default();
    for tick in scenario.start_tick..scenario.last_tick() {
        for action in plan.at(tick) {
            driver.act(tick, action)?;
        }
        driver.step(tick)?;
        if scenario.record_hashes {
            ran.hashes
                .push((tick + 1, hash_pixels(driver.frame(size)?.pixels())));
            if states && let Some(world) = driver.world()? {
                ran.states.push((tick + 1, world));
            }
        }
        for c in scenario.captures.iter().filter(|c| c.tick == tick + 1) {
            let size = scenario.capture_size(c)?;
            let entities = if scenario.needs_entities(c) {
                driver.entities_in_frame(size)?
            } else {
                Vec::new()
            };
            capture(c, driver.frame(size)?, &entities);
        }
    }
    Ok(ran)
}

/// The built-in demo, in-process: a [`Driver`] whose protocol requests go
/// to `request` (the host's answers, given by the caller).
pub struct Demo<R> {
    engine: Engine,
    scene: Scene,
    request: R,
    /// The last frame drawn, and for which tick and size.
    frame: Frame,
    drawn: Option<u64>,
}

impl<R> std::fmt::Debug for Demo<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("tick", &self.engine.tick())
            .finish_non_exhaustive()
    }
}

impl<R> Driver for Demo<R>
where
    R: FnMut(&mut Engine, &str, &Json) -> Result<(), String>,
{
    fn start(&mut self, scenario: &Scenario) -> Result<(), String> {
        if let Some(state) = &scenario.state {
            self.engine
                .restore_state(state)
                .map_err(|e| format!("the scenario's state: {e}"))?;
            if self.engine.tick() != scenario.start_tick {
                return Err(format!(
                    "the scenario's state is at tick {}, but its start_tick is {}",
                    self.engine.tick(),
                    scenario.start_tick
                ));
            }
        } else if scenario.start_tick > 0 {
            for _ in 0..scenario.start_tick {
                self.engine.step();
            }
            self.engine.reboot(self.scene.clone(), Progress::Discard);
        }
        Ok(())
    }

    fn act(&mut self, tick: u64, action: &Action) -> Result<(), String> {
        match action {
            Action::Reboot { keep_progress } => {
                let progress = if *keep_progress {
                    Progress::Keep
                } else {
                    Progress::Discard
                };
                self.engine.reboot(self.scene.clone(), progress);
            }
            Action::Input { button, action } => self.engine.input(*button, *action),
            Action::Request { method, params } => (self.request)(&mut self.engine, method, params)
                .map_err(|e| format!("tick {tick}: {method} {params}: {e}"))?,
        }
        self.drawn = None;
        Ok(())
    }

    fn step(&mut self, _tick: u64) -> Result<(), String> {
        self.engine.step();
        self.drawn = None;
        Ok(())
    }

    fn frame(&mut self, size: Size) -> Result<&Frame, String> {
        let tick = self.engine.tick();
        if self.drawn != Some(tick) || self.frame.size() != size {
            if self.frame.size() != size {
                self.frame = Frame::new(size);
            }
            self.engine.render(&mut self.frame);
            self.drawn = Some(tick);
        }
        Ok(&self.frame)
    }

    fn world(&mut self) -> Result<Option<Vec<Json>>, String> {
        Ok(Some(self.engine.entities()))
    }

    fn entities_in_frame(&mut self, size: Size) -> Result<Vec<Json>, String> {
        Ok(self.engine.entities_in_frame((size.width, size.height)))
    }
}

/// What a run saw besides its captures.
#[derive(Clone, Debug, Default)]
pub struct Ran {
    /// `(tick, frame hash)` after every update, when the scenario has
    /// `record_hashes`.
    pub hashes: Vec<(u64, u64)>,
    /// `(tick, world.entities)` after every update, when asked for (and
    /// the game lists its entities): what a divergence report compares,
    /// once flattened (`advkit_ipc::state::flatten`).
    pub states: Vec<(u64, Vec<Json>)>,
}

/// The outcome of comparing two frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Pixels whose largest channel difference exceeds the tolerance
    /// (outside the masks).
    pub differing: u64,
    /// Pixels that differ, but by no more than the tolerance's `max_diff`.
    pub tolerated: u64,
    /// Differing pixels inside a mask, not counted.
    pub masked: u64,
    /// The largest channel difference anywhere outside the masks.
    pub max_diff: u8,
    /// Bounding box of the differing pixels: (x0, y0, x1, y1), inclusive.
    pub bbox: Option<(u32, u32, u32, u32)>,
    /// Set when the sizes differ (then nothing else is compared).
    pub size_mismatch: Option<(Size, Size)>,
    pub tolerance: Tolerance,
    /// The frame's pixels.
    pub total: u64,
    /// With `perceptual`: differing pixels excused as anti-aliasing (or
    /// as too close in colour to see), counted in `tolerated` too.
    pub antialiased: u64,
}

impl Comparison {
    pub fn passes(&self) -> bool {
        self.size_mismatch.is_none() && self.differing <= self.tolerance.allowed(self.total)
    }

    /// "; perceptual 0.1: 14 pixel(s) anti-aliasing or unseen", when used.
    fn describe_ssim(&self) -> String {
        match self.tolerance.perceptual {
            Some(t) => format!(
                "; perceptual {t}: {} pixel(s) anti-aliasing or too close to see",
                self.antialiased
            ),
            None => String::new(),
        }
    }

    /// Whether the frames are the same outside the masks.
    pub fn identical(&self) -> bool {
        self.size_mismatch.is_none() && self.max_diff == 0
    }

    /// One line for people: "1234 pixels differ (max 87) in 10,20-200,150".
    pub fn describe(&self) -> String {
        if let Some((e, a)) = self.size_mismatch {
            return format!(
                "size {}x{} but the golden is {}x{}",
                a.width, a.height, e.width, e.height
            );
        }
        let place = self
            .bbox
            .map(|(x0, y0, x1, y1)| format!(" in {x0},{y0}-{x1},{y1}"))
            .unwrap_or_default();
        let tolerated = if self.tolerated > 0 {
            format!("; {} more within the tolerance", self.tolerated)
        } else {
            String::new()
        };
        format!(
            "{} pixel(s) differ by more than {} (largest difference {}, allowed {} pixel(s)){place}{tolerated}{}{}",
            self.differing,
            self.tolerance.max_diff,
            self.max_diff,
            self.tolerance.allowed(self.total),
            self.describe_ssim(),
            self.describe_masked()
        )
    }

    /// What a pass let through, for a pass that was not exact: "within
    /// tolerance: 12 pixel(s) differ by at most 1 (allowed: 2 per channel,
    /// 64 pixel(s))". Empty for an exact match.
    pub fn describe_pass(&self) -> String {
        if self.identical() {
            return if self.masked > 0 {
                format!("identical{}", self.describe_masked())
            } else {
                String::new()
            };
        }
        format!(
            "within tolerance: {} pixel(s) differ by more than {} (allowed {}), {} more by at most {}; largest difference {}{}{}",
            self.differing,
            self.tolerance.max_diff,
            self.tolerance.allowed(self.total),
            self.tolerated,
            self.tolerance.max_diff,
            self.max_diff,
            self.describe_ssim(),
            self.describe_masked()
        )
    }

    fn describe_masked(&self) -> String {
        if self.masked > 0 {
            format!("; {} differing pixel(s) masked", self.masked)
        } else {
            String::new()
        }
    }
}

/// Rectangles `[x, y, w, h]` left out of a comparison.
fn in_masks(masks: &[[u32; 4]], x: u32, y: u32) -> bool {
    masks
        .iter()
        .any(|&[mx, my, w, h]| x >= mx && y >= my && x - mx < w && y - my < h)
}

/// Compares `actual` with `expected` outside `masks`. Identical buffers
/// take a fast path (one memcmp); otherwise every pixel's largest channel
/// difference is measured against `tolerance.max_diff`.
pub fn compare(
    expected: &Frame,
    actual: &Frame,
    tolerance: Tolerance,
    masks: &[[u32; 4]],
) -> Comparison {
    let mut c = Comparison {
        differing: 0,
        tolerated: 0,
        masked: 0,
        max_diff: 0,
        bbox: None,
        size_mismatch: None,
        tolerance,
        total: u64::from(actual.width()) * u64::from(actual.height()),
        antialiased: 0,
    };
    if expected.size() != actual.size() {
        c.size_mismatch = Some((expected.size(), actual.size()));
        return c;
    }
    if expected.pixels() == actual.pixels() {
        return c;
    }
    let perceptual = tolerance
        .perceptual
        .map(|t| perceptual::Perceptual::new(expected, actual, t));
    let w = expected.width() as usize;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
    for (row, (e_row, a_row)) in expected
        .pixels()
        .chunks_exact(w * 4)
        .zip(actual.pixels().chunks_exact(w * 4))
        .enumerate()
    {
        if e_row == a_row {
            continue;
        }
        // 16 pixels (one cache line) at a time: equal blocks, the common
        // case, cost one vectorised compare.
        for (block, (eb, ab)) in e_row.chunks(64).zip(a_row.chunks(64)).enumerate() {
            if eb == ab {
                continue;
            }
            let (e_px, _) = eb.as_chunks::<4>();
            let (a_px, _) = ab.as_chunks::<4>();
            for (i, (e, a)) in e_px.iter().zip(a_px).enumerate() {
                if e == a {
                    continue;
                }
                let (x, y) = ((block * 16 + i) as u32, row as u32);
                if in_masks(masks, x, y) {
                    c.masked += 1;
                    continue;
                }
                let d = channel_diff(e, a);
                c.max_diff = c.max_diff.max(d);
                if d > tolerance.max_diff
                    && let Some(p) = &perceptual
                    && !p.differs(x, y)
                {
                    c.antialiased += 1;
                    c.tolerated += 1;
                } else if d > tolerance.max_diff {
                    c.differing += 1;
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                } else {
                    c.tolerated += 1;
                }
            }
        }
    }
    if c.differing > 0 {
        c.bbox = Some((x0, y0, x1, y1));
    }
    c
}

/// A heat map of the difference: matching pixels are a dim grey copy of
/// the expected frame; differing ones run from dark red (small) to yellow
/// and white (large), so a person sees at once where and how much. Pixels
/// that differ within `tolerance` are blue instead, and masked areas are
/// hatched over a dim copy of the actual frame (still visible, not
/// compared).
pub fn diff_image(
    expected: &Frame,
    actual: &Frame,
    tolerance: Tolerance,
    masks: &[[u32; 4]],
) -> Frame {
    let size = actual.size();
    let mut out = Frame::new(size);
    if expected.size() != size {
        // Nothing to line up: show the actual frame dimmed.
        for (o, a) in out
            .pixels_mut()
            .chunks_exact_mut(4)
            .zip(actual.pixels().chunks_exact(4))
        {
            let l = luma(a) / 3;
            o.copy_from_slice(&[l, l, l, 255]);
        }
        return out;
    }
    let w = size.width as usize;
    for (i, ((o, e), a)) in out
        .pixels_mut()
        .chunks_exact_mut(4)
        .zip(expected.pixels().chunks_exact(4))
        .zip(actual.pixels().chunks_exact(4))
        .enumerate()
    {
        let (x, y) = ((i % w) as u32, (i / w) as u32);
        let d = channel_diff(e, a);
        if !masks.is_empty() && in_masks(masks, x, y) {
            // Hatched: diagonal stripes of violet over the dimmed actual.
            let l = luma(a) / 3;
            if (x + y) / 3 % 2 == 0 {
                o.copy_from_slice(&[l / 2 + 90, l / 2 + 40, l / 2 + 120, 255]);
            } else {
                o.copy_from_slice(&[l, l, l, 255]);
            }
        } else if d == 0 {
            let l = luma(e) / 4;
            o.copy_from_slice(&[l, l, l, 255]);
        } else if d <= tolerance.max_diff {
            o.copy_from_slice(&[40, 110, 230, 255]);
        } else {
            // 1..255 → red ramps up first, then green, then blue.
            let t = u32::from(d).max(1) * 3;
            let r = (96 + t).min(255) as u8;
            let g = t.saturating_sub(160).min(255) as u8;
            let b = t.saturating_sub(480).min(255) as u8;
            o.copy_from_slice(&[r, g, b, 255]);
        }
    }
    out
}

/// The largest difference between two pixels in any channel.
fn channel_diff(e: &[u8], a: &[u8]) -> u8 {
    e.iter()
        .zip(a)
        .map(|(p, q)| p.abs_diff(*q))
        .max()
        .unwrap_or(0)
}

fn luma(p: &[u8]) -> u8 {
    ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: u32, h: u32, fill: [u8; 4]) -> Frame {
        let size = Size::new(w, h).expect("size");
        let px = fill.repeat((w * h) as usize);
        Frame::from_pixels(size, px).expect("frame")
    }

    #[test]
    fn exact_and_tolerant_comparison() {
        let a = frame(8, 4, [10, 20, 30, 255]);
        let mut b = a.clone();
        assert!(compare(&a, &b, Tolerance::default(), &[]).passes());
        // Two pixels off by 3 and 40.
        b.pixels_mut()[(4 + 2) * 4] = 13;
        b.pixels_mut()[(3 * 8 + 7) * 4 + 1] = 60;
        let exact = compare(&a, &b, Tolerance::default(), &[]);
        assert_eq!((exact.differing, exact.max_diff), (2, 40));
        assert_eq!(exact.bbox, Some((6, 0, 7, 3)));
        assert!(!exact.passes());
        assert!(
            exact.describe().contains("2 pixel(s) differ"),
            "{}",
            exact.describe()
        );
        let fuzzy = compare(
            &a,
            &b,
            Tolerance {
                max_diff: 5,
                max_pixels: 0,
                ..Tolerance::default()
            },
            &[],
        );
        assert_eq!(fuzzy.differing, 1);
        assert!(
            compare(
                &a,
                &b,
                Tolerance {
                    max_diff: 5,
                    max_pixels: 1,
                    ..Tolerance::default()
                },
                &[]
            )
            .passes()
        );
        let other = frame(4, 4, [0; 4]);
        let c = compare(&a, &other, Tolerance::default(), &[]);
        assert!(!c.passes() && c.describe().contains("size 4x4 but the golden is 8x4"));
    }

    #[test]
    fn the_heat_map_marks_only_differing_pixels() {
        let a = frame(4, 1, [100, 100, 100, 255]);
        let mut b = a.clone();
        b.pixels_mut()[4] = 255;
        let d = diff_image(&a, &b, Tolerance::default(), &[]);
        assert_eq!(d.pixel(0, 0), [25, 25, 25, 255]);
        assert!(d.pixel(1, 0)[0] > 200, "{:?}", d.pixel(1, 0));
    }

    #[test]
    fn scenarios_are_checked_when_parsed() {
        let ok = r#"{"seed": 3, "captures": [{"name": "a", "tick": 5}]}"#;
        Scenario::parse("s.json", ok).expect("valid");
        for (bad, why) in [
            (r#"{"captures": []}"#, "at least one capture"),
            (
                r#"{"captures": [{"name": "a/b", "tick": 1}]}"#,
                "names a file",
            ),
            (
                r#"{"captures": [{"name": "a", "tick": 1}, {"name": "a", "tick": 2}]}"#,
                "twice",
            ),
            (r#"{"captures": [{"name": "a", "tick": 0}]}"#, "at least 1"),
            (
                r#"{"size": "big", "captures": [{"name": "a", "tick": 1}]}"#,
                "WIDTHxHEIGHT",
            ),
            ("{\n  \"captures\": [], \"colour\": 1}", "unknown field"),
        ] {
            let err = Scenario::parse("s.json", bad).expect_err(bad).to_string();
            assert!(
                err.contains(why) && err.starts_with("s.json:"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_run_captures_the_same_frame_as_the_engine_would() {
        let s = Scenario::parse(
            "s.json",
            r#"{"seed": 9, "record_hashes": true, "captures": [{"name": "a", "tick": 3}]}"#,
        )
        .expect("valid");
        let scene = Scene::builtin();
        let mut got = None;
        let ran = s
            .run(
                &scene,
                |_, m, _| Err(m.into()),
                true,
                |_, f, _| got = Some(f.clone()),
            )
            .expect("runs");
        let hashes = ran.hashes;
        assert_eq!(hashes.len(), 3);
        assert_eq!(ran.states.len(), 3);
        assert!(
            ran.states[2].1.iter().any(|e| e["id"] == "player"),
            "{:?}",
            ran.states[2]
        );
        let mut engine = s.engine(scene).expect("engine");
        engine.run(3, &Timeline::default());
        let mut f = Frame::new(s.size().expect("size"));
        engine.render(&mut f);
        assert_eq!(got.as_ref().map(Frame::hash), Some(f.hash()));
        assert_eq!(hashes[2], (3, f.hash()));
    }

    #[test]
    fn masks_leave_pixels_out_and_tolerated_ones_are_counted_apart() {
        let a = frame(8, 4, [10, 20, 30, 255]);
        let mut b = a.clone();
        b.pixels_mut()[0] = 11; // (0,0) by 1
        b.pixels_mut()[(8 + 5) * 4] = 90; // (5,1) by 80
        b.pixels_mut()[(3 * 8 + 7) * 4] = 90; // (7,3) by 80
        let tol = Tolerance {
            max_diff: 2,
            max_pixels: 0,
            ..Tolerance::default()
        };
        let c = compare(&a, &b, tol, &[[5, 1, 1, 1]]);
        assert_eq!((c.differing, c.tolerated, c.masked), (1, 1, 1));
        assert_eq!(c.bbox, Some((7, 3, 7, 3)));
        assert!(
            c.describe().contains("1 more within the tolerance"),
            "{}",
            c.describe()
        );
        let pass = compare(&a, &b, tol, &[[5, 1, 3, 3]]);
        assert!(pass.passes());
        assert!(
            pass.describe_pass()
                .starts_with("within tolerance: 0 pixel(s)"),
            "{}",
            pass.describe_pass()
        );
        let d = diff_image(&a, &b, tol, &[[5, 1, 3, 3]]);
        assert_eq!(d.pixel(0, 0), [40, 110, 230, 255], "tolerated is blue");
        assert_ne!(d.pixel(7, 3)[0], 255, "masked is not painted red");
        let stripes: std::collections::BTreeSet<[u8; 4]> = (5..8)
            .map(|x| d.pixel(x, 1))
            .chain((5..8).map(|x| d.pixel(x, 3)))
            .collect();
        assert!(stripes.len() > 1, "hatched: {stripes:?}");
    }

    #[test]
    fn entity_masks_resolve_through_the_entity_box() {
        let m = Mask {
            rect: None,
            entity: Some("npc:1".into()),
        };
        let entities = vec![
            serde_json::json!({"id": "player", "box": [1, 2, 3, 4]}),
            serde_json::json!({"id": "npc:1", "box": [10, 20, 16, 16]}),
            serde_json::json!({"id": "npc:2", "box": null}),
        ];
        assert_eq!(m.resolve(&entities), Ok(Some([10, 20, 16, 16])));
        let gone = Mask {
            rect: None,
            entity: Some("npc:2".into()),
        };
        assert_eq!(gone.resolve(&entities), Ok(None));
        let unknown = Mask {
            rect: None,
            entity: Some("npc:9".into()),
        };
        let e = unknown.resolve(&entities).expect_err("unknown");
        assert!(
            e.contains("no entity `npc:9`") && e.contains("npc:1"),
            "{e}"
        );
        let bad = r#"{"captures": [{"name": "a", "tick": 1, "mask": [{"rect": [0,0,1,1], "entity": "player"}]}]}"#;
        let err = Scenario::parse("s.json", bad)
            .expect_err("both")
            .to_string();
        assert!(err.contains("either"), "{err}");
    }

    /// A dark frame with a bright 16x16 sprite at `x`; with `soft`, drawn
    /// half a pixel to the right as anti-aliasing draws it: its first
    /// column and the column after it half covered.
    fn sprite(x: u32, soft: bool) -> Frame {
        let mut f = frame(64, 32, [20, 24, 40, 255]);
        let w = f.width();
        for (i, px) in f.pixels_mut().chunks_exact_mut(4).enumerate() {
            let (px_x, px_y) = (i as u32 % w, i as u32 / w);
            if !(8..24).contains(&px_y) {
                continue;
            }
            let half = soft && (px_x == x || px_x == x + 16);
            if half {
                px.copy_from_slice(&[130, 122, 100, 255]);
            } else if (x..x + 16).contains(&px_x) {
                px.copy_from_slice(&[240, 220, 160, 255]);
            }
        }
        f
    }

    #[test]
    fn a_perceptual_threshold_passes_anti_aliasing_and_fails_a_moved_sprite() {
        let tol = Tolerance {
            perceptual: Some(0.1),
            ..Tolerance::default()
        };
        let golden = sprite(20, false);
        let aa = compare(&golden, &sprite(20, true), tol, &[]);
        assert!(aa.passes(), "{}", aa.describe());
        assert!(aa.antialiased > 0, "the pixels do differ, as anti-aliasing");
        let moved = compare(&golden, &sprite(26, false), tol, &[]);
        assert!(!moved.passes(), "{}", moved.describe());
        assert!(
            moved.describe().contains("perceptual 0.1"),
            "{}",
            moved.describe()
        );
        // The exact comparison fails both.
        assert!(!compare(&golden, &sprite(20, true), Tolerance::default(), &[]).passes());
    }

    #[test]
    fn max_ratio_allows_a_share_of_the_pixels() {
        let golden = sprite(20, false);
        let moved = sprite(21, false); // 32 of 2048 pixels differ: 1.6 %
        let ratio = |r: f64| Tolerance {
            max_ratio: Some(r),
            ..Tolerance::default()
        };
        assert!(compare(&golden, &moved, ratio(0.02), &[]).passes());
        assert!(!compare(&golden, &moved, ratio(0.01), &[]).passes());
        assert!(ratio(1.5).check().is_err());
    }
}
