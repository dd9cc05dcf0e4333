//! The RGBA8 framebuffer the renderer draws into, and its content hash.

use std::fmt;
use std::str::FromStr;

/// Width and height of a frame, in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// The largest frame advkit will draw: 8K, about 132 MB of pixels.
    pub const MAX: Size = Size {
        width: 7680,
        height: 4320,
    };
    pub const DEFAULT: Size = Size {
        width: 320,
        height: 180,
    };

    pub fn new(width: u32, height: u32) -> Result<Size, String> {
        if width == 0 || height == 0 {
            return Err(format!("frame size {width}x{height} has no pixels"));
        }
        if width > Size::MAX.width || height > Size::MAX.height {
            return Err(format!(
                "frame size {width}x{height} is larger than the maximum {}x{}",
                Size::MAX.width,
                Size::MAX.height
            ));
        }
        Ok(Size { width, height })
    }

    pub fn pixel_count(self) -> usize {
        self.width as usize * self.height as usize
    }

    pub fn byte_len(self) -> usize {
        self.pixel_count() * 4
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (w, h) = s
            .split_once(['x', 'X', '×'])
            .ok_or_else(|| format!("size `{s}` should look like WIDTHxHEIGHT, e.g. 320x180"))?;
        let parse = |v: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("size `{s}` should look like WIDTHxHEIGHT, e.g. 320x180"))
        };
        Size::new(parse(w)?, parse(h)?)
    }
}

/// An RGBA8 image, rows top to bottom, 4 bytes a pixel, no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    size: Size,
    pixels: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("size", &self.size)
            .field("hash", &format_args!("{:016x}", self.hash()))
            .finish()
    }
}

impl Frame {
    /// A black, opaque frame.
    pub fn new(size: Size) -> Frame {
        let mut pixels = vec![0u8; size.byte_len()];
        pixels.chunks_exact_mut(4).for_each(|px| px[3] = 255);
        Frame { size, pixels }
    }

    /// Wraps pixels; `None` if their length does not match the size.
    pub fn from_pixels(size: Size, pixels: Vec<u8>) -> Option<Frame> {
        (pixels.len() == size.byte_len()).then_some(Frame { size, pixels })
    }

    pub fn size(&self) -> Size {
        self.size
    }

    pub fn width(&self) -> u32 {
        self.size.width
    }

    pub fn height(&self) -> u32 {
        self.size.height
    }

    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.pixels
    }

    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.size.width as usize + x as usize) * 4;
        [
            self.pixels[i],
            self.pixels[i + 1],
            self.pixels[i + 2],
            self.pixels[i + 3],
        ]
    }

    /// The content hash of the pixels (XXH3-64): what `advkit render` prints
    /// and what determinism tests pin.
    pub fn hash(&self) -> u64 {
        hash_pixels(&self.pixels)
    }
}

/// XXH3-64 of a pixel buffer. Fast enough (~10 GB/s) to hash every frame.
pub fn hash_pixels(pixels: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(pixels)
}

/// [`hash_pixels`] of rows fed one at a time (a frame whose rows are not
/// contiguous, such as a frame region slot with padded rows): the same
/// hash as of the rows joined.
#[derive(Clone, Default)]
pub struct PixelHasher(xxhash_rust::xxh3::Xxh3);

impl fmt::Debug for PixelHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PixelHasher")
    }
}

impl PixelHasher {
    pub fn new() -> PixelHasher {
        PixelHasher::default()
    }

    pub fn update(&mut self, row: &[u8]) {
        self.0.update(row);
    }

    pub fn finish(&self) -> u64 {
        self.0.digest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hashed_one_at_a_time_hash_as_the_whole_frame() {
        let pixels: Vec<u8> = (0..4000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let mut h = PixelHasher::new();
        for row in pixels.chunks(400) {
            h.update(row);
        }
        assert_eq!(h.finish(), hash_pixels(&pixels));
    }

    #[test]
    fn size_parses_and_refuses_nonsense() {
        assert_eq!("320x180".parse::<Size>(), Ok(Size::DEFAULT));
        assert_eq!(
            "1920X1080".parse::<Size>().map(|s| s.pixel_count()),
            Ok(1920 * 1080)
        );
        assert!("0x10".parse::<Size>().is_err());
        assert!("320".parse::<Size>().is_err());
        assert!("99999x10".parse::<Size>().is_err());
    }

    #[test]
    fn new_frame_is_opaque_black() {
        let f = Frame::new(Size::new(2, 2).expect("valid"));
        assert_eq!(f.pixel(1, 1), [0, 0, 0, 255]);
    }
}
