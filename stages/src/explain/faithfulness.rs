//! Deletion and insertion curves (Petsiuk et al. 2018): pixels ordered by
//! attribution (most important first) are removed from the image (set to a
//! baseline) or inserted into the baseline image, in `steps` equal steps;
//! the class probability after each step, integrated by the trapezoid rule
//! over x ∈ [0, 1], gives the AUC. A faithful map has a low deletion AUC
//! and a high insertion AUC. The baseline 0 in normalised space is the
//! dataset mean.
//!
//! A raw AUC is mostly the model's confidence: a model whose output ignores
//! the image scores its constant probability whatever the map. So each map
//! is also scored against the same model's curves for random pixel orders
//! ([`random_baseline`]): AUC_random − AUC_map for deletion and
//! AUC_map − AUC_random for insertion, both about 0 for a map no better than
//! chance. Pixels of equal attribution (the zeros of a ReLU'd Grad-CAM)
//! are ordered by a seeded random permutation, not in raster order, which
//! would delete the top of the image first.

use rand::seq::SliceRandom;
use rand::Rng;
use tch::{Kind, Tensor};

use super::error::ExplainError;
use super::maps::{single_dims, to_vec_f32};
use crate::models::Classifier;

/// Images evaluated per forward pass.
const MAX_BATCH: i64 = 64;

/// Random pixel orders averaged in the baseline of every image. One: the
/// table reports the mean over every test image (45 in the default study),
/// which averages the baseline's per-image noise; each extra order costs
/// 2 × (steps + 1) forward passes per image, most of the explain stage's time.
pub const RANDOM_ORDERS: u32 = 1;

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

/// Mean deletion and insertion AUC over random pixel orders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub deletion_auc: f64,
    pub insertion_auc: f64,
}

impl Baseline {
    /// (AUC_random − AUC_map for deletion, AUC_map − AUC_random for
    /// insertion): higher is more faithful, 0 is chance.
    pub fn normalise(&self, c: &Curves) -> (f64, f64) {
        (
            self.deletion_auc - c.deletion_auc(),
            c.insertion_auc() - self.insertion_auc,
        )
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

/// A random permutation of `0..pixels`: the tie-break key of
/// [`pixel_ranks`], or (as ranks) a random pixel order.
pub fn random_order<R: Rng>(pixels: usize, rng: &mut R) -> Vec<i64> {
    let mut order: Vec<i64> = (0..pixels as i64).collect();
    order.shuffle(rng);
    order
}

/// Rank of every pixel, 0 = highest attribution; pixels of equal
/// attribution are ordered by `tiebreak` (a permutation, lower first).
pub fn pixel_ranks(attribution: &[f32], tiebreak: &[i64]) -> Result<Vec<i64>, ExplainError> {
    if tiebreak.len() != attribution.len() {
        return Err(ExplainError::Shape {
            what: "deletion tie-break order",
            expected: format!("[{}]", attribution.len()),
            got: vec![tiebreak.len() as i64],
        });
    }
    let mut order: Vec<usize> = (0..attribution.len()).collect();
    order.sort_by(|&a, &b| {
        attribution[b]
            .total_cmp(&attribution[a])
            .then_with(|| tiebreak[a].cmp(&tiebreak[b]))
    });
    let mut ranks = vec![0i64; attribution.len()];
    for (rank, &pixel) in order.iter().enumerate() {
        ranks[pixel] = rank as i64;
    }
    Ok(ranks)
}

/// x: [C, H, W]; attribution: [H, W] (higher = more important for `class`);
/// `tiebreak`: [H·W], a permutation ordering tied pixels (see
/// [`random_order`]).
pub fn deletion_insertion(
    model: &dyn Classifier,
    x: &Tensor,
    attribution: &Tensor,
    class: i64,
    steps: u32,
    baseline: f64,
    tiebreak: &[i64],
) -> Result<Curves, ExplainError> {
    let [_, h, w] = single_dims(x, "deletion input")?;
    if attribution.size() != [h, w] {
        return Err(ExplainError::Shape {
            what: "deletion attribution",
            expected: format!("[{h}, {w}]"),
            got: attribution.size(),
        });
    }
    let ranks = pixel_ranks(&to_vec_f32(attribution)?, tiebreak)?;
    curves_for_ranks(model, x, &ranks, class, steps, baseline)
}

/// The mean AUCs of `orders` random pixel orders drawn from `rng` (x as in
/// [`deletion_insertion`]).
pub fn random_baseline<R: Rng>(
    model: &dyn Classifier,
    x: &Tensor,
    class: i64,
    steps: u32,
    baseline: f64,
    orders: u32,
    rng: &mut R,
) -> Result<Baseline, ExplainError> {
    let [_, h, w] = single_dims(x, "deletion input")?;
    if orders == 0 {
        return Err(ExplainError::Zero {
            what: "random deletion orders",
        });
    }
    let (mut deletion, mut insertion) = (0.0, 0.0);
    for _ in 0..orders {
        let ranks = random_order((h * w) as usize, rng);
        let c = curves_for_ranks(model, x, &ranks, class, steps, baseline)?;
        deletion += c.deletion_auc();
        insertion += c.insertion_auc();
    }
    Ok(Baseline {
        deletion_auc: deletion / f64::from(orders),
        insertion_auc: insertion / f64::from(orders),
    })
}

/// x: [C, H, W]; ranks: [H·W] row-major, 0 = switched first.
pub fn curves_for_ranks(
    model: &dyn Classifier,
    x: &Tensor,
    ranks: &[i64],
    class: i64,
    steps: u32,
    baseline: f64,
) -> Result<Curves, ExplainError> {
    let [_, h, w] = single_dims(x, "deletion input")?;
    if ranks.len() as i64 != h * w {
        return Err(ExplainError::Shape {
            what: "deletion ranks",
            expected: format!("[{}]", h * w),
            got: vec![ranks.len() as i64],
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
    let ranks = Tensor::from_slice(ranks)
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

    fn raster(n: usize) -> Vec<i64> {
        (0..n as i64).collect()
    }

    #[test]
    fn ranks_break_ties_by_the_given_order() {
        let a = [0.5, 2.0, 0.5, -1.0];
        assert_eq!(pixel_ranks(&a, &[0, 1, 2, 3]).unwrap(), vec![1, 0, 2, 3]);
        assert_eq!(pixel_ranks(&a, &[3, 1, 2, 0]).unwrap(), vec![2, 0, 1, 3]);
        assert!(pixel_ranks(&a, &[0, 1]).is_err());
    }

    /// A constant map is all ties: its order is the seeded permutation, the
    /// same for the same seed, another for another seed (the old code
    /// always deleted it in raster order).
    #[test]
    fn ties_follow_the_seed() {
        use crate::explain::sample::curve_rng;
        let flat = vec![0.0f32; 36];
        let ranks = |seed: u64| {
            let tie = random_order(36, &mut curve_rng(seed, 4));
            pixel_ranks(&flat, &tie).unwrap()
        };
        assert_eq!(ranks(1), ranks(1));
        assert_ne!(ranks(1), ranks(2));
        assert_ne!(ranks(1), raster(36));
        // Distinct values are never reordered by the tie-break.
        let distinct: Vec<f32> = (0..36).map(|i| i as f32).collect();
        let tie = random_order(36, &mut curve_rng(1, 4));
        let r = pixel_ranks(&distinct, &tie).unwrap();
        assert_eq!(r, (0..36).rev().collect::<Vec<i64>>());
    }

    /// A collapsed model (its output ignores the image) scores 0 against
    /// the random baseline whatever its map; its raw AUC is its constant
    /// probability (about 0.6 for the old tables' collapsed students).
    #[test]
    fn a_blind_model_scores_zero_normalised() {
        use crate::explain::sample::curve_rng;
        let x = inputs(&[1, 5, 5], 24, Kind::Float);
        for (seed, map) in [(0, 25), (1, 26)] {
            let attribution = inputs(&[5, 5], map, Kind::Float);
            let mut rng = curve_rng(seed, 0);
            let tie = random_order(25, &mut rng);
            let c = deletion_insertion(&Blind, &x, &attribution, 1, 10, 0.0, &tie).unwrap();
            let b = random_baseline(&Blind, &x, 1, 10, 0.0, RANDOM_ORDERS, &mut rng).unwrap();
            let (d, i) = b.normalise(&c);
            assert!(d.abs() < 1e-6 && i.abs() < 1e-6, "{d} {i}");
            assert!(c.deletion_auc() > 0.5, "raw AUC {}", c.deletion_auc());
        }
    }

    /// The read-pixel-first map beats the random baseline by a known
    /// margin: deletion drops to 0.5 after the first of 25 steps.
    #[test]
    fn a_faithful_map_scores_above_random() {
        use crate::explain::sample::curve_rng;
        let model = OnePixel {
            row: 1,
            col: 1,
            gain: 3.0,
        };
        let x = Tensor::ones([1, 5, 5], (Kind::Float, tch::Device::Cpu));
        let mut a = vec![0.0f32; 25];
        a[6] = 1.0;
        let a = Tensor::from_slice(&a).view([5, 5]);
        let mut rng = curve_rng(3, 0);
        let tie = random_order(25, &mut rng);
        let c = deletion_insertion(&model, &x, &a, 0, 25, 0.0, &tie).unwrap();
        let b = random_baseline(&model, &x, 0, 25, 0.0, 64, &mut rng).unwrap();
        let (d, i) = b.normalise(&c);
        // A random order deletes the pixel at a uniform step: its expected
        // deletion AUC is about (p1 + 0.5) / 2, the map's 0.5 + (p1 − 0.5) / 50.
        let p1 = 1.0 / (1.0 + (-3.0f64).exp());
        let want = (p1 - 0.5) / 2.0 - (p1 - 0.5) / 50.0;
        assert!(d > 0.0 && i > 0.0, "{d} {i}");
        assert!((d - want).abs() < 0.05, "{d} vs {want}");
    }

    #[test]
    fn a_blind_model_gives_flat_curves() {
        let x = inputs(&[1, 5, 5], 20, Kind::Float);
        let attribution = inputs(&[5, 5], 21, Kind::Float);
        let curves = deletion_insertion(&Blind, &x, &attribution, 1, 10, 0.0, &raster(25)).unwrap();
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
            deletion_insertion(&model, &x, &a, 0, 25, 0.0, &raster(25)).unwrap()
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
        let curves = deletion_insertion(&model, &x, &a, 0, 144, 0.0, &raster(144)).unwrap();
        assert_eq!(curves.deletion.len(), 145);
        // Fully deleted = fully baseline; nothing inserted = baseline.
        assert!((curves.deletion[144] - 0.5).abs() < 1e-6);
        assert!((curves.insertion[0] - 0.5).abs() < 1e-6);
        assert!((curves.deletion[0] - curves.insertion[144]).abs() < 1e-6);
    }
}
