//! `explain.json` of an `explain` stage: the explained test images, each
//! method's faithfulness (deletion / insertion AUC, raw and against a
//! random-order baseline of the same model), expected gradients'
//! completeness gap and, for a student, its agreement with the teacher's
//! Grad-CAM of the teacher's predicted class.

use serde::{Deserialize, Serialize};

use super::{nullable, ArtifactFile};

/// `explain.json` (keys sorted, as the file has always had them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explain {
    /// Students only (absent for a teacher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
    /// Class index → name (of the prepared data set).
    #[serde(default)]
    pub class_names: Vec<String>,
    /// What deleted pixels are replaced with.
    pub deletion_baseline: String,
    /// Indices of the explained test images (all of them, or a seeded
    /// sample), ascending.
    pub images: Vec<i64>,
    pub labels: Vec<i64>,
    pub methods: Methods,
    /// The stage's resolved parameters, as a JSON object with sorted keys.
    pub params: serde_json::Value,
    /// The model's prediction per image: the class its Grad-CAM and
    /// expected-gradients maps (and overlays) explain.
    pub predicted: Vec<i64>,
    /// Deletion / insertion AUC of pixels removed in a random order (the
    /// same orders for every model of a data set); absent when no method
    /// with curves ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_baseline: Option<RandomBaseline>,
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
    /// The mean faithfulness of the method named `method` (`gradcam`,
    /// `expected_gradients`); `None` when it did not run or has no curves
    /// (`feature_maps`).
    pub fn scores(&self, method: &str) -> Option<Scores> {
        match method {
            "gradcam" => self.gradcam.as_ref().map(|g| Scores {
                deletion_auc: g.deletion_auc,
                deletion_norm: g.deletion_norm,
                insertion_auc: g.insertion_auc,
                insertion_norm: g.insertion_norm,
            }),
            "expected_gradients" => self.expected_gradients.as_ref().map(|e| Scores {
                deletion_auc: e.deletion_auc,
                deletion_norm: e.deletion_norm,
                insertion_auc: e.insertion_auc,
                insertion_norm: e.insertion_norm,
            }),
            _ => None,
        }
    }

    /// Mean raw deletion and insertion AUC of `method` (see
    /// [`Methods::scores`]).
    pub fn faithfulness(&self, method: &str) -> Option<(f64, f64)> {
        self.scores(method)
            .map(|f| (f.deletion_auc, f.insertion_auc))
    }

    /// Mean normalised deletion and insertion scores of `method`.
    pub fn faithfulness_norm(&self, method: &str) -> Option<(f64, f64)> {
        self.scores(method)
            .map(|f| (f.deletion_norm, f.insertion_norm))
    }
}

/// A method's mean deletion / insertion AUCs over the explained images.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    /// Raw deletion AUC (class probability; lower = more faithful).
    pub deletion_auc: f64,
    /// AUC_random − AUC_map (higher = more faithful; about 0 for a map no
    /// better than a random order, and for a model that ignores the image).
    pub deletion_norm: f64,
    /// Raw insertion AUC (higher = more faithful).
    pub insertion_auc: f64,
    /// AUC_map − AUC_random (higher = more faithful).
    pub insertion_norm: f64,
}

/// Feature maps have no faithfulness curves: the layers drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMaps {
    pub layers: Vec<String>,
}

/// Grad-CAM faithfulness (means over the images, see [`Scores`]) and the
/// layer it explains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gradcam {
    /// The class each map explains, per image (the model's prediction).
    pub classes: Vec<i64>,
    #[serde(deserialize_with = "nullable::f64")]
    pub deletion_auc: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub deletion_norm: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub insertion_auc: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub insertion_norm: f64,
    /// The layer's name (`None` if the model names fewer layers).
    pub layer: Option<String>,
    pub layer_index: usize,
    /// The layer's output resolution [height, width].
    pub layer_size: [i64; 2],
    pub per_image: PerImage,
}

/// Expected-gradients faithfulness (see [`Scores`]), sampling and
/// completeness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedGradients {
    /// Indices of the training images used as the background.
    pub background: Vec<i64>,
    /// The class each attribution explains, per image.
    pub classes: Vec<i64>,
    /// Per image: |Σ attributions − (f_c(x) − mean_b f_c(b))|, f_c the
    /// class logit, b over the background images. Zero in expectation;
    /// what is left is the sampling error of `samples` draws.
    #[serde(deserialize_with = "nullable::f64s")]
    pub completeness_gap: Vec<f64>,
    /// Mean of `completeness_gap`.
    #[serde(deserialize_with = "nullable::f64")]
    pub completeness_gap_mean: f64,
    /// Per image: the gap over |f_c(x) − mean_b f_c(b)| (`null` where that
    /// is 0).
    #[serde(deserialize_with = "nullable::f64s")]
    pub completeness_gap_relative: Vec<f64>,
    #[serde(deserialize_with = "nullable::f64")]
    pub deletion_auc: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub deletion_norm: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub insertion_auc: f64,
    #[serde(deserialize_with = "nullable::f64")]
    pub insertion_norm: f64,
    pub per_image: PerImage,
    pub samples: u32,
}

/// One value per explained image, in the order of [`Explain::images`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerImage {
    #[serde(deserialize_with = "nullable::f64s")]
    pub deletion_auc: Vec<f64>,
    #[serde(deserialize_with = "nullable::f64s")]
    pub deletion_norm: Vec<f64>,
    #[serde(deserialize_with = "nullable::f64s")]
    pub insertion_auc: Vec<f64>,
    #[serde(deserialize_with = "nullable::f64s")]
    pub insertion_norm: Vec<f64>,
}

/// The random-order baseline of the deletion / insertion curves: per image,
/// the mean AUC over `orders` seeded random pixel orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomBaseline {
    #[serde(deserialize_with = "nullable::f64s")]
    pub deletion_auc: Vec<f64>,
    #[serde(deserialize_with = "nullable::f64s")]
    pub insertion_auc: Vec<f64>,
    pub orders: u32,
}

/// Agreement of a student's Grad-CAM with its teacher's, both explaining
/// the teacher's predicted class, compared at the input resolution
/// (bilinear upsampling of both maps). An image where either map is
/// constant (all zero, say) has no defined agreement: it is counted in
/// `n_undefined` and left out of the means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// The explained class per image (the teacher's prediction).
    pub classes: Vec<i64>,
    /// The resolution both maps are compared at [height, width].
    pub compared_at: [i64; 2],
    /// Mean IoU of the top-10 % pixels over the defined images.
    pub gradcam_iou_top10: Option<f64>,
    /// Mean Pearson correlation over the defined images.
    pub gradcam_pearson: Option<f64>,
    pub images: usize,
    pub n_defined: usize,
    pub n_undefined: usize,
    pub per_image: AgreementPerImage,
    /// The teacher's Grad-CAM layer (as its explain.json names it).
    pub teacher_layer: Option<String>,
}

/// Per-image agreement (`null` where undefined).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgreementPerImage {
    pub iou_top10: Vec<Option<f64>>,
    pub pearson: Vec<Option<f64>>,
}
