//! Drawing: the de-normalised input as RGB, a jet heat map blended over it,
//! panels joined into a strip, PNG output.

use std::path::Path;

use image::{imageops, Rgb, RgbImage};
use tch::Tensor;

use super::colormap::jet;
use super::error::ExplainError;
use super::maps::{single_dims, to_vec_f32};

/// Weight of the heat map in a blend (the paper's 50/50).
pub const HEAT_ALPHA: f32 = 0.5;
/// Panels smaller than this many pixels on a side are enlarged (nearest
/// neighbour, integer factor) in strips, so small datasets stay legible.
pub const MIN_PANEL_SIDE: u32 = 128;
/// White gap between panels of a strip.
const GAP: u32 = 4;

/// x: [C, H, W] normalised with per-channel `mean` / `std` (of [0, 1]
/// pixel values; a single value applies to every channel) → RGB image.
/// Grayscale is replicated to three channels.
pub fn input_image(x: &Tensor, mean: &[f64], std: &[f64]) -> Result<RgbImage, ExplainError> {
    let [c, h, w] = single_dims(x, "overlay input")?;
    if (c != 1 && c != 3) || mean.is_empty() || std.is_empty() {
        return Err(ExplainError::Shape {
            what: "overlay input (1 or 3 channels, with mean and std)",
            expected: format!("[1 or 3, H, W] with {} means", mean.len()),
            got: x.size(),
        });
    }
    let v = to_vec_f32(x)?;
    let plane = (h * w) as usize;
    let pixel = |ch: usize, p: usize| -> u8 {
        let (m, s) = (mean[ch.min(mean.len() - 1)], std[ch.min(std.len() - 1)]);
        let unit = f64::from(v[ch * plane + p]) * s + m;
        (unit * 255.0).round().clamp(0.0, 255.0) as u8
    };
    let mut img = RgbImage::new(w as u32, h as u32);
    for (p, px) in img.pixels_mut().enumerate() {
        *px = if c == 1 {
            let g = pixel(0, p);
            Rgb([g, g, g])
        } else {
            Rgb([pixel(0, p), pixel(1, p), pixel(2, p)])
        };
    }
    Ok(img)
}

/// Blends the jet colouring of `map` (row-major, values in [0, 1], one per
/// pixel of `base`) over `base` with weight `alpha`.
pub fn heat_overlay(base: &RgbImage, map: &[f32], alpha: f32) -> Result<RgbImage, ExplainError> {
    let (w, h) = base.dimensions();
    if map.len() != (w * h) as usize {
        return Err(ExplainError::Shape {
            what: "overlay heat map",
            expected: format!("{h}×{w} values"),
            got: vec![map.len() as i64],
        });
    }
    let mut out = base.clone();
    for (px, &v) in out.pixels_mut().zip(map) {
        let heat = jet(v);
        for (o, hc) in px.0.iter_mut().zip(heat) {
            *o = ((1.0 - alpha) * f32::from(*o) + alpha * f32::from(hc)).round() as u8;
        }
    }
    Ok(out)
}

/// Integer enlargement factor for panels of `side` pixels.
pub fn panel_scale(side: u32) -> u32 {
    MIN_PANEL_SIDE.div_ceil(side.max(1)).max(1)
}

/// Panels side by side (each enlarged by `scale`), separated by white gaps.
pub fn strip(panels: &[RgbImage], scale: u32) -> RgbImage {
    let scaled: Vec<RgbImage> = panels
        .iter()
        .map(|p| {
            let (w, h) = p.dimensions();
            imageops::resize(p, w * scale, h * scale, imageops::FilterType::Nearest)
        })
        .collect();
    let height = scaled.iter().map(|p| p.height()).max().unwrap_or(0);
    let width = scaled.iter().map(|p| p.width()).sum::<u32>()
        + GAP * (scaled.len() as u32).saturating_sub(1);
    let mut out = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut x = 0i64;
    for p in &scaled {
        imageops::replace(&mut out, p, x, 0);
        x += i64::from(p.width() + GAP);
    }
    out
}

/// Writes `img` as a PNG.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), ExplainError> {
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| ExplainError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn grayscale_input_is_denormalised_and_replicated() {
        // (v · 0.25 + 0.5) · 255: −2 → 0, 0 → 128, 2 → 255.
        let x = Tensor::from_slice(&[-2.0f32, 0.0, 2.0, 0.0]).view([1, 2, 2]);
        let img = input_image(&x, &[0.5], &[0.25]).unwrap();
        assert_eq!(img.dimensions(), (2, 2));
        assert_eq!(img.get_pixel(0, 0), &Rgb([0, 0, 0]));
        assert_eq!(img.get_pixel(1, 0), &Rgb([128, 128, 128]));
        assert_eq!(img.get_pixel(0, 1), &Rgb([255, 255, 255]));
    }

    #[test]
    fn overlay_keeps_the_input_size_and_blends_half_and_half() {
        let x = Tensor::zeros([3, 5, 7], (Kind::Float, tch::Device::Cpu));
        let base = input_image(&x, &[0.0, 1.0, 0.0], &[1.0]).unwrap();
        let map = vec![1.0f32; 35];
        let over = heat_overlay(&base, &map, HEAT_ALPHA).unwrap();
        assert_eq!(over.dimensions(), (7, 5));
        // base (0, 255, 0), jet(1) = (128, 0, 0) → (64, 128, 0).
        assert_eq!(over.get_pixel(3, 2), &Rgb([64, 128, 0]));
        assert!(heat_overlay(&base, &map[..34], HEAT_ALPHA).is_err());
    }

    #[test]
    fn strip_joins_scaled_panels_with_gaps() {
        let a = RgbImage::from_pixel(4, 3, Rgb([1, 2, 3]));
        let s = strip(&[a.clone(), a.clone(), a], 2);
        assert_eq!(s.dimensions(), (3 * 8 + 2 * GAP, 6));
        assert_eq!(s.get_pixel(8, 0), &Rgb([255, 255, 255]));
        assert_eq!(s.get_pixel(8 + GAP, 5), &Rgb([1, 2, 3]));
        assert_eq!(panel_scale(28), 5);
        assert_eq!(panel_scale(224), 1);
    }
}
