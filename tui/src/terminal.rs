//! Entering and leaving the full-screen terminal, restored on every exit
//! path: normal return, error, panic (hook) and SIGTERM/SIGHUP (the
//! runner's loop notices the signal and returns normally).
//!
//! Output goes through [`CountingWriter`], so the status bar can show how
//! many bytes per second the inspector writes (what matters over SSH).

use std::io::{self, Stdout, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Stdout that counts what passes through it.
#[derive(Debug)]
pub struct CountingWriter {
    out: Stdout,
    count: Arc<AtomicU64>,
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

pub type Tty = Terminal<CrosstermBackend<CountingWriter>>;

/// Raw mode, alternate screen and mouse capture, undone on drop.
#[derive(Debug)]
pub struct Session {
    pub terminal: Tty,
    /// Bytes written to the terminal so far.
    pub written: Arc<AtomicU64>,
    /// The same stdout, counted the same, for writing bytes encoded
    /// without ratatui's backend (the inspector's screens).
    raw: CountingWriter,
}

impl Session {
    pub fn start() -> io::Result<Session> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, ButtonMouse(true)) {
            restore();
            return Err(e);
        }
        let written = Arc::new(AtomicU64::new(0));
        let writer = CountingWriter {
            out,
            count: Arc::clone(&written),
        };
        let raw = CountingWriter {
            out: io::stdout(),
            count: Arc::clone(&written),
        };
        let terminal = Terminal::new(CrosstermBackend::new(writer)).inspect_err(|_| restore())?;
        Ok(Session {
            terminal,
            written,
            raw,
        })
    }

    /// Writes `bytes` as they are and flushes them.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.raw.write_all(bytes)?;
        self.raw.flush()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
        let _ = self.terminal.show_cursor();
    }
}

/// Leaves raw mode and the alternate screen; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), ButtonMouse(false), LeaveAlternateScreen);
}

/// Mouse reporting for presses, releases, drags and the wheel only (modes
/// 1000 and 1002, SGR coordinates 1006), not every motion (1003, which
/// crossterm's `EnableMouseCapture` also turns on): over SSH a moving
/// pointer would otherwise send a report per cell it crosses.
#[derive(Debug, Clone, Copy)]
struct ButtonMouse(bool);

impl crossterm::Command for ButtonMouse {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        if self.0 {
            f.write_str("\x1b[?1000h\x1b[?1002h\x1b[?1006h")
        } else {
            // 1003 too, in case something else turned it on.
            f.write_str("\x1b[?1006l\x1b[?1003l\x1b[?1002l\x1b[?1000l")
        }
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// SIGTERM and SIGHUP as a flag the UI loop checks, plus a watchdog.
///
/// When the terminal hangs up (SSH drops, tmux kills the pane) the
/// inspector's tty reader sees end-of-file and ends the loop; the golden
/// review reads through crossterm, which spins on it. And a loop may be
/// stuck writing to a terminal that reads no more. So if the loop has not
/// finished a second after the signal, the watchdog restores the terminal
/// and exits the process.
#[derive(Debug)]
pub struct StopSignals {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
}

impl StopSignals {
    pub fn install() -> io::Result<StopSignals> {
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            signal_hook::flag::register(sig, Arc::clone(&stop))?;
        }
        let done = Arc::new(AtomicBool::new(false));
        let (s, d) = (Arc::clone(&stop), Arc::clone(&done));
        std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if s.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_secs(1));
                    if !d.load(Ordering::Relaxed) {
                        restore();
                        std::process::exit(0);
                    }
                }
            }
        });
        Ok(StopSignals { stop, done })
    }

    /// A stop was asked for.
    pub fn requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

impl Drop for StopSignals {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}
