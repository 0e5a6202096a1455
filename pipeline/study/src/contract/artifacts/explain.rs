//! `explain.json` of an `explain` stage: the explained test images, each
//! method's faithfulness (deletion / insertion AUC) and, for a student, its
//! agreement with the teacher's Grad-CAM.

use serde::{Deserialize, Serialize};

use super::{nullable, ArtifactFile};

/// `explain.json` (keys sorted, as the file has always had them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explain {
    /// Students only (absent for a teacher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
    /// What deleted pixels are replaced with.
    pub deletion_baseline: String,
    /// Indices of the explained test images (a seeded sample).
    pub images: Vec<i64>,
    pub labels: Vec<i64>,
    pub methods: Methods,
    /// The stage's resolved parameters, as a JSON object with sorted keys.
    pub params: serde_json::Value,
    /// The class each map explains (the model's prediction).
    pub predicted: Vec<i64>,
}

impl ArtifactFile for Explain {
    const FILE: &'static str = "explain.json";
}

/// The methods that ran; each one absent when it was not asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Methods {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_gradients: Option<ExpectedGradients>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_maps: Option<FeatureMaps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradcam: Option<Gradcam>,
}

impl Methods {
    /// Mean deletion and insertion AUC of the method named `method`
    /// (`gradcam`, `expected_gradients`); `None` when it did not run or
    /// has no curves (`feature_maps`).
    pub fn faithfulness(&self, method: &str) -> Option<(f64, f64)> {
        match method {
            "gradcam" => self
                .gradcam
                .as_ref()
                .map(|g| (g.deletion_auc, g.insertion_auc)),
            "expected_gradients" => self
                .expected_gradients
                .as_ref()
                .map(|e| (e.deletion_auc, e.insertion_auc)),
            _ => None,
        }
    }
}

/// Feature maps have no faithfulness curves: the layers drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMaps {
    pub layers: Vec<String>,
}

/// Grad-CAM faithfulness and the layer it explains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gradcam {
    #[serde(deserialize_with = "nullable::f64")]
    pub deletion_auc: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub insertion_auc: f64,
    /// The layer's name (`None` if the model names fewer layers).
    pub layer: Option<String>,
    pub layer_index: usize,
    pub per_image: PerImage,
}

/// Expected-gradients faithfulness and its sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedGradients {
    /// Indices of the training images used as the background.
    pub background: Vec<i64>,
    #[serde(deserialize_with = "nullable::f64")]
    pub deletion_auc: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub insertion_auc: f64,
    pub per_image: PerImage,
    pub samples: u32,
}

/// One AUC per explained image, in the order of [`Explain::images`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerImage {
    #[serde(deserialize_with = "nullable::f64s")]
    pub deletion_auc: Vec<f64>,
    #[serde(deserialize_with = "nullable::f64s")]
    pub insertion_auc: Vec<f64>,
}

/// Mean agreement of a student's Grad-CAM maps with its teacher's over the
/// explained images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// IoU of the top-10 % pixels.
    pub gradcam_iou_top10: f64,
    /// Pearson correlation over the images where it is defined; `None`
    /// when it is defined for none.
    pub gradcam_pearson: Option<f64>,
    pub images: usize,
    /// Images where either map is constant.
    pub pearson_undefined: usize,
}
