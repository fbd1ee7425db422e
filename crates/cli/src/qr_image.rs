//! Reading an invitation code from a PNG image of its QR code (`join --qr FILE.png`).
//!
//! A screenshot of the app's invite dialog or a photo of it: decoded with `png`, turned into
//! grey levels, and handed to `rqrr`. Nothing else in the image is looked at.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Largest image accepted, in pixels per side (a phone photo is ~4,000).
const MAX_SIDE: u32 = 8_000;

/// The text of the first QR code in the PNG image at `path`.
pub fn read_code(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let text = decode(std::io::BufReader::new(file))
        .with_context(|| format!("{}: no invitation QR code could be read", path.display()))?;
    Ok(text)
}

fn decode(reader: impl std::io::BufRead + std::io::Seek) -> Result<String> {
    let mut decoder = png::Decoder::new(reader);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().context("not a PNG image")?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w > MAX_SIDE || h > MAX_SIDE {
        bail!("the image is larger than {MAX_SIDE}×{MAX_SIDE} pixels");
    }
    let size = reader
        .output_buffer_size()
        .context("the image is too large")?;
    let mut buf = vec![0u8; size];
    let frame = reader.next_frame(&mut buf).context("a damaged PNG image")?;
    let channels = frame.color_type.samples();
    let line = frame.line_size;
    let grey = |x: usize, y: usize| -> u8 {
        let px = &buf[y * line + x * channels..];
        match channels {
            1 | 2 => px[0],
            // Luma from RGB (ITU-R BT.601), alpha ignored.
            _ => {
                ((u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114) / 1000)
                    as u8
            }
        }
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, grey);
    for grid in img.detect_grids() {
        if let Ok((_, text)) = grid.decode() {
            return Ok(text);
        }
    }
    bail!("no QR code found in the image")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_png_is_an_error_not_a_panic() {
        assert!(decode(std::io::Cursor::new(b"hello".to_vec())).is_err());
    }
}
