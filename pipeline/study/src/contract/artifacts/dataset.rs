//! `dataset.json` of a `prepare` stage: everything about a prepared data set
//! except the pixels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ArtifactFile;
use crate::kd::params::OnLabelConflict;

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
    /// The near-duplicate pass; absent when `near_duplicates = false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_duplicates: Option<NearDupReport>,
}

/// The near-duplicate pass of `prepare` (`near_duplicates = true`): its
/// thresholds, the clusters it found and what it dropped. Deterministic:
/// clusters sorted by their first key, keys within a cluster sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearDupReport {
    pub hash: HashKind,
    /// Side of the grayscale image (cropped to the object) hashed and
    /// correlated.
    pub canonical_size: u32,
    /// `near_dup_hamming`: largest Hamming distance of two pHashes.
    pub max_hamming: u32,
    /// `near_dup_min_corr`: smallest Pearson correlation.
    pub min_pearson: f64,
    /// `label_conflicts`.
    pub on_label_conflict: OnLabelConflict,
    /// Always true: the EXIF orientation is applied before hashing.
    pub exif_orientation: bool,
    /// Kept clusters of two or more images (file keys); each lies in one
    /// split.
    pub clusters: Vec<Vec<String>>,
    /// Clusters dropped for holding two labels (keys), with `drop`.
    pub label_conflicts: Vec<Vec<String>>,
    pub counts: NearDupCounts,
}

/// Counts of [`NearDupReport`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearDupCounts {
    /// Clusters of two or more images that were kept.
    pub clusters: usize,
    /// Images in those clusters.
    pub images_in_clusters: usize,
    /// Images dropped because their cluster held two labels.
    pub dropped_label_conflict: usize,
    /// Images this pass could not decode (left ungrouped; with
    /// `skip_corrupt` they are then skipped, else the run fails).
    pub undecodable: usize,
}

/// The perceptual hash used as the first filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HashKind {
    /// 64-bit DCT pHash of the canonical image.
    #[serde(rename = "dct-phash-64")]
    DctPhash64,
}

impl ArtifactFile for Dataset {
    const FILE: &'static str = "dataset.json";
}
