//! Turning changed cells into terminal bytes, as few as we can.
//!
//! ratatui's crossterm backend re-sends foreground and background together
//! whenever either changes, and always moves the cursor with an absolute
//! position. Over a slow link every byte is time, so this encoder:
//!
//! - sends only the attribute that changed, and several in one `SGR`;
//! - draws a half-block cell the cheapest of the equivalent ways: `▀` with
//!   top/bottom as foreground/background is the same picture as `▄` with
//!   them swapped, and a cell whose two halves agree is a space on that
//!   background or `█` in that foreground (whichever needs no new colour);
//! - skips a short run of unchanged cells with `CSI n C` rather than an
//!   absolute move;
//! - writes 16 colours as their own short codes (`31`, `94`), not `38;5;n`.
//!
//! `cargo bench --bench inspector` sets what it writes beside chafa's
//! output for the same frames.

use ratatui::buffer::Cell;
use ratatui::style::{Color, Modifier};

/// The terminal's current attributes, as far as the encoder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    modifier: Modifier,
}

const FRESH: Pen = Pen {
    fg: Color::Reset,
    bg: Color::Reset,
    modifier: Modifier::empty(),
};

/// Appends what draws `cells` (position, content; in the order ratatui's
/// `Buffer::diff` gives them) to `out`, ending with attributes reset.
pub fn encode<'a>(cells: impl IntoIterator<Item = (u16, u16, &'a Cell)>, out: &mut Vec<u8>) {
    let mut pen = FRESH;
    let mut at: Option<(u16, u16)> = None;
    // Where the forms of a cell are priced, reused cell after cell.
    let mut scratch = Vec::with_capacity(48);
    for (x, y, cell) in cells {
        match at {
            Some((px, py)) if py == y && px + 1 == x => {}
            // A few unchanged cells to the right: step over them.
            Some((px, py)) if py == y && x > px + 1 && x - px - 1 <= 99 => {
                out.extend_from_slice(b"\x1b[");
                number(out, x - px - 1);
                out.push(b'C');
            }
            _ => {
                out.extend_from_slice(b"\x1b[");
                number(out, y + 1);
                if x > 0 {
                    out.push(b';');
                    number(out, x + 1);
                }
                out.push(b'H');
            }
        }
        // A wide character moves the cursor by its width.
        let width = unicode_width(cell.symbol());
        at = Some((x + width.saturating_sub(1), y));

        let (symbol, want) = choose(cell, pen, &mut scratch);
        sgr(&mut pen, want, out);
        out.extend_from_slice(symbol.as_bytes());
    }
    if pen != FRESH {
        out.extend_from_slice(b"\x1b[0m");
    }
}

fn unicode_width(s: &str) -> u16 {
    use ratatui::text::Span;
    u16::try_from(Span::raw(s).width()).unwrap_or(1).max(1)
}

/// What a cell looks like as two stacked halves, when it is a plain
/// half-block picture cell.
fn halves(cell: &Cell) -> Option<(Color, Color)> {
    if !cell.modifier.is_empty() || cell.fg == Color::Reset || cell.bg == Color::Reset {
        // Reset means "the terminal's own" foreground or background, which
        // differ: such a cell cannot trade one for the other.
        return None;
    }
    match cell.symbol() {
        "▀" => Some((cell.fg, cell.bg)),
        "▄" => Some((cell.bg, cell.fg)),
        " " => Some((cell.bg, cell.bg)),
        "█" => Some((cell.fg, cell.fg)),
        _ => None,
    }
}

/// The symbol to write and the pen it needs; of a half-block cell's
/// equivalent forms, the one that costs fewest bytes from `pen`.
fn choose<'a>(cell: &'a Cell, pen: Pen, scratch: &mut Vec<u8>) -> (&'a str, Pen) {
    let plain = Pen {
        fg: cell.fg,
        bg: cell.bg,
        modifier: cell.modifier,
    };
    let Some((top, bottom)) = halves(cell) else {
        return (cell.symbol(), plain);
    };
    let with = |fg, bg| Pen {
        fg,
        bg,
        modifier: Modifier::empty(),
    };
    let forms: [(&str, Pen); 2] = if top == bottom {
        [(" ", with(pen.fg, top)), ("█", with(top, pen.bg))]
    } else {
        [("▀", with(top, bottom)), ("▄", with(bottom, top))]
    };
    let mut cost = |(s, p): &(&str, Pen)| sgr_len(pen, *p, scratch) + s.len();
    let [a, b] = forms;
    if cost(&b) < cost(&a) { b } else { a }
}

/// Moves the terminal from `pen` to `want` with one `SGR`.
fn sgr(pen: &mut Pen, want: Pen, out: &mut Vec<u8>) {
    if *pen == want {
        return;
    }
    out.extend_from_slice(b"\x1b[");
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b';');
        }
    };
    let mut from = *pen;
    if !want.modifier.contains(from.modifier) {
        // An attribute to turn off: start over.
        sep(out);
        out.push(b'0');
        from = FRESH;
    }
    for (m, code) in MODIFIERS {
        if want.modifier.contains(m) && !from.modifier.contains(m) {
            sep(out);
            out.push(code);
        }
    }
    if want.fg != from.fg {
        sep(out);
        color(out, want.fg, true);
    }
    if want.bg != from.bg {
        sep(out);
        color(out, want.bg, false);
    }
    out.push(b'm');
    *pen = want;
}

const MODIFIERS: [(Modifier, u8); 9] = [
    (Modifier::BOLD, b'1'),
    (Modifier::DIM, b'2'),
    (Modifier::ITALIC, b'3'),
    (Modifier::UNDERLINED, b'4'),
    (Modifier::SLOW_BLINK, b'5'),
    (Modifier::RAPID_BLINK, b'6'),
    (Modifier::REVERSED, b'7'),
    (Modifier::HIDDEN, b'8'),
    (Modifier::CROSSED_OUT, b'9'),
];

/// The bytes [`sgr`] would write.
fn sgr_len(pen: Pen, want: Pen, scratch: &mut Vec<u8>) -> usize {
    scratch.clear();
    let mut p = pen;
    sgr(&mut p, want, scratch);
    scratch.len()
}

fn color(out: &mut Vec<u8>, c: Color, fg: bool) {
    let base: u8 = if fg { 30 } else { 40 };
    let bright: u8 = if fg { 90 } else { 100 };
    let code = match c {
        Color::Reset => Some(base + 9),
        Color::Black => Some(base),
        Color::Red => Some(base + 1),
        Color::Green => Some(base + 2),
        Color::Yellow => Some(base + 3),
        Color::Blue => Some(base + 4),
        Color::Magenta => Some(base + 5),
        Color::Cyan => Some(base + 6),
        Color::Gray => Some(base + 7),
        Color::DarkGray => Some(bright),
        Color::LightRed => Some(bright + 1),
        Color::LightGreen => Some(bright + 2),
        Color::LightYellow => Some(bright + 3),
        Color::LightBlue => Some(bright + 4),
        Color::LightMagenta => Some(bright + 5),
        Color::LightCyan => Some(bright + 6),
        Color::White => Some(bright + 7),
        Color::Indexed(n) if n < 8 => Some(base + n),
        Color::Indexed(n) if n < 16 => Some(bright + n - 8),
        _ => None,
    };
    if let Some(code) = code {
        number(out, u16::from(code));
        return;
    }
    out.push(if fg { b'3' } else { b'4' });
    match c {
        Color::Indexed(n) => {
            out.extend_from_slice(b"8;5;");
            number(out, u16::from(n));
        }
        Color::Rgb(r, g, b) => {
            out.extend_from_slice(b"8;2;");
            number(out, u16::from(r));
            out.push(b';');
            number(out, u16::from(g));
            out.push(b';');
            number(out, u16::from(b));
        }
        _ => out.push(b'9'),
    }
}

fn number(out: &mut Vec<u8>, n: u16) {
    if n >= 10 {
        number(out, n / 10);
    }
    out.push(b'0' + (n % 10) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    fn draw(cells: &[(u16, u16, Cell)]) -> String {
        let mut out = Vec::new();
        encode(cells.iter().map(|(x, y, c)| (*x, *y, c)), &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    fn half(top: Color, bottom: Color) -> Cell {
        let mut c = Cell::new("▀");
        c.set_fg(top).set_bg(bottom);
        c
    }

    #[test]
    fn only_the_attribute_that_changed_is_sent() {
        let red = Color::Indexed(196);
        let blue = Color::Indexed(21);
        let green = Color::Indexed(46);
        let s = draw(&[
            (0, 0, half(red, blue)),
            (1, 0, half(red, green)),
            (2, 0, half(red, green)),
        ]);
        assert_eq!(
            s, "\x1b[1H\x1b[38;5;196;48;5;21m▀\x1b[48;5;46m▀▀\x1b[0m",
            "one SGR for both, then the background alone"
        );
    }

    #[test]
    fn half_blocks_take_the_form_that_needs_no_new_colour() {
        let (a, b) = (Color::Rgb(1, 2, 3), Color::Rgb(200, 100, 50));
        let s = draw(&[
            (0, 0, half(a, b)),
            (1, 0, half(b, a)),
            (2, 0, half(b, b)),
            (3, 0, half(a, a)),
        ]);
        assert_eq!(
            s, "\x1b[1H\x1b[38;2;1;2;3;48;2;200;100;50m▀▄ █\x1b[0m",
            "swapped is ▄, all-background a space, all-foreground █: no new colour"
        );
    }

    #[test]
    fn gaps_on_a_row_are_stepped_over_and_rows_are_addressed() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 2));
        let prev = buf.clone();
        buf[(0, 0)].set_symbol("a");
        buf[(5, 0)].set_symbol("b");
        buf[(3, 1)].set_symbol("c");
        let mut out = Vec::new();
        encode(prev.diff(&buf), &mut out);
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "\x1b[1Ha\x1b[4Cb\x1b[2;4Hc"
        );
    }

    #[test]
    fn modifiers_on_and_off_and_sixteen_colours_short() {
        let mut bold = Cell::new("x");
        bold.set_fg(Color::Red).modifier = Modifier::BOLD;
        let mut plain = Cell::new("y");
        plain.set_fg(Color::LightBlue);
        let s = draw(&[(0, 0, bold), (1, 0, plain)]);
        assert_eq!(s, "\x1b[1H\x1b[1;31mx\x1b[0;94my\x1b[0m");
    }
}
