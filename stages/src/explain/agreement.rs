//! Agreement between two saliency maps of one image (the student's and the
//! teacher's Grad-CAM of the same class): Pearson correlation of the pixel
//! values, and the IoU of their top-10 % pixels, both at the input
//! resolution (each map upsampled bilinearly from its layer's resolution).
//!
//! A constant map (an all-zero Grad-CAM, say) says nothing about where the
//! evidence is: the agreement of an image where either map is constant is
//! undefined (`None`), counted, and left out of the means. (The old code
//! scored two blank maps IoU 1: their "top 10 %" was the first pixels in
//! raster order.)

use tch::Tensor;

pub use study::contract::artifacts::explain::{Agreement, AgreementPerImage};

use super::error::ExplainError;
use super::maps::{to_vec_f32, upsample};

/// Fraction of pixels in the "top" set of [`top_fraction_iou`].
pub const TOP_FRACTION: f64 = 0.10;

/// Pearson correlation; `None` when either map is constant (undefined).
pub fn pearson(a: &[f32], b: &[f32]) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let n = a.len() as f64;
    let ma = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let mb = b.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 || sbb == 0.0 {
        return None;
    }
    Some((sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0))
}

/// Whether every value of `v` is the same (or `v` is empty).
fn is_constant(v: &[f32]) -> bool {
    v.iter().all(|x| *x == v[0])
}

/// The top set: pixels at or above the ⌈fraction · n⌉-th largest value and
/// above the map's minimum (a pixel at the floor carries no evidence; no
/// tie is broken by position).
fn top_set(v: &[f32], fraction: f64) -> Vec<bool> {
    let k = ((fraction * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    let mut sorted = v.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let (threshold, floor) = (sorted[k - 1], sorted[sorted.len() - 1]);
    v.iter().map(|&x| x >= threshold && x > floor).collect()
}

/// IoU of the top-`fraction` pixels of two maps of the same size; `None`
/// when either map is constant or the sizes differ.
pub fn top_fraction_iou(a: &[f32], b: &[f32], fraction: f64) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() || is_constant(a) || is_constant(b) {
        return None;
    }
    let (sa, sb) = (top_set(a, fraction), top_set(b, fraction));
    let inter = sa.iter().zip(&sb).filter(|(x, y)| **x && **y).count();
    let union = sa.iter().zip(&sb).filter(|(x, y)| **x || **y).count();
    Some(inter as f64 / union as f64)
}

/// Per-image agreement and its means over the defined images.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub per_image: AgreementPerImage,
    pub iou_top10: Option<f64>,
    pub pearson: Option<f64>,
    pub n_defined: usize,
    pub n_undefined: usize,
}

/// Compares flat maps of the same size pairwise.
pub fn agreement(student: &[Vec<f32>], teacher: &[Vec<f32>]) -> Scores {
    let mut per_image = AgreementPerImage::default();
    for (s, t) in student.iter().zip(teacher) {
        let iou = top_fraction_iou(s, t, TOP_FRACTION);
        // Both are defined exactly when neither map is constant.
        per_image.pearson.push(iou.and_then(|_| pearson(s, t)));
        per_image.iou_top10.push(iou);
    }
    let mean = |v: &[Option<f64>]| {
        let d: Vec<f64> = v.iter().flatten().copied().collect();
        (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64)
    };
    let n_defined = per_image.iou_top10.iter().flatten().count();
    Scores {
        iou_top10: mean(&per_image.iou_top10),
        pearson: mean(&per_image.pearson),
        n_undefined: per_image.iou_top10.len() - n_defined,
        n_defined,
        per_image,
    }
}

/// student: [N, h1, w1], teacher: [N, h2, w2] (any layer resolutions) →
/// both upsampled bilinearly to [N, height, width], then compared.
pub fn agreement_at(
    student: &Tensor,
    teacher: &Tensor,
    height: i64,
    width: i64,
) -> Result<Scores, ExplainError> {
    let n = match (student.size().as_slice(), teacher.size().as_slice()) {
        (&[n, _, _], &[m, _, _]) if n == m => n,
        _ => {
            return Err(ExplainError::Shape {
                what: "teacher maps",
                expected: format!("[{:?}, _, _]", student.size().first()),
                got: teacher.size(),
            })
        }
    };
    let flat = |t: &Tensor| -> Result<Vec<Vec<f32>>, ExplainError> {
        let up = upsample(&t.unsqueeze(1), height, width);
        (0..n).map(|i| to_vec_f32(&up.get(i))).collect()
    };
    Ok(agreement(&flat(student)?, &flat(teacher)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn pearson_of_known_pairs() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&a, &[2.0, 4.0, 6.0, 8.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&a, &[4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        // Centred orthogonal vectors.
        assert!(pearson(&a, &[1.0, -1.0, -1.0, 1.0]).unwrap().abs() < 1e-12);
        assert_eq!(pearson(&a, &[5.0; 4]), None);
    }

    #[test]
    fn top_ten_percent_iou() {
        // 20 pixels → top 2 of each.
        let a: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let mut b = a.clone();
        assert_eq!(top_fraction_iou(&a, &b, TOP_FRACTION), Some(1.0));
        b[19] = -1.0; // top of b is now {18, 17}: intersection {18}, union {19, 18, 17}
        assert!((top_fraction_iou(&a, &b, TOP_FRACTION).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        let rev: Vec<f32> = a.iter().map(|v| -v).collect();
        assert_eq!(top_fraction_iou(&a, &rev, TOP_FRACTION), Some(0.0));
    }

    /// Two blank maps scored IoU 1 before (their top pixels were the first
    /// in raster order); now they are undefined, counted and left out.
    #[test]
    fn blank_maps_are_undefined_not_perfect() {
        let blank = vec![0.0f32; 20];
        assert_eq!(top_fraction_iou(&blank, &blank, TOP_FRACTION), None);
        let s = vec![vec![1.0, 2.0, 3.0], blank.clone()[..3].to_vec()];
        let t = vec![vec![1.0, 2.0, 3.0], vec![3.0, 2.0, 1.0]];
        let a = agreement(&s, &t);
        assert_eq!((a.n_defined, a.n_undefined), (1, 1));
        assert_eq!(a.per_image.iou_top10, vec![Some(1.0), None]);
        assert_eq!(a.per_image.pearson[1], None);
        assert!((a.pearson.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(a.iou_top10, Some(1.0));
        let none = agreement(std::slice::from_ref(&blank), std::slice::from_ref(&blank));
        assert_eq!(
            (none.n_defined, none.iou_top10, none.pearson),
            (0, None, None)
        );
    }

    /// A sparse map (2 of 100 pixels above zero) has a top set of those 2,
    /// not 8 zeros picked by position.
    #[test]
    fn the_top_set_leaves_out_the_floor() {
        let mut a = vec![0.0f32; 100];
        a[50] = 1.0;
        a[99] = 0.5;
        let mut b = vec![0.0f32; 100];
        b[50] = 0.7;
        assert_eq!(top_fraction_iou(&a, &b, TOP_FRACTION), Some(0.5));
    }

    /// A 2×2 map and a 4×4 map are compared at 8×8: a 2×2 map with its
    /// heat in the top-left corner agrees with the 4×4 map that has it
    /// there too, and the old code refused maps of different sizes.
    #[test]
    fn maps_of_different_sizes_compare_at_input_size() {
        let coarse = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 0.0]).view([1, 2, 2]);
        let mut fine = vec![0.0f32; 16];
        for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            fine[r * 4 + c] = 1.0;
        }
        let fine = Tensor::from_slice(&fine).view([1, 4, 4]);
        let a = agreement_at(&coarse, &fine, 8, 8).unwrap();
        assert_eq!(a.n_defined, 1);
        assert!(a.pearson.unwrap() > 0.9, "{a:?}");
        assert!(a.iou_top10.unwrap() > 0.5, "{a:?}");
        let flipped = fine.flip([1, 2]);
        let b = agreement_at(&coarse, &flipped, 8, 8).unwrap();
        assert!(
            b.pearson.unwrap() < 0.0 && b.iou_top10 == Some(0.0),
            "{b:?}"
        );
        // Same-size maps are compared as they are.
        let same = agreement_at(&fine, &fine, 4, 4).unwrap();
        assert_eq!(same.iou_top10, Some(1.0));
        let three = Tensor::zeros([2, 4, 4], (Kind::Float, Device::Cpu));
        assert!(agreement_at(&fine, &three, 8, 8).is_err());
    }
}
