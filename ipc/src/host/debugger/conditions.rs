//! Run-until and watchpoints: the conditions evaluated on each tick's
//! sample, what happens when one holds, and the methods that set them.

use std::time::Instant;

use serde_json::{Map, Value as Json};

use super::{Job, Until, UntilPhase, Watch, busy};
use crate::api::{
    Event, RpcError, RunUntilParams, RunUntilResult, WatchInfo, WatchParams, WatchResult, codes,
};
use crate::debug::{Condition, Sample};
use crate::host::{Host, Responder};
use crate::server::parse;

impl Host {
    /// A sample is complete: evaluate the run-until condition or the watches.
    pub(in crate::host) fn sampled(&mut self, mut sample: Sample) {
        sample.log = std::mem::take(&mut *self.debug.log.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(Job::Until(u)) = &mut self.debug.job {
            match u.phase {
                UntilPhase::Baseline => {
                    u.phase = UntilPhase::Run;
                    u.before = Some(sample);
                }
                UntilPhase::Run => {
                    u.ticks += 1;
                    let (holds, values) = u.cond.eval(&sample, u.before.as_ref());
                    if holds || u.ticks >= u.max {
                        self.until_done(holds, false, values, sample.tick);
                    } else if let Some(Job::Until(u)) = &mut self.debug.job {
                        u.before = Some(sample);
                    }
                }
            }
            return;
        }
        let mut fired = Vec::new();
        for w in &mut self.debug.watches {
            let (holds, values) = w.cond.eval(&sample, self.debug.last_sample.as_ref());
            if holds {
                w.hits += 1;
                w.last_hit = Some(sample.tick);
                fired.push((w.id, w.cond.text().to_owned(), values));
            }
        }
        let tick = sample.tick;
        self.debug.last_sample = Some(sample);
        if fired.is_empty() {
            return;
        }
        self.debug.history.note_hit(tick);
        self.set_paused(true);
        let mut first = None;
        for (id, condition, values) in fired {
            let shown = Json::Object(values.clone());
            let msg = format!("watch {id} fired at tick {tick}: {condition}  ({shown})");
            eprintln!("advkit: {msg}");
            self.log(&msg);
            self.shared.emit(&Event::Watch {
                id,
                condition: condition.clone(),
                values,
            });
            first.get_or_insert((id, condition));
        }
        if let Some((id, condition)) = first {
            self.stop_steps(&format!(
                "watch {id} ({condition}) fired at tick {tick}; the engine is paused"
            ));
        }
    }

    pub(in crate::host) fn until_done(
        &mut self,
        found: bool,
        interrupted: bool,
        values: Map<String, Json>,
        tick: u64,
    ) {
        let Some(Job::Until(u)) = self.debug.job.take() else {
            return;
        };
        self.debug.sample = None;
        self.debug.probes_due = false;
        self.refresh_wants_log();
        let secs = u.started.elapsed().as_secs_f64();
        u.reply.ok(RunUntilResult {
            found,
            tick,
            ticks: u.ticks,
            values,
            rate: if secs > 0.0 {
                (u.ticks as f64 / secs).round()
            } else {
                0.0
            },
            interrupted,
            dropped: u.dropped,
        });
        self.refresh_stats();
    }

    /// `engine.pause` while run-until runs: it stops where it is.
    pub(in crate::host) fn interrupt_until(&mut self) {
        if matches!(self.debug.job, Some(Job::Until(_))) {
            let tick = self.debug.position;
            self.until_done(false, true, Map::new(), tick);
        }
    }

    pub(in crate::host) fn run_until(&mut self, params: Json, reply: Responder) {
        let p: RunUntilParams = match parse(params) {
            Ok(p) => p,
            Err(e) => return reply.err(e),
        };
        if let Some(job) = &self.debug.job {
            return reply.err(busy(job));
        }
        let cond = match Condition::parse(&p.condition) {
            Ok(c) => c,
            Err(e) => {
                return reply.err(RpcError::invalid_params(format!("condition: {e}")));
            }
        };
        let dropped = self.branch_if_past();
        self.set_paused(true);
        let tick = self.debug.position;
        let ids = cond.entities();
        self.debug.job = Some(Job::Until(Box::new(Until {
            cond,
            max: p.max_ticks,
            ticks: 0,
            phase: UntilPhase::Baseline,
            before: None,
            started: Instant::now(),
            dropped,
            reply,
        })));
        self.refresh_wants_log();
        self.debug.sample = Some(Sample {
            tick,
            frame: self.debug.history.frame(tick),
            ..Sample::default()
        });
        if let Err(e) = self.debug.probe(ids) {
            self.probe_failed(None, &e);
        }
    }

    pub(in crate::host) fn watch(&mut self, params: Json) -> Result<WatchResult, RpcError> {
        let p: WatchParams = parse(params)?;
        let id = match (p.add, p.remove) {
            (Some(text), None) => {
                let cond = Condition::parse(&text)
                    .map_err(|e| RpcError::invalid_params(format!("condition: {e}")))?;
                if !cond.entities().is_empty() && !self.debug.has_get && !self.debug.has_entities {
                    return Err(RpcError::new(
                        codes::METHOD_NOT_FOUND,
                        "a condition on entities needs the game to answer world.get or world.entities",
                    ));
                }
                let id = self.debug.next_watch;
                self.debug.next_watch += 1;
                self.debug.watches.push(Watch {
                    id,
                    cond,
                    hits: 0,
                    last_hit: None,
                    warned: false,
                });
                Some(id)
            }
            (None, Some(id)) => {
                let before = self.debug.watches.len();
                self.debug.watches.retain(|w| w.id != id);
                if self.debug.watches.len() == before {
                    let ids: Vec<String> = self
                        .debug
                        .watches
                        .iter()
                        .map(|w| w.id.to_string())
                        .collect();
                    return Err(RpcError::invalid_params(format!(
                        "no watchpoint {id}; the ids are: {}",
                        if ids.is_empty() {
                            "(none)".to_owned()
                        } else {
                            ids.join(", ")
                        }
                    )));
                }
                Some(id)
            }
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(RpcError::invalid_params(
                    "engine.watch takes {\"add\": CONDITION}, {\"remove\": ID}, or {} to list",
                ));
            }
        };
        if self.debug.watches.is_empty() {
            self.debug.last_sample = None;
        }
        self.refresh_wants_log();
        Ok(WatchResult {
            watches: self
                .debug
                .watches
                .iter()
                .map(|w| WatchInfo {
                    id: w.id,
                    condition: w.cond.text().to_owned(),
                    hits: w.hits,
                    last_hit: w.last_hit,
                })
                .collect(),
            id,
        })
    }
}
