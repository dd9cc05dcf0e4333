//! The event log as a component: the lines it keeps (topic by topic),
//! how far it is scrolled, its filter, its keys ([`keys::LOG`]) and how it
//! is drawn.

use std::collections::VecDeque;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

use crate::keys;

/// One line of the event log and the topic it came on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub topic: &'static str,
    pub text: String,
}

/// The topics the log filter steps through (`t`).
pub const LOG_TOPICS: [&str; 6] = ["params", "engine", "world", "log", "record", "inspector"];

/// How many lines it keeps.
const LOG_LINES: usize = 500;

/// Lines a page key moves.
const PAGE: usize = 5;

#[derive(Debug, Default, Clone)]
pub struct LogPane {
    lines: VecDeque<LogLine>,
    /// Lines scrolled up from the newest (0: following new lines).
    pub scroll: usize,
    /// Show only this topic's lines.
    pub filter: Option<&'static str>,
}

impl LogPane {
    /// Adds a line under `topic`, control characters made visible. A log
    /// scrolled up stays on the lines it shows.
    pub fn push(&mut self, topic: &'static str, line: &str) {
        if self.lines.len() == LOG_LINES {
            self.lines.pop_front();
        }
        if self.scroll > 0 && self.filter.is_none_or(|t| t == topic) {
            self.scroll += 1;
        }
        self.lines.push_back(LogLine {
            topic,
            text: crate::app::printable(line),
        });
    }

    /// The lines the filter lets through.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> {
        self.lines
            .iter()
            .filter(|l| self.filter.is_none_or(|t| t == l.topic))
    }

    /// A key of [`keys::LOG`]; returns a line to open in full, for `⏎`.
    pub fn key(&mut self, k: keys::LogKey) -> Option<String> {
        use keys::LogKey as L;
        let total = self.lines().count();
        let mut open = None;
        match k {
            L::Older => self.scroll += 1,
            L::Newer => self.scroll = self.scroll.saturating_sub(1),
            L::PageOlder => self.scroll += PAGE,
            L::PageNewer => self.scroll = self.scroll.saturating_sub(PAGE),
            L::Top => self.scroll = total,
            L::Follow => self.scroll = 0,
            L::Topic => {
                let at = self
                    .filter
                    .and_then(|t| LOG_TOPICS.iter().position(|x| *x == t));
                self.filter = match at {
                    None => Some(LOG_TOPICS[0]),
                    Some(i) if i + 1 < LOG_TOPICS.len() => Some(LOG_TOPICS[i + 1]),
                    Some(_) => None,
                };
                self.scroll = 0;
            }
            L::Open => {
                // The newest line on screen, in full.
                open = self
                    .lines()
                    .rev()
                    .nth(self.scroll)
                    .map(|l| format!("[{}] {}", l.topic, l.text));
            }
        }
        self.scroll = self.scroll.min(total.saturating_sub(1));
        open
    }

    /// The mouse wheel over the log.
    pub fn wheel(&mut self, older: bool) {
        self.scroll = if older {
            self.scroll + 1
        } else {
            self.scroll.saturating_sub(1)
        };
    }

    /// The pane: its title says the filter and how far it is scrolled.
    pub fn render(&self, area: Rect, buf: &mut Buffer, focused: bool) {
        if area.height == 0 {
            return;
        }
        let mut title = "events".to_owned();
        if let Some(t) = self.filter {
            title.push_str(&format!(" · only {t} (t)"));
        }
        if self.scroll > 0 {
            title.push_str(&format!(" · ⏸ {} newer below (End follows)", self.scroll));
        }
        let block = crate::view::pane(&title, focused);
        let inner = block.inner(area);
        block.render(area, buf);
        let n = usize::from(inner.height);
        let lines: Vec<&LogLine> = self.lines().collect();
        let end = lines.len().saturating_sub(self.scroll);
        let start = end.saturating_sub(n);
        let width = usize::from(inner.width);
        let shown: Vec<Line> = lines[start..end]
            .iter()
            .map(|l| Line::raw(crate::view::ellipsis(&l.text, width)))
            .collect();
        Paragraph::new(shown).render(inner, buf);
    }
}
