//! Errors of the near-duplicate pass ([`super::near_dup`]) and the
//! group-aware split ([`super::split::group_stratified_split`]), kept apart
//! from the crate's `StagesError` so those two stay testable on their own;
//! [`GroupingError::into_stages`] converts at the `prepare` boundary (a
//! dataset error, i.e. bad input, except for parameters).

use crate::error::StagesError;

/// What can go wrong while grouping near-duplicates or splitting by group.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GroupingError {
    /// Two directly similar images carry different labels.
    #[error(
        "near-duplicate images under different labels: `{first}` ({first_label}) and \
         `{second}` ({second_label}) (hamming {hamming}, pearson {pearson:.4}); fix the \
         labels or set label_conflicts = \"drop\""
    )]
    LabelConflict {
        first: String,
        first_label: String,
        second: String,
        second_label: String,
        hamming: u32,
        pearson: f64,
    },
    /// The groups of a class cannot be spread so that it reaches a split.
    #[error("class `{class}` has no images in the {split} split (after keeping near-duplicate groups whole)")]
    ClassMissingFromSplit { class: String, split: &'static str },
    /// A group handed to the split holds two labels (the near-duplicate pass
    /// never produces one).
    #[error("group {group} mixes labels `{first_label}` and `{second_label}` (images {first_hash} and {second_hash})")]
    MixedGroup {
        group: usize,
        first_label: String,
        second_label: String,
        first_hash: String,
        second_hash: String,
    },
    /// Per-item inputs of the split disagree in length.
    #[error("split inputs disagree in length: {what}")]
    Lengths { what: String },
    #[error("invalid parameter `{key}` = {value}: {reason}")]
    Param {
        key: &'static str,
        value: String,
        reason: &'static str,
    },
}

impl GroupingError {
    /// The crate error for dataset `dataset`: parameters stay parameter
    /// errors, everything else is a dataset error.
    pub fn into_stages(self, dataset: &str) -> StagesError {
        match self {
            GroupingError::Param { key, value, reason } => StagesError::param(key, value, reason),
            other => StagesError::Dataset {
                dataset: dataset.to_string(),
                reason: other.to_string(),
            },
        }
    }
}
