//! The history a [`Host`](super::Host) keeps for time travel: keyframes
//! (the game's own `world.save`, every K ticks, with the params of that
//! moment), every applied mutating request with its tick, and the
//! content hash (XXH3-64) of every frame shown — bounded in seconds and in
//! bytes.
//!
//! The state "at tick T" is the one after T's update *and* after the
//! requests applied at T (what a paused engine shows after an edit). A
//! keyframe at T is taken before any request at T, so a replay from it
//! delivers the log from the keyframe's position on.

use std::collections::VecDeque;

use advkit_params::Params;
use serde_json::Value as Json;

/// How much history to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryConfig {
    /// Seconds of ticks to keep (at the engine's tick rate); 0 turns
    /// history off.
    pub seconds: f64,
    /// A ceiling on what it holds; the oldest keyframes go first.
    pub max_bytes: u64,
    /// Ticks between keyframes; 0 picks a quarter second of ticks.
    pub keyframe_every: u64,
}

impl Default for HistoryConfig {
    /// 60 s, at most 64 MiB, a keyframe every quarter second.
    fn default() -> HistoryConfig {
        HistoryConfig {
            seconds: 60.0,
            max_bytes: 64 << 20,
            keyframe_every: 0,
        }
    }
}

impl HistoryConfig {
    pub fn off() -> HistoryConfig {
        HistoryConfig {
            seconds: 0.0,
            ..HistoryConfig::default()
        }
    }

    /// Ticks between keyframes at `fps`.
    pub fn keyframe_ticks(&self, fps: f64) -> u64 {
        if self.keyframe_every > 0 {
            self.keyframe_every
        } else {
            ((fps / 4.0).round() as u64).max(1)
        }
    }
}

/// One saved state of the game.
#[derive(Debug, Clone)]
pub(super) struct Keyframe {
    pub tick: u64,
    /// `world.save`'s `state`, as JSON text (what it costs to hold).
    pub state: Box<str>,
    pub params: Params,
    /// The sequence number of the first request logged after it.
    pub log_pos: u64,
}

/// What changed the game's course at a tick.
#[derive(Debug, Clone)]
pub(super) enum Logged {
    /// The params after a client changed them.
    Params(Params),
    /// A mutating request the game answered without error.
    Game { method: String, params: Json },
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub seq: u64,
    pub tick: u64,
    pub what: Logged,
    bytes: u64,
}

#[derive(Debug)]
pub(super) struct History {
    pub cfg: HistoryConfig,
    /// Why there is none (`None`: it is on).
    pub off: Option<String>,
    pub keyframes: VecDeque<Keyframe>,
    pub log: VecDeque<Entry>,
    next_seq: u64,
    /// `(tick, content hash)` of the first frame shown at each tick.
    pub frames: VecDeque<(u64, u64)>,
    /// Ticks at which watchpoints fired.
    pub hits: VecDeque<u64>,
    bytes: u64,
    params_bytes: u64,
}

/// What a frame hash costs to hold.
const FRAME_BYTES: u64 = 16;

impl History {
    pub fn new(cfg: HistoryConfig, off: Option<String>) -> History {
        History {
            cfg,
            off,
            keyframes: VecDeque::new(),
            log: VecDeque::new(),
            next_seq: 0,
            frames: VecDeque::new(),
            hits: VecDeque::new(),
            bytes: 0,
            params_bytes: 0,
        }
    }

    pub fn on(&self) -> bool {
        self.off.is_none()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The oldest tick a seek can reach.
    pub fn oldest(&self) -> Option<u64> {
        self.keyframes.front().map(|k| k.tick)
    }

    /// The newest tick of this branch.
    pub fn newest(&self) -> Option<u64> {
        let frame = self.frames.back().map(|f| f.0);
        let kf = self.keyframes.back().map(|k| k.tick);
        frame.max(kf)
    }

    pub fn last_keyframe(&self) -> Option<u64> {
        self.keyframes.back().map(|k| k.tick)
    }

    /// The latest keyframe to replay from to reach `tick`: strictly before
    /// it when there is one, so the sought frame is drawn and checked.
    pub fn keyframe_for(&self, tick: u64) -> Option<&Keyframe> {
        self.keyframes
            .iter()
            .rev()
            .find(|k| k.tick < tick)
            .or_else(|| self.keyframes.front().filter(|k| k.tick == tick))
    }

    pub fn frame(&self, tick: u64) -> Option<u64> {
        let i = self.frames.partition_point(|f| f.0 < tick);
        self.frames.get(i).filter(|f| f.0 == tick).map(|f| f.1)
    }

    /// Notes the first frame shown at `tick`; later ones at the same tick
    /// (a redraw after an edit) are not what a replay compares.
    pub fn record_frame(&mut self, tick: u64, hash: u64) {
        if self.frames.back().is_none_or(|f| f.0 < tick) {
            self.frames.push_back((tick, hash));
            self.bytes += FRAME_BYTES;
        }
    }

    pub fn add_keyframe(&mut self, kf: Keyframe, fps: f64) {
        if self.params_bytes == 0 {
            self.params_bytes =
                serde_json::to_string(&kf.params.entries()).map_or(0, |s| s.len() as u64);
        }
        self.bytes += kf.state.len() as u64 + self.params_bytes;
        self.keyframes.push_back(kf);
        self.trim(fps);
    }

    pub fn log(&mut self, tick: u64, what: Logged) {
        let bytes = match &what {
            Logged::Params(_) => self.params_bytes.max(64),
            Logged::Game { method, params } => {
                (method.len() + params.to_string().len()) as u64 + 32
            }
        };
        self.bytes += bytes;
        self.log.push_back(Entry {
            seq: self.next_seq,
            tick,
            what,
            bytes,
        });
        self.next_seq += 1;
    }

    /// Entries from sequence `seq` on, logged at `tick`.
    pub fn logged_at(&self, seq: u64, tick: u64) -> impl Iterator<Item = &Entry> {
        self.log
            .iter()
            .skip_while(move |e| e.seq < seq)
            .take_while(move |e| e.tick <= tick)
            .filter(move |e| e.tick == tick)
    }

    pub fn note_hit(&mut self, tick: u64) {
        self.hits.push_back(tick);
    }

    /// Drops everything after `tick` (a new branch starts there); returns
    /// how many ticks of the old future went.
    pub fn branch_at(&mut self, tick: u64) -> u64 {
        let Some(newest) = self.newest() else {
            return 0;
        };
        if newest <= tick {
            return 0;
        }
        while self.keyframes.back().is_some_and(|k| k.tick > tick) {
            if let Some(k) = self.keyframes.pop_back() {
                self.bytes = self
                    .bytes
                    .saturating_sub(k.state.len() as u64 + self.params_bytes);
            }
        }
        while self.log.back().is_some_and(|e| e.tick > tick) {
            if let Some(e) = self.log.pop_back() {
                self.bytes = self.bytes.saturating_sub(e.bytes);
            }
        }
        while self.frames.back().is_some_and(|f| f.0 > tick) {
            self.frames.pop_back();
            self.bytes = self.bytes.saturating_sub(FRAME_BYTES);
        }
        self.hits.retain(|&h| h <= tick);
        newest - tick
    }

    /// Forgets everything: the game went back in time by itself (a
    /// `world.load` from a client), so the past no longer leads here.
    pub fn clear(&mut self) {
        self.keyframes.clear();
        self.log.clear();
        self.frames.clear();
        self.hits.clear();
        self.bytes = 0;
    }

    /// Keeps `seconds` of ticks and at most `max_bytes`, dropping the
    /// oldest keyframe (and what only it needed) while the next one still
    /// covers the span.
    fn trim(&mut self, fps: f64) {
        let span = (self.cfg.seconds * fps).ceil() as u64;
        let newest = self.newest().unwrap_or(0);
        while let Some(second) = self.keyframes.get(1) {
            let old_enough = second.tick + span <= newest;
            if !old_enough && self.bytes <= self.cfg.max_bytes {
                break;
            }
            if let Some(k) = self.keyframes.pop_front() {
                self.bytes = self
                    .bytes
                    .saturating_sub(k.state.len() as u64 + self.params_bytes);
            }
            let Some(first) = self.keyframes.front() else {
                break;
            };
            let (keep_seq, keep_tick) = (first.log_pos, first.tick);
            while self.log.front().is_some_and(|e| e.seq < keep_seq) {
                if let Some(e) = self.log.pop_front() {
                    self.bytes = self.bytes.saturating_sub(e.bytes);
                }
            }
            while self.frames.front().is_some_and(|f| f.0 < keep_tick) {
                self.frames.pop_front();
                self.bytes = self.bytes.saturating_sub(FRAME_BYTES);
            }
            while self.hits.front().is_some_and(|&h| h < keep_tick) {
                self.hits.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kf(tick: u64, log_pos: u64) -> Keyframe {
        Keyframe {
            tick,
            state: "{\"x\":1}".into(),
            params: Params::new(Vec::new()),
            log_pos,
        }
    }

    #[test]
    fn keeps_the_span_and_branches_drop_the_future() {
        let cfg = HistoryConfig {
            seconds: 1.0,
            max_bytes: 1 << 20,
            keyframe_every: 10,
        };
        let mut h = History::new(cfg, None);
        for t in 0..=100u64 {
            h.record_frame(t, t * 7);
            if t % 10 == 0 {
                let pos = h.next_seq();
                h.add_keyframe(kf(t, pos), 30.0);
            }
            if t % 25 == 0 {
                h.log(
                    t,
                    Logged::Game {
                        method: "engine.input".into(),
                        params: Json::Null,
                    },
                );
            }
        }
        // 30 ticks a second: keyframes back to 70 cover ticks 70..=100.
        assert_eq!(h.oldest(), Some(70));
        assert_eq!(h.newest(), Some(100));
        assert_eq!(h.frame(85), Some(85 * 7));
        assert_eq!(h.frame(60), None);
        assert_eq!(h.keyframe_for(85).map(|k| k.tick), Some(80));
        assert_eq!(h.keyframe_for(80).map(|k| k.tick), Some(70));
        assert_eq!(h.keyframe_for(70).map(|k| k.tick), Some(70));
        let seq = h.keyframe_for(80).map_or(0, |k| k.log_pos);
        assert_eq!(h.logged_at(seq, 75).count(), 1);
        assert_eq!(h.branch_at(80), 20);
        assert_eq!(h.newest(), Some(80));
        assert_eq!(h.last_keyframe(), Some(80));
        assert_eq!(h.logged_at(0, 100).count(), 0);
        assert_eq!(h.branch_at(90), 0);
    }

    #[test]
    fn the_memory_cap_drops_the_oldest_keyframes_first_but_keeps_one() {
        let cfg = HistoryConfig {
            seconds: 3600.0,
            max_bytes: 10_000,
            keyframe_every: 10,
        };
        let mut h = History::new(cfg, None);
        let big = "x".repeat(3_000);
        for t in (0..=100u64).step_by(10) {
            h.record_frame(t, t);
            let pos = h.next_seq();
            h.add_keyframe(
                Keyframe {
                    tick: t,
                    state: big.clone().into_boxed_str(),
                    params: Params::new(Vec::new()),
                    log_pos: pos,
                },
                30.0,
            );
            assert!(
                h.bytes() <= 10_000 || h.keyframes.len() == 1,
                "{}",
                h.bytes()
            );
        }
        // Three 3 KB keyframes fit in 10 KB; the span shrinks to them.
        assert_eq!(h.keyframes.len(), 3);
        assert_eq!(h.oldest(), Some(80));
        assert_eq!(
            h.frame(70),
            None,
            "frames before the oldest keyframe go too"
        );
        assert_eq!(h.frame(80), Some(80));
    }
}
