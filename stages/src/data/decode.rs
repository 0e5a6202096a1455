//! Decoding, colour conversion and resizing of one image to the stored
//! [channels, size, size] u8 layout.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, RgbImage};

use super::sources::Content;

/// Decodes `content` to `channels` (1 or 3) × `size` × `size` u8, channels
/// first. Err carries the decoder's reason.
pub(crate) fn to_chw(content: &Content, channels: u32, size: u32) -> Result<Vec<u8>, String> {
    let img: DynamicImage = match content {
        Content::Encoded(bytes) => image::load_from_memory(bytes).map_err(|e| e.to_string())?,
        Content::Pixels { h, w, c, data } => {
            let (w32, h32) = (*w as u32, *h as u32);
            if *c == 1 {
                GrayImage::from_raw(w32, h32, data.clone())
                    .map(DynamicImage::ImageLuma8)
                    .ok_or("pixel buffer has the wrong length")?
            } else {
                RgbImage::from_raw(w32, h32, data.clone())
                    .map(DynamicImage::ImageRgb8)
                    .ok_or("pixel buffer has the wrong length")?
            }
        }
    };
    let same = img.width() == size && img.height() == size;
    let plane = (size * size) as usize;
    if channels == 1 {
        let g = img.to_luma8();
        let g = if same {
            g
        } else {
            image::imageops::resize(&g, size, size, FilterType::Triangle)
        };
        Ok(g.into_raw())
    } else {
        let rgb = img.to_rgb8();
        let rgb = if same {
            rgb
        } else {
            image::imageops::resize(&rgb, size, size, FilterType::Triangle)
        };
        let raw = rgb.into_raw();
        let mut out = vec![0u8; 3 * plane];
        for (p, px) in raw.chunks_exact(3).enumerate() {
            out[p] = px[0];
            out[plane + p] = px[1];
            out[2 * plane + p] = px[2];
        }
        Ok(out)
    }
}

/// Decodes `content` to an image, upright: the EXIF orientation of an
/// encoded file (JPEG, PNG `eXIf`, TIFF) is applied, so a scan saved rotated
/// with an orientation tag compares equal to an upright copy. Err carries the
/// decoder's reason.
pub(crate) fn to_upright_image(content: &Content) -> Result<DynamicImage, String> {
    match content {
        Content::Encoded(bytes) => {
            let mut decoder = ImageReader::new(Cursor::new(bytes.as_slice()))
                .with_guessed_format()
                .map_err(|e| e.to_string())?
                .into_decoder()
                .map_err(|e| e.to_string())?;
            let orientation = decoder.orientation().map_err(|e| e.to_string())?;
            let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
            img.apply_orientation(orientation);
            Ok(img)
        }
        Content::Pixels { h, w, c, data } => {
            let (w32, h32) = (*w as u32, *h as u32);
            let img = if *c == 1 {
                GrayImage::from_raw(w32, h32, data.clone()).map(DynamicImage::ImageLuma8)
            } else {
                RgbImage::from_raw(w32, h32, data.clone()).map(DynamicImage::ImageRgb8)
            };
            img.ok_or_else(|| "pixel buffer has the wrong length".to_string())
        }
    }
}
