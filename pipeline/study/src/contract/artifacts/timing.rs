//! `timing.json` of a `timing` stage: seconds per image of each explanation
//! method for every model of one data set, measured side by side.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ArtifactFile;

/// `timing.json` (keys sorted, as the file has always had them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub device: String,
    pub eg_background: u32,
    pub eg_samples: u32,
    pub gradcam_layer: i32,
    /// Indices of the timed test images.
    pub image_indices: Vec<i64>,
    pub images: usize,
    /// Timing label (a model's stage name, or its architecture's label:
    /// `teacher`, `student-d<k>`) → its numbers.
    pub models: BTreeMap<String, TimedModel>,
    /// How the models were measured (`interleaved`).
    pub order: String,
    /// The stage's resolved parameters, as a JSON object with sorted keys.
    pub params: serde_json::Value,
    pub repeats: u32,
    /// libtorch threads while timing.
    pub threads: i32,
    pub warmup: u32,
}

impl ArtifactFile for Timing {
    const FILE: &'static str = "timing.json";
}

/// One timed model: method name (`feature_maps`, `gradcam`,
/// `expected_gradients`) → its statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimedModel {
    pub methods: BTreeMap<String, MethodTiming>,
}

/// Seconds per image of one method over every image and repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodTiming {
    pub mean_s: f64,
    pub median_s: f64,
    /// 95th percentile (nearest rank).
    pub p95_s: f64,
    pub runs: usize,
}
