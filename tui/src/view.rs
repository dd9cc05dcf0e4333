//! Drawing the inspector: `impl Widget for &App`. The layout is a pure
//! function of the screen size, shared with mouse handling.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Sparkline, Widget, Wrap};

use advkit_params::Kind;

use crate::app::{App, Conn, Focus, Modal, Side, Target};
use crate::halfblock::{ColorMode, HalfBlocks};
use crate::keys;
use crate::params::{ParamRow, ParamsPane};
use crate::picture::entity_box;

/// Where each part goes. A part the layout leaves out is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The frame pane (bordered when wide).
    pub frame: Rect,
    /// The cells the picture may use: inside the border, if there is one.
    pub inner: Rect,
    /// The picture itself, centred in `inner`.
    pub picture: Rect,
    /// The side panel: params or entities (wide screens).
    pub side: Rect,
    /// One line with the selected param or entity (narrow screens).
    pub strip: Rect,
    /// Sparklines (tall wide screens).
    pub graphs: Rect,
    pub log: Rect,
    pub status: Rect,
    pub footer: Rect,
    /// The debugger's timeline, when the engine keeps history.
    pub timeline: Rect,
}

/// Screens at least this wide get the side panel; narrower ones give the
/// frame the whole width and fold the panel into one line.
pub const WIDE: u16 = 100;

/// The layout for a screen of `area`. The frame comes first: full screen
/// with `f`; on a narrow screen it takes the whole width without a border,
/// with the selected param on one line below it and the log only when it
/// has focus (or the screen is tall).
pub fn areas(area: Rect, app: &App) -> Areas {
    let none = Rect::new(area.x, area.y, 0, 0);
    let mut a = Areas {
        frame: none,
        inner: none,
        picture: none,
        side: none,
        strip: none,
        graphs: none,
        log: none,
        status: none,
        footer: none,
        timeline: none,
    };
    let bordered;
    if app.fullscreen {
        [a.frame, a.status] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
        bordered = false;
    } else if area.width >= WIDE {
        let log_h = if area.height >= 30 { 7 } else { 4 };
        let main;
        [main, a.log, a.status, a.footer] = Layout::vertical([
            Constraint::Min(6),
            Constraint::Length(log_h),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        let right;
        [a.frame, right] =
            Layout::horizontal([Constraint::Min(30), Constraint::Length(46)]).areas(main);
        if area.height >= 36 {
            [a.side, a.graphs] =
                Layout::vertical([Constraint::Min(6), Constraint::Length(8)]).areas(right);
        } else {
            a.side = right;
        }
        bordered = true;
    } else {
        let log_h = if app.focus == Focus::Log {
            area.height / 3
        } else if area.height >= 30 {
            6
        } else {
            0
        };
        [a.frame, a.strip, a.log, a.status, a.footer] = Layout::vertical([
            Constraint::Min(4),
            Constraint::Length(1),
            Constraint::Length(log_h),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        bordered = false;
    }
    // The timeline takes a row from the frame, where there is history.
    if app.timeline.history.is_some() && !app.fullscreen && a.frame.height > 6 {
        let f = a.frame;
        a.frame = Rect::new(f.x, f.y, f.width, f.height - 1);
        a.timeline = Rect::new(
            area.x,
            f.y + f.height - 1,
            area.width.min(f.width.max(area.width)),
            1,
        );
        if area.width >= WIDE {
            a.timeline.width = f.width;
        }
    }
    a.inner = if bordered {
        Block::bordered().inner(a.frame)
    } else {
        a.frame
    };
    let inner = a.inner;
    // The picture, centred in the pane.
    let img = &app.frame.image;
    let (w, h) = (
        img.width.min(inner.width),
        (img.height / 2).min(inner.height),
    );
    a.picture = Rect::new(
        inner.x + (inner.width - w) / 2,
        inner.y + (inner.height - h) / 2,
        w,
        h,
    );
    if img.width == 0 {
        a.picture = inner;
    }
    a
}

/// The cells available for the picture inside the frame pane.
pub fn frame_inner(area: Rect, app: &App) -> Rect {
    areas(area, app).inner
}

pub(crate) fn pane(title: &str, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    Block::bordered()
        .title(format!(" {title} "))
        .border_style(style)
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let a = areas(area, self);
        self.render_frame(&a, buf);
        match self.side {
            Side::Params => self.params.render(a.side, buf, self.focus == Focus::Params),
            Side::Entities => self
                .entities
                .render(a.side, buf, self.focus == Focus::Params),
            Side::Watches => {
                self.timeline
                    .render_pane(a.side, buf, self.focus == Focus::Params);
            }
        }
        self.timeline
            .render_line(a.timeline, buf, self.colors == ColorMode::Mono);
        self.render_strip(a.strip, buf);
        self.render_graphs(a.graphs, buf);
        self.log.render(a.log, buf, self.focus == Focus::Log);
        self.render_status(a.status, buf);
        self.render_keys(a.footer, buf);
        match &self.modal {
            Modal::None | Modal::Search { .. } => {}
            Modal::Help => help(self, area, buf),
            Modal::Entry(text) => dialog(
                area,
                buf,
                "Log entry",
                &format!("{text}\n\nany key closes"),
                Color::Cyan,
            ),
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
            Modal::Edit {
                target,
                buffer,
                error,
                sending,
            } => {
                let (title, hint) = match target {
                    Target::Param(name) => (
                        format!("Set {name}"),
                        "Enter to set · Esc to cancel · lists are comma-separated",
                    ),
                    Target::Entity(id) => (
                        format!("Change {id}"),
                        "attr=value, comma-separated (speed=2, say=\"hi\") · Enter · Esc",
                    ),
                    Target::Tick => (
                        "Go to tick".to_owned(),
                        "a tick (1500), or ticks from now (-120, +60) · Enter · Esc",
                    ),
                    Target::Watch => (
                        "Watch".to_owned(),
                        "pause when it holds: player.tile == [20, 20] · npc:1.tile changed · \
                         log ~ \"bridge\" · Enter · Esc",
                    ),
                };
                let mut text = format!("{buffer}▏\n\n{hint}");
                if *sending {
                    text.push_str("\n\nsending…");
                }
                if let Some(e) = error {
                    text.push_str(&format!("\n\n✖ {e}"));
                }
                let color = if error.is_some() {
                    Color::Red
                } else {
                    Color::Cyan
                };
                dialog(area, buf, &title, &text, color);
            }
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
        // NO_COLOR: not a colour anywhere, the picture's grey ramp and the
        // panes' bold and reversed text are what is left.
        if self.colors == ColorMode::Mono {
            for cell in buf.content.iter_mut() {
                cell.fg = Color::Reset;
                cell.bg = Color::Reset;
            }
        }
    }
}

impl App {
    fn render_frame(&self, a: &Areas, buf: &mut Buffer) {
        let area = a.frame;
        // Bordered when the layout gave it a border.
        let inner = if a.inner != a.frame {
            let mut title = if self.frame.size.0 > 0 {
                format!("{} {}x{}", self.name, self.frame.size.0, self.frame.size.1)
            } else {
                self.name.clone()
            };
            if self.frame.zoom > 1 {
                title.push_str(&format!(" · zoom ×{}", self.frame.zoom));
            }
            let block = pane(&title, self.focus == Focus::Frame || self.game_input);
            let block = match self.picker_text() {
                Some(p) if self.focus == Focus::Frame => block.title_bottom(format!(" {p} ")),
                _ => block,
            };
            let inner = block.inner(area);
            block.render(area, buf);
            inner
        } else {
            area
        };
        let message = match &self.conn {
            Conn::Connected if self.frame.image.width > 0 => {
                self.render_picture(a.picture, buf);
                return;
            }
            Conn::Connected => "waiting for the first frame…".to_owned(),
            Conn::Connecting => format!("connecting to engine {}…", self.name),
            Conn::NoEngine(why) if self.is_remote => format!(
                "No answer from the engine at {}.\n\n{why}\n\nIs it running with `--tcp` on that \
                 address, and the port reachable from here? This screen attaches by itself when it \
                 answers.",
                self.name
            ),
            Conn::NoEngine(why) => {
                // The reason may already say how to start one.
                let hint = if why.contains("advkit run") {
                    String::new()
                } else {
                    format!("\n\nStart one with `advkit run --name {}`.", self.name)
                };
                format!(
                    "No engine named {} is running.\n\n{why}{hint}\n\nThis screen attaches by itself when it appears.",
                    self.name
                )
            }
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

    /// The picture, the selected entity outlined, and the picker's cursor.
    fn render_picture(&self, at: Rect, buf: &mut Buffer) {
        let outlined = self.outlined();
        HalfBlocks {
            image: outlined.as_ref().unwrap_or(&self.frame.image),
            mode: self.colors,
        }
        .render(at, buf);
        if self.focus == Focus::Frame
            && let Some((cx, cy)) = self.frame.cursor
            && let Some(cell) = buf.cell_mut((
                at.x + cx.min(at.width.saturating_sub(1)),
                at.y + cy.min(at.height.saturating_sub(1)),
            ))
        {
            cell.set_symbol("✛")
                .set_fg(if self.colors == ColorMode::Mono {
                    Color::Reset
                } else {
                    Color::Magenta
                });
            cell.modifier |= Modifier::BOLD;
        }
    }

    /// The picture with the selected entity's box drawn round it, when the
    /// entity panel is open and the entity is on screen.
    fn outlined(&self) -> Option<crate::halfblock::CellImage> {
        if self.side != Side::Entities {
            return None;
        }
        let (bx, by, bw, bh) = entity_box(self.entities.selected()?)?;
        let vp = self.viewport();
        let img = &self.frame.image;
        let (iw, ih) = (i64::from(img.width), i64::from(img.height));
        let pixels = (u32::from(img.width), u32::from(img.height));
        let (x0, y0) = vp.place((bx, by), pixels);
        let (x0, y0) = (x0 - 1, y0 - 1);
        let (x1, y1) = vp.place((bx + bw, by + bh), pixels);
        let mut out = img.clone();
        let ink = [255, 0, 255];
        let mut put = |x: i64, y: i64| {
            if (0..iw).contains(&x) && (0..ih).contains(&y) {
                out.pixels[(y * iw + x) as usize] = ink;
            }
        };
        for x in x0..=x1 {
            put(x, y0);
            put(x, y1);
        }
        for y in y0..=y1 {
            put(x0, y);
            put(x1, y);
        }
        Some(out)
    }

    /// What the picker points at: pixel, colour, and the entity there.
    pub fn picker_text(&self) -> Option<String> {
        let p = self.frame.picked?;
        let [r, g, b] = p.rgb;
        let mut text = format!("x {} y {}  #{r:02x}{g:02x}{b:02x}", p.x, p.y);
        // The game's own word on the pixel (`world.pick`), once it answered
        // for this one.
        let info = self
            .frame
            .pick_info
            .as_ref()
            .filter(|i| i.get("x") == Some(&p.x.into()) && i.get("y") == Some(&p.y.into()));
        let tile = info.and_then(|i| i.get("tile")).filter(|t| !t.is_null());
        if let Some(tile) = tile {
            let kind = tile.get("kind").map(json_text).unwrap_or_default();
            let at = match (tile.get("x"), tile.get("y")) {
                (Some(x), Some(y)) => format!(" ({x},{y})"),
                _ => String::new(),
            };
            text.push_str(&format!("  {kind}{at}"));
        }
        if let Some(e) = self.entity_at(p.x, p.y) {
            let id = e.get("id").map(json_text).unwrap_or_default();
            let name = e.get("name").map(json_text).unwrap_or_default();
            text.push_str(&format!("  {id} {name}"));
            if let (None, Some(at)) = (tile, e.get("tile")) {
                text.push_str(&format!(" tile {}", compact_json(at)));
            }
        } else if self.entities.can_list && self.entities.list.is_empty() {
            text.push_str("  (entities: press e)");
        }
        Some(text)
    }

    /// The one-line strip of a narrow screen: the selected param (or
    /// entity), or what the picker points at in frame focus.
    fn render_strip(&self, area: Rect, buf: &mut Buffer) {
        if area.height == 0 {
            return;
        }
        if self.focus == Focus::Frame
            && let Some(p) = self.picker_text()
        {
            Line::from(vec![
                Span::styled(" ✛ ", Style::new().fg(Color::Magenta)),
                Span::raw(p),
            ])
            .render(area, buf);
            return;
        }
        let focused = self.focus == Focus::Params;
        let mark = Span::styled(
            if focused { "▶" } else { " " },
            Style::new().fg(Color::Cyan),
        );
        let line = match self.side {
            Side::Watches => {
                let w = self.timeline.watches.get(self.timeline.selected);
                let text = w.map_or_else(
                    || "no watchpoints: a adds one".to_owned(),
                    |w| {
                        format!(
                            " {}/{} {} ({} hits)",
                            self.timeline.selected + 1,
                            self.timeline.watches.len(),
                            w.condition,
                            w.hits
                        )
                    },
                );
                Line::from(vec![mark, Span::raw(text)])
            }
            Side::Entities => Line::from(vec![mark, Span::raw(self.entities.summary())]),
            Side::Params => {
                let Some(row) = self.params.current() else {
                    Line::from(vec![mark, Span::raw(" (no params yet)")]).render(area, buf);
                    return;
                };
                let count = format!(" {}/{} ", self.params.selected + 1, self.params.rows.len());
                let mut spans = vec![
                    mark,
                    Span::styled(count, Style::new().fg(Color::DarkGray)),
                    Span::styled(
                        format!("{} ", row.spec.name),
                        Style::new().add_modifier(Modifier::BOLD),
                    ),
                ];
                if ParamsPane::is_modified(row) {
                    spans.push(Span::styled("• ", Style::new().fg(Color::Yellow)));
                }
                let used: usize = spans.iter().map(Span::width).sum();
                spans.extend(value_spans(
                    row,
                    usize::from(area.width).saturating_sub(used),
                ));
                Line::from(spans)
            }
        };
        line.render(area, buf);
    }

    fn render_graphs(&self, area: Rect, buf: &mut Buffer) {
        if area.height == 0 {
            return;
        }
        let block = pane("last minute", false);
        let inner = block.inner(area);
        block.render(area, buf);
        let h = &self.history;
        let last = |q: &std::collections::VecDeque<f64>| q.back().copied().unwrap_or(0.0);
        let rows: [(String, Vec<u64>); 3] = [
            (
                format!("engine {:.1} fps", last(&h.fps)),
                h.fps.iter().map(|v| (v * 10.0) as u64).collect(),
            ),
            (
                format!(
                    "tick p50 {:.2} · p99 {:.2} ms",
                    last(&h.tick_p50_ms),
                    last(&h.tick_p99_ms)
                ),
                h.tick_p99_ms.iter().map(|v| (v * 1000.0) as u64).collect(),
            ),
            (
                format!("link {}", bytes(h.link.back().copied().unwrap_or(0))),
                h.link.iter().copied().collect(),
            ),
        ];
        for (i, (label, data)) in rows.iter().enumerate() {
            let y = inner.y + (i as u16) * 2;
            if y + 1 >= inner.y + inner.height {
                break;
            }
            Paragraph::new(label.as_str())
                .style(Style::new().fg(Color::DarkGray))
                .render(Rect::new(inner.x, y, inner.width, 1), buf);
            let w = usize::from(inner.width);
            let tail = &data[data.len().saturating_sub(w)..];
            Sparkline::default()
                .data(tail)
                .style(Style::new().fg(Color::Cyan))
                .render(Rect::new(inner.x, y + 1, inner.width, 1), buf);
        }
    }

    /// The key bar's keys, from the tables the handlers read: `q` and
    /// Tab, time's (with history), the focused pane's, then the rest of
    /// the keys that work anywhere. `? help` comes last, always.
    fn key_bar(&self) -> Vec<(&'static str, &'static str)> {
        if self.game_input {
            return keys::bar(keys::GAME).collect();
        }
        let lead = |a: &keys::Global| matches!(a, keys::Global::Quit | keys::Global::FocusNext);
        let mut out: Vec<(&str, &str)> = keys::GLOBAL
            .iter()
            .filter(|b| lead(&b.action))
            .map(|b| (b.label, b.hint))
            .collect();
        let pane_is_a_list =
            self.focus == Focus::Log || (self.focus == Focus::Params && self.side == Side::Watches);
        if self.timeline.history.is_some() && !pane_is_a_list {
            // Time first: it is what a debugging session presses most.
            out.extend(keys::bar(keys::TIME));
        }
        match (self.focus, self.side) {
            (Focus::Params, Side::Params) => out.extend(keys::bar(keys::PARAMS)),
            (Focus::Params, Side::Entities) => out.extend(keys::bar(keys::ENTITIES)),
            (Focus::Params, Side::Watches) => out.extend(keys::bar(keys::WATCHES)),
            (Focus::Frame, _) => out.extend(keys::bar(keys::FRAME)),
            (Focus::Log, _) => out.extend(keys::bar(keys::LOG)),
        }
        out.extend(
            keys::GLOBAL
                .iter()
                .filter(|b| b.bar && !lead(&b.action))
                .map(|b| (b.label, b.hint)),
        );
        out
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
        // A remote engine's link, before the running figures.
        if !self.remote.is_empty() {
            spans.push(Span::raw(format!(" {} ", self.remote)));
        }
        // The tick of the picture on screen, when there is one.
        let tick = if self.frame.tick > 0 {
            self.frame.tick
        } else {
            self.tick
        };
        let depth = match self.fewer_bits {
            Some(b) if self.colors != ColorMode::Mono => format!(" {b}-bit"),
            _ => String::new(),
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

    /// The keys that do something here and now, as many as fit, with
    /// `? help` always last.
    fn render_keys(&self, area: Rect, buf: &mut Buffer) {
        if area.height == 0 {
            return;
        }
        if let Modal::Search { query, .. } = &self.modal {
            Line::from(vec![
                Span::styled(" / ", Style::new().fg(Color::Cyan)),
                Span::raw(format!("{query}▏")),
                Span::styled(
                    "  Enter keeps the selection · Esc goes back",
                    Style::new().fg(Color::DarkGray),
                ),
            ])
            .render(area, buf);
            return;
        }
        let keys = self.key_bar();
        let help = "? help";
        let room = usize::from(area.width).saturating_sub(help.len() + 1);
        let mut spans = Vec::new();
        let mut used = 0;
        for (k, what) in keys {
            let w = k.chars().count() + what.chars().count() + 3;
            if used + w > room {
                break;
            }
            used += w;
            spans.push(Span::styled(format!(" {k}"), Style::new().fg(Color::Cyan)));
            spans.push(Span::styled(
                format!(" {what} "),
                Style::new().fg(Color::DarkGray),
            ));
        }
        spans.push(Span::styled(
            format!(" {help}"),
            Style::new().fg(Color::Cyan),
        ));
        Line::from(spans).render(area, buf);
    }
}

/// `text` cut to `width` characters, with `…` where it was cut.
pub(crate) fn ellipsis(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => crate::app::printable(s),
        other => compact_json(other),
    }
}

pub(crate) fn compact_json(v: &serde_json::Value) -> String {
    crate::app::printable(&v.to_string())
}

/// An entity on one line: id, name or kind, where it is.
pub(crate) fn entity_summary(e: &serde_json::Value) -> String {
    let get = |k: &str| e.get(k).map(json_text);
    let mut s = get("id").unwrap_or_else(|| "?".into());
    if let Some(n) = get("name").or_else(|| get("kind")) {
        s.push_str(&format!("  {n}"));
    }
    if let Some(p) = e.get("pixel").or_else(|| e.get("tile")) {
        s.push_str(&format!("  {}", compact_json(p)));
    }
    s
}

pub(crate) fn value_spans(row: &ParamRow, width: usize) -> Vec<Span<'static>> {
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

/// The keys of the focused pane, of time and of anywhere, from the same
/// tables the handlers read ([`crate::keys`]).
fn help(app: &App, area: Rect, buf: &mut Buffer) {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut section =
        |name: &'static str, rows: &mut dyn Iterator<Item = (&'static str, &'static str)>| {
            keys.push(("", name));
            keys.extend(rows);
        };
    if app.game_input {
        section("game focus", &mut keys::help(keys::GAME));
    } else {
        match (app.focus, app.side) {
            (Focus::Params, Side::Params) => section("params", &mut keys::help(keys::PARAMS)),
            (Focus::Params, Side::Entities) => section("entities", &mut keys::help(keys::ENTITIES)),
            (Focus::Params, Side::Watches) => section("watches", &mut keys::help(keys::WATCHES)),
            (Focus::Frame, _) => section("frame", &mut keys::help(keys::FRAME)),
            (Focus::Log, _) => section("log", &mut keys::help(keys::LOG)),
        }
        section(
            "time (with history; docs/debugging.md)",
            &mut keys::help(keys::TIME),
        );
        section("anywhere", &mut keys::help(keys::GLOBAL));
    }
    let text: String = keys
        .iter()
        .map(|(k, d)| {
            if k.is_empty() {
                format!("{d}\n")
            } else {
                format!("  {k:>12}  {d}\n")
            }
        })
        .collect();
    let h = keys.len() as u16 + 4;
    let r = centered(area, 66, h);
    Clear.render(r, buf);
    Paragraph::new(format!("{text}\nany key closes"))
        .block(
            Block::bordered()
                .title(" keys ")
                .border_style(Style::new().fg(Color::Cyan)),
        )
        .render(r, buf);
}
