//! `advkit golden review`: pending (`.new.png`) and failed captures, one at
//! a time, drawn with the inspector's half-block renderer. State, update
//! and drawing are kept apart so the screen can be tested on a TestBackend.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use advkit_frame::{Compression, Frame, decode_png, encode_png};
use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::Frame as Screen;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::halfblock::{ColorMode, HalfBlocks, downsample, fit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No golden yet (`<capture>.new.png`).
    Pending,
    /// Differs from its golden (artifacts in target/advkit-golden).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Expected,
    Actual,
    Diff,
}

#[derive(Debug)]
pub struct Item {
    pub scenario: String,
    pub capture: String,
    pub kind: Kind,
    pub golden: PathBuf,
    pub expected: Option<Frame>,
    pub actual: Frame,
    pub diff: Option<Frame>,
    /// Files to remove once decided.
    pub leftovers: Vec<PathBuf>,
    pub decided: Option<&'static str>,
}

#[derive(Debug)]
pub struct ReviewApp {
    pub items: Vec<Item>,
    pub index: usize,
    pub view: View,
    pub message: String,
    pub quit: bool,
    pub mode: ColorMode,
}

fn load(path: &Path) -> Option<Frame> {
    decode_png(&fs::read(path).ok()?).ok()
}

/// One capture file found on disk.
struct Found {
    scenario: String,
    capture: String,
    /// The directory it is in.
    dir: PathBuf,
    file: PathBuf,
    actual: Frame,
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Every readable `<root>/<scenario>/<capture><suffix>` PNG, sorted.
fn find(root: &Path, suffix: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for dir in sorted_entries(root).into_iter().filter(|p| p.is_dir()) {
        let scenario = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        for file in sorted_entries(&dir) {
            let Some(capture) = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(suffix))
                .map(str::to_owned)
            else {
                continue;
            };
            let Some(actual) = load(&file) else { continue };
            found.push(Found {
                scenario: scenario.clone(),
                capture,
                dir: dir.clone(),
                file,
                actual,
            });
        }
    }
    found
}

/// Finds pending and failed captures.
pub fn collect(golden_dir: &Path, artifacts: &Path) -> Vec<Item> {
    let pending = find(golden_dir, ".new.png").into_iter().map(|f| {
        let golden = f.dir.join(format!("{}.png", f.capture));
        Item {
            scenario: f.scenario,
            kind: Kind::Pending,
            expected: load(&golden),
            actual: f.actual,
            diff: None,
            golden,
            leftovers: vec![f.file],
            capture: f.capture,
            decided: None,
        }
    });
    let failed = find(artifacts, ".actual.png").into_iter().map(|f| {
        let expected_path = f.dir.join(format!("{}.expected.png", f.capture));
        let diff_path = f.dir.join(format!("{}.diff.png", f.capture));
        Item {
            golden: golden_dir
                .join(&f.scenario)
                .join(format!("{}.png", f.capture)),
            scenario: f.scenario,
            kind: Kind::Failed,
            expected: load(&expected_path),
            diff: load(&diff_path),
            actual: f.actual,
            leftovers: vec![f.file, expected_path, diff_path],
            capture: f.capture,
            decided: None,
        }
    });
    pending.chain(failed).collect()
}

impl ReviewApp {
    pub fn new(items: Vec<Item>, mode: ColorMode) -> ReviewApp {
        ReviewApp {
            items,
            index: 0,
            view: View::Actual,
            message: String::new(),
            quit: false,
            mode,
        }
    }

    pub fn handle_key(&mut self, key: KeyCode) {
        match key {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char('e') | KeyCode::Char('1') => self.view = View::Expected,
            KeyCode::Char('c') | KeyCode::Char('2') => self.view = View::Actual,
            KeyCode::Char('d') | KeyCode::Char('3') => self.view = View::Diff,
            KeyCode::Tab | KeyCode::Char(' ') => {
                self.view = match self.view {
                    View::Expected => View::Actual,
                    View::Actual => View::Diff,
                    View::Diff => View::Expected,
                }
            }
            KeyCode::Right | KeyCode::Char('n') => self.next(),
            KeyCode::Left | KeyCode::Char('p') => self.index = self.index.saturating_sub(1),
            KeyCode::Char('a') => self.accept(),
            KeyCode::Char('r') => self.reject(),
            _ => {}
        }
    }

    fn next(&mut self) {
        if self.index + 1 < self.items.len() {
            self.index += 1;
        }
    }

    fn accept(&mut self) {
        let Some(item) = self.items.get_mut(self.index) else {
            return;
        };
        let written = encode_png(&item.actual, Compression::Best)
            .map_err(|e| e.to_string())
            .and_then(|png| {
                if let Some(dir) = item.golden.parent() {
                    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                }
                fs::write(&item.golden, png).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => {
                for f in &item.leftovers {
                    let _ = fs::remove_file(f);
                }
                item.decided = Some("accepted");
                self.message = format!("accepted: wrote {}", item.golden.display());
                self.next();
            }
            Err(e) => self.message = format!("could not write {}: {e}", item.golden.display()),
        }
    }

    fn reject(&mut self) {
        let Some(item) = self.items.get_mut(self.index) else {
            return;
        };
        if item.kind == Kind::Pending {
            for f in &item.leftovers {
                let _ = fs::remove_file(f);
            }
        }
        item.decided = Some("rejected");
        self.message = format!(
            "rejected {}/{}{}",
            item.scenario,
            item.capture,
            if item.kind == Kind::Failed {
                " (the golden stays; fix the code)"
            } else {
                ""
            }
        );
        self.next();
    }

    pub fn render(&self, screen: &mut Screen) {
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(screen.area());
        let Some(item) = self.items.get(self.index) else {
            screen.render_widget(
                Paragraph::new("Nothing to review: no pending or failed captures. Press q."),
                body,
            );
            return;
        };
        let kind = match item.kind {
            Kind::Pending => Span::styled("NEW", Style::new().fg(Color::Yellow).bold()),
            Kind::Failed => Span::styled("FAILED", Style::new().fg(Color::Red).bold()),
        };
        let title = Line::from(vec![
            Span::raw(format!("{}/{}  ", self.index + 1, self.items.len())),
            kind,
            Span::raw(format!(
                "  {}/{}  {}x{}  ",
                item.scenario,
                item.capture,
                item.actual.width(),
                item.actual.height()
            )),
            Span::styled(item.decided.unwrap_or(""), Style::new().fg(Color::Green)),
        ]);
        let views = [
            (View::Expected, "e expected"),
            (View::Actual, "c actual"),
            (View::Diff, "d diff"),
        ];
        let tabs: Vec<Span> = views
            .iter()
            .flat_map(|(v, label)| {
                let style = if *v == self.view {
                    Style::new().reversed()
                } else {
                    Style::new()
                };
                [Span::styled(format!(" {label} "), style), Span::raw(" ")]
            })
            .collect();
        screen.render_widget(Paragraph::new(vec![title, Line::from(tabs)]), head);

        let shown = match self.view {
            View::Expected => item.expected.as_ref(),
            View::Actual => Some(&item.actual),
            View::Diff => item.diff.as_ref(),
        };
        let block = Block::bordered();
        let inner = block.inner(body);
        screen.render_widget(block, body);
        match shown {
            Some(f) => {
                let (cols, rows) = fit(f.width(), f.height(), inner.width, inner.height);
                let img = downsample(f.pixels(), f.width(), f.height(), cols, rows, 8);
                screen.render_widget(
                    HalfBlocks {
                        image: &img,
                        mode: self.mode,
                    },
                    inner,
                );
            }
            None => screen.render_widget(
                Paragraph::new(match self.view {
                    View::Expected => "no golden yet: this capture is new",
                    _ => "no diff for a new capture",
                }),
                inner,
            ),
        }
        let help = if self.message.is_empty() {
            "a accept  r reject  Tab/e/c/d view  ←/→ prev/next  q quit".to_owned()
        } else {
            format!("{}   (a accept  r reject  q quit)", self.message)
        };
        screen.render_widget(Paragraph::new(help), foot);
    }
}

/// How a review ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub accepted: usize,
    pub rejected: usize,
    pub undecided: usize,
}

/// Reviews `items` in this terminal until every one is decided or `q`.
pub fn run(items: Vec<Item>) -> std::io::Result<Summary> {
    let mut app = ReviewApp::new(items, ColorMode::detect());
    let stop = crate::terminal::StopSignals::install()?;
    {
        let mut session = crate::terminal::Session::start()?;
        while !app.quit && !stop.requested() {
            session.terminal.draw(|f| app.render(f))?;
            if event::poll(Duration::from_millis(250))?
                && let Event::Key(k) = event::read()?
                && k.kind == KeyEventKind::Press
            {
                app.handle_key(k.code);
            }
        }
    }
    let count = |what| app.items.iter().filter(|i| i.decided == Some(what)).count();
    let (accepted, rejected) = (count("accepted"), count("rejected"));
    Ok(Summary {
        accepted,
        rejected,
        undecided: app.items.len() - accepted - rejected,
    })
}
