//! FitNets hint loss (Romero et al., "FitNets: Hints for Thin Deep Nets",
//! ICLR 2015):
//!
//! `L_hint = mean over B·Ct·H·W elements of (r(f_s) − f_t)²`
//!
//! where `f_s` [B, Cs, H, W] is the student's feature map at its guided
//! layer (a block output of [`crate::models::Classifier::forward_taps`]),
//! `f_t` [B, Ct, H, W] the teacher's at its hint layer (detached), and `r`
//! a learned 1×1 convolution (with bias) from Cs to Ct channels.
//!
//! Choices, against the paper:
//! - The paper writes `½ ‖u_h − r(v_g)‖²` (a sum over elements). The mean
//!   used here only rescales that by `2 / (B·Ct·H·W)`, so the weight of the
//!   term does not change with batch size or feature-map size; the caller's
//!   weight absorbs the constant.
//! - The paper's regressor carries the teacher layer's non-linearity and may
//!   be a k×k convolution when the spatial sizes differ. This one is linear
//!   and 1×1, so the two maps must already have the same H and W: pick the
//!   student and teacher blocks accordingly.
//! - The regressor is trained jointly with the student (its variables must
//!   be in the optimiser's var store) and is not part of the student model.

use tch::{nn, Reduction, Tensor};

/// Learned 1×1 convolution mapping student features to the teacher's
/// channel count. Variables: `{p}.conv.weight` [Ct, Cs, 1, 1] and
/// `{p}.conv.bias` [Ct].
#[derive(Debug)]
pub struct HintRegressor {
    conv: nn::Conv2D,
}

impl HintRegressor {
    /// A regressor from `c_student` to `c_teacher` channels under `p`
    /// (tch's default init: Kaiming-uniform weight, zero bias).
    pub fn new(p: &nn::Path, c_student: i64, c_teacher: i64) -> HintRegressor {
        let conv = nn::conv2d(p / "conv", c_student, c_teacher, 1, Default::default());
        HintRegressor { conv }
    }

    /// student: [B, Cs, H, W] → [B, Ct, H, W].
    pub fn forward(&self, student: &Tensor) -> Tensor {
        student.apply(&self.conv)
    }

    /// `hint_loss(self.forward(student), teacher)`.
    /// student: [B, Cs, H, W]; teacher: [B, Ct, H, W] → scalar.
    pub fn loss(&self, student: &Tensor, teacher: &Tensor) -> Tensor {
        hint_loss(&self.forward(student), teacher)
    }
}

/// Mean squared error between the regressed student features and the
/// (detached) teacher features. regressed, teacher: [B, Ct, H, W] → scalar.
///
/// # Panics
/// If the two shapes differ: `mse_loss` would otherwise broadcast, say, a
/// [B, Ct, 1, 1] map against [B, Ct, H, W] without complaint.
pub fn hint_loss(regressed: &Tensor, teacher: &Tensor) -> Tensor {
    assert_eq!(
        regressed.size(),
        teacher.size(),
        "hint loss: regressed student features and teacher features differ in shape"
    );
    regressed.mse_loss(&teacher.detach(), Reduction::Mean)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn regressor(c_s: i64, c_t: i64) -> (nn::VarStore, HintRegressor) {
        let vs = nn::VarStore::new(Device::Cpu);
        let r = HintRegressor::new(&(vs.root() / "hint"), c_s, c_t);
        (vs, r)
    }

    /// Overwrites the regressor's weight [Ct, Cs] and bias [Ct].
    fn set(r: &mut HintRegressor, w: &[f32], b: &[f32]) {
        let (c_t, c_s) = (r.conv.ws.size()[0], r.conv.ws.size()[1]);
        tch::no_grad(|| {
            r.conv
                .ws
                .copy_(&Tensor::from_slice(w).view([c_t, c_s, 1, 1]));
            r.conv.bs.as_mut().unwrap().copy_(&Tensor::from_slice(b));
        });
    }

    #[test]
    fn variables_are_named_under_the_path() {
        let (vs, _r) = regressor(2, 3);
        let mut names: Vec<(String, Vec<i64>)> = vs
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.size()))
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                ("hint.conv.bias".to_string(), vec![3]),
                ("hint.conv.weight".to_string(), vec![3, 2, 1, 1]),
            ]
        );
    }

    /// B = 1, Cs = 2, Ct = 3, H = 1, W = 2, by hand in f64.
    #[test]
    fn equals_hand_computed_value() {
        let (_vs, mut r) = regressor(2, 3);
        let w = [[0.5f32, -1.0], [2.0, 0.25], [-0.5, 1.5]];
        let b = [0.1f32, -0.2, 0.3];
        set(&mut r, &w.concat(), &b);
        // s[c][x], t[k][x]
        let s = [[1.0f32, -2.0], [0.5, 3.0]];
        let t = [[0.0f32, 1.0], [2.0, -1.0], [0.5, 0.5]];
        let mut sq = 0.0f64;
        for k in 0..3 {
            for x in 0..2 {
                let rk: f64 =
                    (0..2).map(|c| w[k][c] as f64 * s[c][x] as f64).sum::<f64>() + b[k] as f64;
                sq += (rk - t[k][x] as f64).powi(2);
            }
        }
        let expected = sq / 6.0;
        let st = Tensor::from_slice(&s.concat()).view([1, 2, 1, 2]);
        let tt = Tensor::from_slice(&t.concat()).view([1, 3, 1, 2]);
        let got = r.loss(&st, &tt).double_value(&[]);
        assert!(
            (got - expected).abs() < 1e-5,
            "got {got}, expected {expected}"
        );
        // The number itself, so a changed formula fails loudly.
        assert!((expected - 9.686_770_833).abs() < 1e-6, "{expected}");
    }

    #[test]
    fn gradient_reaches_student_and_regressor_not_teacher() {
        let (_vs, r) = regressor(2, 3);
        let x = Tensor::from_slice(&[1.0f32, -2.0, 0.5, 3.0, 0.0, 1.0, -1.0, 2.0])
            .view([1, 2, 2, 2])
            .set_requires_grad(true);
        let t = Tensor::from_slice(&[0.5f32; 12])
            .view([1, 3, 2, 2])
            .set_requires_grad(true);
        // A student-side op between the input and the features, as in a model.
        let f_s = x.relu() * 2.0;
        r.loss(&f_s, &t).backward();
        let mag = |g: Tensor| g.abs().sum(Kind::Float).double_value(&[]);
        assert!(mag(x.grad()) > 1e-4);
        assert!(mag(r.conv.ws.grad()) > 1e-4);
        assert!(mag(r.conv.bs.as_ref().unwrap().grad()) > 1e-4);
        assert!(!t.grad().defined(), "gradient leaked into the teacher");
    }

    #[test]
    fn identity_regressor_on_equal_features_is_zero() {
        let (_vs, mut r) = regressor(3, 3);
        let eye: Vec<f32> = (0..9).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
        set(&mut r, &eye, &[0.0; 3]);
        let f = Tensor::from_slice(&[0.3f32, -1.2, 2.5, 0.0, 4.0, -0.7, 1.1, 0.9, -3.0])
            .view([1, 3, 3, 1])
            .repeat([2, 1, 1, 2]);
        let zero = r.loss(&f, &f).double_value(&[]);
        assert!(zero.abs() < 1e-12, "{zero}");
        // And not zero once the features differ.
        let other = r.loss(&f, &(&f + 0.5)).double_value(&[]);
        assert!((other - 0.25).abs() < 1e-6, "{other}");
    }

    #[test]
    #[should_panic(expected = "differ in shape")]
    fn spatial_mismatch_panics_instead_of_broadcasting() {
        let (_vs, r) = regressor(2, 3);
        let s = Tensor::ones([1, 2, 4, 4], (Kind::Float, Device::Cpu));
        let t = Tensor::ones([1, 3, 1, 1], (Kind::Float, Device::Cpu));
        let _ = r.loss(&s, &t);
    }
}
