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
    /// No colour at all (`NO_COLOR`, `TERM=dumb`): the picture is a grey
    /// ramp of block characters (` ░▒▓█`, `▀`/`▄` where the two pixels of
    /// a cell differ), in the terminal's own colours.
    Mono,
}

impl ColorMode {
    /// From the environment: `NO_COLOR` (set and not empty) or
    /// `TERM=dumb` → mono; `COLORTERM=truecolor|24bit` → truecolor; a
    /// `TERM` naming 256 colours → 256; any other `TERM` (`linux`, `vt100`,
    /// `xterm`, `screen`) → 16.
    pub fn detect() -> ColorMode {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        ColorMode::from_env(&var("NO_COLOR"), &var("COLORTERM"), &var("TERM"))
    }

    pub fn from_env(no_color: &str, colorterm: &str, term: &str) -> ColorMode {
        if !no_color.is_empty() || term == "dumb" {
            ColorMode::Mono
        } else if colorterm.eq_ignore_ascii_case("truecolor")
            || colorterm.eq_ignore_ascii_case("24bit")
        {
            ColorMode::TrueColor
        } else if term.contains("256") || term.contains("direct") || term.is_empty() {
            ColorMode::Ansi256
        } else {
            ColorMode::Ansi16
        }
    }

    pub fn parse(s: &str) -> Result<ColorMode, String> {
        match s {
            "truecolor" | "24bit" => Ok(ColorMode::TrueColor),
            "256" => Ok(ColorMode::Ansi256),
            "16" => Ok(ColorMode::Ansi16),
            "mono" | "none" => Ok(ColorMode::Mono),
            _ => Err(format!("colors `{s}`: choose truecolor, 256, 16 or mono")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ColorMode::TrueColor => "truecolor",
            ColorMode::Ansi256 => "256",
            ColorMode::Ansi16 => "16",
            ColorMode::Mono => "mono",
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
        // Mono: the frame's own darkest to lightest spread over the ramp,
        // so a game of mid tones still shows its shapes (colour modes need
        // no pass over the pixels for it).
        let (lo, hi) = if self.mode == ColorMode::Mono {
            img.pixels
                .iter()
                .map(|p| luma(*p))
                .fold((255, 0), |(lo, hi), l| (l.min(lo), l.max(hi)))
        } else {
            (0, 255)
        };
        let stretch = |p: [u8; 3]| -> u8 {
            let l = (luma(p).saturating_sub(lo) * 255) / hi.saturating_sub(lo).max(1);
            l.min(255) as u8
        };
        for cy in 0..(img.height / 2).min(area.height) {
            for cx in 0..img.width.min(area.width) {
                let top =
                    img.pixels[(usize::from(cy) * 2) * usize::from(img.width) + usize::from(cx)];
                let bottom = img.pixels
                    [(usize::from(cy) * 2 + 1) * usize::from(img.width) + usize::from(cx)];
                if let Some(cell) = buf.cell_mut((area.x + cx, area.y + cy)) {
                    if self.mode == ColorMode::Mono {
                        cell.set_symbol(shade(stretch(top), stretch(bottom)))
                            .set_fg(Color::Reset)
                            .set_bg(Color::Reset);
                    } else {
                        cell.set_symbol("▀")
                            .set_fg(color(top, self.mode))
                            .set_bg(color(bottom, self.mode));
                    }
                }
            }
        }
    }
}

/// A pixel's colour in `mode` (none in mono: the terminal's own).
pub fn color([r, g, b]: [u8; 3], mode: ColorMode) -> Color {
    match mode {
        ColorMode::TrueColor => Color::Rgb(r, g, b),
        ColorMode::Ansi256 => Color::Indexed(xterm256(r, g, b)),
        ColorMode::Ansi16 => ansi16(r, g, b),
        ColorMode::Mono => Color::Reset,
    }
}

/// Relative luminance, 0-255 (Rec. 709 weights).
fn luma([r, g, b]: [u8; 3]) -> u32 {
    (2126 * u32::from(r) + 7152 * u32::from(g) + 722 * u32::from(b)) / 10_000
}

/// A cell of two pixels of brightness `t` (top) and `b` (bottom), 0-255,
/// without colour: a shade of the pair's brightness, or a half block
/// where one is much brighter than the other (light ink on a dark
/// terminal: brighter is more ink).
pub fn shade(t: u8, b: u8) -> &'static str {
    const RAMP: [&str; 5] = [" ", "░", "▒", "▓", "█"];
    if t.abs_diff(b) >= 96 {
        return if t > b { "▀" } else { "▄" };
    }
    RAMP[((u32::from(t) + u32::from(b)) / 2 * 5 / 256) as usize]
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

/// The nearest of the 16 basic colours by hue, not by distance: the
/// basic colours are few and far between, and the nearest by distance of
/// a muted green (grass) is grey. Colours with little saturation are
/// greys; the rest keep their hue (one of six) and pick the bright
/// variant when light.
fn ansi16(r: u8, g: u8, b: u8) -> Color {
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let chroma = u32::from(max - min);
    if chroma * 4 < u32::from(max).max(1) || chroma < 24 {
        return match luma([r, g, b]) {
            0..=42 => Color::Black,
            43..=127 => Color::DarkGray,
            128..=212 => Color::Gray,
            _ => Color::White,
        };
    }
    let (rf, gf, bf, c) = (
        f32::from(r),
        f32::from(g),
        f32::from(b),
        f32::from(max - min),
    );
    let hue = if max == r {
        ((gf - bf) / c).rem_euclid(6.0)
    } else if max == g {
        (bf - rf) / c + 2.0
    } else {
        (rf - gf) / c + 4.0
    } * 60.0;
    let bright = max >= 216;
    let pick = |dark: Color, light: Color| if bright { light } else { dark };
    match hue as u32 {
        0..=20 | 331..=360 => pick(Color::Red, Color::LightRed),
        21..=70 => pick(Color::Yellow, Color::LightYellow),
        71..=160 => pick(Color::Green, Color::LightGreen),
        161..=200 => pick(Color::Cyan, Color::LightCyan),
        201..=260 => pick(Color::Blue, Color::LightBlue),
        _ => pick(Color::Magenta, Color::LightMagenta),
    }
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
        // The demo's grass stays green, its water blue, a path yellow.
        assert_eq!(ansi16(0x5a, 0x9e, 0x3c), Color::Green);
        assert_eq!(ansi16(0x3a, 0x6e, 0xc8), Color::Blue);
        assert_eq!(ansi16(0xc8, 0xa8, 0x6a), Color::Yellow);
        assert_eq!(ansi16(100, 100, 102), Color::DarkGray);
        assert_eq!(ColorMode::parse("256"), Ok(ColorMode::Ansi256));
        assert!(ColorMode::parse("lots").is_err());
    }

    #[test]
    fn the_environment_picks_the_mode() {
        use ColorMode::*;
        let m = ColorMode::from_env;
        assert_eq!(m("1", "truecolor", "xterm-256color"), Mono);
        assert_eq!(m("", "", "dumb"), Mono);
        assert_eq!(m("", "truecolor", "xterm"), TrueColor);
        assert_eq!(m("", "", "xterm-256color"), Ansi256);
        assert_eq!(m("", "", "tmux-256color"), Ansi256);
        assert_eq!(m("", "", "linux"), Ansi16);
        assert_eq!(m("", "", "vt100"), Ansi16);
    }

    #[test]
    fn mono_shades_brightness_and_keeps_edges() {
        let (black, white, grey) = (0, 255, 128);
        assert_eq!(shade(black, black), " ");
        assert_eq!(shade(white, white), "█");
        assert_eq!(shade(grey, grey), "▒");
        assert_eq!(shade(white, black), "▀");
        assert_eq!(shade(black, white), "▄");
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
