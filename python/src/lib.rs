//! `advkit` for Python: the same `Host`, `Client` and `FrameReader` that
//! Rust games and tools use, bound with PyO3, in modules that mirror
//! `advkit-ipc`:
//!
//! - [`errors`]: the exceptions (declared in `advkit/errors.py`);
//! - [`convert`]: Python values to JSON and back;
//! - [`params`]: what a game declares (`Param`, `Method`, `Arg`);
//! - [`pixels`]: what `Host.publish` takes, checked, and channel orders;
//! - [`host`]: a game's side (`Host`, `Request`);
//! - [`client`]: a tool's side (`Client`, `Events`);
//! - [`frames`]: reading frames (`FrameReader`, `Frame`, `FrameInfo`);
//! - [`cli`]: the `advkit` command, run from the wheel's console script.
//!
//! The asyncio client (`advkit.aio`) is Python over these, in executor
//! threads: every wait here releases the GIL.
//!
//! No call holds the GIL while it waits, and every wait looks for signals
//! at least every [`SLICE`], so Ctrl-C interrupts it.

#![deny(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

mod cli;
mod client;
mod convert;
mod errors;
mod frames;
mod host;
mod params;
mod pixels;

/// The longest a blocking call waits without looking for Ctrl-C.
pub(crate) const SLICE: Duration = Duration::from_millis(100);

/// A value threads take turns with, never blocking while they hold the
/// GIL: the thread whose turn it is may need the GIL to finish (a call
/// answered, a handler run).
pub(crate) struct Turns<T> {
    value: Mutex<T>,
    /// Threads waiting for a turn, so one that takes turn after turn (a
    /// serving loop) lets them have one ([`Turns::pass`]).
    waiting: AtomicUsize,
}

impl<T> Turns<T> {
    pub(crate) fn new(value: T) -> Turns<T> {
        Turns {
            value: Mutex::new(value),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Waits for a turn in steps of 50 µs with the GIL released; Ctrl-C
    /// interrupts the wait.
    pub(crate) fn lock(&self, py: Python<'_>) -> PyResult<MutexGuard<'_, T>> {
        if let Some(guard) = self.try_lock() {
            return Ok(guard);
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let got = loop {
            if let Some(guard) = self.try_lock() {
                break Ok(guard);
            }
            py.detach(|| std::thread::sleep(Duration::from_micros(50)));
            if let Err(e) = py.check_signals() {
                break Err(e);
            }
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        got
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.value.try_lock() {
            Ok(guard) => Some(guard),
            // A panic inside cannot leave it half-used: each use is whole.
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Before taking another turn: lets threads that wait have theirs
    /// (for up to 10 ms).
    pub(crate) fn pass(&self, py: Python<'_>) {
        let until = Instant::now() + Duration::from_millis(10);
        while self.waiting.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            py.detach(|| std::thread::sleep(Duration::from_micros(50)));
        }
    }
}

#[pymodule]
fn _advkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<host::Host>()?;
    m.add_class::<host::Request>()?;
    m.add_class::<host::Requests>()?;
    m.add_class::<host::Waker>()?;
    m.add_class::<params::Param>()?;
    m.add_class::<params::Arg>()?;
    m.add_class::<params::Method>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::Events>()?;
    m.add_class::<frames::FrameReader>()?;
    m.add_class::<frames::Frame>()?;
    m.add_class::<frames::FrameInfo>()?;
    m.add_function(wrap_pyfunction!(cli::main, m)?)?;
    Ok(())
}
