//! Area-average downsampling: every source pixel counts towards the output
//! pixel it falls in. Used for `frame.snapshot`'s `scale` and for drawing
//! frames in terminal cells. Nearest-neighbour would make every one-pixel
//! camera pan change most output pixels; averaging keeps them steady.

use crate::frame::{Frame, Size};

/// `rgba` (tight, `width` × `height`) averaged down to `out`, rounding to
/// the nearest value per channel. `None` when `rgba` is shorter than the
/// size says or a side is zero. `out` larger than the source repeats pixels.
pub fn downsample(rgba: &[u8], width: u32, height: u32, out: Size) -> Option<Frame> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || rgba.len() < w * h * 4 {
        return None;
    }
    let (out_w, out_h) = (out.width as usize, out.height as usize);
    let mut frame = Frame::new(out);
    let dst = frame.pixels_mut();
    for oy in 0..out_h {
        let y0 = oy * h / out_h;
        let y1 = ((oy + 1) * h / out_h).max(y0 + 1).min(h);
        for ox in 0..out_w {
            let x0 = ox * w / out_w;
            let x1 = ((ox + 1) * w / out_w).max(x0 + 1).min(w);
            let mut acc = [0u32; 4];
            for y in y0..y1 {
                for p in rgba[(y * w + x0) * 4..(y * w + x1) * 4].chunks_exact(4) {
                    for c in 0..4 {
                        acc[c] += u32::from(p[c]);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            let o = (oy * out_w + ox) * 4;
            for c in 0..4 {
                dst[o + c] = ((acc[c] + n / 2) / n) as u8;
            }
        }
    }
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(w: u32, h: u32) -> Size {
        Size::new(w, h).expect("valid")
    }

    #[test]
    fn halving_averages_each_block_of_four() {
        // 4x2: left block is 0/100/200/100 in red, right block all 50.
        let px: Vec<u8> = [0u8, 100, 50, 50, 200, 100, 50, 50]
            .iter()
            .flat_map(|&r| [r, 0, 0, 255])
            .collect();
        let small = downsample(&px, 4, 2, size(2, 1)).expect("fits");
        assert_eq!(small.pixel(0, 0), [100, 0, 0, 255]);
        assert_eq!(small.pixel(1, 0), [50, 0, 0, 255]);
    }

    #[test]
    fn same_size_is_a_copy_and_short_input_is_refused() {
        let px: Vec<u8> = (0..3 * 2 * 4).map(|i| (i * 11) as u8).collect();
        let same = downsample(&px, 3, 2, size(3, 2)).expect("fits");
        assert_eq!(same.pixels(), &px[..]);
        assert!(downsample(&px[..10], 3, 2, size(1, 1)).is_none());
        assert!(downsample(&px, 0, 2, size(1, 1)).is_none());
    }
}
