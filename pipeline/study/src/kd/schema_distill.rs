//! `[distill]` of the KD study's file: where distilled students' teacher
//! targets come from, and the parameters of each method of the
//! `[sweep] method` axis (`[distill.fitnets]`, `[distill.at]`,
//! `[distill.dkd]`). Loose types as in [`super::schema`]; validated by
//! `validate_distill.rs`. A method's table is read only when the sweep
//! lists the method, and its values enter only that method's students.

use serde::Deserialize;

use crate::experiment::schema::default_from_empty_table;

/// `[distill]`: how distilled students learn from their teacher. The
/// control (alpha = 0) reads none of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillTable {
    /// Where the teacher's logits of a `hinton` or `dkd` student come from:
    /// `"cached"` (default: the teacher stage's logits of the un-augmented
    /// training images, one teacher pass per image for the whole sweep) or
    /// `"online"` (the teacher runs on every augmented batch, in eval mode
    /// and without gradient: exact targets under augmentation, one extra
    /// teacher forward pass per batch). `fitnets` and `at` read the
    /// teacher's feature maps, which are not cached, so they always run it
    /// online.
    #[serde(default = "d_source")]
    pub source: String,
    /// FitNets hints (Romero et al., 2015).
    #[serde(default)]
    pub fitnets: FitnetsTable,
    /// Attention transfer (Zagoruyko & Komodakis, 2017).
    #[serde(default)]
    pub at: AtTable,
    /// Decoupled KD (Zhao et al., 2022).
    #[serde(default)]
    pub dkd: DkdTable,
}

/// `[distill.fitnets]`: the student's block `block` goes through a learned
/// 1×1-conv regressor (to the teacher's channel count; trained with the
/// student and saved in `hint_regressor.safetensors`) and is pulled towards
/// the teacher's block `block` by a mean-squared error. Block k of any CNN
/// has the same resolution, so the maps line up without resizing. Loss:
/// `alpha · T² · KL + (1 − alpha) · CE + hint_weight · MSE`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitnetsTable {
    /// The 1-based CNN block paired in student and teacher: `"last"`
    /// (default: each student's deepest block) or an integer ≥ 1, at most
    /// the shallowest swept depth and the teacher's depth.
    #[serde(default = "d_last")]
    pub block: toml::Value,
    /// Weight of the hint term, ≥ 0. Default 1.0 (block outputs are batch
    /// normalised, so the MSE starts on the cross-entropy's scale;
    /// mdistiller's CIFAR setting is 100).
    #[serde(default = "d_one")]
    pub hint_weight: f64,
}

/// `[distill.at]`: attention maps `mean_c |f|^p` of paired blocks (student
/// block k with teacher block k), L2-normalised per image; the loss adds
/// `beta / 2 · Σ_k mean_b ‖Q_s − Q_t‖₂` to
/// `alpha · T² · KL + (1 − alpha) · CE`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtTable {
    /// The 1-based blocks paired: `"all"` (default: every block of each
    /// student, up to the teacher's depth) or a list of distinct integers
    /// ≥ 1, each at most the shallowest swept depth and the teacher's depth.
    #[serde(default = "d_all")]
    pub blocks: toml::Value,
    /// Exponent p of the attention map, ≥ 1. Default 2 (the paper's).
    #[serde(default = "d_p")]
    pub p: f64,
    /// Weight β of the attention term, ≥ 0. Default 1.0: a pair's term is
    /// at most √2 (a distance of unit vectors); the paper's β = 1000 goes
    /// with its code's mean of squares, a different scale.
    #[serde(default = "d_one")]
    pub beta: f64,
}

/// `[distill.dkd]`: `alpha · ramp · (dkd_alpha · TCKD + dkd_beta · NCKD) +
/// (1 − alpha) · CE`, the sweep's alpha and T as for Hinton, `ramp` rising
/// linearly from 1/warmup_epochs to 1 over the first `warmup_epochs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkdTable {
    /// Weight of the target-class term TCKD, ≥ 0. Default 1.0 (the paper's).
    #[serde(default = "d_one")]
    pub alpha: f64,
    /// Weight of the non-target-class term NCKD, ≥ 0. Default 8.0 (the
    /// paper's CIFAR-100 value).
    #[serde(default = "d_dkd_beta")]
    pub beta: f64,
    /// Epochs over which the DKD term ramps in, ≥ 0 (0 = no ramp). Default
    /// 2 (the paper ramps over 20 of 240 epochs).
    #[serde(default = "d_warmup")]
    pub warmup_epochs: i64,
}

fn d_source() -> String {
    "cached".into()
}
fn d_last() -> toml::Value {
    toml::Value::String("last".into())
}
fn d_all() -> toml::Value {
    toml::Value::String("all".into())
}
fn d_one() -> f64 {
    1.0
}
fn d_p() -> f64 {
    2.0
}
fn d_dkd_beta() -> f64 {
    8.0
}
fn d_warmup() -> i64 {
    2
}

default_from_empty_table!(DistillTable, FitnetsTable, AtTable, DkdTable);
