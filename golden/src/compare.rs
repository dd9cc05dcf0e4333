//! Comparing two frames: exactly, within a tolerance (per channel, in
//! pixels or a share of them), or perceptually; and the diff heat map.

use serde::{Deserialize, Serialize};

use advkit_core::{Frame, Size};

use crate::perceptual;

/// How different two frames may be and still match. The default is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    /// A pixel differs when any channel differs by more than this.
    #[serde(default)]
    pub max_diff: u8,
    /// How many pixels may differ.
    #[serde(default)]
    pub max_pixels: u64,
    /// The share of the frame's pixels that may differ (0 to 1), for
    /// captures of any size; the larger of this and `max_pixels` counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ratio: Option<f64>,
    /// Perceptual comparison, pixelmatch's (0 to 1; 0.1 is its default):
    /// a pixel counts as differing only when its YIQ colour distance is
    /// more than this share of the largest, and it is not anti-aliasing
    /// (a pixel between a darker and a brighter neighbour on an edge, by
    /// Vysniauskas 2009). An edge anti-aliased a little differently
    /// passes; a sprite in another place does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perceptual: Option<f64>,
}

impl Tolerance {
    pub fn is_exact(&self) -> bool {
        *self == Tolerance::default()
    }

    /// What a scenario may say: ratios and SSIM between 0 and 1.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("max_ratio", self.max_ratio),
            ("perceptual", self.perceptual),
        ] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(format!(
                    "tolerance: {name} is {v}; give a number from 0 to 1"
                ));
            }
        }
        Ok(())
    }

    /// Pixels that may differ in a frame of `total` pixels.
    pub fn allowed(&self, total: u64) -> u64 {
        let share = self
            .max_ratio
            .map_or(0, |r| (r * total as f64).floor() as u64);
        self.max_pixels.max(share)
    }
}

/// The outcome of comparing two frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Pixels whose largest channel difference exceeds the tolerance
    /// (outside the masks).
    pub differing: u64,
    /// Pixels that differ, but by no more than the tolerance's `max_diff`.
    pub tolerated: u64,
    /// Differing pixels inside a mask, not counted.
    pub masked: u64,
    /// The largest channel difference anywhere outside the masks.
    pub max_diff: u8,
    /// Bounding box of the differing pixels: (x0, y0, x1, y1), inclusive.
    pub bbox: Option<(u32, u32, u32, u32)>,
    /// Set when the sizes differ (then nothing else is compared).
    pub size_mismatch: Option<(Size, Size)>,
    pub tolerance: Tolerance,
    /// The frame's pixels.
    pub total: u64,
    /// With `perceptual`: differing pixels excused as anti-aliasing (or
    /// as too close in colour to see), counted in `tolerated` too.
    pub antialiased: u64,
}

impl Comparison {
    pub fn passes(&self) -> bool {
        self.size_mismatch.is_none() && self.differing <= self.tolerance.allowed(self.total)
    }

    /// "; perceptual 0.1: 14 pixel(s) anti-aliasing or unseen", when used.
    fn describe_ssim(&self) -> String {
        match self.tolerance.perceptual {
            Some(t) => format!(
                "; perceptual {t}: {} pixel(s) anti-aliasing or too close to see",
                self.antialiased
            ),
            None => String::new(),
        }
    }

    /// Whether the frames are the same outside the masks.
    pub fn identical(&self) -> bool {
        self.size_mismatch.is_none() && self.max_diff == 0
    }

    /// One line for people: "1234 pixels differ (max 87) in 10,20-200,150".
    pub fn describe(&self) -> String {
        if let Some((e, a)) = self.size_mismatch {
            return format!(
                "size {}x{} but the golden is {}x{}",
                a.width, a.height, e.width, e.height
            );
        }
        let place = self
            .bbox
            .map(|(x0, y0, x1, y1)| format!(" in {x0},{y0}-{x1},{y1}"))
            .unwrap_or_default();
        let tolerated = if self.tolerated > 0 {
            format!("; {} more within the tolerance", self.tolerated)
        } else {
            String::new()
        };
        format!(
            "{} pixel(s) differ by more than {} (largest difference {}, allowed {} pixel(s)){place}{tolerated}{}{}",
            self.differing,
            self.tolerance.max_diff,
            self.max_diff,
            self.tolerance.allowed(self.total),
            self.describe_ssim(),
            self.describe_masked()
        )
    }

    /// What a pass let through, for a pass that was not exact: "within
    /// tolerance: 12 pixel(s) differ by at most 1 (allowed: 2 per channel,
    /// 64 pixel(s))". Empty for an exact match.
    pub fn describe_pass(&self) -> String {
        if self.identical() {
            return if self.masked > 0 {
                format!("identical{}", self.describe_masked())
            } else {
                String::new()
            };
        }
        format!(
            "within tolerance: {} pixel(s) differ by more than {} (allowed {}), {} more by at most {}; largest difference {}{}{}",
            self.differing,
            self.tolerance.max_diff,
            self.tolerance.allowed(self.total),
            self.tolerated,
            self.tolerance.max_diff,
            self.max_diff,
            self.describe_ssim(),
            self.describe_masked()
        )
    }

    fn describe_masked(&self) -> String {
        if self.masked > 0 {
            format!("; {} differing pixel(s) masked", self.masked)
        } else {
            String::new()
        }
    }
}

/// Rectangles `[x, y, w, h]` left out of a comparison.
fn in_masks(masks: &[[u32; 4]], x: u32, y: u32) -> bool {
    masks
        .iter()
        .any(|&[mx, my, w, h]| x >= mx && y >= my && x - mx < w && y - my < h)
}

/// Compares `actual` with `expected` outside `masks`. Identical buffers
/// take a fast path (one memcmp); otherwise every pixel's largest channel
/// difference is measured against `tolerance.max_diff`.
pub fn compare(
    expected: &Frame,
    actual: &Frame,
    tolerance: Tolerance,
    masks: &[[u32; 4]],
) -> Comparison {
    let mut c = Comparison {
        differing: 0,
        tolerated: 0,
        masked: 0,
        max_diff: 0,
        bbox: None,
        size_mismatch: None,
        tolerance,
        total: u64::from(actual.width()) * u64::from(actual.height()),
        antialiased: 0,
    };
    if expected.size() != actual.size() {
        c.size_mismatch = Some((expected.size(), actual.size()));
        return c;
    }
    if expected.pixels() == actual.pixels() {
        return c;
    }
    let perceptual = tolerance
        .perceptual
        .map(|t| perceptual::Perceptual::new(expected, actual, t));
    let w = expected.width() as usize;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
    for (row, (e_row, a_row)) in expected
        .pixels()
        .chunks_exact(w * 4)
        .zip(actual.pixels().chunks_exact(w * 4))
        .enumerate()
    {
        if e_row == a_row {
            continue;
        }
        // 16 pixels (one cache line) at a time: equal blocks, the common
        // case, cost one vectorised compare.
        for (block, (eb, ab)) in e_row.chunks(64).zip(a_row.chunks(64)).enumerate() {
            if eb == ab {
                continue;
            }
            let (e_px, _) = eb.as_chunks::<4>();
            let (a_px, _) = ab.as_chunks::<4>();
            for (i, (e, a)) in e_px.iter().zip(a_px).enumerate() {
                if e == a {
                    continue;
                }
                let (x, y) = ((block * 16 + i) as u32, row as u32);
                if in_masks(masks, x, y) {
                    c.masked += 1;
                    continue;
                }
                let d = channel_diff(e, a);
                c.max_diff = c.max_diff.max(d);
                if d > tolerance.max_diff
                    && let Some(p) = &perceptual
                    && !p.differs(x, y)
                {
                    c.antialiased += 1;
                    c.tolerated += 1;
                } else if d > tolerance.max_diff {
                    c.differing += 1;
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                } else {
                    c.tolerated += 1;
                }
            }
        }
    }
    if c.differing > 0 {
        c.bbox = Some((x0, y0, x1, y1));
    }
    c
}

/// A heat map of the difference: matching pixels are a dim grey copy of
/// the expected frame; differing ones run from dark red (small) to yellow
/// and white (large), so a person sees at once where and how much. Pixels
/// that differ within `tolerance` are blue instead, and masked areas are
/// hatched over a dim copy of the actual frame (still visible, not
/// compared).
pub fn diff_image(
    expected: &Frame,
    actual: &Frame,
    tolerance: Tolerance,
    masks: &[[u32; 4]],
) -> Frame {
    let size = actual.size();
    let mut out = Frame::new(size);
    if expected.size() != size {
        // Nothing to line up: show the actual frame dimmed.
        for (o, a) in out
            .pixels_mut()
            .chunks_exact_mut(4)
            .zip(actual.pixels().chunks_exact(4))
        {
            let l = luma(a) / 3;
            o.copy_from_slice(&[l, l, l, 255]);
        }
        return out;
    }
    let w = size.width as usize;
    for (i, ((o, e), a)) in out
        .pixels_mut()
        .chunks_exact_mut(4)
        .zip(expected.pixels().chunks_exact(4))
        .zip(actual.pixels().chunks_exact(4))
        .enumerate()
    {
        let (x, y) = ((i % w) as u32, (i / w) as u32);
        let d = channel_diff(e, a);
        if !masks.is_empty() && in_masks(masks, x, y) {
            // Hatched: diagonal stripes of violet over the dimmed actual.
            let l = luma(a) / 3;
            if (x + y) / 3 % 2 == 0 {
                o.copy_from_slice(&[l / 2 + 90, l / 2 + 40, l / 2 + 120, 255]);
            } else {
                o.copy_from_slice(&[l, l, l, 255]);
            }
        } else if d == 0 {
            let l = luma(e) / 4;
            o.copy_from_slice(&[l, l, l, 255]);
        } else if d <= tolerance.max_diff {
            o.copy_from_slice(&[40, 110, 230, 255]);
        } else {
            // 1..255 → red ramps up first, then green, then blue.
            let t = u32::from(d).max(1) * 3;
            let r = (96 + t).min(255) as u8;
            let g = t.saturating_sub(160).min(255) as u8;
            let b = t.saturating_sub(480).min(255) as u8;
            o.copy_from_slice(&[r, g, b, 255]);
        }
    }
    out
}

/// The largest difference between two pixels in any channel.
fn channel_diff(e: &[u8], a: &[u8]) -> u8 {
    e.iter()
        .zip(a)
        .map(|(p, q)| p.abs_diff(*q))
        .max()
        .unwrap_or(0)
}

fn luma(p: &[u8]) -> u8 {
    ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8
}
