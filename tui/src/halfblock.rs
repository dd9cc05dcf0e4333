//! Drawing an RGBA frame in terminal cells with half blocks: each cell is
//! `▀` with the upper pixel as foreground and the lower as background, so
//! a cell shows two roughly square pixels.
//!
//! Downsampling is an area average: every source pixel counts towards the
//! cell it falls in. Nearest-neighbour would turn every one-pixel camera
//! pan into a redraw of the whole screen; averaging (plus rounding the
//! colour to fewer bits) keeps most cells unchanged, and ratatui only sends
//! changed cells.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::Widget;

/// How colours are written to the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// 24-bit colour (`COLORTERM=truecolor`).
    TrueColor,
    /// The xterm 256-colour palette.
    Ansi256,
    /// The 16 basic colours.
    Ansi16,
}

impl ColorMode {
    /// Truecolor when `COLORTERM` says so, else 256 colours.
    pub fn detect() -> ColorMode {
        match std::env::var("COLORTERM") {
            Ok(v) if v.eq_ignore_ascii_case("truecolor") || v.eq_ignore_ascii_case("24bit") => {
                ColorMode::TrueColor
            }
            _ => ColorMode::Ansi256,
        }
    }

    pub fn parse(s: &str) -> Result<ColorMode, String> {
        match s {
            "truecolor" | "24bit" => Ok(ColorMode::TrueColor),
            "256" => Ok(ColorMode::Ansi256),
            "16" => Ok(ColorMode::Ansi16),
            _ => Err(format!("colors `{s}`: choose truecolor, 256 or 16")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ColorMode::TrueColor => "truecolor",
            ColorMode::Ansi256 => "256",
            ColorMode::Ansi16 => "16",
        }
    }
}

/// An image already downsampled to `width` × `height` RGB pixels
/// (`height` even: two pixels per cell row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellImage {
    pub width: u16,
    pub height: u16,
    pub pixels: Vec<[u8; 3]>,
}

/// The largest `(cols, rows)` of cells that shows a `w`×`h` image inside
/// `area` with its aspect ratio kept (a cell holds 1×2 pixels).
pub fn fit(w: u32, h: u32, area_cols: u16, area_rows: u16) -> (u16, u16) {
    if w == 0 || h == 0 || area_cols == 0 || area_rows == 0 {
        return (0, 0);
    }
    let max_px_h = u64::from(area_rows) * 2;
    let cols_for_full_height = (max_px_h * u64::from(w) / u64::from(h)).max(1);
    if cols_for_full_height <= u64::from(area_cols) {
        (cols_for_full_height as u16, area_rows)
    } else {
        let px_h = (u64::from(area_cols) * u64::from(h) / u64::from(w)).max(2);
        (area_cols, (px_h / 2).max(1) as u16)
    }
}

/// Tight RGBA downsampled (area average, [`advkit_frame::downsample`]) to
/// `cols` × `rows*2` pixels, each channel rounded to `bits` bits (8 keeps
/// full precision): fewer levels mean fewer cells change as the camera pans.
pub fn downsample(rgba: &[u8], w: u32, h: u32, cols: u16, rows: u16, bits: u8) -> CellImage {
    let Ok(out) = advkit_frame::Size::new(u32::from(cols), u32::from(rows) * 2) else {
        return CellImage::default();
    };
    let Some(small) = advkit_frame::downsample(rgba, w, h, out) else {
        return CellImage::default();
    };
    let keep = 8u32.saturating_sub(u32::from(bits.clamp(1, 8)));
    let levels = (1u32 << (8 - keep)) - 1;
    let round = |v: u8| -> u8 {
        if keep == 0 {
            v
        } else {
            // Round to the nearest representable level, then spread it
            // back over 0..255.
            let q = (u32::from(v) * levels + 127) / 255;
            (q * 255 / levels) as u8
        }
    };
    let pixels = small
        .pixels()
        .chunks_exact(4)
        .map(|p| [round(p[0]), round(p[1]), round(p[2])])
        .collect();
    CellImage {
        width: cols,
        height: rows * 2,
        pixels,
    }
}

/// Draws a [`CellImage`] with `▀` cells in the given colour mode.
#[derive(Debug)]
pub struct HalfBlocks<'a> {
    pub image: &'a CellImage,
    pub mode: ColorMode,
}

impl Widget for HalfBlocks<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let img = self.image;
        for cy in 0..(img.height / 2).min(area.height) {
            for cx in 0..img.width.min(area.width) {
                let top =
                    img.pixels[(usize::from(cy) * 2) * usize::from(img.width) + usize::from(cx)];
                let bottom = img.pixels
                    [(usize::from(cy) * 2 + 1) * usize::from(img.width) + usize::from(cx)];
                if let Some(cell) = buf.cell_mut((area.x + cx, area.y + cy)) {
                    cell.set_symbol("▀")
                        .set_fg(color(top, self.mode))
                        .set_bg(color(bottom, self.mode));
                }
            }
        }
    }
}

/// A pixel's colour in `mode`.
pub fn color([r, g, b]: [u8; 3], mode: ColorMode) -> Color {
    match mode {
        ColorMode::TrueColor => Color::Rgb(r, g, b),
        ColorMode::Ansi256 => Color::Indexed(xterm256(r, g, b)),
        ColorMode::Ansi16 => ansi16(r, g, b),
    }
}

/// The nearest entry of the xterm 6×6×6 cube or its 24 greys.
pub fn xterm256(r: u8, g: u8, b: u8) -> u8 {
    const STEPS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let level = |v: u8| -> usize {
        STEPS
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.abs_diff(v))
            .map_or(0, |(i, _)| i)
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = [STEPS[ri], STEPS[gi], STEPS[bi]];
    let dist = |c: [u8; 3]| -> u32 {
        let d = |a: u8, b: u8| u32::from(a.abs_diff(b)).pow(2);
        d(c[0], r) + d(c[1], g) + d(c[2], b)
    };
    let avg = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let gi_idx = (avg.saturating_sub(8) / 10).min(23);
    let grey = (8 + gi_idx * 10) as u8;
    if dist([grey, grey, grey]) < dist(cube) {
        232 + gi_idx as u8
    } else {
        16 + (36 * ri + 6 * gi + bi) as u8
    }
}

fn ansi16(r: u8, g: u8, b: u8) -> Color {
    const PALETTE: [(Color, [u8; 3]); 16] = [
        (Color::Black, [0, 0, 0]),
        (Color::Red, [170, 0, 0]),
        (Color::Green, [0, 170, 0]),
        (Color::Yellow, [170, 85, 0]),
        (Color::Blue, [0, 0, 170]),
        (Color::Magenta, [170, 0, 170]),
        (Color::Cyan, [0, 170, 170]),
        (Color::Gray, [170, 170, 170]),
        (Color::DarkGray, [85, 85, 85]),
        (Color::LightRed, [255, 85, 85]),
        (Color::LightGreen, [85, 255, 85]),
        (Color::LightYellow, [255, 255, 85]),
        (Color::LightBlue, [85, 85, 255]),
        (Color::LightMagenta, [255, 85, 255]),
        (Color::LightCyan, [85, 255, 255]),
        (Color::White, [255, 255, 255]),
    ];
    PALETTE
        .iter()
        .min_by_key(|(_, c)| {
            let d = |a: u8, b: u8| u32::from(a.abs_diff(b)).pow(2);
            d(c[0], r) + d(c[1], g) + d(c[2], b)
        })
        .map_or(Color::Black, |(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_the_aspect_ratio() {
        // 320x180 into 100x50 cells: full width, 56 px = 28 rows.
        assert_eq!(fit(320, 180, 100, 50), (100, 28));
        // Into a narrow tall area: full height limits.
        assert_eq!(fit(320, 180, 200, 20), (71, 20));
        assert_eq!(fit(0, 10, 10, 10), (0, 0));
    }

    #[test]
    fn area_average_blends_and_rounds() {
        // 2x2 black/white checker into one cell column of 2 px: each output
        // pixel averages a row of two pixels.
        let px = [
            0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        ];
        let img = downsample(&px, 2, 2, 1, 1, 8);
        assert_eq!(img.pixels, vec![[128, 128, 128], [255, 255, 255]]);
        let coarse = downsample(&px, 2, 2, 1, 1, 4);
        assert_eq!(coarse.pixels[0], [136, 136, 136]);
    }

    #[test]
    fn palettes_pick_near_colours() {
        assert_eq!(xterm256(255, 0, 0), 196);
        assert_eq!(xterm256(128, 128, 128), 244);
        assert_eq!(ansi16(250, 250, 250), Color::White);
        assert_eq!(ColorMode::parse("256"), Ok(ColorMode::Ansi256));
        assert!(ColorMode::parse("lots").is_err());
    }

    #[test]
    fn cells_hold_two_pixels() {
        let img = CellImage {
            width: 1,
            height: 2,
            pixels: vec![[255, 0, 0], [0, 0, 255]],
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 1, 1));
        HalfBlocks {
            image: &img,
            mode: ColorMode::TrueColor,
        }
        .render(Rect::new(0, 0, 1, 1), &mut buf);
        let cell = &buf[(0, 0)];
        assert_eq!(cell.symbol(), "▀");
        assert_eq!(
            (cell.fg, cell.bg),
            (Color::Rgb(255, 0, 0), Color::Rgb(0, 0, 255))
        );
    }
}
