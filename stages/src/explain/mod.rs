//! Explanations and their cost: hierarchical feature maps (the paper's
//! KD-FMV), Grad-CAM, expected gradients (SHAP's GradientExplainer), their
//! faithfulness (deletion / insertion AUC), teacher–student agreement, the
//! drawing of overlays, and the `explain` and `timing` stages.

pub mod agreement;
pub mod colormap;
pub mod error;
pub mod expected_gradients;
pub mod faithfulness;
pub mod feature_maps;
pub mod gradcam;
mod maps;
pub mod overlay;
pub mod sample;
mod stage;
#[cfg(test)]
mod test_models;
pub mod timing;

pub use error::ExplainError;
pub use stage::{method_name, overlay_name, run_explain, run_timing, TEACHER_EXPLAIN};
