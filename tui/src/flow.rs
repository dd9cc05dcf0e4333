//! Flow control by the terminal's own acknowledgement.
//!
//! After every screen it draws, the inspector asks the terminal for a
//! status report (`CSI 5 n`). A terminal answers (`CSI 0 n`) only once it
//! has processed everything written before the question, so the answer
//! says the screen has really been shown, however deep the buffers in
//! between (sshd, a relay, the network). The inspector keeps at most
//! [`WINDOW`] screens unanswered, and fewer bytes than a quarter second of
//! what the link has been seen to carry: the picture is never more than
//! that behind the game, and `q` gets through at once.
//!
//! A terminal that does not answer within [`PROBE`] (some multiplexers)
//! falls back to pacing by a frame rate and the byte ceiling; the status
//! bar says so. `--max-bandwidth` is a ceiling on what is written in any
//! one second, in either case.
//!
//! Nothing here does IO: the runner reports what it wrote and what came
//! back, with the time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Screens that may be unanswered at once.
pub const WINDOW: usize = 2;

/// How long the first query may go unanswered before the terminal counts
/// as one that never answers.
pub const PROBE: Duration = Duration::from_secs(2);

/// Where the terminal's answers stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// No answer yet: the first query is out.
    Probing,
    /// The terminal answers: drawing follows its answers.
    Answering,
    /// It never answered: drawing is paced by time.
    Never,
}

/// The state of the link as the status bar shows it, and whether the next
/// screen may be written.
#[derive(Debug, Clone)]
pub struct Flow {
    pub acks: Acks,
    /// Queries out: when each was written, and the bytes written by then.
    out: VecDeque<(Instant, u64)>,
    /// The bytes acknowledged so far, with when (the last few seconds).
    acked: VecDeque<(Instant, u64)>,
    /// Writes of the last second, for the ceiling.
    writes: VecDeque<(Instant, u64)>,
    /// The last round trip: from a query to its answer.
    pub rtt: Option<Duration>,
    started: Option<Instant>,
    /// `--max-bandwidth`: bytes per second at most, over any one second.
    pub ceiling: Option<u64>,
}

impl Flow {
    pub fn new(ceiling: Option<u64>) -> Flow {
        Flow {
            acks: Acks::Probing,
            out: VecDeque::new(),
            acked: VecDeque::new(),
            writes: VecDeque::new(),
            rtt: None,
            started: None,
            ceiling,
        }
    }

    /// `bytes` were written at `now` (a screen, its query included).
    pub fn wrote(&mut self, now: Instant, bytes: u64) {
        self.writes.push_back((now, bytes));
        self.trim(now);
    }

    /// A query went out at `now`, after `total` bytes in all.
    pub fn asked(&mut self, now: Instant, total: u64) {
        self.started.get_or_insert(now);
        if self.acks != Acks::Never {
            self.out.push_back((now, total));
        }
    }

    /// The terminal answered the oldest query.
    pub fn answered(&mut self, now: Instant) {
        let Some((sent, total)) = self.out.pop_front() else {
            return;
        };
        self.acks = Acks::Answering;
        self.rtt = Some(now.duration_since(sent));
        self.acked.push_back((now, total));
        self.trim(now);
    }

    /// Time passed: a terminal silent since the first query never answers.
    pub fn check(&mut self, now: Instant) {
        if self.acks == Acks::Probing
            && self.started.is_some_and(|s| now.duration_since(s) >= PROBE)
        {
            self.acks = Acks::Never;
            self.out.clear();
        }
    }

    fn trim(&mut self, now: Instant) {
        let second = Duration::from_secs(1);
        while self
            .writes
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= second)
        {
            self.writes.pop_front();
        }
        // Keep one acknowledgement older than the window as the base.
        while self.acked.len() > 2
            && self
                .acked
                .get(1)
                .is_some_and(|(t, _)| now.duration_since(*t) >= 2 * second)
        {
            self.acked.pop_front();
        }
    }

    /// Bytes the terminal acknowledged per second, over the last seconds
    /// the link was busy (none before two answers).
    pub fn link_rate(&self) -> Option<u64> {
        let ((t0, b0), (t1, b1)) = (self.acked.front()?, self.acked.back()?);
        let span = t1.duration_since(*t0).as_secs_f64();
        (span >= 0.05).then(|| ((b1 - b0) as f64 / span) as u64)
    }

    /// How far the shown screen is behind: the age of the oldest
    /// unanswered query, or else the last round trip.
    pub fn lag(&self, now: Instant) -> Option<Duration> {
        match self.out.front() {
            Some((t, _)) => Some(now.duration_since(*t).max(self.rtt.unwrap_or_default())),
            None => self.rtt,
        }
    }

    /// Whether a screen of `bytes` may be written at `now`, having written
    /// `total` bytes in all; if not, the runner keeps it for later.
    pub fn may_write(&mut self, now: Instant, bytes: u64, total: u64) -> bool {
        self.check(now);
        self.trim(now);
        if self.acks != Acks::Never {
            if self.out.len() >= WINDOW {
                return false;
            }
            // Never more unanswered than a quarter second of the link.
            if let (false, Some(rate)) = (self.out.is_empty(), self.link_rate()) {
                let answered = self.acked.back().map_or(0, |(_, b)| *b);
                let unanswered = total.saturating_sub(answered);
                if unanswered + bytes > (rate / 4).max(4096) {
                    return false;
                }
            }
        }
        if let Some(limit) = self.ceiling {
            let last_second: u64 = self.writes.iter().map(|(_, b)| b).sum();
            // A screen bigger than the whole budget goes out alone.
            if last_second > 0 && last_second + bytes > limit {
                return false;
            }
        }
        true
    }

    /// When it is worth asking [`Flow::may_write`] again, if it said no.
    pub fn retry_at(&self, now: Instant) -> Instant {
        let ceiling = self
            .writes
            .front()
            .filter(|_| self.ceiling.is_some())
            .map(|(t, _)| *t + Duration::from_secs(1));
        // Answers wake the runner by themselves; the probe has a deadline.
        let probe = self
            .started
            .filter(|_| self.acks == Acks::Probing)
            .map(|s| s + PROBE);
        [ceiling, probe]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + Duration::from_millis(200))
            .max(now)
    }

    /// For the status bar.
    pub fn describe(&self, now: Instant) -> String {
        let ms = |d: Duration| d.as_millis();
        match self.acks {
            Acks::Never => "no ack: paced by time".to_owned(),
            Acks::Probing => "link: probing".to_owned(),
            Acks::Answering => {
                let lag = self
                    .lag(now)
                    .map_or(String::new(), |d| format!(" lag {} ms", ms(d)));
                match self.link_rate() {
                    Some(r) => format!("link {}{lag}", crate::view::bytes(r)),
                    None => format!("link{lag}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn no_more_than_the_window_goes_unanswered() {
        let t0 = Instant::now();
        let mut f = Flow::new(None);
        assert!(f.may_write(t0, 1000, 0));
        f.asked(t0, 1000);
        assert!(f.may_write(at(t0, 10), 1000, 1000));
        f.asked(at(t0, 10), 2000);
        assert!(!f.may_write(at(t0, 20), 1000, 2000), "two out: wait");
        f.answered(at(t0, 100));
        assert_eq!(f.acks, Acks::Answering);
        assert_eq!(f.rtt, Some(Duration::from_millis(100)));
        assert!(f.may_write(at(t0, 100), 1000, 2000));
    }

    #[test]
    fn a_slow_link_allows_a_quarter_second_of_bytes_in_flight() {
        let t0 = Instant::now();
        let mut f = Flow::new(None);
        // 50 KB/s: each 10 KB screen answered 200 ms after the last.
        let mut total = 0;
        for i in 0..5 {
            total += 10_000;
            f.asked(at(t0, i * 200), total);
            f.answered(at(t0, i * 200 + 200));
        }
        let rate = f.link_rate().expect("a rate");
        assert!((45_000..=55_000).contains(&rate), "{rate}");
        f.asked(at(t0, 1000), total + 10_000);
        assert!(
            !f.may_write(at(t0, 1001), 10_000, total + 10_000),
            "a second 10 KB screen would put 0.4 s in flight"
        );
        assert!(f.may_write(at(t0, 1001), 2_000, total + 10_000));
    }

    #[test]
    fn a_terminal_that_never_answers_is_paced_by_time() {
        let t0 = Instant::now();
        let mut f = Flow::new(None);
        f.asked(t0, 100);
        f.asked(t0, 200);
        assert!(!f.may_write(at(t0, 500), 100, 200));
        assert_eq!(f.retry_at(at(t0, 500)), at(t0, 2000));
        assert!(f.may_write(at(t0, 2000), 100, 200));
        assert_eq!(f.acks, Acks::Never);
        assert_eq!(f.describe(at(t0, 2000)), "no ack: paced by time");
    }

    #[test]
    fn the_ceiling_holds_over_any_one_second() {
        let t0 = Instant::now();
        let mut f = Flow::new(Some(10_000));
        f.acks = Acks::Never;
        assert!(f.may_write(t0, 6_000, 0));
        f.wrote(t0, 6_000);
        assert!(!f.may_write(at(t0, 500), 6_000, 6_000));
        assert_eq!(f.retry_at(at(t0, 500)), at(t0, 1000));
        assert!(f.may_write(at(t0, 500), 4_000, 6_000));
        assert!(f.may_write(at(t0, 1000), 6_000, 6_000), "a second later");
    }
}
