//! Explanations and their cost: hierarchical feature maps (the paper's
//! KD-FMV), Grad-CAM, expected gradients (SHAP's GradientExplainer), their
//! faithfulness (deletion / insertion AUC against a random-order baseline),
//! teacher–student agreement, the Grad-CAM layer choice, the
//! drawing of overlays, and the `explain` ([`run`]) and `timing`
//! ([`timing`]) stages.

pub mod agreement;
pub mod colormap;
pub mod error;
pub mod expected_gradients;
pub mod faithfulness;
pub mod feature_maps;
pub mod gradcam;
pub mod layer;
mod maps;
pub mod overlay;
mod record;
mod run;
pub mod sample;
mod shared;
#[cfg(test)]
mod test_models;
pub mod timing;

pub use error::ExplainError;
pub use run::{overlay_name, run_explain, TEACHER_EXPLAIN};
pub use shared::method_name;
pub use timing::run_timing;
