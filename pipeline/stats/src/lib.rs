//! kdpipe's statistics for comparison tables: classification metrics,
//! intervals (Wilson, seeded bootstrap over images and seeds), paired tests
//! (McNemar, TOST, the corrected resampled t-test) and Holm's adjustment.
//! Pure Rust; every function is pinned against SciPy, statsmodels or
//! scikit-learn by `bench/stats_reference.py`.

pub mod bootstrap;
pub mod corrected_t;
pub mod equivalence;
pub mod error;
pub mod holm;
pub mod interval;
pub mod mcnemar;
pub mod metrics;
pub mod predictions;
pub mod wilson;

#[cfg(test)]
mod testdata;

pub use bootstrap::{
    bootstrap_mean, bootstrap_paired_difference, quantile_sorted, Bootstrap, BootstrapConfig,
    DEFAULT_RESAMPLES,
};
pub use corrected_t::{corrected_resampled_t, CorrectedT};
pub use equivalence::{equivalence_test, EquivalenceTest, Verdict};
pub use error::{Result, StatsError};
pub use holm::holm;
pub use interval::Interval;
pub use mcnemar::{mcnemar_exact, PairedCounts};
pub use metrics::{accuracy, balanced_accuracy, is_collapsed, macro_f1, roc_auc_ovr, Metric};
pub use predictions::Predictions;
pub use wilson::wilson_interval;
