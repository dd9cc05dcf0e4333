//! PNG encoding and decoding in memory (no files: the caller does the I/O).

use std::io::Cursor;

use crate::frame::{Frame, Size};

/// How hard to compress. A 1080p frame took ≈18 ms with `Fast` and ≈770 ms
/// with the default level on the reference machine, so snapshots and
/// goldens use `Fast`; `Best` is for files that are written once and kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    #[default]
    Fast,
    Best,
}

#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error("could not encode PNG: {0}")]
    Encode(#[from] png::EncodingError),
    #[error("not a readable PNG: {0}")]
    Decode(#[from] png::DecodingError),
    #[error("unsupported PNG: {0}")]
    Unsupported(String),
}

/// Encodes an RGBA8 frame as PNG bytes. Deterministic: the same frame gives the same bytes.
pub fn encode_png(frame: &Frame, compression: Compression) -> Result<Vec<u8>, PngError> {
    let mut out = Vec::with_capacity(frame.pixels().len() / 4);
    {
        let mut enc = png::Encoder::new(&mut out, frame.width(), frame.height());
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        match compression {
            Compression::Fast => {
                enc.set_compression(png::Compression::Fast);
                enc.set_filter(png::Filter::Up);
            }
            Compression::Best => {
                enc.set_compression(png::Compression::High);
                enc.set_filter(png::Filter::Adaptive);
            }
        }
        let mut writer = enc.write_header()?;
        writer.write_image_data(frame.pixels())?;
        writer.finish()?;
    }
    Ok(out)
}

/// Decodes PNG bytes of any common colour type into an RGBA8 frame.
pub fn decode_png(bytes: &[u8]) -> Result<Frame, PngError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let (width, height) = {
        let info = reader.info();
        (info.width, info.height)
    };
    let size = Size::new(width, height).map_err(PngError::Unsupported)?;
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or_else(|| PngError::Unsupported("image too large".into()))?
    ];
    let info = reader.next_frame(&mut buf)?;
    let data = &buf[..info.buffer_size()];
    let pixels: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => data.to_vec(),
        png::ColorType::Rgb => data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => data
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => data.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => {
            return Err(PngError::Unsupported(
                "indexed colour was not expanded".into(),
            ));
        }
    };
    Frame::from_pixels(size, pixels)
        .ok_or_else(|| PngError::Unsupported("pixel data does not match the image size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_lossless() {
        let size = Size::new(7, 3).expect("valid");
        let pixels: Vec<u8> = (0..size.byte_len()).map(|i| (i * 37 % 251) as u8).collect();
        let frame = Frame::from_pixels(size, pixels).expect("matching length");
        for c in [Compression::Fast, Compression::Best] {
            let bytes = encode_png(&frame, c).expect("encode");
            assert_eq!(decode_png(&bytes).expect("decode"), frame);
        }
    }

    #[test]
    fn junk_is_an_error() {
        assert!(decode_png(b"not a png").is_err());
    }
}
