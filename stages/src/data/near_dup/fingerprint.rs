//! The fingerprint of one image for the near-duplicate test: decoded
//! upright (EXIF orientation applied), grayscale, cropped to the box around
//! its main object ([`content_box`]: copies of a scan often differ in
//! margins, which drops their correlation from > 0.99 to 0.94), averaged
//! down to `size` × `size` (exact area weights), then
//! - a 64-bit DCT perceptual hash (pHash: the 8×8 lowest non-zero
//!   frequencies of the 2-D DCT-II, one bit per coefficient, set when it is
//!   above their median), and
//! - the zero-mean, unit-norm pixel vector, whose dot product with another
//!   is their Pearson correlation ([`pearson`]).

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage};

use crate::data::decode;
use crate::data::sources::Content;

/// What the pairwise test looks at for one image.
#[derive(Debug, Clone)]
pub(crate) struct Fingerprint {
    pub phash: u64,
    /// Zero-mean, unit-norm canonical pixels; `None` for a constant image.
    unit: Option<Vec<f32>>,
    /// Mean intensity in [0, 1] (compares constant images).
    mean: f32,
}

/// Decodes `content` and fingerprints it at `size` × `size`, after cropping
/// it to its [`content_box`].
pub(crate) fn fingerprint(content: &Content, size: u32) -> Result<Fingerprint, String> {
    let img = to_gray(decode::to_upright_image(content)?);
    let px = canonical_pixels(&img, content_box(&img), size);
    Ok(fingerprint_pixels(&px, size as usize))
}

/// Grayscale with the Rec. 709 weights of `to_luma8`, in integers for the
/// common 8-bit layouts (the generic conversion is several times slower);
/// alpha is ignored.
fn to_gray(img: DynamicImage) -> GrayImage {
    let luma = |raw: &[u8], step: usize, w: u32, h: u32| {
        let px = raw
            .chunks_exact(step)
            .map(|p| {
                let y = 2126 * u32::from(p[0]) + 7152 * u32::from(p[1]) + 722 * u32::from(p[2]);
                ((y + 5000) / 10000) as u8
            })
            .collect();
        GrayImage::from_raw(w, h, px)
    };
    let fast = match &img {
        DynamicImage::ImageLuma8(_) => None,
        DynamicImage::ImageRgb8(i) => luma(i.as_raw(), 3, i.width(), i.height()),
        DynamicImage::ImageRgba8(i) => luma(i.as_raw(), 4, i.width(), i.height()),
        _ => None,
    };
    match (fast, img) {
        (Some(g), _) => g,
        (None, DynamicImage::ImageLuma8(g)) => g,
        (None, other) => other.to_luma8(),
    }
}

/// The box `(x, y, w, h)` of `img` as `size` × `size` pixels in [0, 1]:
/// exact area averaging (every source pixel weighs by its overlap with each
/// cell, so the result barely depends on the source resolution) when the
/// box is at least `size` on both sides, a triangle-filter resize otherwise.
fn canonical_pixels(img: &GrayImage, (x0, y0, w, h): (u32, u32, u32, u32), size: u32) -> Vec<f32> {
    if w < size || h < size {
        let crop = image::imageops::crop_imm(img, x0, y0, w, h).to_image();
        let small = image::imageops::resize(&crop, size, size, FilterType::Triangle);
        return small
            .as_raw()
            .iter()
            .map(|&v| f32::from(v) / 255.0)
            .collect();
    }
    let s = size as usize;
    let (wx, wy) = (area_weights(w as usize, s), area_weights(h as usize, s));
    let stride = img.width() as usize;
    let raw = img.as_raw();
    // Rows first: [h, s].
    let mut rows = vec![0f32; h as usize * s];
    for (y, out) in rows.chunks_exact_mut(s).enumerate() {
        let start = (y0 as usize + y) * stride + x0 as usize;
        for (&v, &(cell, a, b)) in raw[start..start + w as usize].iter().zip(&wx) {
            let v = f32::from(v);
            out[cell] += v * a;
            if b > 0.0 {
                out[cell + 1] += v * b;
            }
        }
    }
    let mut px = vec![0f32; s * s];
    for (row, &(cell, a, b)) in rows.chunks_exact(s).zip(&wy) {
        for (x, &v) in row.iter().enumerate() {
            px[cell * s + x] += v * a;
            if b > 0.0 {
                px[(cell + 1) * s + x] += v * b;
            }
        }
    }
    let norm = (w as f32 / s as f32) * (h as f32 / s as f32) * 255.0;
    px.iter().map(|v| v / norm).collect()
}

/// For each of `n` source pixels (n >= s), the output cell its span
/// `[i, i + 1) * s / n` starts in and the shares of it in that cell and the
/// next (the span is at most one cell wide).
fn area_weights(n: usize, s: usize) -> Vec<(usize, f32, f32)> {
    (0..n)
        .map(|i| {
            let (start, end) = (i * s, (i + 1) * s);
            let cell = start / n;
            let boundary = (cell + 1) * n;
            if end <= boundary {
                (cell, 1.0, 0.0)
            } else {
                let first = (boundary - start) as f32 / s as f32;
                (cell, first, 1.0 - first)
            }
        })
        .collect()
}

/// The box `(x, y, width, height)` around the main object of `img`, so that
/// copies of a scan saved with different margins or crops line up. A pixel
/// is bright above a tenth of the way from the 1st to the 99th intensity
/// percentile; a row (column) belongs to the object when its bright-pixel
/// count is at least 5 % of the largest row (column) count, and the box
/// spans the longest run of such rows (columns), which leaves out burnt-in
/// text separated from the object. Both thresholds are relative to the
/// object itself, so the box does not depend on the margin or resolution.
/// An image without such structure keeps its whole frame.
pub(crate) fn content_box(img: &GrayImage) -> (u32, u32, u32, u32) {
    let (w, h) = img.dimensions();
    let whole = (0, 0, w, h);
    let mut hist = [0usize; 256];
    for &v in img.as_raw() {
        hist[v as usize] += 1;
    }
    let n = img.as_raw().len();
    let percentile = |q: f64| {
        let target = (n as f64 * q) as usize;
        let mut seen = 0;
        for (v, &c) in hist.iter().enumerate() {
            seen += c;
            if seen > target {
                return v as u8;
            }
        }
        255
    };
    let (lo, hi) = (percentile(0.01), percentile(0.99));
    if hi <= lo {
        return whole;
    }
    let t = lo + (hi - lo) / 10;
    let (mut rows, mut cols) = (vec![0usize; h as usize], vec![0usize; w as usize]);
    for (yy, row) in img.as_raw().chunks_exact(w as usize).enumerate() {
        for (xx, &v) in row.iter().enumerate() {
            if v > t {
                rows[yy] += 1;
                cols[xx] += 1;
            }
        }
    }
    let run = |counts: &[usize]| -> Option<(u32, u32)> {
        let limit = (counts.iter().max().copied().unwrap_or(0) as f64 * 0.05).max(1.0);
        let (mut best, mut start) = (None::<(usize, usize)>, None);
        for (i, &c) in counts.iter().chain(std::iter::once(&0)).enumerate() {
            match (c as f64 >= limit, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if best.is_none_or(|(bs, be)| i - s > be - bs) {
                        best = Some((s, i));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        best.map(|(s, e)| (s as u32, (e - s) as u32))
    };
    match (run(&cols), run(&rows)) {
        // A box of a few pixels is noise, not an object.
        (Some((x, bw)), Some((y, bh))) if bw >= 8 && bh >= 8 => (x, y, bw, bh),
        _ => whole,
    }
}

/// Fingerprint of a canonical grayscale image, `px`: [size * size] in [0, 1].
pub(super) fn fingerprint_pixels(px: &[f32], size: usize) -> Fingerprint {
    let n = px.len() as f64;
    let mean = px.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let centred: Vec<f64> = px.iter().map(|&v| f64::from(v) - mean).collect();
    let norm = centred.iter().map(|v| v * v).sum::<f64>().sqrt();
    // Below half a grey level of spread per pixel the image is flat.
    let unit = (norm > 0.5 / 255.0 * n.sqrt())
        .then(|| centred.iter().map(|v| (v / norm) as f32).collect());
    Fingerprint {
        phash: dct_phash(px, size),
        unit,
        mean: mean as f32,
    }
}

/// 64-bit DCT pHash of `px` ([size * size]): DCT-II coefficients (u, v) for
/// u, v in 1..=8 (the DC row and column carry brightness, not structure), bit
/// `8 (u - 1) + (v - 1)` set when the coefficient is above their median.
fn dct_phash(px: &[f32], size: usize) -> u64 {
    const K: usize = 8;
    // basis[u][x] = cos(pi (2x + 1) u / 2N); normalisation does not change
    // which coefficients are above the median, so it is left out.
    let basis: Vec<Vec<f64>> = (1..=K)
        .map(|u| {
            (0..size)
                .map(|x| {
                    (std::f64::consts::PI * (2 * x + 1) as f64 * u as f64 / (2 * size) as f64).cos()
                })
                .collect()
        })
        .collect();
    // rows[y][u] = sum_x px[y][x] basis[u][x]
    let rows: Vec<[f64; K]> = (0..size)
        .map(|y| {
            let row = &px[y * size..(y + 1) * size];
            let mut out = [0.0; K];
            for (o, b) in out.iter_mut().zip(&basis) {
                *o = row.iter().zip(b).map(|(&p, &c)| f64::from(p) * c).sum();
            }
            out
        })
        .collect();
    let mut coeffs = [0.0f64; K * K];
    for (v, bv) in basis.iter().enumerate() {
        for u in 0..K {
            coeffs[v * K + u] = rows.iter().zip(bv).map(|(r, &c)| r[u] * c).sum();
        }
    }
    let mut sorted = coeffs;
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[K * K / 2 - 1] + sorted[K * K / 2]) / 2.0;
    coeffs
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > median)
        .fold(0u64, |h, (i, _)| h | (1 << i))
}

/// Pearson correlation of two fingerprints. Constant images correlate 1 with
/// a constant image of (nearly) the same mean and 0 with anything else.
pub(super) fn pearson(a: &Fingerprint, b: &Fingerprint) -> f64 {
    match (&a.unit, &b.unit) {
        (Some(x), Some(y)) => x
            .iter()
            .zip(y)
            .map(|(&p, &q)| f64::from(p) * f64::from(q))
            .sum(),
        (None, None) if (a.mean - b.mean).abs() < 2.0 / 255.0 => 1.0,
        _ => 0.0,
    }
}
