//! Drawing the inspector: `impl Widget for &App`. The layout is a pure
//! function of the screen size, shared with mouse handling.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use advkit_params::Kind;

use crate::app::{App, Conn, Focus, Modal, ParamRow};
use crate::halfblock::HalfBlocks;

/// Where each part goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub frame: Rect,
    pub params: Rect,
    pub log: Rect,
    pub status: Rect,
    pub footer: Rect,
}

/// The layout for a screen of `area`: frame and params side by side (or
/// stacked when narrow), the log below, then the status bar and footer.
pub fn areas(area: Rect) -> Areas {
    let [main, log, status, footer] = Layout::vertical([
        Constraint::Min(6),
        Constraint::Length(if area.height >= 30 { 7 } else { 4 }),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [frame, params] = if area.width >= 90 {
        Layout::horizontal([Constraint::Min(30), Constraint::Length(46)]).areas(main)
    } else {
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main)
    };
    Areas {
        frame,
        params,
        log,
        status,
        footer,
    }
}

/// The cells available for the picture inside the frame pane.
pub fn frame_inner(area: Rect) -> Rect {
    Block::bordered().inner(areas(area).frame)
}

fn pane(title: &str, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    Block::bordered()
        .title(format!(" {title} "))
        .border_style(style)
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let a = areas(area);
        self.render_frame(a.frame, buf);
        self.render_params(a.params, buf);
        self.render_log(a.log, buf);
        self.render_status(a.status, buf);
        let footer = if self.game_input {
            "GAME FOCUS: arrows move · Space action · g/Esc back to the inspector · q quit"
        } else {
            "q quit  ? help  Tab focus  ↑↓ select  ←→ adjust (⇧×10)  ⏎ edit  ␣ toggle  r/R reboot/fresh  p pause  . step  s save  S snap  g game  ^R rec"
        };
        Paragraph::new(footer)
            .style(Style::new().fg(Color::DarkGray))
            .render(a.footer, buf);
        match &self.modal {
            Modal::None => {}
            Modal::Help => help(area, buf),
            Modal::ConfirmFresh { what } => dialog(
                area,
                buf,
                "Fresh reboot?",
                &format!("{what}\n\nPress y to reboot and lose it, any other key to cancel."),
                Color::Red,
            ),
            Modal::ConfirmRecord => dialog(
                area,
                buf,
                "Record from a fresh reboot?",
                "This game cannot save its state (it answers no world.save and world.load), so a \
                 recording starts from a fresh reboot, which throws away the player's progress.\n\n\
                 Press y to reboot and record, any other key to cancel.",
                Color::Red,
            ),
            Modal::Edit { name, buffer } => dialog(
                area,
                buf,
                &format!("Set {name}"),
                &format!("{buffer}▏\n\nEnter to set · Esc to cancel · lists are comma-separated"),
                Color::Cyan,
            ),
            Modal::Pick {
                name,
                choices,
                index,
            } => {
                let lines: Vec<String> = choices
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{} {c}", if i == *index { "▶" } else { " " }))
                    .collect();
                dialog(
                    area,
                    buf,
                    name,
                    &format!("{}\n\n↑↓ choose · Enter set · Esc cancel", lines.join("\n")),
                    Color::Cyan,
                );
            }
        }
    }
}

impl App {
    fn render_frame(&self, area: Rect, buf: &mut Buffer) {
        let title = if self.frame_size.0 > 0 {
            format!("{} {}x{}", self.name, self.frame_size.0, self.frame_size.1)
        } else {
            self.name.clone()
        };
        let block = pane(&title, self.focus == Focus::Frame || self.game_input);
        let inner = block.inner(area);
        block.render(area, buf);
        let message = match &self.conn {
            Conn::Connected if self.image.width > 0 => {
                // Centre the picture in the pane.
                let img = &self.image;
                let x = inner.x + inner.width.saturating_sub(img.width) / 2;
                let y = inner.y + inner.height.saturating_sub(img.height / 2) / 2;
                HalfBlocks {
                    image: img,
                    mode: self.colors,
                }
                .render(
                    Rect::new(
                        x,
                        y,
                        img.width.min(inner.width),
                        (img.height / 2).min(inner.height),
                    ),
                    buf,
                );
                return;
            }
            Conn::Connected => "waiting for the first frame…".to_owned(),
            Conn::Connecting => format!("connecting to engine {}…", self.name),
            Conn::NoEngine(why) => format!(
                "No engine named {} is running.\n\n{why}\n\nStart one with `advkit run --name {}`;\nthis screen attaches by itself when it appears.",
                self.name, self.name
            ),
            Conn::Disconnected(why) => format!(
                "DISCONNECTED\n\n{why}\n\nRetrying: the inspector reattaches when engine {} comes back.",
                self.name
            ),
        };
        let color = match self.conn {
            Conn::Disconnected(_) => Color::Red,
            Conn::NoEngine(_) => Color::Yellow,
            _ => Color::Gray,
        };
        let h = message.lines().count() as u16;
        let y = inner.y + inner.height.saturating_sub(h) / 2;
        Paragraph::new(message)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: false })
            .style(Style::new().fg(color))
            .render(
                Rect::new(
                    inner.x,
                    y,
                    inner.width,
                    inner.height.saturating_sub(y - inner.y),
                ),
                buf,
            );
    }

    fn render_params(&self, area: Rect, buf: &mut Buffer) {
        let block = pane(
            &format!("params · rev {}", self.revision),
            self.focus == Focus::Params,
        );
        let inner = block.inner(area);
        block.render(area, buf);
        if self.params.is_empty() {
            Paragraph::new("(no params yet)").render(inner, buf);
            return;
        }
        let name_w = self
            .params
            .iter()
            .map(|p| p.spec.name.len())
            .max()
            .unwrap_or(8)
            .min(16);
        // Keep the selection visible; leave 2 lines for its description.
        let rows = usize::from(inner.height.saturating_sub(2)).max(1);
        let first = self.selected.saturating_sub(rows - 1);
        for (i, row) in self.params.iter().enumerate().skip(first).take(rows) {
            let y = inner.y + (i - first) as u16;
            let selected = i == self.selected;
            let marker = if App::is_reboot_only(row) { "⟳" } else { " " };
            let mut spans = vec![
                Span::styled(
                    if selected { "▶" } else { " " },
                    Style::new().fg(Color::Cyan),
                ),
                Span::styled(marker, Style::new().fg(Color::Yellow)),
                Span::styled(
                    format!("{:<name_w$} ", row.spec.name),
                    if selected {
                        Style::new().add_modifier(Modifier::BOLD)
                    } else {
                        Style::new()
                    },
                ),
            ];
            spans.extend(value_spans(
                row,
                usize::from(inner.width).saturating_sub(name_w + 3),
            ));
            Line::from(spans).render(Rect::new(inner.x, y, inner.width, 1), buf);
        }
        if let Some(row) = self.params.get(self.selected) {
            let mut text = format!("{} ({})", row.spec.description, row.spec.kind.describe());
            if App::is_reboot_only(row) {
                text.push_str(" · applies at reboot");
            }
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .style(Style::new().fg(Color::DarkGray))
                .render(
                    Rect::new(
                        inner.x,
                        inner.y + inner.height.saturating_sub(2),
                        inner.width,
                        2,
                    ),
                    buf,
                );
        }
    }

    fn render_log(&self, area: Rect, buf: &mut Buffer) {
        let block = pane("events", self.focus == Focus::Log);
        let inner = block.inner(area);
        block.render(area, buf);
        let n = usize::from(inner.height);
        let end = self
            .log
            .len()
            .saturating_sub(self.log_scroll.min(self.log.len().saturating_sub(n)));
        let start = end.saturating_sub(n);
        let lines: Vec<Line> = self
            .log
            .range(start..end)
            .map(|l| Line::raw(l.as_str()))
            .collect();
        Paragraph::new(lines).render(inner, buf);
    }

    fn render_status(&self, area: Rect, buf: &mut Buffer) {
        let (state, color) = match &self.conn {
            Conn::Connected => ("● connected", Color::Green),
            Conn::Connecting => ("○ connecting", Color::Yellow),
            Conn::NoEngine(_) => ("○ no engine", Color::Yellow),
            Conn::Disconnected(_) => ("✖ disconnected", Color::Red),
        };
        // What needs seeing comes first; the running figures last, where a
        // narrow terminal cuts them.
        let mut spans = vec![
            Span::styled(
                format!(" {} ", self.name),
                Style::new().add_modifier(Modifier::REVERSED),
            ),
            Span::styled(format!(" {state} "), Style::new().fg(color)),
        ];
        if let Some(rec) = &self.recording {
            let what = if rec.stopping {
                "writing".to_owned()
            } else {
                format!("{} tick(s)", self.tick.saturating_sub(rec.from_tick))
            };
            spans.push(Span::styled(
                format!(" ● REC {what} → {} ", rec.out),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ));
        }
        if self.paused {
            spans.push(Span::styled(
                " PAUSED ",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
        }
        if !self.status.is_empty() {
            spans.push(Span::styled(
                format!(" {} ", crate::app::printable(&self.status)),
                Style::new().fg(Color::Cyan),
            ));
        }
        // The tick of the picture on screen, when there is one.
        let tick = if self.frame_tick > 0 {
            self.frame_tick
        } else {
            self.tick
        };
        let depth = if self.color_bits < 8 && self.colors != crate::halfblock::ColorMode::Mono {
            format!(" {}-bit", self.color_bits)
        } else {
            String::new()
        };
        spans.push(Span::raw(format!(
            " tick {tick}  {}  inspector {:.1} fps  {} written  engine {:.1} fps  {}{depth}",
            self.link,
            self.ui_fps,
            bytes(self.bytes_per_sec),
            self.engine_fps,
            self.colors.name()
        )));
        Line::from(spans).render(area, buf);
    }
}

fn value_spans(row: &ParamRow, width: usize) -> Vec<Span<'static>> {
    let value = &row.value;
    let mut spans = match &row.spec.kind {
        Kind::Float { min, max, unit, .. } => {
            let v = value.as_f64().unwrap_or(*min);
            slider((v - min) / (max - min), &format!("{v} {unit}"), width)
        }
        Kind::Int { min, max, unit, .. } => {
            let v = value.as_i64().unwrap_or(*min);
            slider(
                (v - min) as f64 / (max - min).max(1) as f64,
                &format!("{v} {unit}"),
                width,
            )
        }
        Kind::Bool => {
            let on = value.as_bool().unwrap_or(false);
            vec![Span::styled(
                if on { "[x] on" } else { "[ ] off" },
                Style::new().fg(if on { Color::Green } else { Color::Gray }),
            )]
        }
        Kind::Enum { .. } => vec![Span::raw(format!("‹ {value} ›"))],
        Kind::StringList { .. } => {
            let s = value.to_string();
            vec![Span::raw(if s.is_empty() {
                "(empty)".to_owned()
            } else {
                s
            })]
        }
    };
    if let Some(p) = &row.pending {
        spans.push(Span::styled(
            format!(" → {p}"),
            Style::new().fg(Color::Yellow),
        ));
    }
    spans
}

fn slider(frac: f64, label: &str, width: usize) -> Vec<Span<'static>> {
    let bar = width.saturating_sub(label.len() + 1).clamp(4, 14);
    let pos = ((frac.clamp(0.0, 1.0)) * (bar - 1) as f64).round() as usize;
    let track: String = (0..bar)
        .map(|i| {
            if i == pos {
                '●'
            } else if i < pos {
                '━'
            } else {
                '─'
            }
        })
        .collect();
    vec![
        Span::styled(track, Style::new().fg(Color::Cyan)),
        Span::raw(format!(" {label}")),
    ]
}

pub fn bytes(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1} MB/s", n as f64 / 1e6)
    } else if n >= 1000 {
        format!("{:.1} KB/s", n as f64 / 1e3)
    } else {
        format!("{n} B/s")
    }
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn dialog(area: Rect, buf: &mut Buffer, title: &str, text: &str, color: Color) {
    // Rows the text takes once wrapped inside the borders (words wrap a
    // little earlier than this; the spare rows absorb it).
    let inner = usize::from(64.min(area.width).saturating_sub(2)).max(1);
    let rows: usize = text
        .lines()
        .map(|l| l.chars().count().div_ceil(inner).max(1))
        .sum();
    let h = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(4);
    let r = centered(area, 64, h);
    Clear.render(r, buf);
    Paragraph::new(text.to_owned())
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} "))
                .border_style(Style::new().fg(color)),
        )
        .render(r, buf);
}

fn help(area: Rect, buf: &mut Buffer) {
    let keys = [
        ("q", "quit"),
        ("?", "this help"),
        ("Tab", "focus params, frame, log"),
        ("↑ ↓", "select a param (scroll the log when it has focus)"),
        ("← →", "adjust it; with Shift, steps of ×10"),
        ("Enter", "edit a value or choose from a list"),
        ("Space", "toggle a bool"),
        ("r", "reboot, keeping progress"),
        ("R", "fresh reboot: asks first, says what is lost"),
        ("p", "pause or resume"),
        (".", "single step"),
        ("s", "save params to the engine's params file"),
        ("S", "snapshot to a PNG in the current directory"),
        ("g", "game focus: arrows and Space go to the game"),
        ("Ctrl-R", "record a golden scenario; again to stop"),
        ("mouse", "wheel selects, click focuses"),
    ];
    let text: String = keys.iter().map(|(k, d)| format!("{k:>6}  {d}\n")).collect();
    let h = keys.len() as u16 + 4;
    let r = centered(area, 60, h);
    Clear.render(r, buf);
    Paragraph::new(format!("{text}\nany key closes"))
        .block(
            Block::bordered()
                .title(" keys ")
                .border_style(Style::new().fg(Color::Cyan)),
        )
        .render(r, buf);
}
