//! The inspector's own terminal input: keys, mouse reports and the
//! terminal's answers to status queries, read from the tty by one thread
//! and parsed here.
//!
//! crossterm's reader cannot be used for flow control: it keeps cursor
//! position reports for itself and drops the `CSI 0 n` answer to a status
//! query (`CSI 5 n`), and that answer is what tells the inspector how far
//! the terminal has got. So the inspector reads the tty itself and turns
//! the bytes into crossterm's key and mouse types (the [`App`] keeps taking
//! those). Resizes come from SIGWINCH.
//!
//! [`App`]: crate::app::App

use std::io::Read;
use std::sync::mpsc::Sender;
use std::time::Duration;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};

/// One thing that came from the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The answer to a status query (`CSI 5 n` → `CSI 0 n`): the terminal
    /// has processed everything written before that query.
    Ack,
    Resize,
    /// The tty reads end-of-file or fails: the terminal is gone.
    Hangup,
}

/// What the reader threads send: raw bytes to parse, or an event.
#[derive(Debug)]
pub enum Raw {
    Bytes(Vec<u8>),
    Resize,
    Hangup,
}

/// How long an incomplete escape sequence may wait for the rest of its
/// bytes before a lone ESC counts as the Esc key.
pub const ESC_WAIT: Duration = Duration::from_millis(40);

/// Starts the threads that read the tty (stdin when it is one, else
/// `/dev/tty`) and watch SIGWINCH, sending to `tx`.
pub fn spawn(tx: Sender<Raw>) -> std::io::Result<()> {
    use std::io::IsTerminal;
    let mut tty: Box<dyn Read + Send> = if std::io::stdin().is_terminal() {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open("/dev/tty")?)
    };
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGWINCH])?;
    let resize = tx.clone();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if resize.send(Raw::Resize).is_err() {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match tty.read(&mut buf) {
                Ok(0) => {
                    let _ = tx.send(Raw::Hangup);
                    return;
                }
                Ok(n) => {
                    if tx.send(Raw::Bytes(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    let _ = tx.send(Raw::Hangup);
                    return;
                }
            }
        }
    });
    Ok(())
}

/// Turns tty bytes into [`Input`]s; keeps an incomplete sequence until
/// the rest arrives (or [`Parser::flush`] gives up on it).
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Input {
    Input::Key(KeyEvent {
        code,
        modifiers,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    })
}

/// What one sequence at the start of the buffer is.
enum Parsed {
    /// `n` bytes made this input (or nothing worth reporting).
    Done(usize, Option<Input>),
    /// More bytes are needed.
    Incomplete,
}

impl Parser {
    /// Parses what it can of `bytes` (after what was pending).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Input> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            match parse_one(&self.pending[at..]) {
                Parsed::Done(n, input) => {
                    out.extend(input);
                    at += n;
                }
                Parsed::Incomplete => break,
            }
        }
        self.pending.drain(..at);
        out
    }

    /// Bytes are waiting for the rest of a sequence.
    pub fn is_waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Nothing more came: a lone ESC is the Esc key, and what follows an
    /// unfinished sequence's ESC is read as plain keys.
    pub fn flush(&mut self) -> Vec<Input> {
        let rest = std::mem::take(&mut self.pending);
        let Some((&first, tail)) = rest.split_first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if first == 0x1b {
            out.push(key(KeyCode::Esc, KeyModifiers::NONE));
        }
        // (Otherwise an unfinished UTF-8 character: its first byte goes.)
        out.extend(self.feed(tail));
        if self.is_waiting() {
            out.extend(self.flush());
        }
        out
    }
}

fn parse_one(b: &[u8]) -> Parsed {
    let none = KeyModifiers::NONE;
    match b[0] {
        0x1b => match b.get(1) {
            None => Parsed::Incomplete,
            Some(b'[') => csi(b),
            Some(b'O') => match b.get(2) {
                None => Parsed::Incomplete,
                Some(&c) => Parsed::Done(3, ss3(c).map(|code| key(code, none))),
            },
            Some(0x1b) => Parsed::Done(1, Some(key(KeyCode::Esc, none))),
            // Alt with a key.
            Some(_) => match parse_one(&b[1..]) {
                Parsed::Done(n, Some(Input::Key(mut k))) => {
                    k.modifiers |= KeyModifiers::ALT;
                    Parsed::Done(n + 1, Some(Input::Key(k)))
                }
                Parsed::Done(n, other) => Parsed::Done(n + 1, other),
                Parsed::Incomplete => Parsed::Incomplete,
            },
        },
        b'\r' | b'\n' => Parsed::Done(1, Some(key(KeyCode::Enter, none))),
        b'\t' => Parsed::Done(1, Some(key(KeyCode::Tab, none))),
        0x7f | 0x08 => Parsed::Done(1, Some(key(KeyCode::Backspace, none))),
        0x00 => Parsed::Done(1, Some(key(KeyCode::Char(' '), KeyModifiers::CONTROL))),
        c @ 0x01..=0x1a => Parsed::Done(
            1,
            Some(key(
                KeyCode::Char(char::from(c - 1 + b'a')),
                KeyModifiers::CONTROL,
            )),
        ),
        0x1c..=0x1f => Parsed::Done(1, None),
        c if c < 0x80 => {
            let ch = char::from(c);
            let m = if ch.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                none
            };
            Parsed::Done(1, Some(key(KeyCode::Char(ch), m)))
        }
        c => {
            let len = match c {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => return Parsed::Done(1, None),
            };
            if b.len() < len {
                return Parsed::Incomplete;
            }
            match std::str::from_utf8(&b[..len])
                .ok()
                .and_then(|s| s.chars().next())
            {
                Some(ch) => Parsed::Done(len, Some(key(KeyCode::Char(ch), none))),
                None => Parsed::Done(1, None),
            }
        }
    }
}

/// The key an SS3 final byte (or a CSI one of the same letter) names.
fn ss3(c: u8) -> Option<KeyCode> {
    Some(match c {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'R' => KeyCode::F(3),
        b'S' => KeyCode::F(4),
        _ => return None,
    })
}

/// `ESC [` params intermediates final.
fn csi(b: &[u8]) -> Parsed {
    let mut end = 2;
    loop {
        match b.get(end) {
            None => return Parsed::Incomplete,
            Some(0x40..=0x7e) => break,
            Some(0x20..=0x3f) => end += 1,
            // Not a sequence after all: drop the ESC [ and read on.
            Some(_) => return Parsed::Done(2, None),
        }
    }
    let params = &b[2..end];
    let fin = b[end];
    let n = end + 1;
    if let Some(sgr) = params.strip_prefix(b"<") {
        return Parsed::Done(n, mouse(sgr, fin).map(Input::Mouse));
    }
    let text = std::str::from_utf8(params).unwrap_or("");
    let mut nums = text.split(';').map(|p| p.parse::<u16>().ok());
    let first = nums.next().flatten();
    let modifiers = nums
        .next()
        .flatten()
        .map_or(KeyModifiers::NONE, |m| modifier_bits(m.saturating_sub(1)));
    let code = match fin {
        b'n' => return Parsed::Done(n, (text == "0").then_some(Input::Ack)),
        b'A' | b'B' | b'C' | b'D' | b'H' | b'F' | b'P' | b'Q' | b'S' => ss3(fin),
        b'Z' => {
            return Parsed::Done(n, Some(key(KeyCode::BackTab, KeyModifiers::SHIFT)));
        }
        b'~' => match first {
            Some(1 | 7) => Some(KeyCode::Home),
            Some(2) => Some(KeyCode::Insert),
            Some(3) => Some(KeyCode::Delete),
            Some(4 | 8) => Some(KeyCode::End),
            Some(5) => Some(KeyCode::PageUp),
            Some(6) => Some(KeyCode::PageDown),
            Some(k @ 11..=15) => Some(KeyCode::F((k - 10) as u8)),
            Some(k @ 17..=21) => Some(KeyCode::F((k - 11) as u8)),
            Some(k @ 23..=24) => Some(KeyCode::F((k - 12) as u8)),
            _ => None,
        },
        // Cursor position reports, focus, paste markers: nothing to do.
        _ => None,
    };
    Parsed::Done(n, code.map(|c| key(c, modifiers)))
}

fn modifier_bits(m: u16) -> KeyModifiers {
    let mut out = KeyModifiers::NONE;
    if m & 1 != 0 {
        out |= KeyModifiers::SHIFT;
    }
    if m & 2 != 0 {
        out |= KeyModifiers::ALT;
    }
    if m & 4 != 0 {
        out |= KeyModifiers::CONTROL;
    }
    out
}

/// An SGR mouse report: `b;x;y` and `M` (press, drag) or `m` (release).
fn mouse(params: &[u8], fin: u8) -> Option<MouseEvent> {
    let text = std::str::from_utf8(params).ok()?;
    let mut it = text.split(';').map(|p| p.parse::<u16>().ok());
    let (cb, x, y) = (it.next()??, it.next()??, it.next()??);
    let button = match cb & 0b11 {
        0 => MouseButton::Left,
        1 => MouseButton::Middle,
        _ => MouseButton::Right,
    };
    let kind = if cb & 64 != 0 {
        match cb & 0b11 {
            0 => MouseEventKind::ScrollUp,
            1 => MouseEventKind::ScrollDown,
            2 => MouseEventKind::ScrollLeft,
            _ => MouseEventKind::ScrollRight,
        }
    } else if cb & 32 != 0 {
        MouseEventKind::Drag(button)
    } else if fin == b'm' {
        MouseEventKind::Up(button)
    } else {
        MouseEventKind::Down(button)
    };
    Some(MouseEvent {
        kind,
        column: x.saturating_sub(1),
        row: y.saturating_sub(1),
        modifiers: modifier_bits((cb >> 2) & 0b111),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Input> {
        Parser::default().feed(bytes)
    }

    fn k(code: KeyCode, m: KeyModifiers) -> Input {
        key(code, m)
    }

    #[test]
    fn plain_keys_control_keys_and_utf8() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            keys(b"qR\r\t\x7f\x12"),
            vec![
                k(KeyCode::Char('q'), none),
                k(KeyCode::Char('R'), KeyModifiers::SHIFT),
                k(KeyCode::Enter, none),
                k(KeyCode::Tab, none),
                k(KeyCode::Backspace, none),
                k(KeyCode::Char('r'), KeyModifiers::CONTROL),
            ]
        );
        assert_eq!(keys("é".as_bytes()), vec![k(KeyCode::Char('é'), none)]);
    }

    #[test]
    fn cursor_keys_in_both_forms_with_modifiers() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            keys(b"\x1b[A\x1bOB\x1b[1;2C\x1b[5~\x1b[6~\x1b[H\x1b[4~\x1b[Z"),
            vec![
                k(KeyCode::Up, none),
                k(KeyCode::Down, none),
                k(KeyCode::Right, KeyModifiers::SHIFT),
                k(KeyCode::PageUp, none),
                k(KeyCode::PageDown, none),
                k(KeyCode::Home, none),
                k(KeyCode::End, none),
                k(KeyCode::BackTab, KeyModifiers::SHIFT),
            ]
        );
    }

    #[test]
    fn a_status_answer_is_an_ack_and_a_position_report_is_nothing() {
        assert_eq!(keys(b"\x1b[0n\x1b[12;40R"), vec![Input::Ack]);
    }

    #[test]
    fn a_sequence_split_across_reads_waits_for_its_rest() {
        let mut p = Parser::default();
        assert_eq!(p.feed(b"\x1b["), vec![]);
        assert!(p.is_waiting());
        assert_eq!(p.feed(b"0"), vec![]);
        assert_eq!(
            p.feed(b"nq"),
            vec![Input::Ack, k(KeyCode::Char('q'), KeyModifiers::NONE)]
        );
        assert!(!p.is_waiting());
    }

    #[test]
    fn a_lone_escape_is_the_esc_key_once_nothing_follows() {
        let mut p = Parser::default();
        assert_eq!(p.feed(b"\x1b"), vec![]);
        assert_eq!(p.flush(), vec![k(KeyCode::Esc, KeyModifiers::NONE)]);
        assert_eq!(
            keys(b"\x1bx"),
            vec![k(KeyCode::Char('x'), KeyModifiers::ALT)]
        );
    }

    #[test]
    fn sgr_mouse_presses_releases_and_wheel() {
        let got = keys(b"\x1b[<0;10;5M\x1b[<0;10;5m\x1b[<65;3;4M");
        let kinds: Vec<_> = got
            .iter()
            .map(|i| match i {
                Input::Mouse(m) => (m.kind, m.column, m.row),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                (MouseEventKind::Down(MouseButton::Left), 9, 4),
                (MouseEventKind::Up(MouseButton::Left), 9, 4),
                (MouseEventKind::ScrollDown, 2, 3),
            ]
        );
    }
}
