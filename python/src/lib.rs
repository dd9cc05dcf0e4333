//! `advkit` for Python: the same `Host`, `Client` and `FrameReader` that
//! Rust games and tools use, bound with PyO3. A Python game on `Host` is an
//! engine like any other: `advkit inspect`, `send`, `snapshot` and `ls`
//! work on it, and its params and methods are checked against the same
//! schema before Python code sees them.
//!
//! The GIL is released whenever the binding waits (for a request, a reply,
//! an event or a frame). Errors are Python exceptions defined in
//! `advkit/errors.py`, carrying the messages the CLI prints.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use advkit_ipc::api::{MethodSpec, ParamSpec, ParamType, RpcError as WireError};
use advkit_ipc::client::{Client as WireClient, ClientError};
use advkit_ipc::system::monotonic_ns;
use advkit_ipc::{FrameReader as WireReader, ReadError, Responder, RuntimeDir};
use advkit_params::{Params, Spec, Value};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value as Json;

// ---------------------------------------------------------------- errors

/// `advkit.errors.<class>(message)` as a Python exception.
fn error(py: Python<'_>, class: &str, message: String) -> PyErr {
    match py
        .import("advkit.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message.clone(),)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

fn rpc_error(py: Python<'_>, e: &WireError) -> PyErr {
    let data = e
        .data
        .as_ref()
        .map_or_else(|| Ok(py.None()), |d| to_py(py, d));
    let made = data.and_then(|data| {
        py.import("advkit.errors")?
            .getattr("RpcError")?
            .call1((e.code, e.message.clone(), data))
    });
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

fn client_error(py: Python<'_>, e: ClientError) -> PyErr {
    match e {
        ClientError::Rpc(rpc) => rpc_error(py, &rpc),
        ClientError::NoEngine { .. } => error(py, "NotRunning", e.to_string()),
        ClientError::Timeout(_) => error(py, "Timeout", e.to_string()),
        other => error(py, "AdvkitError", other.to_string()),
    }
}

fn read_error(py: Python<'_>, e: ReadError) -> PyErr {
    match e {
        ReadError::WriterGone { .. } => error(py, "NotRunning", e.to_string()),
        ReadError::Timeout { .. } => error(py, "Timeout", e.to_string()),
        other => error(py, "AdvkitError", other.to_string()),
    }
}

// ------------------------------------------------------------ JSON <-> py

fn to_py(py: Python<'_>, v: &Json) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Json::Null => py.None(),
        Json::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any().unbind(),
            _ => n
                .as_f64()
                .unwrap_or(f64::NAN)
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        },
        Json::String(s) => PyString::new(py, s).into_any().unbind(),
        Json::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Json::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, to_py(py, item)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Json> {
    if obj.is_none() {
        return Ok(Json::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Json::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Json::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Json::from(u));
        }
        return Err(PyValueError::new_err(format!(
            "{obj} does not fit in 64 bits"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{v} is not a JSON number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Json::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("JSON keys are strings, not {k}")))?;
            map.insert(key.to_cow()?.into_owned(), to_json(&v)?);
        }
        return Ok(Json::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items: PyResult<Vec<Json>> = obj.try_iter()?.map(|i| to_json(&i?)).collect();
        return Ok(Json::Array(items?));
    }
    Err(PyTypeError::new_err(format!(
        "{} cannot be sent as JSON (use None, bool, int, float, str, list, tuple or dict)",
        obj.get_type().name()?
    )))
}

fn value_to_py(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    to_py(py, &serde_json::to_value(v).unwrap_or(Json::Null))
}

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

// ------------------------------------------------------------ params

/// One tunable parameter of a game: what the inspector shows as a slider,
/// toggle or choice, and what `params.set` checks values against.
#[pyclass(module = "advkit._advkit", frozen)]
#[derive(Clone)]
struct Param {
    spec: Spec,
}

fn finish_spec(mut spec: Spec, description: &str, reboot: bool) -> Param {
    if !description.is_empty() {
        spec = spec.describe(description);
    }
    if reboot {
        spec = spec.on_reboot();
    }
    Param { spec }
}

#[pymethods]
impl Param {
    /// An integer from `min` to `max`.
    #[staticmethod]
    #[pyo3(signature = (name, min, max, default, *, unit="", description="", reboot=false))]
    fn int(
        name: &str,
        min: i64,
        max: i64,
        default: i64,
        unit: &str,
        description: &str,
        reboot: bool,
    ) -> PyResult<Param> {
        check_range(name, min as f64, max as f64, default as f64)?;
        Ok(finish_spec(
            Spec::int(name, min, max, unit, default),
            description,
            reboot,
        ))
    }

    /// A number from `min` to `max`, in steps of `step`.
    #[staticmethod]
    #[pyo3(signature = (name, min, max, default, *, step=0.1, unit="", description="", reboot=false))]
    #[allow(clippy::too_many_arguments)]
    fn float(
        name: &str,
        min: f64,
        max: f64,
        default: f64,
        step: f64,
        unit: &str,
        description: &str,
        reboot: bool,
    ) -> PyResult<Param> {
        check_range(name, min, max, default)?;
        if step.is_nan() || step <= 0.0 {
            return Err(PyValueError::new_err(format!(
                "{name}: step must be above 0"
            )));
        }
        Ok(finish_spec(
            Spec::float(name, min, max, step, unit, default),
            description,
            reboot,
        ))
    }

    /// On or off.
    #[staticmethod]
    #[pyo3(signature = (name, default, *, description="", reboot=false))]
    fn bool(name: &str, default: bool, description: &str, reboot: bool) -> Param {
        finish_spec(Spec::boolean(name, default), description, reboot)
    }

    /// One of `choices`.
    #[staticmethod]
    #[pyo3(signature = (name, choices, default, *, description="", reboot=false))]
    fn choice(
        name: &str,
        choices: Vec<String>,
        default: &str,
        description: &str,
        reboot: bool,
    ) -> PyResult<Param> {
        if !choices.iter().any(|c| c == default) {
            return Err(PyValueError::new_err(format!(
                "{name}: default {default:?} is not one of {choices:?}"
            )));
        }
        let refs: Vec<&str> = choices.iter().map(String::as_str).collect();
        Ok(finish_spec(
            Spec::choice(name, &refs, default),
            description,
            reboot,
        ))
    }

    #[getter]
    fn name(&self) -> String {
        self.spec.name.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Param({} = {})",
            self.spec.name,
            serde_json::to_value(&self.spec.default).unwrap_or(Json::Null)
        )
    }
}

fn check_range(name: &str, min: f64, max: f64, default: f64) -> PyResult<()> {
    if !(min <= max && (min..=max).contains(&default)) {
        return Err(PyValueError::new_err(format!(
            "{name}: need min <= default <= max, got {min}, {default}, {max}"
        )));
    }
    Ok(())
}

/// One param of a game method, checked by the server before the game sees
/// the request. `type` is one of string, integer, number, boolean, object,
/// array, any.
#[pyclass(module = "advkit._advkit", frozen)]
#[derive(Clone)]
struct Arg {
    spec: ParamSpec,
}

#[pymethods]
impl Arg {
    #[new]
    #[pyo3(signature = (name, r#type, description="", *, required=false, min=None, max=None))]
    fn new(
        name: &str,
        r#type: &str,
        description: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
    ) -> PyResult<Arg> {
        let kind: ParamType =
            serde_json::from_value(Json::String(r#type.to_owned())).map_err(|_| {
                PyValueError::new_err(format!(
                    "{name}: type {type:?} is not one of string, integer, number, boolean, \
                     object, array, any"
                ))
            })?;
        let mut spec = ParamSpec::new(name, kind, description);
        if required {
            spec = spec.required();
        }
        match (min, max) {
            (Some(lo), Some(hi)) => spec = spec.range(lo, hi),
            (None, None) => {}
            _ => {
                return Err(PyValueError::new_err(format!(
                    "{name}: give both min and max, or neither"
                )));
            }
        }
        Ok(Arg { spec })
    }
}

/// A method of the game's own: its name, what it does, its params.
#[pyclass(module = "advkit._advkit", frozen)]
#[derive(Clone)]
struct Method {
    spec: MethodSpec,
}

#[pymethods]
impl Method {
    #[new]
    #[pyo3(signature = (name, summary, params=Vec::new(), *, read_only=false))]
    fn new(name: &str, summary: &str, params: Vec<Arg>, read_only: bool) -> Method {
        let mut spec = MethodSpec::new(name, summary);
        for a in params {
            spec = spec.param(a.spec);
        }
        if read_only {
            spec = spec.read_only();
        }
        Method { spec }
    }
}

// ------------------------------------------------------------ requests

/// A request only the game can answer, its params already checked against
/// the method's schema. Answer it once with `reply` or `error`; one dropped
/// unanswered is answered −32603, so no client hangs.
#[pyclass(module = "advkit._advkit")]
struct Request {
    #[pyo3(get)]
    method: String,
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
                "AdvkitError",
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
#[pyclass(module = "advkit._advkit", unsendable)]
struct Host {
    inner: Option<advkit_ipc::Host>,
    width: u32,
    height: u32,
}

#[pymethods]
impl Host {
    #[new]
    #[pyo3(signature = (
        name, width, height, *, params=Vec::new(), methods=Vec::new(), standard=Vec::new(),
        fps=30.0, paused=false, engine=None, tcp=None, allow_remote=false, params_file=None,
        handle_signals=true, history=60.0
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
        let tcp = tcp
            .map(|a| {
                a.parse()
                    .map_err(|_| PyValueError::new_err(format!("tcp: {a:?} is not HOST:PORT")))
            })
            .transpose()?;
        let standard: Vec<&str> = standard.iter().map(String::as_str).collect();
        let base = advkit_ipc::HostConfig::new(name, width, height);
        let mut cfg = advkit_ipc::HostConfig {
            fps,
            // ADVKIT_PAUSED in the environment starts it paused too.
            paused: paused || base.paused,
            tcp,
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
        let host = py
            .detach(|| advkit_ipc::Host::start(cfg))
            .map_err(|e| error(py, "AdvkitError", e.to_string()))?;
        Ok(Host {
            inner: Some(host),
            width,
            height,
        })
    }

    #[getter]
    fn name(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.host(py)?.name().to_owned())
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
        Ok(self.host(py)?.socket_path().to_owned())
    }

    #[getter]
    fn frames_path(&self, py: Python<'_>) -> PyResult<PathBuf> {
        Ok(self.host(py)?.frames_path().to_owned())
    }

    /// False once a client sent `engine.shutdown`, or on SIGINT, SIGTERM or
    /// SIGHUP, or after `close()`.
    #[getter]
    fn running(&self) -> bool {
        self.inner.as_ref().is_some_and(|h| h.running())
    }

    #[getter]
    fn paused(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.host(py)?.paused())
    }

    #[setter]
    fn set_paused(&mut self, py: Python<'_>, paused: bool) -> PyResult<()> {
        self.host_mut(py)?.set_paused(paused);
        Ok(())
    }

    /// The tick of the last published frame.
    #[getter]
    fn tick(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.host(py)?.tick())
    }

    /// How many ticks to simulate now: 1 while running, 0 while paused,
    /// N after `engine.step N` (answered at the next publish).
    fn ticks_due(&mut self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.host_mut(py)?.ticks_due())
    }

    /// The next tick's deadline as a `time.monotonic()` value, one period
    /// after `prev` (now, if omitted) at the host's fps, without a burst
    /// of catch-up ticks after a stall.
    #[pyo3(signature = (prev=None))]
    fn next_deadline(&self, py: Python<'_>, prev: Option<f64>) -> PyResult<f64> {
        let prev = prev.map_or_else(Instant::now, to_instant);
        Ok(from_instant(self.host(py)?.next_deadline(prev)))
    }

    /// Waits until `deadline` (a `time.monotonic()` value; now if omitted)
    /// for requests that are the game's own, answering generic ones
    /// meanwhile. Yields `Request`s; stops at the deadline, when a step is
    /// waiting to run, or when the host is stopping. The GIL is released
    /// while it waits.
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
        slf: Bound<'_, Self>,
        handler: Bound<'_, PyAny>,
        deadline: Option<f64>,
    ) -> PyResult<u64> {
        let py = slf.py();
        let deadline = deadline.map_or_else(Instant::now, to_instant);
        let mut handled = 0;
        loop {
            let next = {
                let mut this = slf.borrow_mut();
                let host = this.host_mut(py)?;
                py.detach(|| host.next_request(deadline))
            };
            let Some(req) = next else {
                py.check_signals()?;
                return Ok(handled);
            };
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
                                -32603,
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
                            -32603,
                            format!("the game raised an exception: {text}"),
                        ));
                    }
                }
            }
        }
    }

    /// Publishes a tight RGBA frame (`width × height × 4` bytes) shown at
    /// `tick` from any buffer: bytes, bytearray, memoryview, array.array, a
    /// NumPy array. Copied once, straight into the frame region (twice for
    /// a width whose rows the region pads: not a multiple of 16). Answers a
    /// finished `engine.step` and sends the `tick` event. Returns the frame
    /// number.
    fn publish(&mut self, py: Python<'_>, tick: u64, pixels: Bound<'_, PyAny>) -> PyResult<u64> {
        let buf = PyBuffer::<u8>::get(&pixels).map_err(|_| {
            PyTypeError::new_err(format!(
                "pixels must be a buffer of bytes (bytes, bytearray, memoryview, a uint8 array), \
                 not {}",
                pixels
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        if !buf.is_c_contiguous() {
            return Err(PyValueError::new_err(
                "pixels must be C-contiguous (rows one after another)",
            ));
        }
        let (width, height) = (self.width, self.height);
        let expected = width as usize * height as usize * 4;
        if buf.item_count() != expected {
            return Err(PyValueError::new_err(
                advkit_ipc::region::WrongSize {
                    got: buf.item_count(),
                    expected,
                    width,
                    height,
                }
                .to_string(),
            ));
        }
        // Copied by the buffer protocol itself (PyBuffer_ToContiguous),
        // never through a Rust slice over memory that another native
        // thread may be writing while this one runs: straight into the
        // frame region's slot, or, for a frame whose rows the region pads,
        // through one buffer of ours.
        let mut frame = self.host_mut(py)?.frame();
        match frame.pixels_mut() {
            Some(slot) => buf.copy_to_slice(py, slot)?,
            None => {
                let mut tight = vec![0u8; expected];
                buf.copy_to_slice(py, &mut tight)?;
                frame
                    .copy_from(&tight)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
            }
        }
        Ok(frame.publish(tick))
    }

    /// The current param values, as a dict.
    #[getter]
    fn params(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let dict = PyDict::new(py);
        for (spec, value, _) in self.host(py)?.params().iter() {
            dict.set_item(&spec.name, value_to_py(py, value)?)?;
        }
        Ok(dict.unbind())
    }

    /// One param's value.
    fn param(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        match self.host(py)?.params().get(name) {
            Some(v) => value_to_py(py, v),
            None => Err(error(py, "AdvkitError", format!("no param {name:?}"))),
        }
    }

    /// Sets a param from the game's side (checked like `params.set`);
    /// every client sees a `params` event.
    fn set_param(&mut self, py: Python<'_>, name: &str, value: Bound<'_, PyAny>) -> PyResult<()> {
        let json = to_json(&value)?;
        self.host_mut(py)?
            .update_params(|p| {
                let v = p.from_json(name, &json)?;
                p.set(name, v).map(|_| ())
            })
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Applies reboot-only params that are pending; returns their names.
    fn apply_pending_params(&mut self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self.host_mut(py)?.apply_pending_params())
    }

    /// A revision number that changes whenever a param does.
    #[getter]
    fn params_revision(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.host(py)?.params().revision())
    }

    /// Sends a `world` event (`kind`, any JSON `data`) to subscribers.
    #[pyo3(signature = (kind, data=None))]
    fn emit(&self, py: Python<'_>, kind: String, data: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let data = data.as_ref().map_or(Ok(Json::Null), to_json)?;
        self.host(py)?
            .emit(&advkit_ipc::api::Event::World { kind, data });
        Ok(())
    }

    /// Sends a `log` event.
    fn log(&self, py: Python<'_>, message: &str) -> PyResult<()> {
        self.host(py)?.log(message);
        Ok(())
    }

    /// Records how long one update + render took (seconds), for stats.
    fn record_tick_time(&mut self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        let d = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or_default();
        self.host_mut(py)?.record_tick_time(d);
        Ok(())
    }

    /// Changes the tick rate (stats, `advkit ls`, `next_deadline`).
    fn set_fps(&mut self, py: Python<'_>, fps: f64) -> PyResult<()> {
        if fps.is_nan() || fps <= 0.0 {
            return Err(PyValueError::new_err("fps must be above 0"));
        }
        self.host_mut(py)?.set_fps(fps);
        Ok(())
    }

    /// Stops the server and removes the socket, token and frame files.
    fn close(&mut self, py: Python<'_>) {
        if let Some(host) = self.inner.take() {
            py.detach(|| drop(host));
        }
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        self.close(py);
        false
    }
}

impl Host {
    fn host(&self, py: Python<'_>) -> PyResult<&advkit_ipc::Host> {
        self.inner
            .as_ref()
            .ok_or_else(|| error(py, "AdvkitError", "the host is closed".into()))
    }

    fn host_mut(&mut self, py: Python<'_>) -> PyResult<&mut advkit_ipc::Host> {
        self.inner
            .as_mut()
            .ok_or_else(|| error(py, "AdvkitError", "the host is closed".into()))
    }
}

/// The iterator `Host.requests` returns.
#[pyclass(module = "advkit._advkit")]
struct Requests {
    host: Py<Host>,
    deadline: Instant,
}

#[pymethods]
impl Requests {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Request>> {
        let next = {
            let mut host = self.host.borrow_mut(py);
            let host = host.host_mut(py)?;
            let deadline = self.deadline;
            py.detach(|| host.next_request(deadline))
        };
        match next {
            Some(req) => Ok(Some(Request::wrap(py, req)?)),
            None => {
                py.check_signals()?;
                Ok(None)
            }
        }
    }
}

// ------------------------------------------------------------ client

/// The connection, whichever thread calls (a panic inside cannot leave it
/// half-used: each call is one request and one reply).
fn lock(m: &Mutex<WireClient>) -> MutexGuard<'_, WireClient> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connection to a running engine: the calls of `advkit send`. Replies
/// come back as Python values; error replies raise `advkit.RpcError` with
/// the JSON-RPC code, message and data.
#[pyclass(module = "advkit._advkit")]
struct Client {
    inner: Mutex<WireClient>,
    name: String,
    target: Target,
}

#[derive(Clone)]
enum Target {
    Unix(PathBuf),
    Tcp(std::net::SocketAddr, Option<String>),
}

fn connect(py: Python<'_>, target: &Target) -> PyResult<WireClient> {
    let t = target.clone();
    py.detach(move || match &t {
        Target::Unix(path) => WireClient::connect_unix(path),
        Target::Tcp(addr, token) => WireClient::connect_tcp(*addr, token.as_deref()),
    })
    .map_err(|e| client_error(py, e))
}

#[pymethods]
impl Client {
    /// Connects to engine `name` in the runtime directory, or to `tcp`
    /// ("HOST:PORT") with `token` (read from `<runtime dir>/<name>.token`
    /// when omitted and the file exists).
    #[new]
    #[pyo3(signature = (name="default", *, tcp=None, token=None, timeout=5.0))]
    fn new(
        py: Python<'_>,
        name: &str,
        tcp: Option<&str>,
        token: Option<String>,
        timeout: f64,
    ) -> PyResult<Client> {
        advkit_ipc::runtime::validate_name(name)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let dir = RuntimeDir::from_env();
        let target = match tcp {
            Some(addr) => {
                let addr = addr.parse().map_err(|_| {
                    PyValueError::new_err(format!("tcp: {addr:?} is not HOST:PORT"))
                })?;
                let token = token.or_else(|| {
                    std::fs::read_to_string(dir.token_path(name))
                        .ok()
                        .map(|t| t.trim().to_owned())
                });
                Target::Tcp(addr, token)
            }
            None => Target::Unix(dir.socket_path(name)),
        };
        let mut inner = connect(py, &target)?;
        inner.set_timeout(Duration::try_from_secs_f64(timeout.max(0.001)).unwrap_or_default());
        Ok(Client {
            inner: Mutex::new(inner),
            name: name.to_owned(),
            target,
        })
    }

    /// Calls any method by name; returns its result.
    #[pyo3(signature = (method, params=None))]
    fn call(
        &self,
        py: Python<'_>,
        method: &str,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let params = match params {
            Some(p) => to_json(&p)?,
            None => Json::Object(Default::default()),
        };
        to_py(py, &self.rpc(py, method, params)?)
    }

    /// `params.get`: every value, or the named ones, as a dict.
    #[pyo3(signature = (*names))]
    fn get(&self, py: Python<'_>, names: Vec<String>) -> PyResult<Py<PyAny>> {
        let params = if names.is_empty() {
            serde_json::json!({})
        } else {
            serde_json::json!({ "names": names })
        };
        to_py(
            py,
            &self.rpc(py, advkit_ipc::api::method::PARAMS_GET, params)?["values"],
        )
    }

    /// `params.set` with keyword arguments, all or nothing; returns the
    /// change (revision, values).
    #[pyo3(signature = (**values))]
    fn set(&self, py: Python<'_>, values: Option<Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let values = match values {
            Some(v) => to_json(v.as_any())?,
            None => return Err(PyValueError::new_err("set(name=value, ...) needs a value")),
        };
        to_py(
            py,
            &self.rpc(
                py,
                advkit_ipc::api::method::PARAMS_SET,
                serde_json::json!({ "values": values }),
            )?,
        )
    }

    /// Subscribes a second connection to `topics` (all when omitted) and
    /// yields each event as a dict {"tick", "topic", "event", "data"}; `timeout`
    /// seconds without one ends the iteration (None: never).
    #[pyo3(signature = (topics=None, *, timeout=None))]
    fn events(
        &self,
        py: Python<'_>,
        topics: Option<Vec<String>>,
        timeout: Option<f64>,
    ) -> PyResult<Events> {
        let mut client = connect(py, &self.target)?;
        let params = match topics {
            Some(t) => serde_json::json!({ "topics": t }),
            None => serde_json::json!({}),
        };
        py.detach(|| client.call(advkit_ipc::api::method::SUBSCRIBE, params))
            .map_err(|e| client_error(py, e))?;
        Ok(Events {
            client: Mutex::new(client),
            timeout: timeout.map(|t| Duration::try_from_secs_f64(t.max(0.0)).unwrap_or_default()),
        })
    }

    #[getter]
    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Client {
    /// One request and its reply's result, the GIL released meanwhile.
    fn rpc(&self, py: Python<'_>, method: &str, params: Json) -> PyResult<Json> {
        let mut guard = lock(&self.inner);
        let inner = &mut *guard;
        py.detach(|| inner.call(method, params))
            .map(|reply| reply.result)
            .map_err(|e| client_error(py, e))
    }
}

/// The iterator `Client.events` returns.
#[pyclass(module = "advkit._advkit")]
struct Events {
    client: Mutex<WireClient>,
    timeout: Option<Duration>,
}

#[pymethods]
impl Events {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let started = Instant::now();
        loop {
            // Short slices so Ctrl-C is seen promptly.
            let mut guard = lock(&self.client);
            let client = &mut *guard;
            let got = py
                .detach(|| client.next_event(Some(Duration::from_millis(100))))
                .map_err(|e| client_error(py, e))?;
            if let Some(n) = got {
                let (topic, name, data) = n.event.encode(n.tick);
                let dict = PyDict::new(py);
                dict.set_item("tick", n.tick)?;
                dict.set_item("topic", topic)?;
                dict.set_item("event", name)?;
                dict.set_item("data", to_py(py, &data)?)?;
                return Ok(Some(dict.into_any().unbind()));
            }
            py.check_signals()?;
            if self.timeout.is_some_and(|t| started.elapsed() >= t) {
                return Ok(None);
            }
        }
    }
}

// ------------------------------------------------------------ frames

/// One frame copied out of an engine's frame region.
#[pyclass(module = "advkit._advkit", frozen)]
struct Frame {
    #[pyo3(get)]
    width: u32,
    #[pyo3(get)]
    height: u32,
    /// The frame number (1 for the first frame of a session).
    #[pyo3(get)]
    frame: u64,
    #[pyo3(get)]
    tick: u64,
    /// The writer's checksum of the pixels (docs/frame-region.md).
    #[pyo3(get)]
    checksum: u64,
    /// Tight RGBA bytes, rows top to bottom.
    #[pyo3(get)]
    pixels: Py<PyBytes>,
}

#[pymethods]
impl Frame {
    fn __repr__(&self) -> String {
        format!(
            "<advkit.Frame {}x{} frame {} tick {}>",
            self.width, self.height, self.frame, self.tick
        )
    }
}

/// Reads an engine's frames from its frame region, read-only: the newest,
/// or the next one to be published (sleeping until then).
#[pyclass(module = "advkit._advkit")]
struct FrameReader {
    inner: WireReader,
    buf: advkit_ipc::AlignedBuf,
}

#[pymethods]
impl FrameReader {
    #[new]
    #[pyo3(signature = (name="default", *, path=None))]
    fn new(py: Python<'_>, name: &str, path: Option<PathBuf>) -> PyResult<FrameReader> {
        let path = match path {
            Some(p) => p,
            None => {
                advkit_ipc::runtime::validate_name(name)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
                RuntimeDir::from_env().frames_path(name)
            }
        };
        let inner = WireReader::open(&path).map_err(|e| match e {
            advkit_ipc::OpenError::NotRunning { .. } => error(py, "NotRunning", e.to_string()),
            e => error(py, "AdvkitError", e.to_string()),
        })?;
        let buf = inner.buffer();
        Ok(FrameReader { inner, buf })
    }

    #[getter]
    fn width(&self) -> u32 {
        self.inner.geometry().width
    }

    #[getter]
    fn height(&self) -> u32 {
        self.inner.geometry().height
    }

    /// The newest published frame number (0: none yet).
    #[getter]
    fn latest_frame(&self) -> u64 {
        self.inner.latest_frame()
    }

    /// A copy of the newest frame.
    fn read_latest(&mut self, py: Python<'_>) -> PyResult<Frame> {
        self.inner.check_alive().map_err(|e| read_error(py, e))?;
        let (inner, buf) = (&self.inner, &mut self.buf);
        let info = py
            .detach(|| inner.read_latest(buf))
            .map_err(|e| read_error(py, e))?;
        Ok(self.frame(py, info))
    }

    /// Sleeps until a frame newer than the last one seen (or than `after`)
    /// is published, up to `timeout` seconds, and returns a copy of the
    /// newest; None on timeout. Raises `NotRunning` if the engine goes.
    #[pyo3(signature = (timeout=5.0, *, after=None))]
    fn wait_next(
        &mut self,
        py: Python<'_>,
        timeout: f64,
        after: Option<u64>,
    ) -> PyResult<Option<Frame>> {
        let after = after.unwrap_or_else(|| self.inner.latest_frame());
        let timeout = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or_default();
        let (inner, buf) = (&self.inner, &mut self.buf);
        let got = py.detach(|| {
            inner
                .wait_next(after, timeout)
                .and_then(|_| inner.read_latest(buf))
        });
        match got {
            Ok(info) => Ok(Some(self.frame(py, info))),
            Err(ReadError::Timeout { .. }) => Ok(None),
            Err(e) => Err(read_error(py, e)),
        }
    }
}

impl FrameReader {
    fn frame(&self, py: Python<'_>, info: advkit_ipc::FrameInfo) -> Frame {
        let g = self.inner.geometry();
        Frame {
            width: g.width,
            height: g.height,
            frame: info.frame,
            tick: info.tick,
            checksum: info.checksum,
            pixels: PyBytes::new(py, self.buf.as_slice()).unbind(),
        }
    }
}

#[pymodule]
fn _advkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Host>()?;
    m.add_class::<Request>()?;
    m.add_class::<Requests>()?;
    m.add_class::<Param>()?;
    m.add_class::<Arg>()?;
    m.add_class::<Method>()?;
    m.add_class::<Client>()?;
    m.add_class::<Events>()?;
    m.add_class::<FrameReader>()?;
    m.add_class::<Frame>()?;
    Ok(())
}
