//! The params panel as a component: the rows the engine reported, the
//! revision they are at, the selection, what its keys ([`keys::PARAMS`])
//! ask for, and how it is drawn.

use advkit_ipc::api::{ParamsChange, ParamsResetParams, ParamsSetParams, method};
use advkit_params::{Applied, Apply, Entry, Kind, Params, Value};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::app::{Modal, Request, Tag, Target, req, snap};
use crate::keys;
use crate::view::{ellipsis, pane, value_spans};

/// One param as the engine reported it.
pub type ParamRow = Entry;

#[derive(Debug, Default, Clone)]
pub struct ParamsPane {
    pub rows: Vec<ParamRow>,
    pub revision: u64,
    pub selected: usize,
}

/// What a key of the panel asks of the app.
#[derive(Debug)]
pub enum ParamsAsk {
    Nothing,
    Send(Request),
    Open(Modal),
}

impl ParamsPane {
    /// A param list as `hello` or `params.list` gives it.
    pub fn set_list(&mut self, rows: Vec<ParamRow>, revision: u64) {
        self.rows = rows;
        self.revision = revision;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    pub fn select(&mut self, i: usize) {
        self.selected = i.min(self.rows.len().saturating_sub(1));
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self) {
        self.select(self.selected + 1);
    }

    /// The first param whose name holds `query` (any case).
    pub fn find(&mut self, query: &str) {
        let q = query.to_lowercase();
        if let Some(i) = self
            .rows
            .iter()
            .position(|p| p.spec.name.to_lowercase().contains(&q))
        {
            self.selected = i;
        }
    }

    /// A key of [`keys::PARAMS`] (`shift`: steps of ×10).
    pub fn key(&mut self, k: keys::ParamsKey, shift: bool) -> ParamsAsk {
        use keys::ParamsKey as P;
        match k {
            P::Up => self.up(),
            P::Down => self.down(),
            P::Less => return self.adjust(-1, shift),
            P::More => return self.adjust(1, shift),
            P::Edit => return self.edit(),
            P::Toggle => return self.toggle(),
            P::Search => {
                return ParamsAsk::Open(Modal::Search {
                    query: String::new(),
                    was: self.selected,
                });
            }
            P::Default => return self.reset_one(),
        }
        ParamsAsk::Nothing
    }

    /// A change the engine made (a reply or a `params` event).
    pub fn apply_change(&mut self, change: &ParamsChange) {
        self.revision = change.revision;
        for (name, v) in &change.values {
            let Some(row) = self.rows.iter_mut().find(|p| &p.spec.name == name) else {
                continue;
            };
            if change.results.get(name) == Some(&Applied::PendingReboot) {
                row.pending = (*v != row.value).then(|| v.clone());
            } else {
                row.value = v.clone();
                row.pending = None;
            }
        }
    }

    pub fn schema(&self) -> Params {
        Params::from_entries(self.rows.clone(), self.revision)
    }

    /// A value typed for `name`, as the engine would read it.
    pub fn parse(&self, name: &str, text: &str) -> Result<Value, String> {
        self.schema().parse(name, text).map_err(|e| e.to_string())
    }

    /// `params.set` of one value, if the params are still at our revision.
    pub fn set(&self, name: &str, value: Value) -> Request {
        let p = ParamsSetParams {
            name: Some(name.to_owned()),
            value: serde_json::to_value(&value).ok(),
            if_revision: Some(self.revision),
            ..ParamsSetParams::default()
        };
        req(Tag::Set(name.to_owned()), method::PARAMS_SET, p)
    }

    pub fn current(&self) -> Option<&ParamRow> {
        self.rows.get(self.selected)
    }

    /// The value an edit starts from: the pending one if there is one.
    fn shown(row: &ParamRow) -> &Value {
        row.pending.as_ref().unwrap_or(&row.value)
    }

    /// A step of the selected param (`big`: ×10); nothing when it would
    /// not change.
    fn adjust(&self, dir: i64, big: bool) -> ParamsAsk {
        let Some(row) = self.current() else {
            return ParamsAsk::Nothing;
        };
        let mult = if big { 10 } else { 1 };
        let new = match (&row.spec.kind, Self::shown(row)) {
            (Kind::Float { min, max, step, .. }, v) => {
                let cur = v.as_f64().unwrap_or(*min);
                Value::Float(snap(cur + step * (dir * mult) as f64, *step).clamp(*min, *max))
            }
            (Kind::Int { min, max, step, .. }, v) => {
                let cur = v.as_i64().unwrap_or(*min);
                Value::Int((cur + step * dir * mult).clamp(*min, *max))
            }
            (Kind::Bool, v) => Value::Bool(!v.as_bool().unwrap_or(false)),
            (Kind::Enum { choices }, v) => {
                let i = choices
                    .iter()
                    .position(|c| Some(c.as_str()) == v.as_str())
                    .unwrap_or(0) as i64;
                let n = choices.len() as i64;
                Value::Text(choices[((i + dir).rem_euclid(n.max(1))) as usize].clone())
            }
            (Kind::StringList { .. }, _) => return ParamsAsk::Nothing,
        };
        if &new == Self::shown(row) {
            return ParamsAsk::Nothing;
        }
        ParamsAsk::Send(self.set(&row.spec.name, new))
    }

    /// `d`: the selected param back to its default.
    fn reset_one(&self) -> ParamsAsk {
        let Some(name) = self.current().map(|r| r.spec.name.clone()) else {
            return ParamsAsk::Nothing;
        };
        ParamsAsk::Send(req(
            Tag::Reset(name.clone()),
            method::PARAMS_RESET,
            ParamsResetParams { name: Some(name) },
        ))
    }

    /// Differs from its default (now, or once a reboot applies it).
    pub fn is_modified(row: &ParamRow) -> bool {
        Self::shown(row) != &row.spec.default
    }

    fn toggle(&self) -> ParamsAsk {
        match self.current().map(|r| &r.spec.kind) {
            Some(Kind::Bool) => self.adjust(1, false),
            _ => ParamsAsk::Nothing,
        }
    }

    fn edit(&self) -> ParamsAsk {
        let Some(row) = self.current() else {
            return ParamsAsk::Nothing;
        };
        let name = row.spec.name.clone();
        match &row.spec.kind {
            Kind::Bool => self.adjust(1, false),
            Kind::Enum { choices } => ParamsAsk::Open(Modal::Pick {
                name,
                choices: choices.clone(),
                index: choices
                    .iter()
                    .position(|c| Some(c.as_str()) == Self::shown(row).as_str())
                    .unwrap_or(0),
            }),
            _ => ParamsAsk::Open(Modal::Edit {
                target: Target::Param(name),
                buffer: Self::shown(row).to_string(),
                error: None,
                sending: false,
            }),
        }
    }

    /// Is this param waiting for a reboot?
    pub fn is_reboot_only(row: &ParamRow) -> bool {
        row.spec.apply == Apply::Reboot
    }

    /// The list, and the selected param's description below it.
    pub fn render(&self, area: Rect, buf: &mut Buffer, focused: bool) {
        if area.height == 0 {
            return;
        }
        let modified = self.rows.iter().filter(|r| Self::is_modified(r)).count();
        let mut title = format!("params · rev {}", self.revision);
        if modified > 0 {
            title.push_str(&format!(" · {modified} changed"));
        }
        let block = pane(&title, focused);
        let inner = block.inner(area);
        block.render(area, buf);
        if self.rows.is_empty() {
            Paragraph::new("(no params yet)").render(inner, buf);
            return;
        }
        let name_w = self
            .rows
            .iter()
            .map(|p| p.spec.name.len())
            .max()
            .unwrap_or(8)
            .min(16);
        // Keep the selection visible; leave 2 lines for its description.
        let rows = usize::from(inner.height.saturating_sub(2)).max(1);
        let first = self.selected.saturating_sub(rows - 1);
        for (i, row) in self.rows.iter().enumerate().skip(first).take(rows) {
            let y = inner.y + (i - first) as u16;
            let selected = i == self.selected;
            let marker = if Self::is_reboot_only(row) {
                "⟳"
            } else {
                " "
            };
            let changed = if Self::is_modified(row) { "•" } else { " " };
            let mut spans = vec![
                Span::styled(
                    if selected { "▶" } else { " " },
                    Style::new().fg(Color::Cyan),
                ),
                Span::styled(marker, Style::new().fg(Color::Yellow)),
                Span::styled(changed, Style::new().fg(Color::Yellow)),
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
                usize::from(inner.width).saturating_sub(name_w + 4),
            ));
            Line::from(spans).render(Rect::new(inner.x, y, inner.width, 1), buf);
        }
        if let Some(row) = self.current() {
            let mut text = format!("{} ({})", row.spec.description, row.spec.kind.describe());
            if Self::is_reboot_only(row) {
                text.push_str(" · applies at reboot");
            }
            if Self::is_modified(row) {
                text.push_str(&format!(" · default {} (d resets)", row.spec.default));
            }
            let desc = Rect::new(
                inner.x,
                inner.y + inner.height.saturating_sub(2),
                inner.width,
                2,
            );
            Paragraph::new(ellipsis(&text, usize::from(inner.width) * 2))
                .wrap(Wrap { trim: true })
                .style(Style::new().fg(Color::DarkGray))
                .render(desc, buf);
        }
    }
}
