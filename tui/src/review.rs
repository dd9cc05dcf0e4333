//! `advkit golden review`: pending (`.new.png`) and failed captures, one at
//! a time, drawn with the inspector's half-block renderer. State, update
//! and drawing are kept apart so the screen can be tested on a TestBackend.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use advkit_frame::{Compression, Frame, encode_png};
use advkit_golden::store::{
    Applied, Artifacts, CaptureNumbers, Change, DIVERGED, Divergence, Goldens, Shows, read_png,
    read_sidecar,
};
use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::Frame as Screen;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::halfblock::{ColorMode, HalfBlocks, downsample, fit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No golden yet (`<capture>.new.png`, `hashes.new.txt`).
    Pending,
    /// Differs from its golden (artifacts in target/advkit-golden).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Expected,
    Actual,
    Diff,
    /// Expected and actual next to each other.
    SideBySide,
    /// Expected and actual in turn, twice a second.
    Blink,
}

#[derive(Debug)]
pub struct Item {
    pub scenario: String,
    pub capture: String,
    pub kind: Kind,
    /// The golden accepting writes (for a hash sequence, its `hashes.txt`).
    pub golden: PathBuf,
    pub expected: Option<Frame>,
    /// For a hash sequence: the run's frame where it is compared with an
    /// expected one (the first divergent tick, or the nearest kept frame).
    pub actual: Option<Frame>,
    pub diff: Option<Frame>,
    /// What `golden check` measured: tick, pixels, largest difference,
    /// box; for hashes the ranges, the world and which frames are shown.
    pub numbers: Vec<String>,
    /// The differing pixels' box `[x0, y0, x1, y1]`, for zoom.
    pub bbox: Option<[u32; 4]>,
    /// Accepting writes `actual` to `golden` (a capture), then does
    /// `on_accept` (a hash sequence: only that).
    writes_frame: bool,
    on_accept: Change,
    on_reject: Change,
    pub decided: Option<&'static str>,
    /// What accepting changed, to put back if the item is then rejected.
    accepted: Option<Applied>,
}

impl Item {
    /// `scenario/capture`, as `--accept` names it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.scenario, self.capture)
    }
}

/// The lines to show for a failed capture, and its box.
fn capture_numbers(n: Option<CaptureNumbers>) -> (Vec<String>, Option<[u32; 4]>) {
    match n {
        Some(n) => (vec![format!("tick {}: {}", n.tick, n.summary)], n.bbox),
        None => (Vec::new(), None),
    }
}

#[derive(Debug)]
pub struct ReviewApp {
    pub items: Vec<Item>,
    pub index: usize,
    pub view: View,
    pub message: String,
    pub quit: bool,
    pub mode: ColorMode,
    /// Show only the differing pixels' box (padded), not the whole frame.
    pub zoom: bool,
    /// Blink shows the expected frame when set.
    pub blink_expected: bool,
}

/// One capture file found on disk.
struct Found {
    scenario: String,
    capture: String,
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

/// `(scenario, directory)` for every directory in `root`, sorted.
fn scenario_dirs(root: &Path) -> Vec<(String, PathBuf)> {
    sorted_entries(root)
        .into_iter()
        .filter(|p| p.is_dir())
        .map(|dir| {
            let scenario = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("?")
                .to_owned();
            (scenario, dir)
        })
        .collect()
}

/// Every readable `<root>/<scenario>/<capture><suffix>` PNG, sorted.
fn find(root: &Path, suffix: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for (scenario, dir) in scenario_dirs(root) {
        for file in sorted_entries(&dir) {
            let Some(capture) = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(suffix))
                .map(str::to_owned)
            else {
                continue;
            };
            let Some(actual) = read_png(&file) else {
                continue;
            };
            found.push(Found {
                scenario: scenario.clone(),
                capture,
                file,
                actual,
            });
        }
    }
    found
}

/// Finds pending and failed captures, and pending and diverged hash
/// sequences.
pub fn collect(golden_dir: &Path, artifacts: &Path) -> Vec<Item> {
    let pending = find(golden_dir, ".new.png").into_iter().map(|f| {
        let goldens = Goldens::new(golden_dir, &f.scenario);
        let golden = goldens.capture(&f.capture);
        Item {
            expected: read_png(&golden),
            actual: Some(f.actual),
            diff: None,
            numbers: Vec::new(),
            bbox: None,
            golden,
            writes_frame: true,
            on_accept: Change::default().remove(&f.file),
            on_reject: Change::default().remove(&f.file),
            scenario: f.scenario,
            capture: f.capture,
            kind: Kind::Pending,
            decided: None,
            accepted: None,
        }
    });
    let failed = find(artifacts, ".actual.png")
        .into_iter()
        .filter(|f| !f.capture.starts_with(DIVERGED))
        .map(|f| {
            let left = Artifacts::new(artifacts, &f.scenario);
            let c = &f.capture;
            let (numbers, bbox) = capture_numbers(read_sidecar(&left.numbers(c)));
            let expected = read_png(&left.expected(c));
            // Without an expected frame: CI's actual frame for a missing
            // golden, which rejecting drops.
            let kind = if expected.is_some() {
                Kind::Failed
            } else {
                Kind::Pending
            };
            let leftovers = [
                left.actual(c),
                left.expected(c),
                left.diff(c),
                left.numbers(c),
            ]
            .iter()
            .fold(Change::default(), |ch, p| ch.remove(p));
            Item {
                golden: Goldens::new(golden_dir, &f.scenario).capture(c),
                expected,
                diff: read_png(&left.diff(c)),
                actual: Some(f.actual),
                numbers,
                bbox,
                writes_frame: true,
                on_reject: match kind {
                    Kind::Pending => leftovers.clone(),
                    // The golden stays, and what failed against it.
                    Kind::Failed => Change::default(),
                },
                on_accept: leftovers,
                scenario: f.scenario,
                capture: f.capture,
                kind,
                decided: None,
                accepted: None,
            }
        });
    let mut items: Vec<Item> = pending.chain(failed).collect();
    items.extend(hash_items(golden_dir, artifacts));
    items
}

/// Hash sequences: pending ones beside their goldens (`hashes.new.txt`)
/// and diverged runs' in the artifacts (`hashes.actual.txt`), each with
/// its states and kept frames.
fn hash_items(golden_dir: &Path, artifacts: &Path) -> Vec<Item> {
    let mut items = Vec::new();
    for (root, kind) in [(golden_dir, Kind::Pending), (artifacts, Kind::Failed)] {
        for (scenario, _) in scenario_dirs(root) {
            let blessed = Goldens::new(golden_dir, &scenario).sequence(false);
            let left = Artifacts::new(artifacts, &scenario);
            let (from, divergence) = match kind {
                Kind::Pending => (Goldens::new(golden_dir, &scenario).sequence(true), None),
                Kind::Failed => (
                    left.sequence(),
                    read_sidecar::<Divergence>(&left.divergence()),
                ),
            };
            if !from.hashes.is_file() {
                continue;
            }
            let mut drop_from = from
                .files()
                .iter()
                .fold(Change::default(), |c, f| c.remove(f));
            if kind == Kind::Failed {
                drop_from = drop_from.remove(&left.divergence());
            }
            let (mut numbers, mut expected, mut actual, mut diff) = (Vec::new(), None, None, None);
            match &divergence {
                None => numbers.push("no frame hashes blessed yet".into()),
                Some(d) => {
                    numbers.push(format!("tick {}: {}", d.tick, d.summary));
                    numbers.extend(d.world.iter().cloned());
                    let load = |what| {
                        d.picture(what)
                            .and_then(|p| read_png(&left.picture(&p.file)))
                    };
                    (expected, diff) = (load(Shows::Expected), load(Shows::Diff));
                    actual = load(Shows::Actual).or_else(|| load(Shows::FirstDivergent));
                    // Which frames these are: at the first divergent tick,
                    // or at the kept frame nearest to it.
                    numbers.push(match d.picture(Shows::Expected) {
                        Some(p) => format!("shown: {}", p.caption),
                        None => format!(
                            "shown: the run's frame at tick {}; no frame was kept to compare \
                             with",
                            d.tick
                        ),
                    });
                }
            }
            items.push(Item {
                golden: blessed.hashes.clone(),
                expected,
                actual,
                diff,
                numbers,
                bbox: None,
                writes_frame: false,
                on_accept: from
                    .copy_to(&blessed, Change::default())
                    .and(drop_from.clone()),
                on_reject: match kind {
                    Kind::Pending => drop_from,
                    Kind::Failed => Change::default(),
                },
                scenario,
                capture: "hashes".into(),
                kind,
                decided: None,
                accepted: None,
            });
        }
    }
    items
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
            zoom: false,
            blink_expected: false,
        }
    }

    pub fn handle_key(&mut self, key: KeyCode) {
        match key {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char('e') | KeyCode::Char('1') => self.view = View::Expected,
            KeyCode::Char('c') | KeyCode::Char('2') => self.view = View::Actual,
            KeyCode::Char('d') | KeyCode::Char('3') => self.view = View::Diff,
            KeyCode::Char('s') | KeyCode::Char('4') => self.view = View::SideBySide,
            KeyCode::Char('b') | KeyCode::Char('5') => self.view = View::Blink,
            KeyCode::Char('z') => {
                self.zoom = !self.zoom;
                self.message = match (self.zoom, self.items.get(self.index).and_then(|i| i.bbox)) {
                    (true, None) => "zoom: this item has no box of differing pixels".into(),
                    (true, Some([x0, y0, x1, y1])) => format!("zoomed to {x0},{y0}-{x1},{y1}"),
                    (false, _) => String::new(),
                };
            }
            KeyCode::Tab | KeyCode::Char(' ') => {
                self.view = match self.view {
                    View::Expected => View::Actual,
                    View::Actual => View::Diff,
                    View::Diff => View::SideBySide,
                    View::SideBySide => View::Blink,
                    View::Blink => View::Expected,
                }
            }
            KeyCode::Char('A') => self.all(Self::accept),
            KeyCode::Char('R') => self.all(Self::reject),
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

    /// Does `what` to every undecided item from the first.
    fn all(&mut self, what: fn(&mut ReviewApp)) {
        for i in 0..self.items.len() {
            if self.items[i].decided.is_none() {
                self.index = i;
                what(self);
            }
        }
        let n = self.items.iter().filter(|i| i.decided.is_some()).count();
        self.message = format!("{n} of {} decided", self.items.len());
    }

    fn accept(&mut self) {
        let Some(item) = self.items.get_mut(self.index) else {
            return;
        };
        match accept(item) {
            Ok(()) => {
                self.message = format!("accepted: wrote {}", item.golden.display());
                self.next();
            }
            Err(e) => self.message = e,
        }
    }

    fn reject(&mut self) {
        let Some(item) = self.items.get_mut(self.index) else {
            return;
        };
        // Accepted a moment ago: the accept is undone first, so no golden
        // stays on disk that the screen calls rejected.
        if item.decided == Some("accepted")
            && let Err(e) = unaccept(item)
        {
            self.message = e;
            return;
        }
        if let Err(e) = item.on_reject.apply() {
            self.message = e;
            return;
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
        let item = self.items.get(self.index);
        // The measurements wrap rather than run off a narrow terminal:
        // each line takes the rows its width needs, up to 8 rows in all
        // (the picture keeps the rest; at 80x24, 13 rows).
        let width = screen.area().width.max(1) as usize;
        let numbers = item.map_or(0, |i| {
            i.numbers
                .iter()
                .take(6)
                .map(|l| l.chars().count().div_ceil(width).max(1))
                .sum::<usize>()
                .min(8)
        }) as u16;
        let [head, info, body, foot] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(numbers),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(screen.area());
        let Some(item) = item else {
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
        let size = item
            .actual
            .as_ref()
            .map(|a| format!("{}x{}  ", a.width(), a.height()))
            .unwrap_or_default();
        let title = Line::from(vec![
            Span::raw(format!("{}/{}  ", self.index + 1, self.items.len())),
            kind,
            Span::raw(format!("  {}  {size}", item.id())),
            Span::styled(item.decided.unwrap_or(""), Style::new().fg(Color::Green)),
        ]);
        let views = [
            (View::Expected, "e expected"),
            (View::Actual, "c actual"),
            (View::Diff, "d diff"),
            (View::SideBySide, "s side by side"),
            (View::Blink, "b blink"),
        ];
        let mut tabs: Vec<Span> = views
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
        if self.zoom {
            tabs.push(Span::styled(" z zoomed ", Style::new().reversed()));
        }
        screen.render_widget(Paragraph::new(vec![title, Line::from(tabs)]), head);
        screen.render_widget(
            Paragraph::new(
                item.numbers
                    .iter()
                    .take(6)
                    .map(|l| Line::raw(l.as_str()))
                    .collect::<Vec<_>>(),
            )
            .wrap(Wrap { trim: false }),
            info,
        );

        let zoom = if self.zoom { item.bbox } else { None };
        match self.view {
            View::SideBySide => {
                let [l, r] =
                    Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(body);
                self.picture(screen, l, " expected ", item.expected.as_ref(), zoom);
                self.picture(screen, r, " actual ", item.actual.as_ref(), zoom);
            }
            view => {
                let (label, shown) = match view {
                    View::Expected => (" expected ", item.expected.as_ref()),
                    View::Diff => (" diff ", item.diff.as_ref()),
                    View::Blink if self.blink_expected => {
                        (" expected (blink) ", item.expected.as_ref())
                    }
                    View::Blink => (" actual (blink) ", item.actual.as_ref()),
                    _ => (" actual ", item.actual.as_ref()),
                };
                self.picture(screen, body, label, shown, zoom);
            }
        }
        let help = if self.message.is_empty() {
            "a/r accept/reject  A/R all  Tab e c d s b view  z zoom  ←/→ prev/next  q quit"
                .to_owned()
        } else {
            format!("{}   (a accept  r reject  q quit)", self.message)
        };
        screen.render_widget(Paragraph::new(help), foot);
    }

    /// One frame in a titled box, cropped to `zoom` (padded) when given.
    fn picture(
        &self,
        screen: &mut Screen,
        area: ratatui::layout::Rect,
        title: &str,
        frame: Option<&Frame>,
        zoom: Option<[u32; 4]>,
    ) {
        let block = Block::bordered().title(title);
        let inner = block.inner(area);
        screen.render_widget(block, area);
        let Some(f) = frame else {
            screen.render_widget(
                Paragraph::new(
                    "(no picture: a new capture has no golden, and only a failed one has a diff)",
                ),
                inner,
            );
            return;
        };
        let cropped = zoom.and_then(|b| crop(f, b));
        let f = cropped.as_ref().unwrap_or(f);
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
}

/// The box `[x0, y0, x1, y1]` (inclusive) grown to at least 32×18 pixels
/// and by a quarter on each side, cut out of `f`.
fn crop(f: &Frame, [x0, y0, x1, y1]: [u32; 4]) -> Option<Frame> {
    let grow = |a: u32, b: u32, min: u32, max: u32| {
        let len = (b - a + 1).max(min);
        let pad = len / 4 + (len - (b - a + 1)) / 2;
        let lo = a.saturating_sub(pad);
        let hi = (b + pad + 1).min(max);
        (lo, hi.max(lo + 1))
    };
    if x1 >= f.width() || y1 >= f.height() || x0 > x1 || y0 > y1 {
        return None;
    }
    let (ax, bx) = grow(x0, x1, 32, f.width());
    let (ay, by) = grow(y0, y1, 18, f.height());
    let w = (bx - ax) as usize;
    let stride = f.width() as usize * 4;
    let mut px = Vec::with_capacity(w * (by - ay) as usize * 4);
    for y in ay..by {
        let start = y as usize * stride + ax as usize * 4;
        px.extend_from_slice(&f.pixels()[start..start + w * 4]);
    }
    Frame::from_pixels(advkit_frame::Size::new(bx - ax, by - ay).ok()?, px)
}

/// Blesses `item`: its actual frame becomes the golden, or its hash
/// sequence (with states and kept frames) is copied into place; its
/// leftovers go. All or nothing, and kept for [`unaccept`].
pub fn accept(item: &mut Item) -> Result<(), String> {
    let mut change = Change::default();
    if item.writes_frame {
        let actual = item.actual.as_ref().ok_or("nothing to accept")?;
        let png = encode_png(actual, Compression::Best).map_err(|e| e.to_string())?;
        change = change.write(&item.golden, png);
    }
    let applied = change
        .and(item.on_accept.clone())
        .apply()
        .map_err(|e| format!("could not accept {}: {e}", item.id()))?;
    item.accepted = Some(applied);
    item.decided = Some("accepted");
    Ok(())
}

/// Undoes [`accept`]: every file it wrote or removed is as it was before
/// (a golden that did not exist is gone again, a replaced one is back).
pub fn unaccept(item: &mut Item) -> Result<(), String> {
    if let Some(applied) = item.accepted.take() {
        applied.undo()?;
    }
    item.decided = None;
    Ok(())
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
        let started = std::time::Instant::now();
        while !app.quit && !stop.requested() {
            app.blink_expected = started.elapsed().as_millis() / 500 % 2 == 1;
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
