//! Deletion and insertion curves (Petsiuk et al. 2018): pixels ordered by
//! attribution (most important first) are removed from the image (set to a
//! baseline) or inserted into the baseline image, in `steps` equal steps;
//! the class probability after each step, integrated by the trapezoid rule
//! over x ∈ [0, 1], gives the AUC. A faithful map has a low deletion AUC
//! and a high insertion AUC. The baseline 0 in normalised space is the
//! dataset mean.

use tch::{Kind, Tensor};

use super::error::ExplainError;
use super::maps::{single_dims, to_vec_f32};
use crate::models::Classifier;

/// Images evaluated per forward pass.
const MAX_BATCH: i64 = 64;

/// Class probability after 0, 1, …, steps steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    pub deletion: Vec<f64>,
    pub insertion: Vec<f64>,
}

impl Curves {
    pub fn deletion_auc(&self) -> f64 {
        trapezoid_auc(&self.deletion)
    }

    pub fn insertion_auc(&self) -> f64 {
        trapezoid_auc(&self.insertion)
    }
}

/// Area under ys sampled at x = 0, 1/(n−1), …, 1 (trapezoid rule); a single
/// point counts as a constant curve.
pub fn trapezoid_auc(ys: &[f64]) -> f64 {
    match ys {
        [] => 0.0,
        [y] => *y,
        _ => {
            let inner: f64 = ys.windows(2).map(|p| (p[0] + p[1]) / 2.0).sum();
            inner / (ys.len() - 1) as f64
        }
    }
}

/// Rank of every pixel, 0 = highest attribution; ties go to the lower
/// (row-major) index, so the order is deterministic.
pub fn pixel_ranks(attribution: &[f32]) -> Vec<i64> {
    let mut order: Vec<usize> = (0..attribution.len()).collect();
    order.sort_by(|&a, &b| {
        attribution[b]
            .total_cmp(&attribution[a])
            .then_with(|| a.cmp(&b))
    });
    let mut ranks = vec![0i64; attribution.len()];
    for (rank, &pixel) in order.iter().enumerate() {
        ranks[pixel] = rank as i64;
    }
    ranks
}

/// x: [C, H, W]; attribution: [H, W] (higher = more important for `class`).
pub fn deletion_insertion(
    model: &dyn Classifier,
    x: &Tensor,
    attribution: &Tensor,
    class: i64,
    steps: u32,
    baseline: f64,
) -> Result<Curves, ExplainError> {
    let [_, h, w] = single_dims(x, "deletion input")?;
    if attribution.size() != [h, w] {
        return Err(ExplainError::Shape {
            what: "deletion attribution",
            expected: format!("[{h}, {w}]"),
            got: attribution.size(),
        });
    }
    if steps == 0 {
        return Err(ExplainError::Zero {
            what: "deletion steps",
        });
    }
    let classes = model.num_classes();
    if !(0..classes).contains(&class) {
        return Err(ExplainError::ClassOutOfRange { class, classes });
    }
    let device = x.device();
    let pixels = h * w;
    let ranks = Tensor::from_slice(&pixel_ranks(&to_vec_f32(attribution)?))
        .to_device(device)
        .view([1, 1, h, w]);
    // Pixels switched after step k: round(k · pixels / steps).
    let counts: Vec<i64> = (0..=i64::from(steps))
        .map(|k| (k * pixels + i64::from(steps) / 2) / i64::from(steps))
        .collect();
    let _guard = tch::no_grad_guard();
    let x = x.detach().unsqueeze(0);
    let base = x.full_like(baseline);
    let mut deletion = Vec::with_capacity(counts.len());
    let mut insertion = Vec::with_capacity(counts.len());
    for chunk in counts.chunks(MAX_BATCH as usize) {
        let n = Tensor::from_slice(chunk)
            .to_device(device)
            .view([-1, 1, 1, 1]);
        // mask[k, 0, i, j]: pixel (i, j) is among the first counts[k].
        let mask = ranks.lt_tensor(&n);
        let deleted = base.where_self(&mask, &x);
        let inserted = x.where_self(&mask, &base);
        let probs = |xs: &Tensor| -> Result<Vec<f64>, ExplainError> {
            let p = model
                .logits(xs, false)
                .softmax(1, Kind::Float)
                .select(1, class);
            Ok(to_vec_f32(&p)?.into_iter().map(f64::from).collect())
        };
        deletion.extend(probs(&deleted)?);
        insertion.extend(probs(&inserted)?);
    }
    Ok(Curves {
        deletion,
        insertion,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::explain::test_models::{inputs, Blind, OnePixel};

    #[test]
    fn trapezoid_of_simple_curves() {
        assert_eq!(trapezoid_auc(&[1.0, 1.0, 1.0]), 1.0);
        assert_eq!(trapezoid_auc(&[1.0, 0.0]), 0.5);
        assert!((trapezoid_auc(&[0.0, 0.5, 1.0, 0.5, 0.0]) - 0.5).abs() < 1e-12);
        assert_eq!(trapezoid_auc(&[0.3]), 0.3);
    }

    #[test]
    fn ranks_break_ties_by_index() {
        assert_eq!(pixel_ranks(&[0.5, 2.0, 0.5, -1.0]), vec![1, 0, 2, 3]);
    }

    #[test]
    fn a_blind_model_gives_flat_curves() {
        let x = inputs(&[1, 5, 5], 20, Kind::Float);
        let attribution = inputs(&[5, 5], 21, Kind::Float);
        let curves = deletion_insertion(&Blind, &x, &attribution, 1, 10, 0.0).unwrap();
        let p = {
            let e = [1.0f64.exp(), 2.0f64.exp(), 0.5f64.exp()];
            e[1] / e.iter().sum::<f64>()
        };
        assert_eq!(curves.deletion.len(), 11);
        for v in curves.deletion.iter().chain(&curves.insertion) {
            assert!((v - p).abs() < 1e-6);
        }
        assert!((curves.deletion_auc() - p).abs() < 1e-6);
        assert!((curves.insertion_auc() - p).abs() < 1e-6);
    }

    /// The model reads pixel (2, 3) only. Deleting it first drops the class
    /// probability at the first step; any ranking that puts it later keeps
    /// the curve high for longer, so its deletion AUC is higher.
    #[test]
    fn ranking_the_read_pixel_first_gives_the_lowest_deletion_auc() {
        let model = OnePixel {
            row: 2,
            col: 3,
            gain: 3.0,
        };
        let x = Tensor::ones([1, 5, 5], (Kind::Float, tch::Device::Cpu));
        let target = 2 * 5 + 3;
        let auc_with_rank = |rank: usize| {
            // Attribution that puts the read pixel at position `rank`.
            let mut order: Vec<usize> = (0..25).filter(|&p| p != target).collect();
            order.insert(rank, target);
            let mut a = vec![0.0f32; 25];
            for (r, &p) in order.iter().enumerate() {
                a[p] = (25 - r) as f32;
            }
            let a = Tensor::from_slice(&a).view([5, 5]);
            deletion_insertion(&model, &x, &a, 0, 25, 0.0).unwrap()
        };
        let first = auc_with_rank(0);
        // One pixel per step: the probability falls to 0.5 right after step 0.
        let p1 = 1.0 / (1.0 + (-3.0f64).exp());
        assert!((first.deletion[0] - p1).abs() < 1e-6);
        assert!(first.deletion[1..].iter().all(|v| (v - 0.5).abs() < 1e-6));
        for rank in [1, 5, 12, 24] {
            let other = auc_with_rank(rank);
            assert!(first.deletion_auc() < other.deletion_auc(), "rank {rank}");
            assert!(first.insertion_auc() > other.insertion_auc(), "rank {rank}");
        }
    }

    #[test]
    fn batches_of_more_than_max_batch_steps_match() {
        let model = OnePixel {
            row: 0,
            col: 0,
            gain: 1.0,
        };
        let x = inputs(&[1, 12, 12], 22, Kind::Float);
        let a = inputs(&[12, 12], 23, Kind::Float);
        let curves = deletion_insertion(&model, &x, &a, 0, 144, 0.0).unwrap();
        assert_eq!(curves.deletion.len(), 145);
        // Fully deleted = fully baseline; nothing inserted = baseline.
        assert!((curves.deletion[144] - 0.5).abs() < 1e-6);
        assert!((curves.insertion[0] - 0.5).abs() < 1e-6);
        assert!((curves.deletion[0] - curves.insertion[144]).abs() < 1e-6);
    }
}
