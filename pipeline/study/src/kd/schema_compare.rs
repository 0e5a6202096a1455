//! `[compare]` of the KD study's file: the statistics of `kdpipe compare`
//! and the report (read by the head only; never part of a fingerprint).
//! Loose types as in [`super::schema`]; validated by `validate_compare.rs`.

use serde::Deserialize;

use crate::experiment::schema::default_from_empty_table;

/// `[compare]`: the statistics of `kdpipe compare` and the report. No
/// stage reads it, so editing it never reruns anything.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareTable {
    /// Validation score that picks the headline (temperature, alpha) per
    /// student depth: `"val_loss"` (default; lowest mean over seeds),
    /// `"val_accuracy"` or `"val_balanced_accuracy"` (highest). The test
    /// set never selects anything.
    #[serde(default = "d_select_on")]
    pub select_on: String,
    /// Margin of the equivalence test (TOST) on the accuracy difference: a
    /// student "matches" its reference only when the (1 − 2α) paired
    /// interval lies inside ±margin. In (0, 1); default 0.02.
    #[serde(default = "d_equivalence_margin")]
    pub equivalence_margin: f64,
    /// Confidence of every interval, in (0.5, 1); α = 1 − confidence is the
    /// level of the tests. Default 0.95.
    #[serde(default = "d_confidence")]
    pub confidence: f64,
    /// Bootstrap replicates (over test images × seeds), ≥ 100. Default 2000.
    #[serde(default = "d_bootstrap_resamples")]
    pub bootstrap_resamples: i64,
    /// Seed of the bootstrap draws. Default 0.
    #[serde(default)]
    pub bootstrap_seed: i64,
}

// Defaults. One function per key so that `Default` and serde agree.
fn d_select_on() -> String {
    "val_loss".into()
}
fn d_equivalence_margin() -> f64 {
    0.02
}
fn d_confidence() -> f64 {
    0.95
}
fn d_bootstrap_resamples() -> i64 {
    2000
}

default_from_empty_table!(CompareTable);
