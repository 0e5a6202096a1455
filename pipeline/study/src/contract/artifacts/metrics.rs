//! `metrics.json` and `latency.json` of an `evaluate` stage: test-split
//! metrics of one model (bit-identical across reruns) and its inference
//! latency (wall-clock, so in a file of its own).

use serde::{Deserialize, Serialize};

use super::ArtifactFile;

/// Precision, recall and F1 of one class (one-vs-rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// `metrics.json` (fields in file order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub accuracy: f64,
    /// Mean recall over the classes present in the split (scikit-learn's
    /// `balanced_accuracy_score`): 0.5 for a binary model that always
    /// predicts one class. Absent from files written before evaluate v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balanced_accuracy: Option<f64>,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub weighted_precision: f64,
    pub weighted_recall: f64,
    pub weighted_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    /// confusion[true][predicted].
    pub confusion: Vec<Vec<u64>>,
    /// Mean one-vs-rest ROC-AUC over the classes that have both positives
    /// and negatives in the split; `None` when no class has.
    pub roc_auc_macro_ovr: Option<f64>,
    pub params: u64,
    /// Multiply-accumulates of one forward pass of one image.
    pub macs: u64,
    pub classes: Vec<String>,
    /// Validation split: accuracy and mean cross-entropy (natural log) of
    /// the evaluated model; absent when the split is empty (and in files
    /// written before evaluate's code version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
}

impl ArtifactFile for Metrics {
    const FILE: &'static str = "metrics.json";
}

/// `latency.json`: one-image forward pass, milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub latency_ms_median: f64,
    pub latency_ms_p95: f64,
}

impl ArtifactFile for Latency {
    const FILE: &'static str = "latency.json";
}
