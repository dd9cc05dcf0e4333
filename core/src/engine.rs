//! The engine: a scene, its parameters and world, advanced tick by tick and
//! drawn on request. The host (a CLI, a live loop, a test) owns the clock,
//! the files and the sockets; the engine only computes.

use serde::{Deserialize, Serialize};

use advkit_frame::Canvas;

use crate::input::{Button, Controls, InputAction, Timeline};
use crate::params::{Applied, ParamError, Params, Value};
use crate::render::Renderer;
use crate::scene::Scene;
use crate::world::{CarryOver, Settings, World, WorldEvent};

/// Whether a reboot keeps the player's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Position (if still walkable) and flags carry over.
    Keep,
    /// Start again from the spawn point with no flags.
    Discard,
}

/// What a reboot did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebootReport {
    pub tick: u64,
    pub progress: Progress,
    /// Reboot-only parameters whose pending values took effect.
    pub applied: Vec<String>,
    /// What was carried over, with [`Progress::Keep`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried: Option<CarryOver>,
    pub scene: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the saved state is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error("the saved state is for scene `{saved}`, but the engine runs `{running}`")]
    OtherScene { saved: String, running: String },
    #[error("the saved state does not fit the scene: {0}")]
    DoesNotFit(String),
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    scene: String,
    world: World,
    /// Buttons held down, so a run restored mid-walk walks on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    held: Vec<Button>,
}

/// A running game, without any I/O.
#[derive(Debug)]
pub struct Engine {
    scene: Scene,
    params: Params,
    settings: Settings,
    world: World,
    renderer: Renderer,
    controls: Controls,
    reboots: u64,
}

impl Engine {
    /// An engine on a scene, with the scene's parameter defaults.
    pub fn new(scene: Scene) -> Engine {
        let params = crate::params::for_scene(&scene);
        Engine::with_params(scene, params)
    }

    /// An engine with parameters already set (reboot-only ones included:
    /// pending values are applied before the world is built).
    pub fn with_params(scene: Scene, mut params: Params) -> Engine {
        params.apply_pending();
        let settings = Settings::from_params(&params);
        let world = World::new(&scene, &settings, 0);
        let renderer = Renderer::new(&scene);
        Engine {
            scene,
            params,
            settings,
            world,
            renderer,
            controls: Controls::default(),
            reboots: 0,
        }
    }

    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// Ticks simulated since the engine was made (reboots do not reset it).
    pub fn tick(&self) -> u64 {
        self.world.tick
    }

    pub fn reboots(&self) -> u64 {
        self.reboots
    }

    /// Sets a parameter; the old value stays if it is rejected.
    pub fn set_param(&mut self, name: &str, value: Value) -> Result<Applied, ParamError> {
        let applied = self.params.set(name, value)?;
        self.settings = Settings::from_params(&self.params);
        Ok(applied)
    }

    /// Sets several parameters: all or none.
    pub fn set_params(&mut self, changes: &[(String, Value)]) -> Result<Vec<Applied>, ParamError> {
        let applied = self.params.set_many(changes)?;
        self.settings = Settings::from_params(&self.params);
        Ok(applied)
    }

    /// Resets one parameter, or all, to the default.
    pub fn reset_params(
        &mut self,
        name: Option<&str>,
    ) -> Result<Vec<(String, Applied)>, ParamError> {
        let out = self.params.reset(name)?;
        self.settings = Settings::from_params(&self.params);
        Ok(out)
    }

    /// Presses, releases or taps a button before the next tick.
    pub fn input(&mut self, button: Button, action: InputAction) {
        self.controls.apply(button, action);
    }

    /// Gives `f` the registry to change (as a control server does with
    /// `params.set`); live changes reach the world on the next tick.
    pub fn update_params<R>(&mut self, f: impl FnOnce(&mut Params) -> R) -> R {
        let r = f(&mut self.params);
        self.settings = Settings::from_params(&self.params);
        r
    }

    /// Advances one tick.
    pub fn step(&mut self) {
        let input = self.controls.take_tick();
        self.world.update(&self.scene, &self.settings, input);
    }

    /// Advances `ticks` ticks, feeding the timeline's inputs as their ticks come.
    pub fn run(&mut self, ticks: u64, timeline: &Timeline) {
        for _ in 0..ticks {
            let now = self.tick();
            for (button, action) in timeline.at(now) {
                self.input(button, action);
            }
            self.step();
        }
    }

    /// Draws the current state into `frame` (any size): a [`Frame`], or a
    /// loaned slot of the frame region, or any other [`Canvas`].
    pub fn render<C: Canvas + ?Sized>(&mut self, frame: &mut C) {
        self.renderer
            .render(&self.scene, &self.world, &self.settings, frame);
    }

    /// Rebuilds the world from `scene` (which the caller re-read, so edits
    /// show), applying pending reboot-only parameters. Parameter values are
    /// kept: a reboot never loses a tuned value.
    pub fn reboot(&mut self, scene: Scene, progress: Progress) -> RebootReport {
        let applied = self.params.apply_pending();
        self.settings = Settings::from_params(&self.params);
        let mut world = World::new(&scene, &self.settings, self.world.tick);
        let carried = match progress {
            Progress::Keep => Some(world.carry_over(&self.world, &scene)),
            Progress::Discard => None,
        };
        self.renderer = Renderer::new(&scene);
        self.scene = scene;
        self.world = world;
        self.controls.release_all();
        self.reboots += 1;
        RebootReport {
            tick: self.world.tick,
            progress,
            applied,
            carried,
            scene: self.scene.name.clone(),
        }
    }

    /// The world and the buttons held down, as JSON: what a save file
    /// holds, and what `world.save` answers.
    pub fn save_state(&self) -> serde_json::Value {
        serde_json::to_value(SavedState {
            scene: self.scene.name.clone(),
            world: self.world.clone(),
            held: self.controls.held().iter().collect(),
        })
        .unwrap_or(serde_json::Value::Null)
    }

    /// Restores a state saved by [`Engine::save_state`]. On error nothing changes.
    pub fn restore_state(&mut self, state: &serde_json::Value) -> Result<(), StateError> {
        let saved: SavedState = serde_json::from_value(state.clone())?;
        if saved.scene != self.scene.name {
            return Err(StateError::OtherScene {
                saved: saved.scene,
                running: self.scene.name.clone(),
            });
        }
        saved
            .world
            .check(&self.scene)
            .map_err(StateError::DoesNotFit)?;
        self.world = saved.world;
        self.controls.release_all();
        self.controls.hold(saved.held);
        Ok(())
    }

    /// Swaps in an edited world (checked by the caller), releasing held inputs.
    pub(crate) fn replace_world(&mut self, world: World) {
        self.world = world;
        self.controls.release_all();
    }

    /// What happened in the world since the last call.
    pub fn drain_events(&mut self) -> Vec<WorldEvent> {
        self.world.drain_events()
    }
}
