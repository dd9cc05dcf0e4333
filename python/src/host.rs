//! A Python game's side: [`Host`] (the frame region, the control socket,
//! params and events) and the [`Request`]s only the game answers.
//!
//! A `Host` may be used from any thread, one call at a time (calls from
//! several threads take turns). No call holds the GIL while it waits: for
//! a request, for the host another thread is using, or for the GIL's
//! holder to let go of it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use advkit_ipc::Responder;
use advkit_ipc::api::{RpcError as WireError, codes, schema};
use advkit_ipc::region::RawSrc;
use advkit_ipc::system::monotonic_ns;
use advkit_params::Params;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::Value as Json;

use crate::convert::{to_json, to_py};
use crate::errors::{Class, error};
use crate::params::{Method, Param};
use crate::pixels::Pixels;
use crate::{SLICE, Turns};

// ------------------------------------------------------------ time

/// `time.monotonic()` now (both are CLOCK_MONOTONIC).
fn now_monotonic() -> f64 {
    monotonic_ns() as f64 / 1e9
}

fn to_instant(t: f64) -> Instant {
    let delta = t - now_monotonic();
    let now = Instant::now();
    if delta >= 0.0 {
        now + Duration::from_secs_f64(delta.min(1e9))
    } else {
        now.checked_sub(Duration::from_secs_f64((-delta).min(1e9)))
            .unwrap_or(now)
    }
}

fn from_instant(i: Instant) -> f64 {
    let now = Instant::now();
    match i.checked_duration_since(now) {
        Some(ahead) => now_monotonic() + ahead.as_secs_f64(),
        None => now_monotonic() - now.duration_since(i).as_secs_f64(),
    }
}

// ------------------------------------------------------------ requests

/// A request only the game can answer, its params already checked against
/// the method's schema. Answer it once with `reply` or `error`; one dropped
/// unanswered is answered −32603, so no client hangs.
#[pyclass(module = "advkit._advkit")]
pub struct Request {
    /// The method's name, e.g. `engine.reboot` or `game.spawn`.
    #[pyo3(get)]
    method: String,
    /// The params, checked against the method's schema.
    #[pyo3(get)]
    params: Py<PyAny>,
    responder: Option<Responder>,
}

#[pymethods]
impl Request {
    /// Answers with `result` (anything JSON can carry; None is null).
    #[pyo3(signature = (result=None))]
    fn reply(&mut self, py: Python<'_>, result: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let value = result.as_ref().map_or(Ok(Json::Null), to_json)?;
        self.take(py)?.ok(value);
        Ok(())
    }

    /// Answers with a JSON-RPC error: `code` (e.g. −32003 for "needs
    /// confirm"), a message a person reads, and optional data.
    #[pyo3(signature = (code, message, data=None))]
    fn error(
        &mut self,
        py: Python<'_>,
        code: i64,
        message: String,
        data: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let mut err = WireError::new(code, message);
        if let Some(d) = data {
            err.data = Some(to_json(&d)?);
        }
        self.take(py)?.err(err);
        Ok(())
    }

    /// Whether it has been answered.
    #[getter]
    fn answered(&self) -> bool {
        self.responder.is_none()
    }

    fn __repr__(&self) -> String {
        format!("<advkit.Request {}>", self.method)
    }
}

impl Request {
    fn take(&mut self, py: Python<'_>) -> PyResult<Responder> {
        self.responder.take().ok_or_else(|| {
            error(
                py,
                Class::AdvkitError,
                format!("{} was already answered", self.method),
            )
        })
    }

    fn wrap(py: Python<'_>, req: advkit_ipc::Request) -> PyResult<Request> {
        let (method, params, responder) = req.into_parts();
        Ok(Request {
            method,
            params: to_py(py, &params)?,
            responder: Some(responder),
        })
    }
}

// ------------------------------------------------------------ host

/// A Python game's connection to advkit: the frame region, the control
/// socket, params and events. Close it (or leave its `with` block) to stop
/// the server and remove its files.
#[pyclass(module = "advkit._advkit", frozen)]
pub struct Host {
    inner: Turns<Option<advkit_ipc::Host>>,
    width: u32,
    height: u32,
    /// Python's handlers of SIGINT, SIGTERM and SIGHUP before the host
    /// took them, put back by `close`.
    saved_signals: Turns<Vec<(i32, Py<PyAny>)>>,
    /// Packed uint32 pixels copied out of their buffer (kept: a new
    /// buffer every frame was a page fault per 4 KB).
    scratch: Turns<(Vec<u32>, Vec<u8>)>,
}

/// What Python runs for a signal the host handles: nothing, so Ctrl-C
/// ends the game's loop (`host.running` turns false) without a
/// `KeyboardInterrupt` in the middle of it.
#[pyfunction]
fn _host_has_it(_signum: i32, _frame: Bound<'_, PyAny>) {}

/// Python's handler of each signal the host handles is made a no-op
/// before the host installs its own (which calls the one before it), so
/// the host sees the signal and Python raises nothing; the old handlers,
/// to put back. Off the main thread Python cannot change them: nothing.
fn quiet_python_signals(py: Python<'_>) -> PyResult<Vec<(i32, Py<PyAny>)>> {
    let signal = py.import("signal")?;
    let main = py.import("threading")?.call_method0("main_thread")?;
    let current = py.import("threading")?.call_method0("current_thread")?;
    if !main.is(&current) {
        return Ok(Vec::new());
    }
    let quiet = wrap_pyfunction!(_host_has_it, py)?;
    let mut saved = Vec::new();
    for name in ["SIGINT", "SIGTERM", "SIGHUP"] {
        let num: i32 = signal.getattr(name)?.extract()?;
        let old = signal.call_method1("getsignal", (num,))?;
        signal.call_method1("signal", (num, &quiet))?;
        saved.push((num, old.unbind()));
    }
    Ok(saved)
}

#[pymethods]
impl Host {
    #[new]
    #[pyo3(signature = (
        name, width, height, *, params=Vec::new(), methods=Vec::new(), standard=Vec::new(),
        fps=30.0, paused=false, engine=None, tcp=None, tokens=None, allow_remote=false,
        params_file=None, handle_signals=true, history=60.0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        name: &str,
        width: u32,
        height: u32,
        params: Vec<Param>,
        methods: Vec<Method>,
        standard: Vec<String>,
        fps: f64,
        paused: bool,
        engine: Option<String>,
        tcp: Option<String>,
        tokens: Option<std::collections::BTreeMap<String, PathBuf>>,
        allow_remote: bool,
        params_file: Option<PathBuf>,
        handle_signals: bool,
        history: f64,
    ) -> PyResult<Host> {
        if !(history.is_finite() && history >= 0.0) {
            return Err(PyValueError::new_err(format!(
                "history: seconds to keep, 0 or more (0 turns it off), not {history}"
            )));
        }
        check_fps(fps)?;
        if let Some(twice) = crate::params::repeated(params.iter().map(|p| p.spec.name.as_str())) {
            return Err(PyValueError::new_err(format!(
                "param {twice:?} is declared twice"
            )));
        }
        for s in &standard {
            if !schema::GAME_METHODS.contains(&s.as_str()) {
                return Err(PyValueError::new_err(format!(
                    "standard: {s:?} is not a standard method; they are {}",
                    schema::GAME_METHODS.join(", ")
                )));
            }
        }
        let names = || methods.iter().map(|m| m.spec.name.as_str());
        let taken = names().find(|n| standard.iter().any(|s| s == n));
        if let Some(twice) = crate::params::repeated(names()).or(taken) {
            return Err(PyValueError::new_err(format!(
                "method {twice:?} is declared twice"
            )));
        }
        let tcp = tcp
            .map(|a| {
                a.parse()
                    .map_err(|_| PyValueError::new_err(format!("tcp: {a:?} is not HOST:PORT")))
            })
            .transpose()?;
        if tokens.is_some() && tcp.is_none() {
            return Err(PyValueError::new_err(
                "tokens: they are for TCP connections; give tcp=\"127.0.0.1:PORT\" too",
            ));
        }
        let tokens = tokens
            .unwrap_or_default()
            .into_iter()
            .map(|(tier, path)| {
                let tier: advkit_ipc::api::Tier = tier
                    .parse()
                    .map_err(|e: String| PyValueError::new_err(format!("tokens: {e}")))?;
                let token = advkit_ipc::host::read_token_file(&path)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
                Ok((tier, token))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let standard: Vec<&str> = standard.iter().map(String::as_str).collect();
        let base = advkit_ipc::HostConfig::new(name, width, height);
        let mut cfg = advkit_ipc::HostConfig {
            fps,
            // ADVKIT_PAUSED in the environment starts it paused too.
            paused: paused || base.paused,
            tcp,
            tokens,
            allow_remote,
            params_file,
            handle_signals,
            history: advkit_ipc::HistoryConfig {
                seconds: history,
                ..advkit_ipc::HistoryConfig::default()
            },
            engine: engine.unwrap_or_else(|| {
                format!("{name} (Python, advkit {})", env!("CARGO_PKG_VERSION"))
            }),
            ..base
        }
        .with_params(Params::new(params.into_iter().map(|p| p.spec).collect()))
        .with_standard(&standard);
        cfg.methods.extend(methods.into_iter().map(|m| m.spec));
        let saved = if handle_signals {
            quiet_python_signals(py)?
        } else {
            Vec::new()
        };
        let host = match py.detach(|| advkit_ipc::Host::start(cfg)) {
            Ok(host) => host,
            Err(e) => {
                restore_signals(py, saved);
                return Err(error(py, Class::AdvkitError, e.to_string()));
            }
        };
        Ok(Host {
            inner: Turns::new(Some(host)),
            width,
            height,
            saved_signals: Turns::new(saved),
            scratch: Turns::new((Vec::new(), Vec::new())),
        })
    }

    /// The engine's name (what `advkit ls` lists and clients connect to).
    #[getter]
    fn name(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |h| h.name().to_owned())
    }

    #[getter]
    fn width(&self) -> u32 {
        self.width
    }

    #[getter]
    fn height(&self) -> u32 {
        self.height
    }

    #[getter]
    fn socket_path(&self, py: Python<'_>) -> PyResult<PathBuf> {
        self.with(py, |h| h.socket_path().to_owned())
    }

    #[getter]
    fn frames_path(&self, py: Python<'_>) -> PyResult<PathBuf> {
        self.with(py, |h| h.frames_path().to_owned())
    }

    /// False once a client sent `engine.shutdown`, or on SIGINT, SIGTERM or
    /// SIGHUP (with `handle_signals`), or after `close()`.
    #[getter]
    fn running(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.inner.lock(py)?.as_ref().is_some_and(|h| h.running()))
    }

    /// Whether the game is paused (by a client, or set here).
    #[getter]
    fn paused(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |h| h.paused())
    }

    #[setter]
    fn set_paused(&self, py: Python<'_>, paused: bool) -> PyResult<()> {
        self.with(py, |h| h.set_paused(paused))
    }

    /// The tick of the last published frame.
    #[getter]
    fn tick(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |h| h.tick())
    }

    /// How many ticks to simulate now: 1 while running, 0 while paused,
    /// N after `engine.step N` (answered at the next publish).
    fn ticks_due(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |h| h.ticks_due())
    }

    /// The next tick's deadline as a `time.monotonic()` value, one period
    /// after `prev` (now, if omitted) at the host's fps, without a burst
    /// of catch-up ticks after a stall.
    #[pyo3(signature = (prev=None))]
    fn next_deadline(&self, py: Python<'_>, prev: Option<f64>) -> PyResult<f64> {
        let prev = prev.map_or_else(Instant::now, to_instant);
        Ok(from_instant(self.with(py, |h| h.next_deadline(prev))?))
    }

    /// Waits until `deadline` (a `time.monotonic()` value; now if omitted)
    /// for requests that are the game's own, answering generic ones
    /// meanwhile. Yields `Request`s; stops at the deadline, when a step is
    /// waiting to run, or when the host is stopping. The GIL is released
    /// while it waits, and Ctrl-C is seen within 0.1 s.
    #[pyo3(signature = (deadline=None))]
    fn requests(slf: Bound<'_, Self>, deadline: Option<f64>) -> Requests {
        Requests {
            host: slf.unbind(),
            deadline: deadline.map_or_else(Instant::now, to_instant),
        }
    }

    /// Calls `handler(request)` for each request until `deadline` (see
    /// `requests`). If the handler returns without answering, its return
    /// value is the reply; if it raises, the client gets −32603 with the
    /// exception's text, the traceback is printed, and the host keeps
    /// serving. Returns how many requests it handled.
    #[pyo3(signature = (handler, deadline=None))]
    fn serve(
        &self,
        py: Python<'_>,
        handler: Bound<'_, PyAny>,
        deadline: Option<f64>,
    ) -> PyResult<u64> {
        let deadline = deadline.map_or_else(Instant::now, to_instant);
        let mut handled = 0;
        while let Some(req) = self.next_request(py, deadline)? {
            handled += 1;
            let req = Bound::new(py, Request::wrap(py, req)?)?;
            match handler.call1((&req,)) {
                Ok(result) => {
                    let mut r = req.borrow_mut();
                    if r.responder.is_some() {
                        let value = to_json(&result);
                        let responder = r.take(py)?;
                        match value {
                            Ok(v) => responder.ok(v),
                            Err(e) => responder.err(WireError::new(
                                codes::INTERNAL_ERROR,
                                format!("the handler's result cannot be sent: {e}"),
                            )),
                        }
                    }
                }
                Err(e) => {
                    if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                        return Err(e);
                    }
                    let text = e.to_string();
                    e.print(py);
                    let mut r = req.borrow_mut();
                    if let Some(responder) = r.responder.take() {
                        responder.err(WireError::new(
                            codes::INTERNAL_ERROR,
                            format!("the game raised an exception: {text}"),
                        ));
                    }
                }
            }
        }
        Ok(handled)
    }

    /// Publishes one frame shown at `tick`: `width × height` RGBA pixels,
    /// rows top to bottom, from any buffer (bytes, bytearray, memoryview,
    /// array.array, a NumPy array of shape (height, width, 4) uint8 or
    /// (height, width) uint32 packed RGBA). Copied once, straight into the
    /// frame region (packed uint32s twice). `order` names the bytes of a pixel in memory when
    /// they are not RGBA: `BGRA` (SDL and pygame surfaces), `BGRX` or
    /// `RGBX` (the fourth byte is not alpha); they are reordered on the
    /// way. Answers a finished `engine.step` and sends the `tick` event.
    /// Returns the frame number.
    #[pyo3(signature = (tick, pixels, *, order="RGBA"))]
    fn publish(
        &self,
        py: Python<'_>,
        tick: u64,
        pixels: Bound<'_, PyAny>,
        order: &str,
    ) -> PyResult<u64> {
        let order = crate::pixels::order(order)?;
        let (width, height) = (self.width, self.height);
        let buf = crate::pixels::pixels(&pixels, width, height)?;
        let expected = width as usize * height as usize * 4;
        let mut guard = self.inner.lock(py)?;
        let host = guard.as_mut().ok_or_else(|| closed(py))?;
        // Read through the export's raw pointer, never a Rust slice over
        // memory that another native thread may be writing while this one
        // runs, row by row straight into the frame region's slot (any
        // padding is skipped), reordered to RGBA on the way and summed for
        // the slot's checksum while each row is in the cache: one pass.
        let mut frame = host.frame();
        let copied = match &buf {
            Pixels::Bytes(b) => frame.copy_from_as(&crate::pixels::raw(b), order),
            Pixels::Packed(b) => {
                let mut scratch = self.scratch.lock(py)?;
                let (packed, bytes) = &mut *scratch;
                packed.resize(expected / 4, 0);
                b.copy_to_slice(py, packed)?;
                // Each uint32 holds R, G, B, A in memory order.
                bytes.clear();
                bytes.extend(packed.iter().flat_map(|p| p.to_ne_bytes()));
                frame.copy_from_as(&RawSrc::from_slice(bytes), order)
            }
        };
        copied.map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(frame.publish(tick))
    }

    /// The current param values, as a dict.
    #[getter]
    fn params(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let values: Vec<(String, Json)> = self.with(py, |h| {
            h.params()
                .iter()
                .map(|(spec, value, _)| {
                    (
                        spec.name.clone(),
                        serde_json::to_value(value).unwrap_or(Json::Null),
                    )
                })
                .collect()
        })?;
        let dict = PyDict::new(py);
        for (name, value) in values {
            dict.set_item(name, to_py(py, &value)?)?;
        }
        Ok(dict.unbind())
    }

    /// One param's value.
    fn param(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        let value = self.with(py, |h| {
            h.params()
                .get(name)
                .map(|v| serde_json::to_value(v).unwrap_or(Json::Null))
        })?;
        match value {
            Some(v) => to_py(py, &v),
            None => Err(error(py, Class::AdvkitError, format!("no param {name:?}"))),
        }
    }

    /// Sets a param from the game's side (checked like `params.set`);
    /// every client sees a `params` event.
    fn set_param(&self, py: Python<'_>, name: &str, value: Bound<'_, PyAny>) -> PyResult<()> {
        let json = to_json(&value)?;
        self.with(py, |h| {
            h.update_params(|p| {
                let v = p.from_json(name, &json)?;
                p.set(name, v).map(|_| ())
            })
        })?
        .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Applies reboot-only params that are pending; returns their names.
    fn apply_pending_params(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, |h| h.apply_pending_params())
    }

    /// A revision number that changes whenever a param does.
    #[getter]
    fn params_revision(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |h| h.params().revision())
    }

    /// Sends a `world` event (`kind`, any JSON `data`) to subscribers.
    #[pyo3(signature = (kind, data=None))]
    fn emit(&self, py: Python<'_>, kind: String, data: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let data = data.as_ref().map_or(Ok(Json::Null), to_json)?;
        let event = advkit_ipc::api::Event::World { kind, data };
        self.with(py, |h| h.emit(&event))
    }

    /// Sends a `log` event.
    fn log(&self, py: Python<'_>, message: &str) -> PyResult<()> {
        self.with(py, |h| h.log(message))
    }

    /// Records how long one update and render took (seconds), for
    /// `engine.stats` and the inspector's status line.
    fn record_tick_time(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        let d = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or_default();
        self.with(py, |h| h.record_tick_time(d))
    }

    /// A `Waker` whose `wake()`, from any thread, ends this host's wait
    /// in `serve`/`requests` at once: for a loop that also waits on
    /// something else, read by a thread of its own.
    fn waker(&self, py: Python<'_>) -> PyResult<Waker> {
        Ok(Waker(self.with(py, |h| h.waker())?))
    }

    /// Changes the tick rate (stats, `advkit ls`, `next_deadline`).
    fn set_fps(&self, py: Python<'_>, fps: f64) -> PyResult<()> {
        check_fps(fps)?;
        self.with(py, |h| h.set_fps(fps))
    }

    /// Stops the server and removes the socket, token and frame files;
    /// Python's signal handlers are as before the host.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let host = self.inner.lock(py)?.take();
        if let Some(host) = host {
            py.detach(|| drop(host));
        }
        let saved = std::mem::take(&mut *self.saved_signals.lock(py)?);
        restore_signals(py, saved);
        Ok(())
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

fn check_fps(fps: f64) -> PyResult<()> {
    if !(fps.is_finite() && fps > 0.0) {
        return Err(PyValueError::new_err(format!(
            "fps must be above 0 (ticks per second), not {fps}"
        )));
    }
    Ok(())
}

fn closed(py: Python<'_>) -> PyErr {
    error(py, Class::AdvkitError, "the host is closed")
}

/// Puts Python's signal handlers back; best effort (the interpreter may
/// be shutting down).
fn restore_signals(py: Python<'_>, saved: Vec<(i32, Py<PyAny>)>) {
    if saved.is_empty() {
        return;
    }
    if let Ok(signal) = py.import("signal") {
        for (num, old) in saved {
            let _ = signal.call_method1("signal", (num, old));
        }
    }
}

impl Host {
    /// Runs `f` on the open host, taking turns with other threads.
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&mut advkit_ipc::Host) -> R) -> PyResult<R> {
        let mut guard = self.inner.lock(py)?;
        Ok(f(guard.as_mut().ok_or_else(|| closed(py))?))
    }

    /// The next request until `deadline`, waiting in slices with the GIL
    /// released and looking for Ctrl-C between them; `None` at the
    /// deadline, or at once when a step is waiting or the host stops.
    fn next_request(
        &self,
        py: Python<'_>,
        deadline: Instant,
    ) -> PyResult<Option<advkit_ipc::Request>> {
        loop {
            self.inner.pass(py);
            let slice = deadline.min(Instant::now() + SLICE);
            let mut guard = self.inner.lock(py)?;
            let host = guard.as_mut().ok_or_else(|| closed(py))?;
            let got = py.detach(|| host.next_request(slice));
            drop(guard);
            if got.is_some() {
                return Ok(got);
            }
            py.check_signals()?;
            // Back before its slice ended: a step waits or the host stops.
            if slice >= deadline || Instant::now() < slice {
                return Ok(None);
            }
        }
    }
}

/// Ends a `Host`'s wait for requests from another thread (see
/// `Host.waker`).
#[pyclass(module = "advkit._advkit", frozen)]
pub struct Waker(advkit_ipc::Waker);

#[pymethods]
impl Waker {
    /// Makes the host's current (or next) wait in `serve`/`requests`
    /// return at once. Never blocks; harmless after the host closed.
    fn wake(&self) {
        self.0.wake();
    }
}

/// The iterator `Host.requests` returns.
#[pyclass(module = "advkit._advkit")]
pub struct Requests {
    host: Py<Host>,
    deadline: Instant,
}

#[pymethods]
impl Requests {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Request>> {
        match self.host.get().next_request(py, self.deadline)? {
            Some(req) => Ok(Some(Request::wrap(py, req)?)),
            None => Ok(None),
        }
    }
}
