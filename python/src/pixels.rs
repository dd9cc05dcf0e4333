//! What `Host.publish` takes: a buffer checked to hold one frame
//! ([`pixels`], refusals that name the fix) and the order of its bytes
//! ([`Order`]), reordered to RGBA on the way into the frame region.

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Rgba,
    Rgbx,
    Bgra,
    Bgrx,
}

impl Order {
    pub(crate) fn parse(name: &str) -> PyResult<Order> {
        Ok(match name {
            "RGBA" => Order::Rgba,
            "RGBX" => Order::Rgbx,
            "BGRA" => Order::Bgra,
            "BGRX" => Order::Bgrx,
            other => {
                return Err(PyValueError::new_err(format!(
                    "order {other:?} is not one of RGBA, RGBX, BGRA, BGRX (the bytes of a pixel, \
                     in memory order; X: not alpha, the frame is opaque)"
                )));
            }
        })
    }

    /// Writes `src`'s pixels (whole, in this order) to `dst` as RGBA.
    pub(crate) fn to_rgba(self, src: &[u8], dst: &mut [u8]) {
        let (from, _) = src.as_chunks::<4>();
        self.convert(dst, |i| from[i]);
    }

    /// Writes the pixels of `buf` (an export holding exactly `dst.len()`
    /// bytes, checked by `pixels`) to `dst` as RGBA, read through the
    /// export's raw pointer: never a Rust slice over memory another native
    /// thread may be writing, as with C's `memcpy` from it.
    pub(crate) fn buffer_to_rgba(self, buf: &PyBuffer<u8>, dst: &mut [u8]) {
        assert_eq!(
            buf.len_bytes(),
            dst.len(),
            "pixels checked to fit the frame"
        );
        let src = buf.buf_ptr().cast::<[u8; 4]>().cast_const();
        #[allow(unsafe_code)]
        // SAFETY: `i` < dst.len() / 4 = len_bytes / 4, so every read is
        // inside the export, which `buf` keeps alive and unmoved; reads
        // are unaligned, through the raw pointer.
        self.convert(dst, |i| unsafe { src.add(i).read_unaligned() });
    }

    /// `dst` as RGBA, its pixel `i` made from `pixel(i)`: a pixel is one
    /// little-endian word, one loop per order (so each vectorises).
    fn convert(self, dst: &mut [u8], pixel: impl Fn(usize) -> [u8; 4]) {
        fn each(to: &mut [[u8; 4]], pixel: impl Fn(usize) -> [u8; 4], f: impl Fn(u32) -> u32) {
            for (i, o) in to.iter_mut().enumerate() {
                *o = f(u32::from_le_bytes(pixel(i))).to_le_bytes();
            }
        }
        let (to, _) = dst.as_chunks_mut::<4>();
        let swap = |v: u32| (v & 0xff00_ff00) | ((v >> 16) & 0xff) | ((v & 0xff) << 16);
        match self {
            Order::Rgba => each(to, pixel, |v| v),
            Order::Rgbx => each(to, pixel, |v| v | 0xff00_0000),
            Order::Bgra => each(to, pixel, swap),
            Order::Bgrx => each(to, pixel, |v| swap(v) | 0xff00_0000),
        }
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
