//! The entity panel as a component: the list `world.entities` gave, the
//! selected entity, what the game lets one do with them, its keys
//! ([`keys::ENTITIES`]) and how it is drawn.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use serde_json::Value as Json;

use crate::keys;
use crate::view::{compact_json, ellipsis, entity_summary, pane};

#[derive(Debug, Default, Clone)]
pub struct EntitiesPane {
    pub list: Vec<Json>,
    pub selected: usize,
    /// The game answers `world.entities`, and `world.set`.
    pub can_list: bool,
    pub can_set: bool,
}

/// What a key of the panel asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntitiesAsk {
    Nothing,
    /// Open the `attr=value` dialog for this entity.
    Change(String),
    /// Say this in the status bar.
    Say(&'static str),
}

impl EntitiesPane {
    /// A `world.entities` answer.
    pub fn set_list(&mut self, list: Vec<Json>) {
        self.list = list;
        self.selected = self.selected.min(self.list.len().saturating_sub(1));
    }

    pub fn selected(&self) -> Option<&Json> {
        self.list.get(self.selected)
    }

    /// The id of the selected entity.
    pub fn selected_id(&self) -> Option<String> {
        Some(match self.selected()?.get("id")? {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// A key of [`keys::ENTITIES`]; `connected` says whether a change
    /// could be sent.
    pub fn key(&mut self, k: keys::EntitiesKey, connected: bool) -> EntitiesAsk {
        use keys::EntitiesKey as E;
        match k {
            E::Up => self.selected = self.selected.saturating_sub(1),
            E::Down => self.selected = (self.selected + 1).min(self.list.len().saturating_sub(1)),
            E::Change => {
                return if !connected {
                    EntitiesAsk::Say("not connected: nothing was changed")
                } else if !self.can_set {
                    EntitiesAsk::Say("this game answers no world.set")
                } else {
                    self.selected_id()
                        .map_or(EntitiesAsk::Nothing, EntitiesAsk::Change)
                };
            }
        }
        EntitiesAsk::Nothing
    }

    /// The one line the narrow layout folds the panel into.
    pub fn summary(&self) -> String {
        match self.selected() {
            None => " (no entities)".to_owned(),
            Some(e) => format!(
                " {}/{} {}",
                self.selected + 1,
                self.list.len(),
                entity_summary(e)
            ),
        }
    }

    /// The list above, the selected entity's attributes below.
    pub fn render(&self, area: Rect, buf: &mut Buffer, focused: bool) {
        if area.height == 0 {
            return;
        }
        let block = pane(&format!("entities · {}", self.list.len()), focused);
        let inner = block.inner(area);
        block.render(area, buf);
        if self.list.is_empty() {
            Paragraph::new("(none yet)").render(inner, buf);
            return;
        }
        let [list, attrs] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(inner);
        let rows = usize::from(list.height).max(1);
        let first = self.selected.saturating_sub(rows - 1);
        for (i, e) in self.list.iter().enumerate().skip(first).take(rows) {
            let selected = i == self.selected;
            let line = Line::from(vec![
                Span::styled(
                    if selected { "▶ " } else { "  " },
                    Style::new().fg(Color::Magenta),
                ),
                Span::styled(
                    ellipsis(
                        &entity_summary(e),
                        usize::from(list.width).saturating_sub(2),
                    ),
                    if selected {
                        Style::new().add_modifier(Modifier::BOLD)
                    } else {
                        Style::new()
                    },
                ),
            ]);
            line.render(
                Rect::new(list.x, list.y + (i - first) as u16, list.width, 1),
                buf,
            );
        }
        if let Some(Json::Object(map)) = self.selected() {
            let lines: Vec<Line> = map
                .iter()
                .map(|(k, v)| {
                    Line::from(vec![
                        Span::styled(format!("{k}: "), Style::new().fg(Color::DarkGray)),
                        Span::raw(ellipsis(
                            &compact_json(v),
                            usize::from(attrs.width).saturating_sub(k.len() + 2),
                        )),
                    ])
                })
                .collect();
            Paragraph::new(lines).render(attrs, buf);
        }
    }
}
