//! Reading an engine's frames from its frame region: [`FrameReader`],
//! the [`Frame`]s it copies out, and [`FrameInfo`] for a frame read into
//! a buffer of the caller's.
//!
//! Every read is one copy: into a new `bytes` (`read_latest`,
//! `wait_next`) or into a buffer the caller keeps (`read_into`,
//! `wait_next_into`: a bytearray, a NumPy array), written through a raw
//! pointer, never a Rust slice over memory other threads may touch.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use advkit_ipc::{FrameReader as WireReader, RawDest, ReadError, RuntimeDir};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::errors::{Class, error, open_error, read_error};
use crate::{SLICE, Turns};

/// One frame copied out of an engine's frame region.
#[pyclass(module = "advkit._advkit", frozen)]
pub struct Frame {
    #[pyo3(get)]
    width: u32,
    #[pyo3(get)]
    height: u32,
    /// The frame number (1 for the first frame of a session).
    #[pyo3(get)]
    frame: u64,
    /// The engine tick it shows.
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

/// What was read into a buffer of yours (`read_into`, `wait_next_into`).
#[pyclass(module = "advkit._advkit", frozen)]
pub struct FrameInfo {
    #[pyo3(get)]
    width: u32,
    #[pyo3(get)]
    height: u32,
    /// The frame number (1 for the first frame of a session).
    #[pyo3(get)]
    frame: u64,
    /// The engine tick it shows.
    #[pyo3(get)]
    tick: u64,
    /// The writer's checksum of the pixels (docs/frame-region.md).
    #[pyo3(get)]
    checksum: u64,
}

#[pymethods]
impl FrameInfo {
    fn __repr__(&self) -> String {
        format!(
            "<advkit.FrameInfo {}x{} frame {} tick {}>",
            self.width, self.height, self.frame, self.tick
        )
    }
}

/// Reads an engine's frames from its frame region, read-only: the newest,
/// or the next one to be published (sleeping until then, the GIL
/// released). Close it (or leave its `with` block) to unmap the region.
#[pyclass(module = "advkit._advkit", frozen)]
pub struct FrameReader {
    inner: Turns<Option<WireReader>>,
    width: u32,
    height: u32,
}

/// A writable buffer of the caller's, checked to hold exactly one frame.
fn destination(obj: &Bound<'_, PyAny>, width: u32, height: u32) -> PyResult<PyBuffer<u8>> {
    let buf = PyBuffer::<u8>::get(obj).map_err(|_| {
        PyTypeError::new_err(format!(
            "read_into needs a writable buffer of bytes (a bytearray, a uint8 NumPy array of \
             shape ({height}, {width}, 4)), not {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    if buf.readonly() {
        return Err(PyTypeError::new_err(
            "read_into needs a writable buffer (bytes are read-only: use a bytearray or a NumPy \
             array)",
        ));
    }
    if !buf.is_c_contiguous() {
        return Err(PyValueError::new_err(
            "read_into needs a C-contiguous buffer (a slice or a transpose is a view): allocate \
             it with numpy.empty((height, width, 4), numpy.uint8)",
        ));
    }
    let expected = width as usize * height as usize * 4;
    if buf.len_bytes() != expected {
        return Err(PyValueError::new_err(format!(
            "read_into: the buffer holds {} bytes, but a {width}x{height} frame is {expected} \
             (numpy.empty(({height}, {width}, 4), numpy.uint8))",
            buf.len_bytes()
        )));
    }
    Ok(buf)
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
        let inner = py
            .detach(|| WireReader::open(&path))
            .map_err(|e| open_error(py, e))?;
        let g = inner.geometry();
        Ok(FrameReader {
            width: g.width,
            height: g.height,
            inner: Turns::new(Some(inner)),
        })
    }

    #[getter]
    fn width(&self) -> u32 {
        self.width
    }

    #[getter]
    fn height(&self) -> u32 {
        self.height
    }

    /// The newest published frame number (0: none yet).
    #[getter]
    fn latest_frame(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |r| Ok(r.latest_frame()))
    }

    /// A copy of the newest frame.
    fn read_latest(&self, py: Python<'_>) -> PyResult<Frame> {
        self.with(py, |r| {
            r.check_alive().map_err(|e| read_error(py, e))?;
            self.copy_out(py, r)
        })
    }

    /// Copies the newest frame into `buffer` (writable, C-contiguous,
    /// width × height × 4 bytes: a bytearray, or a NumPy array of shape
    /// (height, width, 4) uint8), in one copy with the GIL released.
    fn read_into(&self, py: Python<'_>, buffer: Bound<'_, PyAny>) -> PyResult<FrameInfo> {
        let buf = destination(&buffer, self.width, self.height)?;
        self.with(py, |r| {
            r.check_alive().map_err(|e| read_error(py, e))?;
            self.copy_into(py, r, &buf)
        })
    }

    /// Sleeps until a frame newer than the last one seen (or than `after`)
    /// is published, up to `timeout` seconds, and returns a copy of the
    /// newest; None on timeout. Raises `NotRunning` if the engine goes.
    /// The GIL is released while it sleeps, and Ctrl-C is seen within 0.1 s.
    #[pyo3(signature = (timeout=5.0, *, after=None))]
    fn wait_next(
        &self,
        py: Python<'_>,
        timeout: f64,
        after: Option<u64>,
    ) -> PyResult<Option<Frame>> {
        self.with(py, |r| {
            if !self.wait(py, r, timeout, after)? {
                return Ok(None);
            }
            self.copy_out(py, r).map(Some)
        })
    }

    /// `wait_next`, copying into `buffer` as `read_into` does.
    #[pyo3(signature = (buffer, timeout=5.0, *, after=None))]
    fn wait_next_into(
        &self,
        py: Python<'_>,
        buffer: Bound<'_, PyAny>,
        timeout: f64,
        after: Option<u64>,
    ) -> PyResult<Option<FrameInfo>> {
        let buf = destination(&buffer, self.width, self.height)?;
        self.with(py, |r| {
            if !self.wait(py, r, timeout, after)? {
                return Ok(None);
            }
            self.copy_into(py, r, &buf).map(Some)
        })
    }

    /// Unmaps the region; reads after it raise `AdvkitError`.
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

impl FrameReader {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&WireReader) -> PyResult<R>) -> PyResult<R> {
        let guard = self.inner.lock(py)?;
        let reader = guard
            .as_ref()
            .ok_or_else(|| error(py, Class::AdvkitError, "the frame reader is closed"))?;
        f(reader)
    }

    /// Waits for a frame after `after` (the newest now, if `None`) in
    /// slices, the GIL released, looking for Ctrl-C between them: whether
    /// one came within `timeout` seconds.
    fn wait(
        &self,
        py: Python<'_>,
        r: &WireReader,
        timeout: f64,
        after: Option<u64>,
    ) -> PyResult<bool> {
        let after = after.unwrap_or_else(|| r.latest_frame());
        let timeout = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or_default();
        let started = Instant::now();
        loop {
            let wait = SLICE.min(timeout.saturating_sub(started.elapsed()));
            match py.detach(|| r.wait_next(after, wait)) {
                Ok(_) => return Ok(true),
                Err(ReadError::Timeout { .. }) => {}
                Err(e) => return Err(read_error(py, e)),
            }
            py.check_signals()?;
            if started.elapsed() >= timeout {
                return Ok(false);
            }
        }
    }

    /// The newest frame, copied once into a new `bytes` (made without
    /// zeroing it first: PyO3's `PyBytes::new_with` zeroes, which cost a
    /// third of the read at 720p).
    fn copy_out(&self, py: Python<'_>, r: &WireReader) -> PyResult<Frame> {
        let len = self.width as usize * self.height as usize * 4;
        let size = pyo3::ffi::Py_ssize_t::try_from(len)
            .map_err(|_| PyValueError::new_err("the frame is too large"))?;
        #[allow(unsafe_code)]
        // SAFETY: PyBytes_FromStringAndSize with a null pointer makes a
        // new bytes object of `size` bytes (or returns null with an error
        // set, which from_owned_ptr_or_err turns into that error); we own
        // the only reference.
        let bytes = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), size),
            )?
        };
        #[allow(unsafe_code)]
        // SAFETY: the object is a new bytes of `len` bytes that no one else
        // can see yet (CPython allows filling it in before sharing it);
        // PyBytes_AsString gives its buffer, alive as long as `bytes`,
        // which outlives `raw`.
        let raw = unsafe {
            RawDest::new(
                pyo3::ffi::PyBytes_AsString(bytes.as_ptr()).cast::<u8>(),
                len,
            )
        };
        let mut raw = raw.ok_or_else(|| PyValueError::new_err("no memory for the frame"))?;
        let info = r.read_latest_raw(&mut raw).map_err(|e| read_error(py, e))?;
        Ok(Frame {
            width: self.width,
            height: self.height,
            frame: info.frame,
            tick: info.tick,
            checksum: info.checksum,
            pixels: bytes.cast_into::<PyBytes>()?.unbind(),
        })
    }

    /// The newest frame, copied once into `buf` with the GIL released.
    fn copy_into(&self, py: Python<'_>, r: &WireReader, buf: &PyBuffer<u8>) -> PyResult<FrameInfo> {
        #[allow(unsafe_code)]
        // SAFETY: `destination` checked that `buf` is writable and holds
        // len_bytes() bytes; the buffer export (`buf`) keeps that memory
        // alive and its size fixed until it is released, after `raw` is
        // gone (end of this function).
        let raw = unsafe { RawDest::new(buf.buf_ptr().cast::<u8>(), buf.len_bytes()) };
        let mut raw = raw.ok_or_else(|| PyValueError::new_err("the buffer has no memory"))?;
        let info = py
            .detach(|| r.read_latest_raw(&mut raw))
            .map_err(|e| read_error(py, e))?;
        Ok(FrameInfo {
            width: self.width,
            height: self.height,
            frame: info.frame,
            tick: info.tick,
            checksum: info.checksum,
        })
    }
}
