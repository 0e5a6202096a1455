//! Distillation losses beyond Hinton's logit KD ([`super::distill`]): one
//! module per loss, each with its formula, paper and tensor shapes.
//!
//! - [`hint`]: FitNets hints (a learned 1×1 regressor, MSE on feature maps).
//! - [`attention`]: attention transfer (normalised spatial attention maps).
//! - [`dkd`]: decoupled KD (target-class and non-target-class terms).
//!
//! Every loss detaches the teacher's tensors: gradients reach the student
//! (and the hint regressor) only.

pub mod attention;
pub mod dkd;
pub mod hint;

pub use attention::{
    attention_map, attention_pair_loss, attention_transfer_loss, normalized_attention,
};
pub use dkd::{dkd_loss, dkd_terms, DkdTerms};
pub use hint::{hint_loss, HintRegressor};
