//! Which part of the frame the picture shows (zoom and pan), and the
//! pixel picker: from terminal cells to frame pixels and back.

use ratatui::layout::Rect;

use serde_json::Value as Json;

use crate::app::{App, Picked};
use crate::halfblock::{CellImage, downsample, fit};
use crate::keys;

/// The picture as a component: the frame shown (its size and tick, the
/// cells it was drawn into), the zoom and pan, and the pixel picker with
/// what the game said of the picked pixel.
#[derive(Debug, Clone)]
pub struct FrameView {
    pub image: CellImage,
    pub size: (u32, u32),
    /// The tick of the frame in the picture.
    pub tick: u64,
    /// Magnification: 1 shows the whole frame; each step doubles.
    pub zoom: u32,
    /// The frame pixel the view is centred on when zoomed.
    pub center: (u32, u32),
    /// The picker's cursor, in cells of the picture (frame focus).
    pub cursor: Option<(u16, u16)>,
    pub picked: Option<Picked>,
    /// The game answers `world.pick`: the picker names the tile.
    pub can_pick: bool,
    /// The game's answer about the picked pixel, and the pixel asked.
    pub pick_info: Option<Json>,
    pub pick_asked: Option<(u32, u32)>,
}

impl Default for FrameView {
    fn default() -> FrameView {
        FrameView {
            image: CellImage::default(),
            size: (0, 0),
            tick: 0,
            zoom: 1,
            center: (0, 0),
            cursor: None,
            picked: None,
            can_pick: false,
            pick_info: None,
            pick_asked: None,
        }
    }
}

/// The frame pixels the picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Viewport {
    /// The frame pixel in the middle of the view.
    pub fn middle(&self) -> (u32, u32) {
        (self.x + self.w / 2, self.y + self.h / 2)
    }

    /// Where frame pixel (`x`, `y`) falls on a `cols`×`rows` grid laid
    /// over the view (the picture's cells, or its half-block pixels);
    /// outside the grid when outside the view.
    pub fn place(&self, (x, y): (u32, u32), (cols, rows): (u32, u32)) -> (i64, i64) {
        let along = |p: u32, from: u32, len: u32, n: u32| {
            (i64::from(p) - i64::from(from)) * i64::from(n) / i64::from(len.max(1))
        };
        (
            along(x, self.x, self.w, cols),
            along(y, self.y, self.h, rows),
        )
    }
}

/// The part of a `frame`-sized frame shown at `zoom` (1: all of it),
/// centred on `center` as far as the frame's edges allow.
pub fn viewport(frame: (u32, u32), zoom: u32, center: (u32, u32)) -> Viewport {
    let (fw, fh) = frame;
    let z = zoom.max(1);
    let (w, h) = ((fw / z).max(1).min(fw), (fh / z).max(1).min(fh));
    let x = center.0.saturating_sub(w / 2).min(fw.saturating_sub(w));
    let y = center.1.saturating_sub(h / 2).min(fh.saturating_sub(h));
    if z == 1 {
        return Viewport {
            x: 0,
            y: 0,
            w: fw,
            h: fh,
        };
    }
    Viewport { x, y, w, h }
}

/// The closest zoom worth having: the first power of two at which a cell
/// shows no more than one frame pixel across, for a picture `cols` wide.
pub fn max_zoom(frame: (u32, u32), cols: u16) -> u32 {
    let cols = u32::from(cols.max(1));
    let mut z = 1;
    while frame.0 / z > cols && z < 64 {
        z *= 2;
    }
    z
}

impl FrameView {
    /// The part of the frame the picture shows now.
    pub fn viewport(&self) -> Viewport {
        viewport(self.size, self.zoom, self.center)
    }

    /// A key of [`keys::FRAME`] (`shift`: 8 cells at a time); returns
    /// what the status bar should say, if anything.
    pub fn key(&mut self, k: keys::FrameKey, shift: bool) -> Option<String> {
        use keys::FrameKey as F;
        let step = if shift { 8 } else { 1 };
        let (cols, rows) = (self.image.width, self.image.height / 2);
        let (x, y) = self.cursor.unwrap_or((cols / 2, rows / 2));
        let (x, y) = (i32::from(x), i32::from(y));
        match k {
            F::Left => self.move_cursor(x - step, y, cols, rows),
            F::Right => self.move_cursor(x + step, y, cols, rows),
            F::Up => self.move_cursor(x, y - step, cols, rows),
            F::Down => self.move_cursor(x, y + step, cols, rows),
            F::ZoomIn => return Some(self.zoom_by(true)),
            F::ZoomOut => return Some(self.zoom_by(false)),
            F::Fit => {
                self.zoom = 1;
                return Some("zoom: the whole frame".into());
            }
            F::Unpick => self.cursor = None,
        }
        None
    }

    /// Moves the picker to cell (`x`, `y`); past the edge of a zoomed view
    /// the view pans instead.
    fn move_cursor(&mut self, x: i32, y: i32, cols: u16, rows: u16) {
        let (cols, rows) = (i32::from(cols.max(1)), i32::from(rows.max(1)));
        let vp = self.viewport();
        // Frame pixels per cell.
        let (px, py) = (vp.w as f64 / cols as f64, vp.h as f64 / rows as f64);
        let pan = |over: i32, per: f64| (over as f64 * per).round() as i64;
        let (mut dx, mut dy) = (0i64, 0i64);
        if x < 0 {
            dx = pan(x, px);
        } else if x >= cols {
            dx = pan(x - cols + 1, px);
        }
        if y < 0 {
            dy = pan(y, py);
        } else if y >= rows {
            dy = pan(y - rows + 1, py);
        }
        if (dx, dy) != (0, 0) && self.zoom > 1 {
            let (mx, my) = vp.middle();
            let cx = (i64::from(mx) + dx).clamp(0, i64::from(self.size.0));
            let cy = (i64::from(my) + dy).clamp(0, i64::from(self.size.1));
            self.center = (cx as u32, cy as u32);
        }
        self.cursor = Some((x.clamp(0, cols - 1) as u16, y.clamp(0, rows - 1) as u16));
    }

    /// Zooms in or out about the picked pixel; says what it did.
    fn zoom_by(&mut self, closer: bool) -> String {
        // Zoom about the picker's pixel if there is one, else the middle.
        let about = self
            .picked
            .map_or_else(|| self.viewport().middle(), |p| (p.x, p.y));
        let max = max_zoom(self.size, self.image.width);
        let next = if closer {
            (self.zoom * 2).min(max)
        } else {
            (self.zoom / 2).max(1)
        };
        if next == self.zoom {
            return if closer {
                "zoom: already one frame pixel per cell".into()
            } else {
                "zoom: already the whole frame".into()
            };
        }
        self.zoom = next;
        self.center = about;
        // The cursor stays on the pixel it picked: the view's middle now
        // (unless the frame's edge held the view back).
        let vp = self.viewport();
        if self.cursor.is_some() && vp.w > 0 && vp.h > 0 {
            let cells = (
                u32::from(self.image.width),
                u32::from(self.image.height / 2),
            );
            let (cx, cy) = vp.place(about, cells);
            self.cursor = Some((cx.max(0) as u16, cy.max(0) as u16));
        }
        format!("zoom ×{next}")
    }

    /// Shows a `w`×`h` RGBA frame in a picture area of `inner` cells, at
    /// the zoom and pan chosen, with colours kept to `bits` per channel;
    /// and reads the pixel under the picker's cursor.
    /// (`frame_focus`: the picker starts in the middle of a first picture.)
    ///
    /// `rgba` is `w` × `h`: the frame at its `full` size, or all of it
    /// scaled down (a remote engine's, sent at the size the picture
    /// draws); positions (zoom, picker) are in full-size pixels either way.
    pub fn show(
        &mut self,
        rgba: &[u8],
        (w, h): (u32, u32),
        full: (u32, u32),
        inner: Rect,
        bits: u8,
        frame_focus: bool,
    ) {
        self.size = full;
        let vp = self.viewport();
        let (cols, rows) = fit(vp.w, vp.h, inner.width, inner.height);
        self.image = if (vp.w, vp.h) == (w, h) || (w, h) != full {
            downsample(rgba, w, h, cols, rows, bits)
        } else {
            let stride = w as usize * 4;
            let mut crop = Vec::with_capacity(vp.w as usize * vp.h as usize * 4);
            for row in vp.y..vp.y + vp.h {
                let at = row as usize * stride + vp.x as usize * 4;
                crop.extend_from_slice(&rgba[at..at + vp.w as usize * 4]);
            }
            downsample(&crop, vp.w, vp.h, cols, rows, bits)
        };
        // Frame focus before the first frame: the picker starts in the
        // middle once there is a picture.
        if frame_focus && self.cursor.is_none() {
            self.cursor = Some((cols / 2, rows / 2));
        }
        self.picked = self.cursor.and_then(|(cx, cy)| {
            let (cols, rows) = (u32::from(cols.max(1)), u32::from(rows.max(1)));
            let (cx, cy) = (u32::from(cx).min(cols - 1), u32::from(cy).min(rows - 1));
            let x = vp.x + ((f64::from(cx) + 0.5) * f64::from(vp.w) / f64::from(cols)) as u32;
            let y = vp.y + ((f64::from(cy) + 0.5) * f64::from(vp.h) / f64::from(rows)) as u32;
            let (x, y) = (x.min(full.0 - 1), y.min(full.1 - 1));
            // The pixel there, in the pixels given (scaled or not).
            let (px, py) = (x * w / full.0, y * h / full.1);
            let i = (py as usize * w as usize + px as usize) * 4;
            let p = rgba.get(i..i + 3)?;
            Some(Picked {
                x,
                y,
                rgb: [p[0], p[1], p[2]],
            })
        });
    }
}

impl App {
    /// Shows a frame in the picture ([`FrameView::show`]).
    pub fn show_frame(&mut self, rgba: &[u8], w: u32, h: u32, inner: Rect, bits: u8) {
        self.show_scaled_frame(rgba, (w, h), (w, h), inner, bits);
    }

    /// Shows a frame given at `size`, all of a `full`-size frame (see
    /// [`FrameView::show`]).
    pub fn show_scaled_frame(
        &mut self,
        rgba: &[u8],
        size: (u32, u32),
        full: (u32, u32),
        inner: Rect,
        bits: u8,
    ) {
        let frame_focus = self.focus == crate::app::Focus::Frame;
        self.frame.show(rgba, size, full, inner, bits, frame_focus);
    }

    /// The size a remote engine's frames may come at: what the picture
    /// draws of a `full`-size frame in `inner` (its cells, two pixels
    /// each), while the whole frame shows and nothing is picked; `None`
    /// (every pixel) when zoomed in or picking.
    pub fn wanted_size(&self, full: (u32, u32), inner: Rect) -> Option<(u32, u32)> {
        if self.frame.zoom > 1
            || self.frame.cursor.is_some()
            || self.focus == crate::app::Focus::Frame
        {
            return None;
        }
        let (cols, rows) = fit(full.0, full.1, inner.width, inner.height);
        let (w, h) = (u32::from(cols), u32::from(rows) * 2);
        (w >= 1 && h >= 1 && w < full.0 && h < full.1).then_some((w, h))
    }

    /// The part of the frame the picture shows now.
    pub fn viewport(&self) -> Viewport {
        self.frame.viewport()
    }

    /// The entity whose box (`box: [x, y, w, h]` in frame pixels, as
    /// `world.entities` gives it) holds the picked pixel.
    pub fn entity_at(&self, x: u32, y: u32) -> Option<&serde_json::Value> {
        self.entities.list.iter().find(|e| {
            entity_box(e)
                .is_some_and(|(bx, by, bw, bh)| x >= bx && x < bx + bw && y >= by && y < by + bh)
        })
    }
}

/// An entity's `box` in frame pixels, if it is on screen.
pub fn entity_box(e: &serde_json::Value) -> Option<(u32, u32, u32, u32)> {
    let b = e.get("box")?.as_array()?;
    let n = |i: usize| b.get(i)?.as_u64().and_then(|v| u32::try_from(v).ok());
    Some((n(0)?, n(1)?, n(2)?, n(3)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_halves_the_view_and_pans_within_the_frame() {
        assert_eq!(
            viewport((320, 180), 1, (0, 0)),
            Viewport {
                x: 0,
                y: 0,
                w: 320,
                h: 180
            }
        );
        assert_eq!(
            viewport((320, 180), 2, (160, 90)),
            Viewport {
                x: 80,
                y: 45,
                w: 160,
                h: 90
            }
        );
        assert_eq!(
            viewport((320, 180), 4, (0, 179)),
            Viewport {
                x: 0,
                y: 135,
                w: 80,
                h: 45
            },
            "held inside the frame"
        );
        assert_eq!(max_zoom((320, 180), 78), 8, "40 pixels in 78 cells");
        assert_eq!(max_zoom((320, 180), 320), 1);
    }
}
