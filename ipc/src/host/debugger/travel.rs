//! Seek and diff: load a keyframe, replay the logged requests through the
//! game's own loop one tick at a time, compare each frame with the one
//! shown live, and stop at the sought tick (or come back, for a diff).

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value as Json, json};

use super::{Job, Phase, Purpose, ReturnPoint, Travel, busy, no_history};
use crate::api::{
    DiffChange, DiffParams, DiffResult, Event, RpcError, SeekParams, SeekResult, codes, method,
};
use crate::host::history::Logged;
use crate::host::{Host, Responder};
use crate::server::parse;
use crate::state::{self, Flat};

impl Host {
    /// Moves a seek or diff on; true when it queued requests to hand out.
    pub(in crate::host) fn travel_step(&mut self) -> bool {
        let Some(Job::Travel(t)) = &mut self.debug.job else {
            return false;
        };
        if t.failed.is_some() && t.phase != Phase::Returning {
            // Back to where the engine was, then answer the error.
            t.phase = Phase::Returning;
            let back = t.back.state.clone();
            let params = t.back.params.clone();
            if let Some(state) = back {
                self.restore_params(params);
                self.debug
                    .ask(method::WORLD_LOAD, json!({ "state": state }), Purpose::Load);
                return true;
            }
            self.travel_done();
            return false;
        }
        match t.phase {
            Phase::SaveReturn => {
                t.phase = Phase::Load;
                let first = t.diff.map_or(t.target, |d| d.from.min(d.to));
                let Some(kf) = self.debug.history.keyframe_for(first).cloned() else {
                    t.failed = Some(no_history(&self.debug.history));
                    return true;
                };
                t.keyframe = kf.tick;
                t.cursor = kf.log_pos;
                let state: Json = serde_json::from_str(&kf.state).unwrap_or(Json::Null);
                self.restore_params(kf.params);
                self.debug
                    .ask(method::WORLD_LOAD, json!({ "state": state }), Purpose::Load);
                true
            }
            Phase::Load => false, // waiting for the load's answer
            Phase::Run => {
                let current = t.current;
                if t.delivered_at != Some(current) {
                    t.delivered_at = Some(current);
                    let cursor = t.cursor;
                    let logged: Vec<Logged> = self
                        .debug
                        .history
                        .logged_at(cursor, current)
                        .map(|e| e.what.clone())
                        .collect();
                    let mut asked = false;
                    for what in logged {
                        match what {
                            Logged::Params(p) => self.restore_params(p),
                            Logged::Game { method, params } => {
                                self.debug.ask(
                                    &method,
                                    params,
                                    Purpose::Replay {
                                        method: method.clone(),
                                        tick: current,
                                    },
                                );
                                asked = true;
                            }
                        }
                    }
                    return asked || self.travel_step();
                }
                let Some(Job::Travel(t)) = &mut self.debug.job else {
                    return false;
                };
                let wants_world = t.diff.is_some_and(|d| d.from == current || d.to == current)
                    && !t.captured.contains_key(&current);
                if wants_world {
                    self.debug
                        .ask(method::ENTITIES, json!({}), Purpose::Probe(None));
                    return true;
                }
                if current < t.target {
                    return false; // wants a tick
                }
                if t.diff.is_some() {
                    t.phase = Phase::Returning;
                    let back = t.back.state.clone();
                    let params = t.back.params.clone();
                    if let Some(state) = back {
                        self.restore_params(params);
                        self.debug.ask(
                            method::WORLD_LOAD,
                            json!({ "state": state }),
                            Purpose::Load,
                        );
                        return true;
                    }
                }
                self.travel_done();
                false
            }
            Phase::Returning => {
                self.travel_done();
                false
            }
        }
    }

    pub(in crate::host) fn travel_done(&mut self) {
        let Some(Job::Travel(t)) = self.debug.job.take() else {
            return;
        };
        let t = *t;
        let ms = (t.started.elapsed().as_secs_f64() * 1e5).round() / 100.0;
        if let Some(err) = t.failed {
            self.debug.position = t.back.position;
            self.set_paused(t.back.paused);
            t.reply.err(err);
            return;
        }
        if let Some(d) = t.diff {
            self.debug.position = t.back.position;
            self.set_paused(t.back.paused);
            let empty = Flat::new();
            let from = t.captured.get(&d.from).unwrap_or(&empty);
            let to = t.captured.get(&d.to).unwrap_or(&empty);
            t.reply.ok(diff_result(d, from, to));
            return;
        }
        self.debug.position = t.target;
        let future = self
            .debug
            .history
            .newest()
            .unwrap_or(t.target)
            .saturating_sub(t.target);
        self.shared.emit(&Event::Seeked {
            tick: t.target,
            future,
        });
        t.reply.ok(SeekResult {
            tick: t.target,
            keyframe: t.keyframe,
            simulated: t.target - t.keyframe,
            checked: t.checked,
            verified: t.verified,
            future,
            ms,
            paused: true,
        });
        self.refresh_stats();
    }

    pub(in crate::host) fn travel_check(&self, ticks: &[u64]) -> Result<(), RpcError> {
        if let Some(job) = &self.debug.job {
            return Err(busy(job));
        }
        if self.stepping.is_some() || !self.steps.is_empty() {
            return Err(RpcError::new(
                codes::BUSY,
                "engine.step is running; try again when it is done",
            ));
        }
        let h = &self.debug.history;
        let (Some(oldest), Some(newest)) = (h.oldest(), h.newest()) else {
            return Err(no_history(h));
        };
        for &t in ticks {
            if t < oldest || t > newest {
                return Err(RpcError::invalid_params(format!(
                    "tick {t} is outside the history, which holds ticks {oldest} to {newest} \
                     (advkit send history; --history SECONDS keeps more)"
                )));
            }
        }
        Ok(())
    }

    pub(in crate::host) fn start_travel(
        &mut self,
        target: u64,
        diff: Option<DiffParams>,
        reply: Responder,
    ) {
        let back = ReturnPoint {
            state: None,
            params: self.params.clone(),
            paused: self.paused,
            position: self.debug.position,
        };
        self.set_paused(true);
        self.debug.job = Some(Job::Travel(Box::new(Travel {
            diff,
            target,
            keyframe: 0,
            current: 0,
            cursor: 0,
            delivered_at: None,
            captured: BTreeMap::new(),
            back,
            phase: Phase::SaveReturn,
            checked: 0,
            verified: false,
            failed: None,
            started: Instant::now(),
            reply,
        })));
        self.debug
            .ask(method::WORLD_SAVE, json!({}), Purpose::Return);
    }

    pub(in crate::host) fn seek(&mut self, params: Json, reply: Responder) {
        let p: SeekParams = match parse(params) {
            Ok(p) => p,
            Err(e) => return reply.err(e),
        };
        let target = match (p.tick, p.by) {
            (Some(t), None) => t,
            (None, Some(by)) => self.debug.position.saturating_add_signed(by),
            _ => {
                return reply.err(RpcError::invalid_params(
                    "engine.seek takes {\"tick\": T} or {\"by\": N} (negative goes back)",
                ));
            }
        };
        if let Err(e) = self.travel_check(&[target]) {
            return reply.err(e);
        }
        self.start_travel(target, None, reply);
    }

    pub(in crate::host) fn world_diff(&mut self, params: Json, reply: Responder) {
        let d: DiffParams = match parse(params) {
            Ok(d) => d,
            Err(e) => return reply.err(e),
        };
        if let Err(e) = self.travel_check(&[d.from, d.to]) {
            return reply.err(e);
        }
        if !self.debug.has_entities {
            return reply.err(RpcError::new(
                codes::METHOD_NOT_FOUND,
                "world.diff compares what world.entities lists, which this game does not answer",
            ));
        }
        let last = d.from.max(d.to);
        self.start_travel(last, Some(d), reply);
    }
}

fn diff_result(d: DiffParams, from: &Flat, to: &Flat) -> DiffResult {
    let ids = |f: &Flat| -> std::collections::BTreeSet<String> {
        f.keys()
            .map(|k| k.split('.').next().unwrap_or(k).to_owned())
            .collect()
    };
    let (a, b) = (ids(from), ids(to));
    DiffResult {
        from: d.from,
        to: d.to,
        added: b.difference(&a).cloned().collect(),
        removed: a.difference(&b).cloned().collect(),
        changes: state::diff(from, to)
            .into_iter()
            .map(|c| DiffChange {
                key: c.key,
                from: c.recorded,
                to: c.actual,
            })
            .collect(),
    }
}
