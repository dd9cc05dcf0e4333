//! The debugger in the inspector, as one component that owns its state,
//! its keys, their hints and its view: the timeline line (the span of
//! history, the tick on screen, keyframes, watch hits), stepping through
//! time (`[` `]` a tick, `{` `}` a second, Home/End the oldest/newest,
//! `G` a tick typed), and the watch pane (`w`). Its keys are in
//! [`keys::TIME`] and [`keys::WATCHES`].

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use advkit_ipc::api::{HistoryResult, SeekParams, WatchInfo, WatchParams, WatchResult, method};

use crate::app::{Request, Tag, req};
use crate::keys;

/// What the inspector knows of the engine's history and watchpoints.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// The last `engine.history`, `None` before one (or for a game
    /// without history).
    pub history: Option<HistoryResult>,
    /// Why there is none, as the engine said.
    pub off: Option<String>,
    pub watches: Vec<WatchInfo>,
    /// The selected watchpoint in the pane.
    pub selected: usize,
    /// The pane is shown (instead of params or entities).
    pub pane: bool,
    /// The last watch that fired: `(id, condition, tick)`.
    pub fired: Option<(u64, String, u64)>,
    /// Ticks a second the engine runs at (`engine.stats`' target).
    pub tick_rate: f64,
    /// Seeks sent and not answered yet: until they are, `now` is where
    /// they go, not what an older `engine.history` says.
    in_flight: u32,
}

/// What a key in the watch pane did.
#[derive(Debug)]
pub enum PaneKey {
    Done,
    /// Open the dialog for a new condition.
    Add,
    Send(Request),
}

impl Timeline {
    pub fn on_history(&mut self, mut h: HistoryResult) {
        if self.in_flight > 0
            && let Some(old) = &self.history
        {
            h.now = old.now;
        }
        self.history = Some(h);
        self.off = None;
    }

    /// A seek was answered (at the tick it reached) or refused. The
    /// last one answered says where the engine is.
    pub fn seek_done(&mut self, at: Option<u64>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0
            && let (Some(h), Some(at)) = (&mut self.history, at)
        {
            h.now = at;
        }
    }

    pub fn on_watches(&mut self, w: WatchResult) {
        self.watches = w.watches;
        self.selected = self.selected.min(self.watches.len().saturating_sub(1));
    }

    /// A seek to `tick`, clamped to the history. The timeline moves there
    /// at once, so keys pressed before the engine answers add up (three
    /// `[` are three ticks back); the next `engine.history` corrects it if
    /// the seek fails.
    fn seek(&mut self, tick: u64) -> Option<Request> {
        let h = self.history.as_mut()?;
        let tick = tick.clamp(h.oldest, h.newest);
        h.now = tick;
        self.in_flight += 1;
        Some(req(
            Tag::Seek,
            method::SEEK,
            SeekParams {
                tick: Some(tick),
                by: None,
            },
        ))
    }

    /// A time key ([`keys::TIME`]); `fps` ticks are a second. Past the
    /// newest tick, a step forward steps the live engine instead.
    pub fn time_key(&mut self, t: keys::Time, fps: u64) -> Vec<Request> {
        let Some(h) = &self.history else {
            return Vec::new();
        };
        let second = fps.max(1) as i64;
        let by: i64 = match t {
            keys::Time::Back => -1,
            keys::Time::Forward => 1,
            keys::Time::SecondBack => -second,
            keys::Time::SecondForward => second,
            keys::Time::Oldest | keys::Time::Newest => 0,
        };
        let target = match t {
            keys::Time::Oldest => h.oldest,
            keys::Time::Newest => h.newest,
            _ => h.now.saturating_add_signed(by),
        };
        if by > 0 && h.now >= h.newest {
            // At the newest tick: step the game itself.
            return vec![req(
                Tag::Step,
                method::STEP,
                advkit_ipc::api::StepParams { count: by as u64 },
            )];
        }
        self.seek(target).into_iter().collect()
    }

    /// `G`'s text: `1500`, or `-120` / `+60` from the tick shown.
    pub fn goto(&mut self, text: &str) -> Result<Request, String> {
        let t = text.trim();
        let h = self
            .history
            .as_ref()
            .ok_or("this engine keeps no history")?;
        let tick = if t.starts_with(['-', '+']) {
            let by: i64 = t.parse().map_err(|_| format!("`{t}` is not a number"))?;
            h.now.saturating_add_signed(by)
        } else {
            t.parse::<u64>()
                .map_err(|_| format!("`{t}` is not a tick (1500, -120 or +60)"))?
        };
        if tick < h.oldest || tick > h.newest {
            return Err(format!(
                "tick {tick} is outside the history ({} to {})",
                h.oldest, h.newest
            ));
        }
        self.seek(tick).ok_or_else(|| "no history".to_owned())
    }

    /// A key of the watch pane ([`keys::WATCHES`]).
    pub fn pane_key(&mut self, k: keys::WatchKey) -> PaneKey {
        match k {
            keys::WatchKey::Up => self.selected = self.selected.saturating_sub(1),
            keys::WatchKey::Down => {
                self.selected = (self.selected + 1).min(self.watches.len().saturating_sub(1));
            }
            keys::WatchKey::Remove => {
                if let Some(w) = self.watches.get(self.selected) {
                    return PaneKey::Send(req(
                        Tag::Watch,
                        method::WATCH,
                        WatchParams {
                            add: None,
                            remove: Some(w.id),
                        },
                    ));
                }
            }
            keys::WatchKey::Add => return PaneKey::Add,
        }
        PaneKey::Done
    }

    pub fn add(text: &str) -> Request {
        req(
            Tag::Watch,
            method::WATCH,
            WatchParams {
                add: Some(text.to_owned()),
                remove: None,
            },
        )
    }

    /// The timeline line: `⏪ 120 ━━━━━━━━━┃━━━ 1920  now 1500 · 300 ahead · ● watch 2 @1480`.
    pub fn render_line(&self, area: Rect, buf: &mut Buffer, mono: bool) {
        let Some(h) = &self.history else {
            return;
        };
        if area.width < 20 || area.height == 0 {
            return;
        }
        let colour = |c: Color| {
            if mono {
                Style::new()
            } else {
                Style::new().fg(c)
            }
        };
        let left = format!(" {} ", h.oldest);
        let ahead = h.newest.saturating_sub(h.now);
        let mut right = format!(" {} ", h.newest);
        right.push_str(&format!(" now {}", h.now));
        if ahead > 0 {
            right.push_str(&format!(" · {ahead} ahead"));
        }
        if let Some((id, _, tick)) = &self.fired {
            right.push_str(&format!(" · watch {id}@{tick}"));
        }
        right.push(' ');
        let bar_w =
            usize::from(area.width).saturating_sub(left.chars().count() + right.chars().count());
        if bar_w < 8 {
            // Too narrow for a bar: the figures alone.
            Line::from(vec![
                Span::styled("⏱", colour(Color::Cyan)),
                Span::raw(format!("{left}…{right}")),
            ])
            .render(area, buf);
            return;
        }
        let span = (h.newest - h.oldest).max(1);
        let col = |t: u64| {
            ((t.saturating_sub(h.oldest)) as f64 / span as f64 * (bar_w - 1) as f64).round()
                as usize
        };
        let mut cells: Vec<(char, Style)> = vec![('─', colour(Color::DarkGray)); bar_w];
        for k in &h.keyframes {
            if let Some(c) = cells.get_mut(col(*k)) {
                *c = ('┄', colour(Color::Blue));
            }
        }
        let now = col(h.now);
        for (i, c) in cells.iter_mut().enumerate() {
            if i < now {
                c.0 = '━';
                c.1 = colour(Color::Cyan);
            }
        }
        for t in &h.watch_hits {
            if let Some(c) = cells.get_mut(col(*t)) {
                *c = ('●', colour(Color::Red).add_modifier(Modifier::BOLD));
            }
        }
        if let Some(c) = cells.get_mut(now) {
            *c = ('┃', colour(Color::Yellow).add_modifier(Modifier::BOLD));
        }
        let mut spans = vec![Span::styled(left, colour(Color::DarkGray))];
        spans.extend(
            cells
                .into_iter()
                .map(|(ch, st)| Span::styled(ch.to_string(), st)),
        );
        spans.push(Span::raw(right));
        Line::from(spans).render(area, buf);
    }

    /// The watch pane: the conditions, their hits, the selected one.
    pub fn render_pane(&self, area: Rect, buf: &mut Buffer, focused: bool) {
        if area.height == 0 {
            return;
        }
        let block = crate::view::pane(&format!("watches · {}", self.watches.len()), focused);
        let inner = block.inner(area);
        block.render(area, buf);
        if self.watches.is_empty() {
            Paragraph::new(
                "no watchpoints\n\na adds one, e.g.\n  player.tile == [20, 20]\n  npc:1.tile changed\n  log ~ \"bridge\"\n  pixel(10, 20) != #000000",
            )
            .render(inner, buf);
            return;
        }
        for (i, w) in self
            .watches
            .iter()
            .enumerate()
            .take(usize::from(inner.height))
        {
            let selected = i == self.selected;
            let hits = match w.last_hit {
                Some(t) => format!("{} hits, last @{t}", w.hits),
                None => format!("{} hits", w.hits),
            };
            let text = format!("{:>2} {}  ({hits})", w.id, w.condition);
            Line::from(vec![
                Span::styled(
                    if selected { "▶" } else { " " },
                    Style::new().fg(Color::Magenta),
                ),
                Span::styled(
                    crate::view::ellipsis(&text, usize::from(inner.width).saturating_sub(1)),
                    if selected {
                        Style::new().add_modifier(Modifier::BOLD)
                    } else {
                        Style::new()
                    },
                ),
            ])
            .render(Rect::new(inner.x, inner.y + i as u16, inner.width, 1), buf);
        }
    }
}
