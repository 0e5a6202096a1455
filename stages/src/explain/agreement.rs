//! Agreement between two saliency maps of one image (the student's and the
//! teacher's Grad-CAM): Pearson correlation of the pixel values, and the
//! IoU of their top-10 % pixels.

pub use study::contract::artifacts::explain::Agreement;

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

/// Indices of the ⌈fraction · n⌉ largest values (ties: lower index first).
fn top_set(v: &[f32], fraction: f64) -> Vec<bool> {
    let k = ((fraction * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then_with(|| a.cmp(&b)));
    let mut set = vec![false; v.len()];
    for &i in order.iter().take(k) {
        set[i] = true;
    }
    set
}

/// IoU of the top-`fraction` pixels of two maps of the same size.
pub fn top_fraction_iou(a: &[f32], b: &[f32], fraction: f64) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (sa, sb) = (top_set(a, fraction), top_set(b, fraction));
    let inter = sa.iter().zip(&sb).filter(|(x, y)| **x && **y).count();
    let union = sa.iter().zip(&sb).filter(|(x, y)| **x || **y).count();
    inter as f64 / union as f64
}

/// Compares maps pairwise (each a flat [H·W] slice).
pub fn agreement(student: &[Vec<f32>], teacher: &[Vec<f32>]) -> Agreement {
    let pairs: Vec<_> = student.iter().zip(teacher).collect();
    let pearsons: Vec<f64> = pairs.iter().filter_map(|(s, t)| pearson(s, t)).collect();
    let ious: Vec<f64> = pairs
        .iter()
        .map(|(s, t)| top_fraction_iou(s, t, TOP_FRACTION))
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    Agreement {
        gradcam_pearson: (!pearsons.is_empty()).then(|| mean(&pearsons)),
        gradcam_iou_top10: if ious.is_empty() { 0.0 } else { mean(&ious) },
        images: pairs.len(),
        pearson_undefined: pairs.len() - pearsons.len(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
        assert_eq!(top_fraction_iou(&a, &b, TOP_FRACTION), 1.0);
        b[19] = -1.0; // top of b is now {18, 17}: intersection {18}, union {19, 18, 17}
        assert!((top_fraction_iou(&a, &b, TOP_FRACTION) - 1.0 / 3.0).abs() < 1e-12);
        let rev: Vec<f32> = a.iter().map(|v| -v).collect();
        assert_eq!(top_fraction_iou(&a, &rev, TOP_FRACTION), 0.0);
    }

    #[test]
    fn mean_agreement_skips_undefined_pearson() {
        let s = vec![vec![1.0, 2.0, 3.0], vec![1.0, 1.0, 1.0]];
        let t = vec![vec![1.0, 2.0, 3.0], vec![3.0, 2.0, 1.0]];
        let a = agreement(&s, &t);
        assert_eq!(a.images, 2);
        assert_eq!(a.pearson_undefined, 1);
        assert!((a.gradcam_pearson.unwrap() - 1.0).abs() < 1e-12);
        // top ⌈0.3⌉ = 1 pixel: {2} vs {2} → 1; constant map's top is {0} vs {0} → 1.
        assert!((a.gradcam_iou_top10 - 1.0).abs() < 1e-12);
    }
}
