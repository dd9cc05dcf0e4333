//! What `Host.publish` takes: a buffer checked to hold one frame
//! ([`pixels`], refusals that name the fix) and the order of its bytes
//! ([`Order`]), reordered to RGBA on the way into the frame region.

use advkit_ipc::region::{PixelOrder, RawSrc};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A frame's pixels as handed to `publish`: RGBA bytes, or RGBA packed in
/// uint32s (`rgba.view(numpy.uint32)`: each in memory order R, G, B, A).
pub(crate) enum Pixels {
    Bytes(PyBuffer<u8>),
    Packed(PyBuffer<u32>),
}

/// Checks that `obj` holds one `width` × `height` RGBA frame, rows one
/// after another; the message of a refusal names the fix.
pub(crate) fn pixels(obj: &Bound<'_, PyAny>, width: u32, height: u32) -> PyResult<Pixels> {
    let (w, h) = (width as usize, height as usize);
    let got = match PyBuffer::<u8>::get(obj) {
        Ok(b) => Pixels::Bytes(b),
        Err(_) => match PyBuffer::<u32>::get(obj) {
            Ok(b) => Pixels::Packed(b),
            Err(_) => return Err(not_bytes(obj)),
        },
    };
    let (shape, contiguous, per_pixel) = match &got {
        Pixels::Bytes(b) => (b.shape().to_vec(), b.is_c_contiguous(), 4),
        Pixels::Packed(b) => (b.shape().to_vec(), b.is_c_contiguous(), 1),
    };
    if !contiguous {
        return Err(PyValueError::new_err(
            "pixels must be C-contiguous (rows one after another in memory); a slice or a \
             transpose is a view: pass numpy.ascontiguousarray(pixels)",
        ));
    }
    let fits = match shape.as_slice() {
        [n] => *n == w * h * per_pixel,
        [rows, cols] => *rows == h && *cols == w * per_pixel,
        [rows, cols, 4] if per_pixel == 4 => *rows == h && *cols == w,
        _ => false,
    };
    if fits {
        return Ok(got);
    }
    let dims = shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let message = match (shape.as_slice(), per_pixel) {
        ([rows, cols, 4], 4) | ([rows, cols], 1) if *rows == w && *cols == h && w != h => format!(
            "pixels have shape ({dims}): width and height swapped. Images are (height, width{}) \
             = ({h}, {w}{}): draw into that shape, or pass numpy.ascontiguousarray(a.swapaxes(0, 1))",
            if per_pixel == 4 { ", 4" } else { "" },
            if per_pixel == 4 { ", 4" } else { "" },
        ),
        ([rows, cols, 3], 4) if *rows == h && *cols == w => format!(
            "pixels have shape ({dims}): RGB without alpha. advkit takes RGBA ({h}, {w}, 4): add \
             an alpha channel (numpy.dstack((rgb, numpy.full(({h}, {w}), 255, numpy.uint8))))"
        ),
        ([n], 4) => format!(
            "pixels hold {n} bytes, but a {w}x{h} RGBA frame is {} (width x height x 4)",
            w * h * 4
        ),
        ([n], _) => format!(
            "pixels hold {n} uint32s, but a {w}x{h} frame packed in uint32 is {} (width x height)",
            w * h
        ),
        _ if per_pixel == 4 => format!(
            "pixels have shape ({dims}), but a {w}x{h} frame is ({h}, {w}, 4) uint8, or {} bytes \
             in a row",
            w * h * 4
        ),
        _ => format!(
            "pixels have shape ({dims}), but a {w}x{h} frame packed in uint32 is ({h}, {w}), or \
             {} of them in a row",
            w * h
        ),
    };
    Err(PyValueError::new_err(message))
}

/// The order of a pixel's four bytes in memory, as `publish` is given
/// them: `RGBA` (advkit's own), or SDL's and most surfaces' `BGRA`;
/// `…X` when the fourth byte is not alpha (the frame is opaque).
pub(crate) fn order(name: &str) -> PyResult<PixelOrder> {
    Ok(match name {
        "RGBA" => PixelOrder::Rgba,
        "RGBX" => PixelOrder::Rgbx,
        "BGRA" => PixelOrder::Bgra,
        "BGRX" => PixelOrder::Bgrx,
        other => {
            return Err(PyValueError::new_err(format!(
                "order {other:?} is not one of RGBA, RGBX, BGRA, BGRX (the bytes of a pixel, \
                 in memory order; X: not alpha, the frame is opaque)"
            )));
        }
    })
}

/// The bytes exported by `buf`, to be read through its raw pointer: never
/// a Rust slice over memory another native thread may be writing (as with
/// C's `memcpy` from it).
pub(crate) fn raw<'a>(buf: &'a PyBuffer<u8>) -> RawSrc<'a> {
    #[allow(unsafe_code)]
    // SAFETY: the export holds len_bytes() bytes, kept alive and unmoved
    // while `buf` (borrowed for 'a) lives.
    unsafe {
        RawSrc::new(buf.buf_ptr().cast::<u8>().cast_const(), buf.len_bytes())
    }
}

/// The refusal of a buffer of neither bytes nor uint32s (or of no buffer).
fn not_bytes(obj: &Bound<'_, PyAny>) -> PyErr {
    let py = obj.py();
    let format = py
        .import("builtins")
        .and_then(|b| b.getattr("memoryview"))
        .and_then(|m| m.call1((obj,)))
        .and_then(|v| v.getattr("format"))
        .and_then(|f| f.extract::<String>());
    let kind = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    // NumPy names its dtype; any buffer has a struct format.
    let items = obj
        .getattr("dtype")
        .and_then(|d| d.str())
        .map(|d| d.to_string());
    match format {
        Ok(format) => PyTypeError::new_err(format!(
            "pixels must be uint8 RGBA (or uint32 packed RGBA, as rgba.view(numpy.uint32) gives), \
             but this {kind} holds {} (buffer format '{format}'): convert with \
             numpy.clip(a, 0, 255).astype(numpy.uint8) (floats in 0..1: (a * 255))",
            items.unwrap_or_else(|_| "other items".into())
        )),
        Err(_) => PyTypeError::new_err(format!(
            "pixels must be a buffer of bytes (bytes, bytearray, memoryview, a uint8 NumPy \
             array), not {kind}"
        )),
    }
}
