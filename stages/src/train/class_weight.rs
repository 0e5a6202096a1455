//! `class_weight = "balanced"`: weights of the hard-label cross-entropy,
//! n / (k · n_c) from the training split's labels (as scikit-learn's
//! `compute_class_weight("balanced")`), and the weighted loss.

use study::kd::params::ClassWeight;
use tch::{Reduction, Tensor};

/// Per-class weights for `labels` (class indices < `k`): `None` for
/// `ClassWeight::None`; for `Balanced`, n / (k · n_c), and 0 for a class
/// absent from the split (it is never a target, so its weight is unused).
pub fn class_weights(mode: ClassWeight, labels: &[i64], k: usize) -> Option<Vec<f64>> {
    if mode == ClassWeight::None {
        return None;
    }
    let mut counts = vec![0u64; k];
    for &l in labels {
        if let Some(c) = usize::try_from(l).ok().and_then(|l| counts.get_mut(l)) {
            *c += 1;
        }
    }
    let n = labels.len() as f64;
    Some(
        counts
            .iter()
            .map(|&c| {
                if c == 0 {
                    0.0
                } else {
                    n / (k as f64 * c as f64)
                }
            })
            .collect(),
    )
}

/// Cross-entropy of logits [batch, classes] against i64 labels [batch],
/// weighted per class (weights [classes], f32) as PyTorch's `weight=`:
/// Σ w_y · CE / Σ w_y over the batch. `None` is the plain mean.
pub fn weighted_cross_entropy(
    logits: &Tensor,
    labels: &Tensor,
    weights: Option<&Tensor>,
) -> Tensor {
    match weights {
        None => logits.cross_entropy_for_logits(labels),
        Some(w) => {
            logits.cross_entropy_loss::<&Tensor>(labels, Some(w), Reduction::Mean, -100, 0.0)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn balanced_weights_are_n_over_k_nc() {
        // 3 of class 0, 1 of class 1, none of class 2: n = 4, k = 3
        let w = class_weights(ClassWeight::Balanced, &[0, 0, 1, 0], 3).unwrap();
        assert_eq!(w, [4.0 / 9.0, 4.0 / 3.0, 0.0]);
        assert_eq!(class_weights(ClassWeight::None, &[0, 1], 2), None);
    }

    /// logits [[2, 0], [0, 1]], labels [0, 1], weights [0.5, 2]:
    /// (0.5 · ln(1 + e⁻²) + 2 · ln(1 + e⁻¹)) / 2.5 = 0.27599...
    #[test]
    fn weighted_loss_equals_the_hand_value() {
        let logits = Tensor::from_slice(&[2.0f32, 0.0, 0.0, 1.0]).view([2, 2]);
        let labels = Tensor::from_slice(&[0i64, 1]);
        let w = Tensor::from_slice(&[0.5f32, 2.0]);
        let got = weighted_cross_entropy(&logits, &labels, Some(&w)).double_value(&[]);
        let l0 = (1.0 + (-2.0f64).exp()).ln();
        let l1 = (1.0 + (-1.0f64).exp()).ln();
        let want = (0.5 * l0 + 2.0 * l1) / 2.5;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        assert!((want - 0.275_995).abs() < 1e-5, "{want}");
        let plain = weighted_cross_entropy(&logits, &labels, None).double_value(&[]);
        assert!((plain - (l0 + l1) / 2.0).abs() < 1e-6, "{plain}");
    }
}
