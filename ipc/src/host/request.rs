//! What the game loop is handed: the requests that are the game's own,
//! typed, each with a [`Responder`] that answers the client.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::api::{
    EntityParams, Event, InputParams, PickParams, RebootParams, RpcError, WorldLoadParams,
    WorldSetParams, codes, method,
};
use crate::server::{Shared, parse};

/// A request for the game. The host answers every generic method itself
/// (params, pause, step, stats, snapshot, events, shutdown); these are
/// the ones only the game can answer. Its params were checked against
/// the method's schema before it got here.
#[derive(Debug)]
pub enum Request {
    /// `engine.reboot`: rebuild the world, applying pending params
    /// ([`Host::apply_pending_params`](crate::Host::apply_pending_params)).
    Reboot {
        params: RebootParams,
        reply: Responder,
    },
    /// `engine.input`: press, release or tap a button.
    Input {
        params: InputParams,
        reply: Responder,
    },
    /// `world.entities`: every entity, as JSON objects with an `id`.
    Entities { reply: Responder },
    /// `world.get`: one entity.
    WorldGet {
        params: EntityParams,
        reply: Responder,
    },
    /// `world.set`: change an entity's attributes.
    WorldSet {
        params: WorldSetParams,
        reply: Responder,
    },
    /// `world.pick`: what is at a pixel of the frame.
    WorldPick {
        params: PickParams,
        reply: Responder,
    },
    /// `world.save`: the game's whole state, answered as
    /// [`WorldState`](crate::api::WorldState).
    WorldSave { reply: Responder },
    /// `world.load`: go back to a state `world.save` gave.
    WorldLoad {
        params: WorldLoadParams,
        reply: Responder,
    },
    /// A method the game registered itself.
    Custom {
        method: String,
        params: Value,
        reply: Responder,
    },
}

impl Request {
    /// The method's name.
    pub fn method(&self) -> &str {
        match self {
            Request::Reboot { .. } => method::REBOOT,
            Request::Input { .. } => method::INPUT,
            Request::Entities { .. } => method::ENTITIES,
            Request::WorldGet { .. } => method::WORLD_GET,
            Request::WorldSet { .. } => method::WORLD_SET,
            Request::WorldPick { .. } => method::WORLD_PICK,
            Request::WorldSave { .. } => method::WORLD_SAVE,
            Request::WorldLoad { .. } => method::WORLD_LOAD,
            Request::Custom { method, .. } => method,
        }
    }

    /// Answers "unknown method" (−32601): for a game loop's catch-all arm.
    pub fn unsupported(self) {
        let err = RpcError::method_not_found(self.method());
        self.into_reply().err(err);
    }

    /// The method's name, its params as JSON (typed ones serialised back)
    /// and the responder: for bindings that hand every request to a
    /// dynamic language the same way.
    pub fn into_parts(self) -> (String, Value, Responder) {
        let name = self.method().to_owned();
        let params = match &self {
            Request::Reboot { params, .. } => serde_json::to_value(params),
            Request::Input { params, .. } => serde_json::to_value(params),
            Request::Entities { .. } | Request::WorldSave { .. } => {
                Ok(Value::Object(Default::default()))
            }
            Request::WorldLoad { params, .. } => serde_json::to_value(params),
            Request::WorldGet { params, .. } => serde_json::to_value(params),
            Request::WorldSet { params, .. } => serde_json::to_value(params),
            Request::WorldPick { params, .. } => serde_json::to_value(params),
            Request::Custom { params, .. } => Ok(params.clone()),
        };
        (name, params.unwrap_or_default(), self.into_reply())
    }

    /// The responder, whatever the request.
    pub fn into_reply(self) -> Responder {
        match self {
            Request::Reboot { reply, .. }
            | Request::Input { reply, .. }
            | Request::Entities { reply }
            | Request::WorldSave { reply }
            | Request::WorldLoad { reply, .. }
            | Request::WorldGet { reply, .. }
            | Request::WorldSet { reply, .. }
            | Request::WorldPick { reply, .. }
            | Request::Custom { reply, .. } => reply,
        }
    }

    /// The typed request, or the error to answer it with.
    pub(crate) fn new(
        method: String,
        params: Value,
        reply: Responder,
    ) -> Result<Request, (Responder, RpcError)> {
        macro_rules! typed {
            ($variant:ident) => {
                match parse(params) {
                    Ok(params) => Ok(Request::$variant { params, reply }),
                    Err(e) => Err((reply, e)),
                }
            };
        }
        match method.as_str() {
            method::REBOOT => typed!(Reboot),
            method::INPUT => typed!(Input),
            method::ENTITIES => Ok(Request::Entities { reply }),
            method::WORLD_GET => typed!(WorldGet),
            method::WORLD_SET => typed!(WorldSet),
            method::WORLD_PICK => typed!(WorldPick),
            method::WORLD_SAVE => Ok(Request::WorldSave { reply }),
            method::WORLD_LOAD => typed!(WorldLoad),
            _ => Ok(Request::Custom {
                method,
                params,
                reply,
            }),
        }
    }
}

/// Answers one request. Dropping it unanswered answers −32603 (so a client
/// never waits for a reply that will not come).
#[derive(Debug)]
pub struct Responder {
    method: String,
    client: u64,
    tx: Option<oneshot::Sender<Result<Value, RpcError>>>,
    /// For a method that changes the game (not read-only): its params, to
    /// send as an `applied` event once it is answered without error.
    applied: Option<Box<(Arc<Shared>, Value)>>,
}

impl Responder {
    pub(crate) fn new(
        method: String,
        client: u64,
        tx: oneshot::Sender<Result<Value, RpcError>>,
    ) -> Responder {
        Responder {
            method,
            client,
            tx: Some(tx),
            applied: None,
        }
    }

    /// Makes a successful answer send the `applied` event with `params`.
    pub(crate) fn announce_when_applied(&mut self, shared: Arc<Shared>, params: Value) {
        self.applied = Some(Box::new((shared, params)));
    }

    /// The connection that sent the request (as in `params` events' `by`).
    pub fn client(&self) -> u64 {
        self.client
    }

    pub fn ok(self, result: impl Serialize) {
        self.send(Ok(result));
    }

    pub fn err(self, error: RpcError) {
        self.send(Err::<Value, _>(error));
    }

    pub fn send<T: Serialize>(mut self, result: Result<T, RpcError>) {
        let result = result.and_then(|r| {
            serde_json::to_value(r).map_err(|e| {
                RpcError::new(
                    codes::INTERNAL_ERROR,
                    format!("result not serialisable: {e}"),
                )
            })
        });
        if let (Ok(result), Some(applied)) = (&result, self.applied.take()) {
            let (shared, params) = *applied;
            shared
                .applied_log()
                .push((shared.tick(), self.method.clone(), params.clone()));
            shared.emit(&Event::Applied {
                method: self.method.clone(),
                params,
                by: self.client,
            });
            // A load moves the game to the tick it answers: this reply,
            // `engine.stats` and events say it at once, not only from the
            // next frame (the `applied` event above keeps the tick the
            // game was on before it, which a replay delivers it after).
            if self.method == method::WORLD_LOAD
                && let Some(tick) = result.get("tick").and_then(Value::as_u64)
            {
                shared.tick.store(tick, Ordering::Relaxed);
            }
        }
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(result);
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Err(RpcError::new(
                codes::INTERNAL_ERROR,
                format!("the game dropped `{}` without answering it", self.method),
            )));
        }
    }
}
