//! Errors of the explainers, mapped to a [`StageFailure`] at the stage edge.

use std::path::PathBuf;

use engine::exec::StageFailure;

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("grad-cam layer {layer} out of range: the model has {layers} conv layers")]
    LayerOutOfRange { layer: i32, layers: usize },
    #[error("grad-cam common layer: {0}")]
    Layer(String),
    #[error("model taps {taps} activations but names {names} conv layers")]
    LayerCount { taps: usize, names: usize },
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        what: &'static str,
        expected: String,
        got: Vec<i64>,
    },
    #[error("class {class} out of range for a model with {classes} classes")]
    ClassOutOfRange { class: i64, classes: i64 },
    #[error("{what} must be at least 1")]
    Zero { what: &'static str },
    #[error("cannot sample {wanted} of {available} images: both must be at least 1")]
    EmptySample { wanted: usize, available: usize },
    #[error("torch failed while {context}: {source}")]
    Torch {
        context: &'static str,
        #[source]
        source: tch::TchError,
    },
    #[error("failed to write {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    #[error("failed to read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("teacher explanations in {} do not match: {message}", path.display())]
    TeacherMismatch { path: PathBuf, message: String },
}

impl ExplainError {
    pub(crate) fn torch(context: &'static str) -> impl FnOnce(tch::TchError) -> ExplainError {
        move |source| ExplainError::Torch { context, source }
    }
}

impl From<ExplainError> for StageFailure {
    fn from(e: ExplainError) -> Self {
        StageFailure::new(e.to_string())
    }
}
