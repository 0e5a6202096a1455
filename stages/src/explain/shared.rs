//! What the `explain` and `timing` stages share: the test and training
//! images of their `data` upstream, the methods' names, and writing an
//! artifact file.

use std::path::Path;

use engine::exec::{StageContext, StageFailure};
use study::contract::artifacts::ArtifactFile;
use study::contract::names::ROLE_DATA;
use study::kd::params::ExplainMethod;
use tch::Tensor;

use super::error::ExplainError;
use crate::data::PreparedData;

/// What the explain and timing stages read from their `data` upstream.
pub(crate) struct Inputs {
    /// Normalised images on the CPU: [N, C, H, W]; labels [N].
    pub(crate) test_x: Tensor,
    pub(crate) test_y: Tensor,
    pub(crate) train_x: Tensor,
    /// Class index → name.
    pub(crate) classes: Vec<String>,
    /// Per-channel normalisation of [0, 1] pixel values.
    pub(crate) mean: Vec<f64>,
    pub(crate) std: Vec<f64>,
}

impl Inputs {
    /// Loads the `data` upstream (images stay on the CPU).
    pub(crate) fn load(ctx: &StageContext<'_>) -> Result<Inputs, StageFailure> {
        let data = PreparedData::load(ctx.upstream_dir(ROLE_DATA)?)?;
        Ok(Inputs {
            test_x: data.test.x,
            test_y: data.test.y,
            train_x: data.train.x,
            classes: data.classes,
            mean: data.mean,
            std: data.std,
        })
    }

    pub(crate) fn test_len(&self) -> usize {
        self.test_x.size().first().copied().unwrap_or(0) as usize
    }

    pub(crate) fn train_len(&self) -> usize {
        self.train_x.size().first().copied().unwrap_or(0) as usize
    }

    pub(crate) fn test_images(&self, indices: &[i64]) -> Result<Tensor, ExplainError> {
        self.test_x
            .f_index_select(0, &Tensor::from_slice(indices))
            .map_err(ExplainError::torch("selecting test images"))
    }

    pub(crate) fn train_images(&self, indices: &[i64]) -> Result<Tensor, ExplainError> {
        self.train_x
            .f_index_select(0, &Tensor::from_slice(indices))
            .map_err(ExplainError::torch("selecting background images"))
    }
}

/// Serde name of a method (also the overlay file suffix and its key in
/// `explain.json` and `timing.json`).
pub fn method_name(method: ExplainMethod) -> &'static str {
    match method {
        ExplainMethod::FeatureMaps => "feature_maps",
        ExplainMethod::Gradcam => "gradcam",
        ExplainMethod::ExpectedGradients => "expected_gradients",
    }
}

/// Writes `value` into the artifact folder `dir` under its file name.
pub(crate) fn write_artifact<T: ArtifactFile>(dir: &Path, value: &T) -> Result<(), ExplainError> {
    let path = dir.join(T::FILE);
    let write_err = |message: String| ExplainError::Write {
        path: path.clone(),
        message,
    };
    let bytes = value.to_bytes().map_err(|e| write_err(e.to_string()))?;
    std::fs::write(&path, bytes).map_err(|e| write_err(e.to_string()))
}

/// A stage's parameters as the JSON object its artifact file records.
pub(crate) fn params_json<T: serde::Serialize>(
    params: &T,
    file: &'static str,
) -> Result<serde_json::Value, ExplainError> {
    serde_json::to_value(params).map_err(|e| ExplainError::Write {
        path: file.into(),
        message: e.to_string(),
    })
}
