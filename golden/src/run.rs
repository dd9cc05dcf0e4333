//! Running a scenario: the one loop ([`run`]) over a [`Driver`], and the
//! in-process driver for the built-in demo ([`Demo`]).

use serde_json::Value as Json;

use advkit_core::{Engine, Frame, Progress, Scene, Size, hash_pixels};

use crate::scenario::{Action, Capture, Scenario};
use crate::store::KeptFrames;

impl Scenario {
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
            let frame = driver.frame(size)?;
            ran.hashes.push((tick + 1, hash_pixels(frame.pixels())));
            if scenario.keeps_frame(tick + 1) {
                ran.kept.keep(tick + 1, frame)?;
            }
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
    /// The frames the scenario keeps beside its hashes
    /// ([`Scenario::keeps_frame`]).
    pub kept: KeptFrames,
}
