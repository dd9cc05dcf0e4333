//! Python values to JSON and back: what `Request.reply`, `Host.emit`,
//! `Client.call` and the rest carry.
//!
//! Python to JSON takes None, bool, int (64 bits), float (finite), str,
//! list, tuple and dict with str keys, and NumPy scalars and arrays (as
//! their `tolist()`). A structure nested deeper than [`MAX_DEPTH`], or one
//! that contains itself, is a `ValueError`, never a stack overflow.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value as Json;

/// How deep lists and dicts may nest in a value sent as JSON (the server
/// refuses deeper ones anyway: serde_json reads 128 levels).
pub const MAX_DEPTH: usize = 100;

pub fn to_py(py: Python<'_>, v: &Json) -> PyResult<Py<PyAny>> {
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

/// `obj` as JSON, or a `TypeError`/`ValueError` that says what cannot be
/// sent and why.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Json> {
    Walk { path: Vec::new() }.value(obj)
}

/// The containers being converted, outermost first: their depth, and a
/// container met again inside itself.
struct Walk {
    path: Vec<usize>,
}

impl Walk {
    fn value(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<Json> {
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
            return self.inside(obj, |walk| {
                let mut map = serde_json::Map::new();
                for (k, v) in d.iter() {
                    let key = k.cast::<PyString>().map_err(|_| {
                        PyTypeError::new_err(format!("JSON keys are strings, not {k}"))
                    })?;
                    map.insert(key.to_cow()?.into_owned(), walk.value(&v)?);
                }
                Ok(Json::Object(map))
            });
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            return self.inside(obj, |walk| {
                let items: PyResult<Vec<Json>> = obj.try_iter()?.map(|i| walk.value(&i?)).collect();
                Ok(Json::Array(items?))
            });
        }
        if let Some(plain) = numpy_plain(obj)? {
            return self.value(&plain);
        }
        Err(PyTypeError::new_err(format!(
            "{} cannot be sent as JSON (use None, bool, int, float, str, list, tuple, dict, or a \
             NumPy scalar or array)",
            obj.get_type().name()?
        )))
    }

    /// Converts a container's items with it on the path.
    fn inside(
        &mut self,
        obj: &Bound<'_, PyAny>,
        items: impl FnOnce(&mut Walk) -> PyResult<Json>,
    ) -> PyResult<Json> {
        let id = obj.as_ptr() as usize;
        if self.path.contains(&id) {
            return Err(PyValueError::new_err(format!(
                "a {} that contains itself cannot be sent as JSON",
                obj.get_type().name()?
            )));
        }
        if self.path.len() >= MAX_DEPTH {
            return Err(PyValueError::new_err(format!(
                "nested deeper than {MAX_DEPTH} lists and dicts: too deep to send as JSON"
            )));
        }
        self.path.push(id);
        let out = items(self);
        self.path.pop();
        out
    }
}

/// A NumPy scalar or array as plain Python values (`tolist()`): `None`
/// for anything else. Keyed on the type's module, so NumPy need not be
/// installed.
fn numpy_plain<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let module = obj.get_type().module()?;
    if !module.to_cow()?.starts_with("numpy") || !obj.hasattr("tolist")? {
        return Ok(None);
    }
    let plain = obj.call_method0("tolist")?;
    // A NumPy type whose tolist() gives itself back would loop.
    Ok((!plain.get_type().is(obj.get_type())).then_some(plain))
}
