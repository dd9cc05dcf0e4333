//! advkit's exceptions, declared once in `advkit/errors.py` (one
//! hierarchy under `AdvkitError`; `NotRunning` is a `ConnectionError`,
//! `Timeout` a `TimeoutError`), made here from the Rust errors with the
//! messages the CLI prints.

use advkit_ipc::api::RpcError as WireError;
use advkit_ipc::client::ClientError;
use advkit_ipc::{OpenError, ReadError};
use pyo3::prelude::*;

use crate::convert::to_py;

/// The exception classes of `advkit.errors`.
#[derive(Clone, Copy, Debug)]
pub enum Class {
    AdvkitError,
    NotRunning,
    Timeout,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::AdvkitError => "AdvkitError",
            Class::NotRunning => "NotRunning",
            Class::Timeout => "Timeout",
        }
    }
}

/// `advkit.errors.<class>(message)` as a Python exception.
pub fn error(py: Python<'_>, class: Class, message: impl Into<String>) -> PyErr {
    match py
        .import("advkit.errors")
        .and_then(|m| m.getattr(class.name()))
        .and_then(|c| c.call1((message.into(),)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// `advkit.errors.RpcError(code, message, data)`.
pub fn rpc_error(py: Python<'_>, e: &WireError) -> PyErr {
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

pub fn client_error(py: Python<'_>, e: ClientError) -> PyErr {
    match e {
        ClientError::Rpc(rpc) => rpc_error(py, &rpc),
        ClientError::NoEngine { .. } => error(py, Class::NotRunning, e.to_string()),
        ClientError::Timeout(_) => error(py, Class::Timeout, e.to_string()),
        other => error(py, Class::AdvkitError, other.to_string()),
    }
}

pub fn read_error(py: Python<'_>, e: ReadError) -> PyErr {
    match e {
        ReadError::WriterGone { .. } => error(py, Class::NotRunning, e.to_string()),
        ReadError::Timeout { .. } => error(py, Class::Timeout, e.to_string()),
        other => error(py, Class::AdvkitError, other.to_string()),
    }
}

pub fn open_error(py: Python<'_>, e: OpenError) -> PyErr {
    match e {
        OpenError::NotRunning { .. } => error(py, Class::NotRunning, e.to_string()),
        e => error(py, Class::AdvkitError, e.to_string()),
    }
}
