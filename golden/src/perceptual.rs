//! pixelmatch's perceptual comparison of two frames (mapbox/pixelmatch,
//! written here on advkit's frames: the crate of that name pulls in the
//! `image` crate and reads PNG streams): a pixel differs to the eye when
//! its YIQ colour distance is large enough and it is not anti-aliasing.

use advkit_core::Frame;

/// pixelmatch's perceptual test of one pixel (mapbox/pixelmatch, after
/// Kotsarenko and Ramos 2010 for the YIQ distance and Vysniauskas 2009
/// for anti-aliasing), on two frames of the same size.
pub(crate) struct Perceptual<'a> {
    a: &'a Frame,
    b: &'a Frame,
    /// The largest YIQ distance that is not a difference.
    max_delta: f64,
}

impl<'a> Perceptual<'a> {
    pub(crate) fn new(a: &'a Frame, b: &'a Frame, threshold: f64) -> Perceptual<'a> {
        // 35215 is the largest possible YIQ distance.
        Perceptual {
            a,
            b,
            max_delta: 35215.0 * threshold * threshold,
        }
    }

    /// Whether pixel (x, y) differs to the eye: far enough in colour, and
    /// not anti-aliasing in either frame.
    pub(crate) fn differs(&self, x: u32, y: u32) -> bool {
        let (pa, pb) = (px(self.a, x, y), px(self.b, x, y));
        color_delta(pa, pb, false).abs() > self.max_delta
            && !antialiased(self.a, self.b, x, y)
            && !antialiased(self.b, self.a, x, y)
    }
}

fn px(f: &Frame, x: u32, y: u32) -> [u8; 4] {
    let at = (y as usize * f.width() as usize + x as usize) * 4;
    let p = &f.pixels()[at..at + 4];
    [p[0], p[1], p[2], p[3]]
}

/// The squared YIQ distance between two colours (blended over white by
/// their alpha), negative when the second is brighter; with `y_only`, the
/// brightness difference alone.
fn color_delta(p: [u8; 4], q: [u8; 4], y_only: bool) -> f64 {
    if p == q {
        return 0.0;
    }
    let rgb = |c: [u8; 4]| {
        let a = f64::from(c[3]) / 255.0;
        let blend = |v: u8| 255.0 + (f64::from(v) - 255.0) * a;
        (blend(c[0]), blend(c[1]), blend(c[2]))
    };
    let ((r1, g1, b1), (r2, g2, b2)) = (rgb(p), rgb(q));
    let y = |r: f64, g: f64, b: f64| r * 0.298_895_31 + g * 0.586_622_47 + b * 0.114_482_23;
    let (y1, y2) = (y(r1, g1, b1), y(r2, g2, b2));
    if y_only {
        return y1 - y2;
    }
    let i = |r: f64, g: f64, b: f64| r * 0.595_977_99 - g * 0.274_176_1 - b * 0.321_801_89;
    let q = |r: f64, g: f64, b: f64| r * 0.211_470_17 - g * 0.522_617_11 + b * 0.311_146_94;
    let (dy, di, dq) = (
        y1 - y2,
        i(r1, g1, b1) - i(r2, g2, b2),
        q(r1, g1, b1) - q(r2, g2, b2),
    );
    let delta = 0.5053 * dy * dy + 0.299 * di * di + 0.1957 * dq * dq;
    if y1 > y2 { -delta } else { delta }
}

/// The 3x3 neighbourhood of (x, y), clipped to the frame, and whether the
/// pixel is on the frame's edge.
fn neighbours(f: &Frame, x: u32, y: u32) -> (impl Iterator<Item = (u32, u32)>, bool) {
    let (w, h) = (f.width(), f.height());
    let (x0, y0, x1, y1) = (
        x.saturating_sub(1),
        y.saturating_sub(1),
        (x + 1).min(w - 1),
        (y + 1).min(h - 1),
    );
    let edge = x == x0 || x == x1 || y == y0 || y == y1;
    let around = (y0..=y1)
        .flat_map(move |ny| (x0..=x1).map(move |nx| (nx, ny)))
        .filter(move |&(nx, ny)| (nx, ny) != (x, y));
    (around, edge)
}

/// Whether (x, y) of `img` is an anti-aliased pixel: at most two of its
/// neighbours share its colour, it lies between a darker and a brighter
/// one, and one of those two sits in a flat area (three or more equal
/// neighbours) in both frames.
fn antialiased(img: &Frame, other: &Frame, x: u32, y: u32) -> bool {
    let center = px(img, x, y);
    let (around, edge) = neighbours(img, x, y);
    let mut zeroes = u32::from(edge);
    let (mut min, mut max) = (0.0f64, 0.0f64);
    let (mut darkest, mut brightest) = ((x, y), (x, y));
    for (nx, ny) in around {
        let delta = color_delta(center, px(img, nx, ny), true);
        if delta == 0.0 {
            zeroes += 1;
            if zeroes > 2 {
                return false;
            }
        } else if delta < min {
            min = delta;
            darkest = (nx, ny);
        } else if delta > max {
            max = delta;
            brightest = (nx, ny);
        }
    }
    if min == 0.0 || max == 0.0 {
        return false;
    }
    let flat = |f: &Frame, (x, y): (u32, u32)| {
        let center = px(f, x, y);
        let (around, edge) = neighbours(f, x, y);
        let mut zeroes = u32::from(edge);
        for (nx, ny) in around {
            if px(f, nx, ny) == center {
                zeroes += 1;
                if zeroes > 2 {
                    return true;
                }
            }
        }
        false
    };
    (flat(img, darkest) && flat(other, darkest)) || (flat(img, brightest) && flat(other, brightest))
}
