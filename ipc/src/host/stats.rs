//! `engine.stats`: fps measured over the last second, tick-time
//! percentiles, refreshed into the server's copy at most every 200 ms.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Host;
use crate::api::{HistoryStats, StatsResult};
use crate::server::Shared;

#[derive(Debug)]
pub(super) struct Stats {
    pub(super) target_fps: f64,
    started: Instant,
    tick_times: VecDeque<Duration>,
    frame_times: VecDeque<Instant>,
    last: Option<Instant>,
    /// What the history holds, as stats show it.
    pub(super) history: Option<HistoryStats>,
}

const KEEP: usize = 512;

impl Stats {
    pub(super) fn new(target_fps: f64) -> Stats {
        Stats {
            target_fps,
            started: Instant::now(),
            tick_times: VecDeque::with_capacity(KEEP),
            frame_times: VecDeque::with_capacity(KEEP),
            last: None,
            history: None,
        }
    }

    pub(super) fn frame_published(&mut self) {
        if self.frame_times.len() == KEEP {
            self.frame_times.pop_front();
        }
        self.frame_times.push_back(Instant::now());
    }

    pub(super) fn tick_took(&mut self, d: Duration) {
        if self.tick_times.len() == KEEP {
            self.tick_times.pop_front();
        }
        self.tick_times.push_back(d);
    }

    fn fps(&self, now: Instant) -> f64 {
        let recent: Vec<&Instant> = self
            .frame_times
            .iter()
            .filter(|&&t| now.duration_since(t) <= Duration::from_secs(1))
            .collect();
        let window = recent
            .first()
            .map_or(Duration::ZERO, |&&t| now.duration_since(t));
        if recent.len() > 1 && !window.is_zero() {
            (recent.len() - 1) as f64 / window.as_secs_f64()
        } else {
            0.0
        }
    }

    fn percentile_ms(&self, q: f64) -> f64 {
        let mut times: Vec<Duration> = self.tick_times.iter().copied().collect();
        if times.is_empty() {
            return 0.0;
        }
        times.sort();
        let i = ((times.len() - 1) as f64 * q).round() as usize;
        (times[i].as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
    }
}

impl Host {
    pub(super) fn maybe_refresh_stats(&mut self) {
        self.stats.history = Some(self.debug.stats());
        self.stats
            .maybe_refresh(&self.shared, self.writer.frames_published(), self.paused);
    }

    pub(super) fn refresh_stats(&mut self) {
        self.stats.history = Some(self.debug.stats());
        self.stats
            .refresh(&self.shared, self.writer.frames_published(), self.paused);
    }
}

impl Stats {
    /// Whether [`maybe_refresh`](Self::maybe_refresh) would refresh now.
    pub(super) fn refresh_due(&self) -> bool {
        self.last
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(200))
    }

    /// [`refresh`](Self::refresh) if the last one is 200 ms old.
    pub(super) fn maybe_refresh(&mut self, shared: &Shared, frames: u64, paused: bool) {
        if self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(200))
        {
            self.refresh(shared, frames, paused);
        }
    }

    /// Writes the figures into the server's copy, which answers
    /// `engine.stats` without waiting for the game loop.
    pub(super) fn refresh(&mut self, shared: &Shared, frames: u64, paused: bool) {
        let now = Instant::now();
        self.last = Some(now);
        let result = StatsResult {
            tick: shared.tick(),
            fps: (self.fps(now) * 10.0).round() / 10.0,
            target_fps: self.target_fps,
            tick_ms_p50: self.percentile_ms(0.5),
            tick_ms_p99: self.percentile_ms(0.99),
            frames_published: frames,
            paused,
            uptime_s: self.started.elapsed().as_secs(),
            clients: 0,
            history: self.history.clone(),
        };
        *shared.stats.write().unwrap_or_else(|p| p.into_inner()) = result;
    }
}
