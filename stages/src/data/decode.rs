//! Decoding (upright, by the EXIF orientation), colour conversion and
//! resizing (pad, crop or stretch to a square) of one image to the stored
//! [channels, size, size] u8 layout.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageBuffer, ImageDecoder, ImageReader, Pixel, RgbImage};
use study::kd::params::ResizeMode;

use super::sources::Content;

/// Decodes `content` upright ([`to_upright_image`]: EXIF orientation
/// applied) to `channels` (1 or 3) × `size` × `size` u8, channels first,
/// made square by `resize` ([`square`]). Err carries the decoder's reason.
pub(crate) fn to_chw(
    content: &Content,
    channels: u32,
    size: u32,
    resize: ResizeMode,
) -> Result<Vec<u8>, String> {
    let img = to_upright_image(content)?;
    if img.width() == 0 || img.height() == 0 {
        return Err(format!("image is {}×{} pixels", img.width(), img.height()));
    }
    let plane = (size * size) as usize;
    if channels == 1 {
        Ok(square(&img.to_luma8(), size, resize).into_raw())
    } else {
        let raw = square(&img.to_rgb8(), size, resize).into_raw();
        let mut out = vec![0u8; 3 * plane];
        for (p, px) in raw.chunks_exact(3).enumerate() {
            out[p] = px[0];
            out[plane + p] = px[1];
            out[2 * plane + p] = px[2];
        }
        Ok(out)
    }
}

/// `img` as `size` × `size` (triangle filter):
/// - `Pad`: the longer side scaled to `size`, the image centred on black (0)
///   (an odd leftover goes to the right / bottom);
/// - `Crop`: the shorter side scaled to `size`, the centre square kept;
/// - `Stretch`: each side scaled to `size`.
pub(crate) fn square<P>(
    img: &ImageBuffer<P, Vec<u8>>,
    size: u32,
    resize: ResizeMode,
) -> ImageBuffer<P, Vec<u8>>
where
    P: Pixel<Subpixel = u8> + 'static,
{
    let (w, h) = img.dimensions();
    if w == size && h == size {
        return img.clone();
    }
    // The other side of a `w`-by-`h` image whose `long` side becomes `to`.
    let scaled = |other: u32, long: u32, to: u32| {
        ((u64::from(other) * u64::from(to) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
    };
    match resize {
        ResizeMode::Stretch => imageops::resize(img, size, size, FilterType::Triangle),
        ResizeMode::Pad => {
            let (nw, nh) = if w >= h {
                (size, scaled(h, w, size).min(size))
            } else {
                (scaled(w, h, size).min(size), size)
            };
            let small = imageops::resize(img, nw, nh, FilterType::Triangle);
            let mut out = ImageBuffer::new(size, size);
            imageops::replace(
                &mut out,
                &small,
                i64::from((size - nw) / 2),
                i64::from((size - nh) / 2),
            );
            out
        }
        ResizeMode::Crop => {
            let (nw, nh) = if w <= h {
                (size, scaled(h, w, size).max(size))
            } else {
                (scaled(w, h, size).max(size), size)
            };
            let big = imageops::resize(img, nw, nh, FilterType::Triangle);
            imageops::crop_imm(&big, (nw - size) / 2, (nh - size) / 2, size, size).to_image()
        }
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

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
