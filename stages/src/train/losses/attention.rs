//! Activation-based attention transfer (Zagoruyko & Komodakis, "Paying More
//! Attention to Attention", ICLR 2017).
//!
//! The attention map of a feature map `f` [B, C, H, W] is
//! `A = mean_c |f_c|^p` [B, H, W] (p = 2 by default, as in the paper's
//! experiments), and `Q = vec(A)` [B, H·W] its flattening per sample. For
//! pairs j of (student, teacher) layers the loss is the paper's eq. (2)
//! term with the norm p = 2:
//!
//! `L_AT = β/2 · Σ_j mean_b ‖ Q_s^j/‖Q_s^j‖₂ − Q_t^j/‖Q_t^j‖₂ ‖₂`
//!
//! Exact reductions, where the paper leaves them open:
//! - per sample the (unsquared) L2 norm of the difference of the normalised
//!   maps, then the mean over the batch, then the sum over pairs, times β/2;
//!   β weights the whole term;
//! - the channel mean (the paper writes a sum) changes nothing once the map
//!   is normalised, and keeps maps of different widths on the same scale;
//! - a map is divided by `max(‖Q‖₂, 1e-12)` (as `F.normalize` does) so a
//!   sample whose features are all zero (dead ReLUs) gives a zero map, not
//!   NaN;
//! - the authors' released code instead takes the mean over batch *and*
//!   H·W of the squared difference, with β = 1000. The two are not
//!   interchangeable: a β tuned for one does not carry over to the other.
//!
//! When the student's and teacher's maps differ in size, each attention map
//! (not the feature map) is adaptive-average-pooled to
//! `(min(H_s, H_t), min(W_s, W_t))` before flattening, so the larger one is
//! pooled to the smaller. Pooling `|f|^p` keeps the attention mass of each
//! region; the CRD code base (RepDistiller) pools the feature maps before
//! squaring instead, which differs when activations cancel in a window.
//!
//! The teacher's features are detached: the gradient reaches the student
//! only. The norm's gradient at a zero difference is defined (libtorch
//! takes the zero subgradient), so identical maps give a zero, finite
//! gradient.

use tch::{Device, Kind, Tensor};

/// The exponent of `|f|^p` used in the paper's experiments.
pub const DEFAULT_P: f64 = 2.0;

/// Smallest norm a map is divided by (`F.normalize`'s default eps).
const NORM_EPS: f64 = 1e-12;

/// Un-normalised spatial attention `mean_c |f_c|^p`.
/// features: [B, C, H, W] → [B, H, W] (Float). Use p ≥ 1: below 1 the
/// gradient of `|f|^p` is infinite at f = 0.
pub fn attention_map(features: &Tensor, p: f64) -> Tensor {
    features
        .abs()
        .pow_tensor_scalar(p)
        .mean_dim([1i64].as_slice(), false, Kind::Float)
}

/// Flattened, L2-normalised attention: each row divided by
/// `max(‖row‖₂, 1e-12)`. map: [B, H, W] → [B, H·W].
pub fn normalized_attention(map: &Tensor) -> Tensor {
    let q = map.flatten(1, -1);
    let norm = q
        .norm_scalaropt_dim(2.0, [1i64].as_slice(), true)
        .clamp_min(NORM_EPS);
    q / norm
}

/// One layer pair: `mean_b ‖Q_s/‖Q_s‖₂ − Q_t/‖Q_t‖₂‖₂`, attention maps
/// pooled to the smaller spatial size first (see the module docs).
/// student: [B, Cs, Hs, Ws]; teacher: [B, Ct, Ht, Wt] → scalar.
///
/// # Panics
/// If the batch sizes differ or either input is not 4-D.
pub fn attention_pair_loss(student: &Tensor, teacher: &Tensor, p: f64) -> Tensor {
    let (ss, ts) = (student.size(), teacher.size());
    assert!(
        ss.len() == 4 && ts.len() == 4 && ss[0] == ts[0],
        "attention transfer: expected [B, C, H, W] maps of one batch, got {ss:?} and {ts:?}"
    );
    let size = [ss[2].min(ts[2]), ss[3].min(ts[3])];
    let pooled = |map: Tensor| {
        if map.size()[1..] == size {
            map
        } else {
            map.unsqueeze(1).adaptive_avg_pool2d(size).squeeze_dim(1)
        }
    };
    let q_s = normalized_attention(&pooled(attention_map(student, p)));
    let q_t = normalized_attention(&pooled(attention_map(&teacher.detach(), p)));
    (q_s - q_t)
        .norm_scalaropt_dim(2.0, [1i64].as_slice(), false)
        .mean(Kind::Float)
}

/// `β/2 · Σ_j attention_pair_loss(s_j, t_j, p)` over (student, teacher)
/// feature-map pairs, shallow to deep → scalar. No pairs: a zero scalar
/// (a 0-d CPU tensor, which adds to a tensor on any device).
pub fn attention_transfer_loss(pairs: &[(&Tensor, &Tensor)], p: f64, beta: f64) -> Tensor {
    let zero = Tensor::zeros([], (Kind::Float, Device::Cpu));
    let total = pairs
        .iter()
        .fold(zero, |acc, (s, t)| acc + attention_pair_loss(s, t, p));
    total * (beta / 2.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// [B][C][H·W] values as a [B, C, H, W] tensor.
    fn t4(v: &[Vec<Vec<f32>>], h: i64, w: i64) -> Tensor {
        let flat: Vec<f32> = v.iter().flatten().flatten().copied().collect();
        Tensor::from_slice(&flat).view([v.len() as i64, v[0].len() as i64, h, w])
    }

    /// mean_c f², L2-normalised, in f64. f: [C][H·W].
    fn q(f: &[Vec<f32>]) -> Vec<f64> {
        let n = f[0].len();
        let a: Vec<f64> = (0..n)
            .map(|x| f.iter().map(|c| (c[x] as f64).powi(2)).sum::<f64>() / f.len() as f64)
            .collect();
        let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        a.iter().map(|v| v / norm).collect()
    }

    fn dist(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// Two pairs, B = 2, β = 4, by hand in f64: pair 1 at equal 2×2 size
    /// (Cs = 2, Ct = 3), pair 2 a 2×4 student map pooled to the teacher's
    /// 2×2 (adjacent columns averaged, after squaring).
    #[test]
    fn equals_hand_computed_value() {
        let s1 = vec![
            vec![vec![1.0, -2.0, 0.5, 0.0], vec![0.0, 1.0, 1.0, 3.0]],
            vec![vec![2.0, 2.0, -1.0, 0.5], vec![1.5, 0.0, 0.0, -1.0]],
        ];
        let t1 = vec![
            vec![
                vec![0.5, 1.0, 0.0, 2.0],
                vec![1.0, -1.0, 0.5, 0.5],
                vec![0.0, 0.0, 2.0, 1.0],
            ],
            vec![
                vec![3.0, 0.0, 0.0, 1.0],
                vec![-1.0, 1.0, 0.5, 0.0],
                vec![0.5, 2.0, 1.0, 1.0],
            ],
        ];
        // Student 2×4 (one channel), teacher 2×2 (two channels).
        let s2 = vec![
            vec![vec![1.0, 0.0, 2.0, -1.0, 0.5, 0.5, 0.0, 3.0]],
            vec![vec![0.0, 1.0, 1.0, 1.0, -2.0, 0.0, 1.0, 0.0]],
        ];
        let t2 = vec![
            vec![vec![1.0, 1.0, 0.0, 2.0], vec![0.0, 1.0, 1.0, 0.0]],
            vec![vec![0.5, 0.0, 2.0, 1.0], vec![1.0, 1.0, 0.0, 0.0]],
        ];
        let beta = 4.0;
        let mut pair1 = 0.0;
        let mut pair2 = 0.0;
        for b in 0..2 {
            pair1 += dist(&q(&s1[b]), &q(&t1[b])) / 2.0;
            // Pool the student's squared map over column pairs by hand.
            let a: Vec<f64> = s2[b][0].iter().map(|&v| (v as f64).powi(2)).collect();
            let pooled: Vec<f64> = (0..4).map(|i| (a[2 * i] + a[2 * i + 1]) / 2.0).collect();
            let norm = pooled.iter().map(|v| v * v).sum::<f64>().sqrt();
            let qs: Vec<f64> = pooled.iter().map(|v| v / norm).collect();
            pair2 += dist(&qs, &q(&t2[b])) / 2.0;
        }
        let expected = beta / 2.0 * (pair1 + pair2);
        let (s1, t1) = (t4(&s1, 2, 2), t4(&t1, 2, 2));
        let (s2, t2) = (t4(&s2, 2, 4), t4(&t2, 2, 2));
        let got = attention_transfer_loss(&[(&s1, &t1), (&s2, &t2)], 2.0, beta).double_value(&[]);
        assert!(
            (got - expected).abs() < 1e-5,
            "got {got}, expected {expected}"
        );
        // Pooling is symmetric in which side is larger.
        let swapped = attention_pair_loss(&t2, &s2, 2.0).double_value(&[]);
        assert!((swapped - pair2).abs() < 1e-5, "{swapped} vs {pair2}");
        // The number itself, so a changed formula fails loudly.
        assert!((expected - 1.081_278_436).abs() < 1e-6, "{expected}");
    }

    #[test]
    fn maps_have_documented_shapes() {
        let f = Tensor::ones([2, 5, 3, 4], (Kind::Float, Device::Cpu)) * 2.0;
        let a = attention_map(&f, 2.0);
        assert_eq!(a.size(), vec![2, 3, 4]);
        assert!((a.double_value(&[1, 2, 3]) - 4.0).abs() < 1e-6);
        let q = normalized_attention(&a);
        assert_eq!(q.size(), vec![2, 12]);
        // Every entry 4 / sqrt(12 · 16) = 1/sqrt(12).
        assert!((q.double_value(&[0, 0]) - 12f64.sqrt().recip()).abs() < 1e-6);
        // All-zero features: a zero map, not NaN.
        let z = normalized_attention(&attention_map(&(f * 0.0), 2.0));
        assert_eq!(z.abs().sum(Kind::Float).double_value(&[]), 0.0);
    }

    #[test]
    fn gradient_reaches_student_not_teacher() {
        let x = Tensor::from_slice(&[1.0f32, -2.0, 0.5, 3.0, 0.0, 1.0, -1.0, 2.0])
            .view([1, 2, 2, 2])
            .set_requires_grad(true);
        let t = Tensor::from_slice(&[
            0.5f32, 1.0, 2.0, 0.0, 1.0, 1.0, 0.0, 3.0, 1.0, 0.5, 0.5, 2.0,
        ])
        .view([1, 3, 2, 2])
        .set_requires_grad(true);
        let f_s = &x * 1.5;
        attention_transfer_loss(&[(&f_s, &t)], DEFAULT_P, 1000.0).backward();
        assert!(x.grad().abs().sum(Kind::Float).double_value(&[]) > 1e-4);
        assert!(!t.grad().defined(), "gradient leaked into the teacher");
    }

    #[test]
    fn identical_or_scaled_maps_give_zero_with_finite_gradient() {
        let f = Tensor::from_slice(&[0.3f32, -1.2, 2.5, 0.0, 4.0, -0.7, 1.1, 0.9, -3.0])
            .view([1, 1, 3, 3])
            .repeat([2, 1, 1, 1]);
        let same = attention_transfer_loss(&[(&f, &f)], 2.0, 1000.0).double_value(&[]);
        assert!(same.abs() < 1e-4, "{same}");
        // Teacher: the same map, twice as strong, on four channels; and a
        // student with −f (the map takes |f|).
        let t = (&f * 2.0).repeat([1, 4, 1, 1]);
        let x = (-&f).set_requires_grad(true);
        let loss = attention_transfer_loss(&[(&x, &t)], 2.0, 1000.0);
        assert!(loss.double_value(&[]).abs() < 1e-4, "{loss}");
        loss.backward();
        let g = x.grad();
        assert_eq!(
            g.isnan().any().int64_value(&[]),
            0,
            "NaN gradient at zero loss"
        );
        // A different map is not zero.
        let other = attention_pair_loss(&f, &f.flip([2]), 2.0).double_value(&[]);
        assert!(other > 0.1, "{other}");
    }

    #[test]
    fn no_pairs_is_zero() {
        assert_eq!(
            attention_transfer_loss(&[], 2.0, 1000.0).double_value(&[]),
            0.0
        );
    }

    #[test]
    #[should_panic(expected = "one batch")]
    fn batch_mismatch_panics() {
        let s = Tensor::ones([2, 1, 2, 2], (Kind::Float, Device::Cpu));
        let t = Tensor::ones([3, 1, 2, 2], (Kind::Float, Device::Cpu));
        let _ = attention_pair_loss(&s, &t, 2.0);
    }
}
