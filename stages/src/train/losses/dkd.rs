//! Decoupled knowledge distillation (Zhao et al., "Decoupled Knowledge
//! Distillation", CVPR 2022).
//!
//! With `p = softmax(z/T)` over K classes and t the label, split the
//! prediction into the binary `b = [p_t, 1 − p_t]` and the distribution over
//! the K − 1 non-target classes `p̂_i = p_i / (1 − p_t) = softmax_{i≠t}(z_i/T)`.
//! For student s and teacher T (detached):
//!
//! - `TCKD = T² · KL(b^T ‖ b^S)` (target-class KD),
//! - `NCKD = T² · KL(p̂^T ‖ p̂^S)` (non-target-class KD),
//! - `L_DKD = α · TCKD + β · NCKD`,
//!
//! each KL summed over its classes and averaged over the batch (batchmean,
//! as in [`crate::train::distill::soft_loss`] and the authors' code). The
//! paper uses α = 1, β = 8 and T = 4 on CIFAR-100; its code also ramps the
//! term in over the first 20 epochs, which belongs to the training loop, not
//! here.
//!
//! The paper's decomposition (its eq. 6): for one sample, classical KD is
//!
//! `KD = TCKD + (1 − p_t^T) · NCKD`
//!
//! with `p_t^T` the teacher's target probability at temperature T (the T²
//! factors match on both sides). The NCKD weight depends on the sample, so
//! for a batch the batchmean KD is not α = 1, β = scalar DKD; the tests
//! check the identity per sample.
//!
//! Numerics: the authors' code takes `log(softmax)` for the binary term and
//! masks the target with `z − 1000`. Here the binary log-probabilities come
//! from log-sum-exp differences and the non-target logits are selected, not
//! masked, so a teacher with `p_t` rounding to 1 still gives a finite loss
//! and no logit scale breaks the mask.

use tch::{Kind, Tensor};

/// The two DKD terms, each already `T²`-scaled and batchmean (scalars).
#[derive(Debug)]
pub struct DkdTerms {
    /// `T² · KL(b^T ‖ b^S)` on `[p_t, 1 − p_t]`.
    pub tckd: Tensor,
    /// `T² · KL(p̂^T ‖ p̂^S)` on the non-target classes.
    pub nckd: Tensor,
}

/// Both terms. student, teacher: [B, K] logits (K ≥ 2); labels: i64 [B]
/// class indices → [`DkdTerms`] of scalars.
///
/// # Panics
/// If K < 2, the shapes disagree, or a label is outside `0..K`.
pub fn dkd_terms(
    student: &Tensor,
    teacher: &Tensor,
    labels: &Tensor,
    temperature: f64,
) -> DkdTerms {
    let size = student.size();
    assert!(
        size.len() == 2 && size[1] >= 2 && teacher.size() == size && labels.size() == [size[0]],
        "dkd: expected [B, K ≥ 2] logits and [B] labels, got {size:?}, {:?} and {:?}",
        teacher.size(),
        labels.size()
    );
    let (b, k) = (size[0], size[1]);
    let labels = labels.view([b, 1]);
    let other = labels.view([b]).one_hot(k).eq(0);
    let split = |logits: &Tensor| {
        let z = (logits / temperature).to_kind(Kind::Float);
        let lse = z.logsumexp([1i64].as_slice(), true);
        let rest = z.masked_select(&other).view([b, k - 1]);
        let log_pt = z.gather(1, &labels, false) - &lse;
        let log_not_t = rest.logsumexp([1i64].as_slice(), true) - &lse;
        let binary = Tensor::cat(&[log_pt, log_not_t], 1);
        (binary, rest.log_softmax(-1, Kind::Float))
    };
    let (bin_s, rest_s) = split(student);
    let (bin_t, rest_t) = split(&teacher.detach());
    let scale = temperature * temperature / b.max(1) as f64;
    let kl = |log_p: &Tensor, log_q: &Tensor| (log_p.exp() * (log_p - log_q)).sum(Kind::Float);
    DkdTerms {
        tckd: kl(&bin_t, &bin_s) * scale,
        nckd: kl(&rest_t, &rest_s) * scale,
    }
}

/// `α · TCKD + β · NCKD`. student, teacher: [B, K] logits; labels: i64 [B]
/// → scalar.
pub fn dkd_loss(
    student: &Tensor,
    teacher: &Tensor,
    labels: &Tensor,
    temperature: f64,
    alpha: f64,
    beta: f64,
) -> Tensor {
    let DkdTerms { tckd, nckd } = dkd_terms(student, teacher, labels, temperature);
    tckd * alpha + nckd * beta
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::train::distill::soft_loss;

    fn t2(rows: &[[f32; 4]]) -> Tensor {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_slice(&flat).view([rows.len() as i64, 4])
    }

    fn softmax(v: &[f64], t: f64) -> Vec<f64> {
        let m = v.iter().cloned().fold(f64::MIN, f64::max);
        let e: Vec<f64> = v.iter().map(|x| ((x - m) / t).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|x| x / s).collect()
    }

    fn kl(p: &[f64], q: &[f64]) -> f64 {
        p.iter().zip(q).map(|(a, b)| a * (a / b).ln()).sum()
    }

    const S: [[f32; 4]; 2] = [[1.0, 2.0, 0.5, -1.0], [0.0, -1.0, 3.0, 1.0]];
    const T: [[f32; 4]; 2] = [[2.0, 1.0, 0.0, 0.5], [0.5, 0.5, 2.5, -0.5]];
    const Y: [i64; 2] = [1, 2];

    /// B = 2, K = 4, T = 2, α = 1, β = 8, by hand in f64.
    #[test]
    fn equals_hand_computed_value() {
        let (temp, alpha, beta) = (2.0, 1.0, 8.0);
        let (mut tckd, mut nckd) = (0.0, 0.0);
        for i in 0..2 {
            let y = Y[i] as usize;
            let ps = softmax(&S[i].map(|v| v as f64), temp);
            let pt = softmax(&T[i].map(|v| v as f64), temp);
            tckd += kl(&[pt[y], 1.0 - pt[y]], &[ps[y], 1.0 - ps[y]]);
            let rest = |p: &[f64]| -> Vec<f64> {
                (0..4)
                    .filter(|&j| j != y)
                    .map(|j| p[j] / (1.0 - p[y]))
                    .collect()
            };
            nckd += kl(&rest(&pt), &rest(&ps));
        }
        let (tckd, nckd) = (tckd * temp * temp / 2.0, nckd * temp * temp / 2.0);
        let expected = alpha * tckd + beta * nckd;
        let (s, t, y) = (t2(&S), t2(&T), Tensor::from_slice(&Y));
        let terms = dkd_terms(&s, &t, &y, temp);
        let got_t = terms.tckd.double_value(&[]);
        let got_n = terms.nckd.double_value(&[]);
        assert!((got_t - tckd).abs() < 1e-5, "tckd {got_t} vs {tckd}");
        assert!((got_n - nckd).abs() < 1e-5, "nckd {got_n} vs {nckd}");
        let got = dkd_loss(&s, &t, &y, temp, alpha, beta).double_value(&[]);
        assert!(
            (got - expected).abs() < 1e-5,
            "got {got}, expected {expected}"
        );
        // The number itself, so a changed formula fails loudly.
        assert!((expected - 4.164_041_160).abs() < 1e-6, "{expected}");
    }

    #[test]
    fn gradient_reaches_student_not_teacher_through_each_term() {
        for (alpha, beta) in [(1.0, 0.0), (0.0, 1.0)] {
            let s = t2(&S).set_requires_grad(true);
            let t = t2(&T).set_requires_grad(true);
            dkd_loss(&s, &t, &Tensor::from_slice(&Y), 4.0, alpha, beta).backward();
            let g = s.grad().abs().sum(Kind::Float).double_value(&[]);
            assert!(g > 1e-4, "alpha {alpha}, beta {beta}: gradient {g}");
            assert!(!t.grad().defined(), "gradient leaked into the teacher");
        }
    }

    /// The paper's eq. 6, per sample (batch 1): KD = TCKD + (1 − p_t^T)·NCKD.
    #[test]
    fn kd_is_tckd_plus_weighted_nckd_per_sample() {
        for temp in [1.0, 2.0, 4.0] {
            for i in 0..2 {
                let (s, t) = (t2(&S[i..=i]), t2(&T[i..=i]));
                let y = Tensor::from_slice(&Y[i..=i]);
                let p_t = (&t / temp)
                    .softmax(-1, Kind::Float)
                    .double_value(&[0, Y[i]]);
                let kd = soft_loss(&s, &t, temp).double_value(&[]);
                let DkdTerms { tckd, nckd } = dkd_terms(&s, &t, &y, temp);
                let sum = tckd.double_value(&[]) + (1.0 - p_t) * nckd.double_value(&[]);
                assert!(
                    (kd - sum).abs() < 1e-5,
                    "T {temp}, sample {i}: kd {kd}, sum {sum}"
                );
                let dkd = dkd_loss(&s, &t, &y, temp, 1.0, 1.0 - p_t).double_value(&[]);
                assert!(
                    (kd - dkd).abs() < 1e-5,
                    "T {temp}, sample {i}: kd {kd}, dkd {dkd}"
                );
            }
        }
        // Over a batch, no scalar β does it: the weight is per sample. With
        // β the batch mean of (1 − p_t) the two differ measurably here.
        let (s, t, y) = (t2(&S), t2(&T), Tensor::from_slice(&Y));
        let p = (&t / 2.0).softmax(-1, Kind::Float);
        let mean_w = 1.0 - (p.double_value(&[0, 1]) + p.double_value(&[1, 2])) / 2.0;
        let kd = soft_loss(&s, &t, 2.0).double_value(&[]);
        let dkd = dkd_loss(&s, &t, &y, 2.0, 1.0, mean_w).double_value(&[]);
        assert!((kd - dkd).abs() > 1e-3, "kd {kd}, dkd {dkd}");
    }

    #[test]
    fn identical_logits_give_zero() {
        let (t, y) = (t2(&T), Tensor::from_slice(&Y));
        let DkdTerms { tckd, nckd } = dkd_terms(&t, &t, &y, 4.0);
        assert!(tckd.double_value(&[]).abs() < 1e-7);
        assert!(nckd.double_value(&[]).abs() < 1e-7);
    }

    #[test]
    fn confident_teacher_gives_a_finite_loss() {
        // p_t rounds to 1 in f32 (margin 200 at T = 1): log(1 − p_t) taken
        // from log-sum-exp stays finite where log(softmax) would be −inf.
        let s = t2(&[[1.0, 2.0, 0.5, -1.0]]).set_requires_grad(true);
        let t = t2(&[[0.0, 200.0, 0.0, 0.0]]);
        let y = Tensor::from_slice(&[1i64]);
        let loss = dkd_loss(&s, &t, &y, 1.0, 1.0, 8.0);
        let v = loss.double_value(&[]);
        assert!(v.is_finite(), "{v}");
        loss.backward();
        assert_eq!(s.grad().isfinite().all().int64_value(&[]), 1);
    }

    #[test]
    #[should_panic(expected = "dkd: expected")]
    fn label_shape_mismatch_panics() {
        let _ = dkd_terms(&t2(&S), &t2(&T), &Tensor::from_slice(&[1i64]), 1.0);
    }
}
