//! `dataset.json` of a `prepare` stage: everything about a prepared data set
//! except the pixels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ArtifactFile;

/// `dataset.json` (fields in file order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    pub classes: Vec<String>,
    pub channels: u32,
    pub image_size: u32,
    /// split → class → count.
    pub counts: BTreeMap<String, BTreeMap<String, usize>>,
    /// Per-channel mean and std of the training split, pixels in [0, 1].
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub duplicates_removed: usize,
    pub skipped_corrupt: usize,
    /// Files skipped as corrupt (keys), when `skip_corrupt` is on.
    #[serde(default)]
    pub skipped_files: Vec<String>,
    /// split → SHA-256 of every image in it, in stored order.
    pub split: BTreeMap<String, Vec<String>>,
}

impl ArtifactFile for Dataset {
    const FILE: &'static str = "dataset.json";
}
