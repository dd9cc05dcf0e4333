//! Ticks: how many the game should simulate now ([`Host::ticks_due`]),
//! and `engine.step`, answered when its ticks are done.

use super::{Host, Stepping};
use crate::api::RpcError;

impl Host {
    /// How many ticks to simulate now: 1 while running, 0 while paused,
    /// or the count of an `engine.step` (answered at the next
    /// [`publish`](Self::publish), or at the next call to the host if the
    /// game publishes nothing for them). With watchpoints set, or while a
    /// seek or run-until drives the game, ticks come one at a time.
    pub fn ticks_due(&mut self) -> u64 {
        self.settle_step();
        if let Some(n) = self.debug_ticks_due() {
            return n;
        }
        if self.stepping.is_none()
            && let Some((count, reply)) = self.steps.pop_front()
        {
            let dropped = self.branch_if_past();
            self.stepping = Some(Stepping {
                count,
                left: count,
                granted: 0,
                granted_at: 0,
                reply,
                dropped,
            });
        }
        let one_at_a_time = self.watching();
        if let Some(s) = &mut self.stepping {
            if s.granted > 0 || s.left == 0 {
                return 0;
            }
            // With watchpoints set, a step goes one tick at a time, so a
            // watch stops it at the very tick it fires.
            s.granted = if one_at_a_time { 1 } else { s.left };
            s.granted_at = self.shared.tick();
            return s.granted;
        }
        if self.paused {
            return 0;
        }
        self.branch_if_past();
        1
    }

    /// The game called the host again after ticks a step granted, without
    /// publishing a frame for them (a game that draws only when the
    /// picture changed): they are done, and a step whose ticks are all
    /// done is answered now, not at some later frame.
    pub(super) fn settle_step(&mut self) {
        let Some(s) = &mut self.stepping else {
            return;
        };
        if s.granted == 0 {
            return;
        }
        let tick = s.granted_at + s.granted;
        s.left -= s.granted.min(s.left);
        s.granted = 0;
        if s.left == 0
            && let Some(s) = self.stepping.take()
        {
            s.answer(&self.shared, tick);
        }
    }

    /// A step waits for its next ticks to be granted.
    pub(super) fn tick_wanted(&self) -> bool {
        !self.steps.is_empty()
            || self
                .stepping
                .as_ref()
                .is_some_and(|s| s.granted == 0 && s.left > 0)
    }

    /// Answers the step under way with the ticks it ran, and fails the
    /// ones waiting: a watchpoint paused the engine.
    pub(super) fn stop_steps(&mut self, why: &str) {
        let tick = self.tick();
        if let Some(s) = self.stepping.take() {
            s.answer(&self.shared, tick);
        }
        for (_, reply) in self.steps.drain(..) {
            reply.err(RpcError::failed(why));
        }
    }
}
