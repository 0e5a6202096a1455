//! Expected gradients (Erion et al. 2021), what SHAP's GradientExplainer
//! computes: for sample s draw a background image b_s and α_s ~ U(0, 1),
//! x'_s = b_s + α_s (x − b_s), and average grad f_c(x'_s) ⊙ (x − b_s).
//! Completeness holds in expectation: Σ attributions → f_c(x) − E_b f_c(b).
//!
//! Randomness comes from a caller-seeded ChaCha generator, never from
//! torch's global generator, so a seed fixes the attributions exactly.

use rand::Rng;
use tch::{Kind, Tensor};

use super::error::ExplainError;
use super::maps::{image_dims, single_dims};
use crate::models::Classifier;

/// Samples evaluated in one forward/backward pass; all samples of one image
/// share a pass unless there are more than this.
pub const MAX_BATCH: usize = 64;

/// The attributions of one image.
pub struct Attribution {
    /// Explained class.
    pub class: i64,
    /// Attributions: [C, H, W], same kind as the input.
    pub values: Tensor,
}

impl Attribution {
    /// Attributions summed over channels: [H, W] (the ranking used by the
    /// deletion / insertion curves).
    pub fn pixel_map(&self) -> Tensor {
        self.values.sum_dim_intlist(0, false, Kind::Float)
    }
}

/// x: [C, H, W]; background: [B, C, H, W] on the same device; `class`:
/// `None` explains the predicted class.
pub fn expected_gradients<R: Rng>(
    model: &dyn Classifier,
    x: &Tensor,
    background: &Tensor,
    class: Option<i64>,
    samples: usize,
    rng: &mut R,
) -> Result<Attribution, ExplainError> {
    let [c, h, w] = single_dims(x, "expected-gradients input")?;
    let [b, bc, bh, bw] = image_dims(background, "expected-gradients background")?;
    if [bc, bh, bw] != [c, h, w] {
        return Err(ExplainError::Shape {
            what: "expected-gradients background",
            expected: format!("[_, {c}, {h}, {w}]"),
            got: background.size(),
        });
    }
    if samples == 0 {
        return Err(ExplainError::Zero {
            what: "expected-gradients samples",
        });
    }
    let x = x.detach();
    let classes = model.num_classes();
    let class = match class {
        Some(k) if !(0..classes).contains(&k) => {
            return Err(ExplainError::ClassOutOfRange { class: k, classes })
        }
        Some(k) => k,
        None => tch::no_grad(|| model.logits(&x.unsqueeze(0), false))
            .argmax(1, false)
            .int64_value(&[0]),
    };
    // Draw every sample first so the result does not depend on MAX_BATCH.
    let picks: Vec<i64> = (0..samples).map(|_| rng.random_range(0..b)).collect();
    let alphas: Vec<f64> = (0..samples).map(|_| rng.random::<f64>()).collect();
    let device = x.device();
    let mut total = x.zeros_like();
    for (pick, alpha) in picks.chunks(MAX_BATCH).zip(alphas.chunks(MAX_BATCH)) {
        let idx = Tensor::from_slice(pick).to_device(device);
        let bg = background.detach().index_select(0, &idx);
        let alpha = Tensor::from_slice(alpha)
            .to_kind(x.kind())
            .to_device(device)
            .view([-1, 1, 1, 1]);
        let delta = x.unsqueeze(0) - &bg;
        let points = (&bg + alpha * &delta).set_requires_grad(true);
        let score = model
            .logits(&points, false)
            .select(1, class)
            .sum(Kind::Float);
        let grads = Tensor::f_run_backward(&[score], &[&points], false, false).map_err(
            ExplainError::torch("back-propagating the expected-gradients score"),
        )?;
        total += (&grads[0] * delta).sum_dim_intlist(0, false, x.kind());
    }
    Ok(Attribution {
        class,
        values: total / samples as f64,
    })
}

/// How far one image's attributions are from completeness, which they
/// reach only in expectation (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Completeness {
    /// |Σ attributions − (f_c(x) − mean_b f_c(b))|.
    pub gap: f64,
    /// `gap` over |f_c(x) − mean_b f_c(b)|; NaN when that is 0.
    pub relative: f64,
}

/// The completeness gap of `attr` for x: [C, H, W], background: [B, C, H, W]
/// (the whole background set, so E_b is exact, not sampled); f_c is the
/// logit of the attributed class, as in [`expected_gradients`].
pub fn completeness(
    model: &dyn Classifier,
    x: &Tensor,
    background: &Tensor,
    attr: &Attribution,
) -> Result<Completeness, ExplainError> {
    single_dims(x, "completeness input")?;
    image_dims(background, "completeness background")?;
    let _guard = tch::no_grad_guard();
    let score = |xs: &Tensor| {
        model
            .logits(xs, false)
            .select(1, attr.class)
            .to_kind(Kind::Double)
    };
    let fx = score(&x.detach().unsqueeze(0)).double_value(&[0]);
    let fb = score(&background.detach())
        .mean(Kind::Double)
        .double_value(&[]);
    let total = attr.values.sum(Kind::Double).double_value(&[]);
    let target = fx - fb;
    let gap = (total - target).abs();
    Ok(Completeness {
        gap,
        relative: if target == 0.0 {
            f64::NAN
        } else {
            gap / target.abs()
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::explain::test_models::{inputs, Linear, TwoConv};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn class_score(model: &dyn Classifier, xs: &Tensor, class: i64) -> Tensor {
        model
            .logits(xs, false)
            .select(1, class)
            .to_kind(Kind::Double)
    }

    /// With one background image a linear model's attributions are exactly
    /// w ⊙ (x − b) whatever α is drawn: completeness holds to rounding.
    #[test]
    fn linear_model_single_background_is_exact() {
        let model = Linear::new(2, 3, 3);
        let x = inputs(&[2, 3, 3], 10, Kind::Double);
        let bg = inputs(&[1, 2, 3, 3], 11, Kind::Double);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let a = expected_gradients(&model, &x, &bg, Some(1), 5, &mut rng).unwrap();
        let want = model.w.get(1).view([2, 3, 3]) * (&x - bg.get(0));
        let diff = (&a.values - want).abs().max().double_value(&[]);
        assert!(diff < 1e-12, "{diff}");
    }

    /// Linear model, 8 background images: Σ attr = f(x) − mean_s f(b_s), so
    /// the gap to f(x) − E_b f(b) is only the sampling error of the
    /// background picks. With 4096 samples its standard deviation is
    /// σ_b / 64; the test allows 4 σ.
    #[test]
    fn linear_model_completeness_in_expectation() {
        let model = Linear::new(1, 4, 4);
        let x = inputs(&[1, 4, 4], 12, Kind::Double);
        let bg = inputs(&[8, 1, 4, 4], 13, Kind::Double);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let a = expected_gradients(&model, &x, &bg, None, 4096, &mut rng).unwrap();
        let fx = class_score(&model, &x.unsqueeze(0), a.class).double_value(&[0]);
        let fb = class_score(&model, &bg, a.class);
        let target = fx - fb.mean(Kind::Double).double_value(&[]);
        let sigma = fb.std(true).double_value(&[]) / 64.0;
        let got = a.values.sum(Kind::Double).double_value(&[]);
        assert!(
            (got - target).abs() < 4.0 * sigma,
            "{got} vs {target} (σ {sigma})"
        );
    }

    /// Nonlinear conv net: both b and α are sampled. Stated tolerance: with
    /// 8192 samples the sum is within 2 % of |f(x) − E_b f(b)| (observed:
    /// 0.014 %, i.e. the tolerance leaves room for other seeds and BLAS).
    #[test]
    fn conv_net_completeness_within_two_percent() {
        let model = TwoConv::with_kind(Kind::Double);
        let x = inputs(&[1, 6, 6], 14, Kind::Double) * 2.0;
        let bg = inputs(&[16, 1, 6, 6], 15, Kind::Double);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let a = expected_gradients(&model, &x, &bg, None, 8192, &mut rng).unwrap();
        let fx = class_score(&model, &x.unsqueeze(0), a.class).double_value(&[0]);
        let fb = class_score(&model, &bg, a.class)
            .mean(Kind::Double)
            .double_value(&[]);
        let target = fx - fb;
        let got = a.values.sum(Kind::Double).double_value(&[]);
        assert!(
            target.abs() > 1e-3,
            "degenerate test: f(x) − E f(b) = {target}"
        );
        assert!(
            (got - target).abs() <= 0.02 * target.abs(),
            "{got} vs {target}"
        );
    }

    /// Linear model, one background image: the attributions are complete
    /// to rounding, so the gap is 0. With 4 background images and few
    /// samples it is the sum minus f(x) − mean f(b), computed here by hand.
    #[test]
    fn completeness_gap_of_a_linear_model() {
        let model = Linear::new(1, 3, 3);
        let x = inputs(&[1, 3, 3], 40, Kind::Double);
        let one = inputs(&[1, 1, 3, 3], 41, Kind::Double);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a = expected_gradients(&model, &x, &one, Some(0), 3, &mut rng).unwrap();
        let c = completeness(&model, &x, &one, &a).unwrap();
        assert!(c.gap < 1e-12 && c.relative < 1e-10, "{c:?}");

        let four = inputs(&[4, 1, 3, 3], 42, Kind::Double);
        let a = expected_gradients(&model, &x, &four, Some(2), 3, &mut rng).unwrap();
        let c = completeness(&model, &x, &four, &a).unwrap();
        let fx = class_score(&model, &x.unsqueeze(0), 2).double_value(&[0]);
        let fb = class_score(&model, &four, 2)
            .mean(Kind::Double)
            .double_value(&[]);
        let sum = a.values.sum(Kind::Double).double_value(&[]);
        let want = (sum - (fx - fb)).abs();
        assert!(want > 1e-3, "degenerate: {want}");
        assert!((c.gap - want).abs() < 1e-12, "{c:?} vs {want}");
        assert!((c.relative - want / (fx - fb).abs()).abs() < 1e-12);
    }

    #[test]
    fn same_seed_same_attributions_other_seed_differs() {
        let model = TwoConv::new();
        let x = inputs(&[1, 6, 6], 16, Kind::Float);
        let bg = inputs(&[4, 1, 6, 6], 17, Kind::Float);
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            expected_gradients(&model, &x, &bg, None, 100, &mut rng)
                .unwrap()
                .values
        };
        let (a, b, c) = (run(7), run(7), run(8));
        assert!(a.equal(&b));
        assert!(!a.equal(&c));
    }

    #[test]
    fn rejects_a_background_of_another_shape() {
        let model = TwoConv::new();
        let x = inputs(&[1, 6, 6], 18, Kind::Float);
        let bg = inputs(&[4, 1, 5, 6], 19, Kind::Float);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let err = expected_gradients(&model, &x, &bg, None, 4, &mut rng)
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("expected-gradients background"));
    }
}
