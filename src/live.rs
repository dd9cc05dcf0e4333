//! The built-in demo, live: advkit-core's engine on an
//! [`advkit_ipc::Host`], through the same public API any other game uses.
//! The host answers params, pause, step, stats, snapshot and events; this
//! module answers what only the demo can: reboot, input and the world
//! (entities, and saving and loading it whole).

use std::path::{Path, PathBuf};
use std::time::Instant;

use advkit_core::{Button, Engine, InputAction, Scene};
use advkit_ipc::api::schema::GAME_METHODS;
use advkit_ipc::api::{
    ConfirmData, EntitiesResult, Event, InputParams, InputResult, ParamsResetParams,
    ParamsSetParams, Progress, RebootParams, RebootResult, RpcError, WorldLoadParams, WorldLoaded,
    WorldSetParams, WorldState, codes, method,
};
use advkit_ipc::{Host, HostConfig, HostError, Request};
use serde_json::Value as Json;
use serde_json::json;

/// Why a scene file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SceneFileError {
    #[error("cannot read scene file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}\n(the scene format is described in docs/scene.md)")]
    Parse(#[from] advkit_core::SceneError),
}

/// The scene at `path`, or the built-in demo scene.
pub fn load_scene(path: Option<&Path>) -> Result<Scene, SceneFileError> {
    let Some(path) = path else {
        return Ok(Scene::builtin());
    };
    let text = std::fs::read_to_string(path).map_err(|source| SceneFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(Scene::parse(&path.display().to_string(), &text)?)
}

/// The demo engine on a host.
#[derive(Debug)]
pub struct Demo {
    engine: Engine,
    host: Host,
    /// Something the picture shows changed without a tick (a param, an
    /// entity edited while paused): draw again even though no tick is due.
    /// Otherwise a paused engine publishes nothing.
    redraw: bool,
    /// Re-read on every reboot, so an edited scene shows.
    scene_path: Option<PathBuf>,
    /// The frame size, for where entities are drawn.
    size: (u32, u32),
}

/// `engine.input`, as the demo answers it live and in a scenario.
fn input(engine: &mut Engine, p: &InputParams) -> Result<InputResult, RpcError> {
    let button: Button = p
        .button
        .parse()
        .map_err(|e: String| RpcError::invalid_params(format!("button: {e}")))?;
    let action_name = p.action.as_deref().unwrap_or("tap").to_ascii_lowercase();
    let action: InputAction = action_name
        .parse()
        .map_err(|e: String| RpcError::invalid_params(format!("action: {e}")))?;
    engine.input(button, action);
    Ok(InputResult {
        button: button.name().to_owned(),
        action: action_name,
    })
}

/// Answers a scenario's request in-process, as the live demo would:
/// `engine.reboot` (on `scene`, already read), `engine.input`,
/// `params.set` (`name`/`value` or `values`), `params.reset` and
/// `world.set`. The function [`advkit_golden::Scenario::run`] calls.
pub fn answer(engine: &mut Engine, scene: &Scene, name: &str, params: &Json) -> Result<(), String> {
    fn typed<T: serde::de::DeserializeOwned>(params: &Json) -> Result<T, String> {
        serde_json::from_value(params.clone()).map_err(|e| e.to_string())
    }
    match name {
        method::REBOOT => {
            let p: RebootParams = typed(params)?;
            let progress = if p.keep_progress {
                advkit_core::Progress::Keep
            } else {
                advkit_core::Progress::Discard
            };
            engine.reboot(scene.clone(), progress);
        }
        method::INPUT => {
            input(engine, &typed(params)?).map_err(|e| e.message)?;
        }
        method::PARAMS_SET => {
            let p: ParamsSetParams = typed(params)?;
            // The host's own reading of params.set (from_text included).
            engine.update_params(|params| {
                let typed = p.typed(params)?;
                params.set_many(&typed).map_err(|e| e.to_string())
            })?;
        }
        method::PARAMS_RESET => {
            let p: ParamsResetParams = typed(params)?;
            engine
                .update_params(|params| params.reset(p.name.as_deref()))
                .map_err(|e| e.to_string())?;
        }
        method::WORLD_SET => {
            let p: WorldSetParams = typed(params)?;
            engine.set_entity(&p.id, &p.attrs)?;
        }
        other => {
            return Err(format!(
                "the built-in engine has no `{other}` to replay (give the scenario an \"engine\" to replay through the protocol)"
            ));
        }
    }
    Ok(())
}

impl Demo {
    /// Starts a host for `engine` (its params become the host's; the frame
    /// size is the config's) and publishes the first frame: tick 1's, or
    /// when the config starts paused, the frame before any update (tick 0),
    /// so a live run lines up with a headless one from the start.
    pub fn start(
        engine: Engine,
        scene_path: Option<PathBuf>,
        cfg: HostConfig,
    ) -> Result<Demo, HostError> {
        let cfg = HostConfig {
            fps: f64::from(engine.settings().tick_rate),
            engine: format!(
                "advkit {} (Elmbrook demo engine)",
                env!("CARGO_PKG_VERSION")
            ),
            ..cfg
        }
        .with_params(engine.params().clone())
        .with_standard(&GAME_METHODS);
        let size = (cfg.width, cfg.height);
        let host = Host::start(cfg)?;
        let mut demo = Demo {
            engine,
            host,
            redraw: false,
            scene_path,
            size,
        };
        if demo.host.paused() {
            demo.draw_and_publish();
        } else {
            demo.advance(1);
        }
        Ok(demo)
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs at the engine's tick rate until `engine.shutdown` or a stop
    /// signal. Requests are answered while it waits for the next tick.
    pub fn run(&mut self) {
        let mut deadline = Instant::now();
        while self.host.running() {
            deadline = self.host.next_deadline(deadline);
            while let Some(req) = self.host.next_request(deadline) {
                self.handle(req);
            }
            self.follow_params();
            let due = self.host.ticks_due();
            if due > 0 {
                self.advance(due);
            } else if self.redraw {
                self.draw_and_publish();
            }
        }
    }

    /// Simulates `ticks` ticks, draws once and publishes.
    fn advance(&mut self, ticks: u64) {
        let started = Instant::now();
        for _ in 0..ticks {
            self.engine.step();
        }
        self.draw_and_publish();
        self.host
            .record_tick_time(started.elapsed() / ticks.max(1) as u32);
    }

    /// Draws straight into the frame region's next slot, publishes it, and
    /// sends what happened in the world since the last publish as `world`
    /// events.
    fn draw_and_publish(&mut self) {
        let mut frame = self.host.frame();
        self.engine.render(&mut frame);
        frame.publish(self.engine.tick());
        self.redraw = false;
        for ev in self.engine.drain_events() {
            let data = serde_json::to_value(&ev).unwrap_or_default();
            self.host.emit(&Event::World {
                kind: "event".into(),
                data,
            });
        }
    }

    /// Clients change params through the host; the engine follows.
    fn follow_params(&mut self) {
        if self.host.params().revision() == self.engine.params().revision() {
            return;
        }
        let rate = self.engine.settings().tick_rate;
        self.engine
            .update_params(|p| p.clone_from(self.host.params()));
        self.redraw = true;
        if self.engine.settings().tick_rate != rate {
            self.host
                .set_fps(f64::from(self.engine.settings().tick_rate));
        }
    }

    fn handle(&mut self, req: Request) {
        self.follow_params();
        match req {
            Request::Reboot { params, reply } => reply.send(self.reboot(params)),
            Request::Input { params, reply } => reply.send(self.input(&params)),
            Request::Entities { reply } => reply.ok(EntitiesResult {
                entities: self.engine.entities_in_frame(self.size),
            }),
            Request::WorldGet { params, reply } => {
                let found = self.engine.entity(&params.id).ok_or_else(|| {
                    RpcError::invalid_params(format!(
                        "id: no entity `{}`; ids are player and npc:0 to npc:{}",
                        params.id,
                        self.engine.world().npcs.len().saturating_sub(1)
                    ))
                });
                reply.send(found);
            }
            Request::WorldSet { params, reply } => reply.send(self.world_set(params)),
            Request::WorldPick { params, reply } => {
                let (w, h) = self.size;
                if params.x >= w || params.y >= h {
                    reply.err(RpcError::invalid_params(format!(
                        "x, y: ({}, {}) is outside the {w}x{h} frame",
                        params.x, params.y
                    )));
                } else {
                    reply.ok(self.engine.pick(self.size, (params.x, params.y)));
                }
            }
            Request::WorldSave { reply } => reply.ok(WorldState {
                tick: self.engine.tick(),
                state: self.engine.save_state(),
            }),
            Request::WorldLoad { params, reply } => reply.send(self.world_load(params)),
            other => other.unsupported(),
        }
    }

    fn reboot(&mut self, p: RebootParams) -> Result<RebootResult, RpcError> {
        if !p.keep_progress && !p.confirm {
            return Err(self.fresh_reboot_refusal());
        }
        // Re-read the scene so an edited file takes effect; if it is broken,
        // nothing changes and the old scene keeps running.
        let scene = load_scene(self.scene_path.as_deref()).map_err(|e| {
            RpcError::failed(format!("{e}; the engine keeps running the old scene"))
        })?;
        self.host.emit(&Event::Rebooting {
            keep_progress: p.keep_progress,
        });
        let progress = if p.keep_progress {
            advkit_core::Progress::Keep
        } else {
            advkit_core::Progress::Discard
        };
        let report = self.engine.reboot(scene, progress);
        self.host.apply_pending_params();
        self.draw_and_publish();
        let result = RebootResult {
            tick: report.tick,
            progress: if p.keep_progress {
                Progress::Keep
            } else {
                Progress::Discard
            },
            applied: report.applied,
            carried: report
                .carried
                .map(|c| serde_json::to_value(c).unwrap_or_default()),
            scene: Some(report.scene),
        };
        self.host.emit(&Event::Rebooted(result.clone()));
        Ok(result)
    }

    /// −32003, saying what a fresh reboot would throw away.
    fn fresh_reboot_refusal(&self) -> RpcError {
        let w = self.engine.world();
        let (x, y) = w.player.tile();
        let flags: Vec<&String> = w.flags.iter().collect();
        let listed = if flags.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
            format!(" ({})", names.join(", "))
        };
        RpcError::new(
            codes::CONFIRM_REQUIRED,
            format!(
                "a fresh reboot throws away the player's position (tile {x}, {y}) and {} flag(s){listed}; \
                 call again with \"confirm\": true",
                flags.len()
            ),
        )
        .with_data(ConfirmData {
            would_lose: [
                ("tile".to_owned(), json!([x, y])),
                ("flags".to_owned(), json!(flags)),
            ]
            .into(),
        })
    }

    fn input(&mut self, p: &InputParams) -> Result<InputResult, RpcError> {
        input(&mut self.engine, p)
    }

    /// Goes back to a saved state (its tick may be earlier than the last
    /// frame's), shown once the answer is out: its `applied` event is
    /// stamped with the tick it was loaded at, as every request's is.
    fn world_load(&mut self, p: WorldLoadParams) -> Result<WorldLoaded, RpcError> {
        self.engine
            .restore_state(&p.state)
            .map_err(|e| RpcError::invalid_params(format!("state: {e}; nothing changed")))?;
        self.redraw = true;
        let tick = self.engine.tick();
        self.host.emit(&Event::World {
            kind: "loaded".into(),
            data: json!({ "tick": tick }),
        });
        Ok(WorldLoaded { tick })
    }

    fn world_set(&mut self, p: WorldSetParams) -> Result<serde_json::Value, RpcError> {
        let entity = self
            .engine
            .set_entity(&p.id, &p.attrs)
            .map_err(RpcError::invalid_params)?;
        self.redraw = true;
        self.host.emit(&Event::World {
            kind: "changed".into(),
            data: json!({"id": p.id, "attrs": p.attrs}),
        });
        Ok(entity)
    }
}
