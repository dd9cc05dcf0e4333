//! The frame a game draws into: [`HostFrame`], lent by [`Host::frame`](super::Host::frame),
//! and what the host does once it is published (stats, a step's answer,
//! the debugger's history or its replay).

use std::sync::atomic::Ordering;

use advkit_frame::Canvas;

use super::{Responder, debugger, stats};
use crate::api::{Event, StepResult};
use crate::region::{Geometry, Loan, PixelOrder, RawSrc};
use crate::server::Shared;

/// The next frame, lent by [`Host::frame`](super::Host::frame): a [`Canvas`] over the region's
/// next slot. Rows are `width × 4` bytes.
#[derive(Debug)]
pub struct HostFrame<'a> {
    pub(super) loan: Loan<'a>,
    pub(super) after: AfterPublish<'a>,
}

/// What the host does once a frame is out; the parts of [`Host`] it needs,
/// borrowed beside the writer's loan.
#[derive(Debug)]
pub(super) struct AfterPublish<'a> {
    pub(super) shared: &'a Shared,
    pub(super) stats: &'a mut stats::Stats,
    pub(super) stepping: &'a mut Option<Stepping>,
    pub(super) paused: bool,
    pub(super) debug: &'a mut debugger::Debugger,
    pub(super) fps: f64,
}

/// An `engine.step` under way.
#[derive(Debug)]
pub(super) struct Stepping {
    pub(super) count: u64,
    /// Ticks still to run.
    pub(super) left: u64,
    /// Ticks granted by `ticks_due` and not yet shown.
    pub(super) granted: u64,
    /// The tick they were granted at: a game that publishes nothing
    /// for them is at this plus `granted` once it calls the host again.
    pub(super) granted_at: u64,
    pub(super) reply: Responder,
    /// It started a new branch from a tick in the past.
    pub(super) dropped: Option<u64>,
}

impl Stepping {
    /// Answers the step with the ticks it ran (all of them, or fewer when
    /// a watchpoint stopped it) and sends the `stepped` event.
    pub(super) fn answer(self, shared: &Shared, tick: u64) {
        let stepped = self.count - self.left;
        shared.emit(&Event::Stepped { count: stepped });
        self.reply.ok(StepResult {
            tick,
            paused: true,
            stepped,
            dropped: self.dropped,
        });
    }
}

impl HostFrame<'_> {
    pub fn geometry(&self) -> Geometry {
        self.loan.geometry()
    }

    /// Every row to draw into freely (see [`Loan::rows_mut`]).
    pub fn rows_mut(&mut self) -> impl Iterator<Item = &mut [u8]> {
        self.loan.rows_mut()
    }

    /// The whole frame as one tight slice when its rows are not padded
    /// (see [`Loan::pixels_mut`]).
    pub fn pixels_mut(&mut self) -> Option<&mut [u8]> {
        self.loan.pixels_mut()
    }

    /// Copies a whole tight frame in from `src`, its pixels in `order`,
    /// in one pass (see [`Loan::copy_from_as`]).
    pub fn copy_from_as(
        &mut self,
        src: &RawSrc<'_>,
        order: PixelOrder,
    ) -> Result<(), crate::region::WrongSize> {
        self.loan.copy_from_as(src, order)
    }

    /// Copies a whole tight RGBA frame in, checking its size (what
    /// [`Host::publish`](super::Host::publish) does).
    pub fn copy_from(&mut self, pixels: &[u8]) -> Result<(), crate::region::WrongSize> {
        self.loan.copy_from(pixels)
    }

    /// Publishes the frame as showing `tick`, answers a finished
    /// `engine.step` and sends the `tick` event; returns its number.
    pub fn publish(self, tick: u64) -> u64 {
        let HostFrame { mut loan, after } = self;
        let AfterPublish {
            shared,
            stats,
            stepping,
            paused,
            debug,
            fps,
        } = after;
        if debug.replaying() {
            // A replayed frame is compared, not shown (but the last one).
            let hash = loan.content_hash();
            if let debugger::Fate::Drop = debug.replayed(tick, hash) {
                drop(loan);
                return debug.last_frame;
            }
        }
        let pixels = debug.pixels_of(&mut loan);
        let hash = debug.wants_hashes().then(|| loan.content_hash());
        let n = loan.publish(tick);
        shared.tick.store(tick, Ordering::Relaxed);
        debug.shown(tick, hash, n, pixels, fps);
        stats.frame_published();
        shared.emit(&Event::Tick);
        if let Some(s) = stepping.as_mut()
            && s.granted > 0
        {
            s.left -= s.granted.min(s.left);
            s.granted = 0;
            if s.left == 0
                && let Some(s) = stepping.take()
            {
                s.answer(shared, tick);
            }
        }
        if stats.refresh_due() {
            stats.history = Some(debug.stats());
        }
        stats.maybe_refresh(shared, n, paused);
        n
    }
}

impl Canvas for HostFrame<'_> {
    fn width(&self) -> u32 {
        self.loan.width()
    }

    fn height(&self) -> u32 {
        self.loan.height()
    }

    fn put_row(&mut self, y: u32, row: &[u8]) {
        self.loan.put_row(y, row);
    }

    fn copy_row(&mut self, from: u32, to: u32) {
        self.loan.copy_row(from, to);
    }

    fn row_mut(&mut self, y: u32) -> &mut [u8] {
        self.loan.row_mut(y)
    }
}
