//! The game's answers to the host's own requests: keyframes, the state to
//! come back to, loads, logged requests replayed, and what conditions read.

use serde_json::Value as Json;
use tokio::sync::oneshot;

use super::{ANSWER_WITHIN, Job, Phase, Purpose};
use crate::api::{EntitiesResult, RpcError, WorldLoaded, WorldState, codes};
use crate::host::Host;
use crate::host::history::Keyframe;
use crate::state;

impl Host {
    pub(in crate::host) fn collect_answers(&mut self) {
        let mut i = 0;
        while i < self.debug.waiting.len() {
            let w = &mut self.debug.waiting[i];
            let answer = match w.rx.try_recv() {
                Ok(answer) => answer,
                Err(oneshot::error::TryRecvError::Empty) => {
                    if w.since.elapsed() < ANSWER_WITHIN {
                        i += 1;
                        continue;
                    }
                    Err(RpcError::new(
                        codes::TIMED_OUT,
                        "the game did not answer within 5 s",
                    ))
                }
                Err(oneshot::error::TryRecvError::Closed) => Err(RpcError::new(
                    codes::INTERNAL_ERROR,
                    "the game dropped the request",
                )),
            };
            let w = self.debug.waiting.remove(i);
            self.answered(w.purpose, answer);
        }
    }

    pub(super) fn answered(&mut self, purpose: Purpose, answer: Result<Json, RpcError>) {
        match purpose {
            Purpose::Keyframe { params, log_pos } => match answer
                .and_then(|v| serde_json::from_value::<WorldState>(v).map_err(bad_answer))
            {
                Ok(ws) => {
                    let kf = Keyframe {
                        tick: ws.tick,
                        state: ws.state.to_string().into_boxed_str(),
                        params: *params,
                        log_pos,
                    };
                    let fps = self.stats.target_fps;
                    self.debug.history.add_keyframe(kf, fps);
                }
                Err(e) => {
                    let msg = format!(
                        "history is off: the game's world.save failed ({}); seek and diff need it",
                        e.message
                    );
                    self.log(&msg);
                    self.debug.history.off = Some(msg);
                    self.debug.history.clear();
                }
            },
            Purpose::Return => {
                if let Some(Job::Travel(t)) = &mut self.debug.job {
                    match answer
                        .and_then(|v| serde_json::from_value::<WorldState>(v).map_err(bad_answer))
                    {
                        Ok(ws) => t.back.state = Some(ws.state),
                        Err(e) => {
                            t.failed = Some(RpcError::failed(format!(
                                "world.save failed, so the engine could not keep its place: {}",
                                e.message
                            )));
                        }
                    }
                }
            }
            Purpose::Load => {
                if let Some(Job::Travel(t)) = &mut self.debug.job {
                    let loaded = answer
                        .and_then(|v| serde_json::from_value::<WorldLoaded>(v).map_err(bad_answer));
                    match (t.phase, loaded) {
                        (Phase::Load, Ok(l)) if l.tick == t.keyframe => {
                            t.phase = Phase::Run;
                            t.current = t.keyframe;
                        }
                        (Phase::Load, Ok(l)) => {
                            t.failed = Some(RpcError::failed(format!(
                                "the game's world.load went to tick {} instead of the keyframe's \
                                 tick {}: world.load must restore the game's tick",
                                l.tick, t.keyframe
                            )));
                        }
                        (Phase::Load, Err(e)) => {
                            t.failed = Some(RpcError::failed(format!(
                                "the game's world.load refused the keyframe at tick {}: {}",
                                t.keyframe, e.message
                            )));
                        }
                        (_, Err(e)) => {
                            let msg = format!(
                                "the game's world.load refused the state it was at before: {}",
                                e.message
                            );
                            self.log(&msg);
                        }
                        (_, Ok(_)) => {}
                    }
                }
            }
            Purpose::Replay { method, tick } => {
                if let (Err(e), Some(Job::Travel(t))) = (answer, &mut self.debug.job)
                    && t.failed.is_none()
                {
                    t.failed = Some(RpcError::new(
                        codes::NOT_DETERMINISTIC,
                        format!(
                            "the game is not deterministic: {method}, applied live at tick \
                             {tick}, failed when replayed ({}); advkit shows no past it cannot \
                             reproduce",
                            e.message
                        ),
                    ));
                }
            }
            Purpose::Probe(id) => match answer {
                Ok(v) => self.probed(id, v),
                Err(e) => self.probe_failed(id.as_deref(), &e),
            },
        }
    }

    pub(super) fn probed(&mut self, id: Option<String>, v: Json) {
        let entities: Vec<Json> = match id {
            Some(id) => {
                let mut v = v;
                if let Json::Object(m) = &mut v {
                    m.entry("id").or_insert(Json::String(id));
                }
                vec![v]
            }
            None => serde_json::from_value::<EntitiesResult>(v)
                .map(|r| r.entities)
                .unwrap_or_default(),
        };
        let flat = state::flatten(&entities);
        if let Some(Job::Travel(t)) = &mut self.debug.job {
            t.captured.insert(t.current, flat);
        } else if let Some(s) = &mut self.debug.sample {
            s.world.extend(flat);
        }
    }

    pub(in crate::host) fn probe_failed(&mut self, id: Option<&str>, e: &RpcError) {
        let what = id.map_or_else(|| "the world".to_owned(), |id| format!("`{id}`"));
        let msg = format!("could not read {what}: {}", e.message);
        match &mut self.debug.job {
            Some(Job::Until(_)) => {
                if let Some(Job::Until(u)) = self.debug.job.take() {
                    self.debug.sample = None;
                    u.reply.err(RpcError::invalid_params(format!(
                        "condition `{}`: {msg}",
                        u.cond
                    )));
                }
            }
            Some(Job::Travel(t)) => {
                t.failed.get_or_insert_with(|| RpcError::failed(msg));
            }
            None => {
                let mut told = Vec::new();
                for w in &mut self.debug.watches {
                    let names = id.is_none_or(|id| w.cond.entities().contains(id));
                    if names && !w.warned {
                        w.warned = true;
                        told.push(format!("watch {} ({}): {msg}", w.id, w.cond));
                    }
                }
                for t in told {
                    self.log(&t);
                }
            }
        }
    }
}

fn bad_answer(e: serde_json::Error) -> RpcError {
    RpcError::new(
        codes::INTERNAL_ERROR,
        format!("the game's answer does not fit: {e}"),
    )
}
