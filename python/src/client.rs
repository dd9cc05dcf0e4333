//! A tool's side: [`Client`] (the calls of `advkit send`) and its
//! [`Events`] iterator.
//!
//! A `Client` may be shared by threads: calls take turns on its one
//! connection, and none holds the GIL while it waits (for the reply, or
//! for the thread whose call is in flight). Every wait looks for Ctrl-C
//! at least every 0.1 s.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use advkit_ipc::RuntimeDir;
use advkit_ipc::api::method;
use advkit_ipc::client::{Client as WireClient, ClientError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::Value as Json;

use crate::convert::{to_json, to_py};
use crate::errors::{Class, client_error, error};
use crate::{SLICE, Turns};

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

fn closed(py: Python<'_>, what: &str) -> PyErr {
    error(py, Class::AdvkitError, format!("the {what} is closed"))
}

/// A connection to a running engine: the calls of `advkit send`. Replies
/// come back as Python values; error replies raise `advkit.RpcError` with
/// the JSON-RPC code, message and data.
#[pyclass(module = "advkit._advkit", frozen)]
pub struct Client {
    inner: Turns<Option<WireClient>>,
    name: String,
    target: Target,
    timeout: Duration,
}

#[pymethods]
impl Client {
    /// Connects to engine `name` in the runtime directory, or to `tcp`
    /// ("HOST:PORT") with `token` (read from `<runtime dir>/<name>.token`
    /// when omitted and the file exists). `timeout`: seconds to wait for
    /// each reply.
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
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(PyValueError::new_err(format!(
                "timeout: seconds to wait for a reply, above 0, not {timeout}"
            )));
        }
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
        let inner = connect(py, &target)?;
        Ok(Client {
            inner: Turns::new(Some(inner)),
            name: name.to_owned(),
            target,
            timeout: Duration::from_secs_f64(timeout),
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
        to_py(py, &self.rpc(py, method::PARAMS_GET, params)?["values"])
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
                method::PARAMS_SET,
                serde_json::json!({ "values": values }),
            )?,
        )
    }

    /// Subscribes a second connection to `topics` (all when omitted) and
    /// yields each event as a dict {"tick", "topic", "event", "data"};
    /// `timeout` seconds without one ends the iteration (None: never).
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
        client.set_timeout(self.timeout);
        py.detach(|| client.call(method::SUBSCRIBE, params))
            .map_err(|e| client_error(py, e))?;
        Ok(Events {
            client: Turns::new(Some(client)),
            timeout: timeout.map(|t| Duration::try_from_secs_f64(t.max(0.0)).unwrap_or_default()),
        })
    }

    /// The engine's name.
    #[getter]
    fn name(&self) -> String {
        self.name.clone()
    }

    /// Closes the connection; calls after it raise `AdvkitError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.lock(py)?.take();
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

impl Client {
    /// One request and its reply's result. The reply is awaited in slices
    /// with the GIL released; between them Ctrl-C raises
    /// `KeyboardInterrupt` (a reply that comes later is skipped by the
    /// next call).
    fn rpc(&self, py: Python<'_>, method: &str, params: Json) -> PyResult<Json> {
        self.inner.pass(py);
        let mut guard = self.inner.lock(py)?;
        let client = guard.as_mut().ok_or_else(|| closed(py, "client"))?;
        let id = py
            .detach(|| client.send(method, params))
            .map_err(|e| client_error(py, e))?;
        let started = Instant::now();
        loop {
            let wait = SLICE.min(self.timeout.saturating_sub(started.elapsed()));
            let got = py
                .detach(|| client.wait_reply(id, wait))
                .map_err(|e| client_error(py, e))?;
            if let Some(reply) = got {
                return Ok(reply.result);
            }
            py.check_signals()?;
            if started.elapsed() >= self.timeout {
                return Err(client_error(py, ClientError::Timeout(self.timeout)));
            }
        }
    }
}

/// The iterator `Client.events` returns; close it (or leave its `with`
/// block) to unsubscribe.
#[pyclass(module = "advkit._advkit", frozen)]
pub struct Events {
    client: Turns<Option<WireClient>>,
    timeout: Option<Duration>,
}

#[pymethods]
impl Events {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let started = Instant::now();
        let mut guard = self.client.lock(py)?;
        let client = guard
            .as_mut()
            .ok_or_else(|| closed(py, "events iterator"))?;
        loop {
            let got = py
                .detach(|| client.next_event(Some(SLICE)))
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

    /// Ends the subscription (closes its connection).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.client.lock(py)?.take();
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
