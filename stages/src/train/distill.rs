//! Hinton et al. (2015) distillation loss on logits:
//!
//! `alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · CE(s, y)`
//!
//! with the KL divergence summed over classes and averaged over the batch
//! ("batchmean"; the `mean` reduction would divide by the class count too
//! and silently rescale alpha). The T² factor keeps the soft term's gradient
//! magnitude independent of T. The soft term is a function of the student's
//! logits, so its gradient reaches the student (the paper's released code
//! compared two teacher-side quantities and never did: see the tests).

use tch::{Kind, Tensor};

use super::class_weight::weighted_cross_entropy;

/// Soft-target term `T² · KL(softmax(t/T) ‖ softmax(s/T))`, batchmean.
/// student, teacher: [batch, classes] logits → scalar.
pub fn soft_loss(student: &Tensor, teacher: &Tensor, temperature: f64) -> Tensor {
    let log_p_s = (student / temperature).log_softmax(-1, Kind::Float);
    let log_p_t = (teacher.detach() / temperature).log_softmax(-1, Kind::Float);
    let batch = student.size()[0].max(1) as f64;
    let kl = (log_p_t.exp() * (&log_p_t - &log_p_s)).sum(Kind::Float) / batch;
    kl * (temperature * temperature)
}

/// The full loss. student, teacher: [batch, classes] logits; labels: i64
/// [batch] → scalar. With `alpha == 0` the teacher is not used (and may be
/// absent): that is the no-distillation control.
pub fn distillation_loss(
    student: &Tensor,
    teacher: Option<&Tensor>,
    labels: &Tensor,
    temperature: f64,
    alpha: f64,
) -> Tensor {
    weighted_distillation_loss(student, teacher, labels, temperature, alpha, None)
}

/// [`distillation_loss`] with the hard-label term weighted per class
/// (`class_weights`: [classes] f32, see [`super::class_weight`]); the soft
/// term is not weighted.
pub fn weighted_distillation_loss(
    student: &Tensor,
    teacher: Option<&Tensor>,
    labels: &Tensor,
    temperature: f64,
    alpha: f64,
    class_weights: Option<&Tensor>,
) -> Tensor {
    let ce = weighted_cross_entropy(student, labels, class_weights);
    match teacher {
        Some(t) if alpha > 0.0 => soft_loss(student, t, temperature) * alpha + ce * (1.0 - alpha),
        _ => ce,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t2(rows: &[[f32; 3]]) -> Tensor {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_slice(&flat).view([rows.len() as i64, 3])
    }

    fn softmax(v: &[f64], t: f64) -> Vec<f64> {
        let m = v.iter().cloned().fold(f64::MIN, f64::max);
        let e: Vec<f64> = v.iter().map(|x| ((x - m) / t).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|x| x / s).collect()
    }

    /// Two samples, three classes, T = 2, alpha = 0.7, by hand in f64.
    #[test]
    fn equals_hand_computed_value() {
        let s = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]];
        let t = [[2.0, 1.0, 0.0], [0.5, 0.5, 2.5]];
        let y = [1i64, 2];
        let (temp, alpha) = (2.0, 0.7);
        let mut kl = 0.0;
        let mut ce = 0.0;
        for i in 0..2 {
            let sd: Vec<f64> = s[i].iter().map(|&v| v as f64).collect();
            let td: Vec<f64> = t[i].iter().map(|&v| v as f64).collect();
            let ps = softmax(&sd, temp);
            let pt = softmax(&td, temp);
            kl += (0..3).map(|k| pt[k] * (pt[k] / ps[k]).ln()).sum::<f64>();
            ce += -softmax(&sd, 1.0)[y[i] as usize].ln();
        }
        let expected = alpha * temp * temp * kl / 2.0 + (1.0 - alpha) * ce / 2.0;
        let got = distillation_loss(&t2(&s), Some(&t2(&t)), &Tensor::from_slice(&y), temp, alpha)
            .double_value(&[]);
        assert!(
            (got - expected).abs() < 1e-5,
            "got {got}, expected {expected}"
        );
        // The numbers themselves, so a changed formula fails loudly.
        assert!((expected - 0.327_971_477).abs() < 1e-6, "{expected}");
    }

    #[test]
    fn gradient_reaches_student_logits_when_alpha_positive() {
        let s = t2(&[[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]).set_requires_grad(true);
        let t = t2(&[[2.0, 1.0, 0.0], [0.5, 0.5, 2.5]]);
        let y = Tensor::from_slice(&[1i64, 2]);
        // alpha = 1: only the soft term is left, and it must move the student.
        let loss = distillation_loss(&s, Some(&t), &y, 4.0, 1.0);
        loss.backward();
        let g = s.grad();
        assert!(g.abs().sum(Kind::Float).double_value(&[]) > 1e-4);
        // No gradient flows into the (cached) teacher logits.
        assert!(!t.requires_grad());
    }

    #[test]
    fn t1_alpha1_is_kl_to_teacher() {
        let s = t2(&[[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]);
        let t = t2(&[[2.0, 1.0, 0.0], [0.5, 0.5, 2.5]]);
        let y = Tensor::from_slice(&[1i64, 2]);
        let got = distillation_loss(&s, Some(&t), &y, 1.0, 1.0).double_value(&[]);
        // libtorch's own KL (batchmean = sum / batch).
        let kl = s
            .log_softmax(-1, Kind::Float)
            .kl_div(&t.softmax(-1, Kind::Float), tch::Reduction::Sum, false)
            .double_value(&[])
            / 2.0;
        assert!((got - kl).abs() < 1e-6, "got {got}, kl {kl}");
        // Identical logits: zero.
        let zero = distillation_loss(&t, Some(&t), &y, 1.0, 1.0).double_value(&[]);
        assert!(zero.abs() < 1e-7);
    }

    #[test]
    fn alpha0_is_cross_entropy_and_ignores_teacher() {
        let s = t2(&[[1.0, 2.0, 0.5]]);
        let y = Tensor::from_slice(&[0i64]);
        let a = distillation_loss(&s, None, &y, 5.0, 0.0).double_value(&[]);
        let b =
            distillation_loss(&s, Some(&t2(&[[9.0, 0.0, 0.0]])), &y, 5.0, 0.0).double_value(&[]);
        let ce = -softmax(&[1.0, 2.0, 0.5], 1.0)[0].ln();
        assert!((a - ce).abs() < 1e-6 && (b - ce).abs() < 1e-6);
    }
}
