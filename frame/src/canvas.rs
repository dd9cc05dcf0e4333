//! [`Canvas`]: where a renderer puts its rows. A [`Frame`] is one; the
//! frame region's loaned slot (`advkit_ipc::Loan`) is another, so a
//! renderer written against `Canvas` draws straight into shared memory
//! with no copy of its own.
//!
//! Rows are the unit because a renderer that scales pixel art up produces
//! each distinct row once and repeats it: [`Canvas::copy_row`] lets the
//! target repeat it cheaply (the region also reuses the row's checksum).

use crate::frame::Frame;

/// A `width` × `height` RGBA8 picture written a row at a time.
pub trait Canvas {
    fn width(&self) -> u32;
    fn height(&self) -> u32;

    /// Writes row `y` (`width × 4` bytes). Panics if `y` is out of range
    /// or the row has another length: both are bugs in the renderer.
    fn put_row(&mut self, y: u32, row: &[u8]);

    /// Copies row `from` over row `to` (both already in range).
    fn copy_row(&mut self, from: u32, to: u32);

    /// Row `y` to draw into freely (`width × 4` bytes). A canvas that
    /// keeps per-row state (the region's checksum) pays for this access
    /// with one read of the row when the frame is finished; prefer
    /// [`put_row`](Canvas::put_row) where the row is built elsewhere.
    fn row_mut(&mut self, y: u32) -> &mut [u8];
}

impl Canvas for Frame {
    fn width(&self) -> u32 {
        Frame::width(self)
    }

    fn height(&self) -> u32 {
        Frame::height(self)
    }

    fn put_row(&mut self, y: u32, row: &[u8]) {
        self.row_mut(y).copy_from_slice(row);
    }

    fn copy_row(&mut self, from: u32, to: u32) {
        let stride = Frame::width(self) as usize * 4;
        let start = from as usize * stride;
        self.pixels_mut()
            .copy_within(start..start + stride, to as usize * stride);
    }

    fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let stride = Frame::width(self) as usize * 4;
        &mut self.pixels_mut()[y as usize * stride..][..stride]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Size;

    #[test]
    fn rows_put_copied_and_drawn_land_where_they_should() {
        let mut f = Frame::new(Size::new(2, 3).expect("size"));
        f.put_row(0, &[1, 2, 3, 4, 5, 6, 7, 8]);
        f.copy_row(0, 2);
        f.row_mut(1)[0] = 9;
        assert_eq!(f.pixel(1, 2), [5, 6, 7, 8]);
        assert_eq!(f.pixel(0, 1), [9, 0, 0, 255]);
    }
}
