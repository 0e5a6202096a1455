//! Intervals that include test-set sampling: for each configuration, a
//! seeded percentile bootstrap over test images × training seeds of the
//! mean over seeds of accuracy, macro-F1, balanced accuracy and ROC AUC
//! (`stats::bootstrap_mean`; images and seeds are both resampled, the same
//! image draws for every seed). Joined onto the summary by `config`.

use polars::prelude::*;
use stats::{BootstrapConfig, Metric};
use study::kd::CompareConfig;

use super::config::{majority_key, Config};
use super::evidence::Evidence;
use super::majority::Majority;
use super::TablesError;

/// The bootstrapped metrics, with the column prefix each gets.
pub(crate) const METRICS: [(Metric, &str); 4] = [
    (Metric::Accuracy, "accuracy"),
    (Metric::MacroF1, "macro_f1"),
    (Metric::BalancedAccuracy, "balanced_accuracy"),
    (Metric::RocAucOvr, "roc_auc"),
];

/// Bootstrap settings from `[compare]`.
pub(crate) fn bootstrap_config(opts: &CompareConfig) -> BootstrapConfig {
    BootstrapConfig {
        resamples: opts.bootstrap_resamples as usize,
        seed: opts.bootstrap_seed,
    }
}

/// `(lower, upper)` of the bootstrap interval of the mean over `seeds` of
/// `metric`; `None` when the metric is undefined on the data (an AUC with
/// one class present).
pub(crate) fn interval(
    seeds: &[stats::Predictions],
    metric: Metric,
    opts: &CompareConfig,
) -> Result<Option<(f64, f64)>, TablesError> {
    match stats::bootstrap_mean(seeds, metric, bootstrap_config(opts)) {
        Ok(b) => {
            let i = b.interval(opts.confidence)?;
            Ok(Some((i.lower, i.upper)))
        }
        Err(stats::StatsError::UndefinedMetric { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// One row per configuration with evidence (and per majority baseline):
/// `config`, then `<metric>_lo` / `<metric>_hi` for every metric of
/// [`METRICS`].
pub(crate) fn interval_frame(
    configs: &[Config<'_>],
    evidence: &Evidence,
    majority: &[Majority],
    opts: &CompareConfig,
) -> Result<DataFrame, TablesError> {
    let mut keys: Vec<String> = Vec::new();
    let mut bounds: Vec<Vec<Option<f64>>> = vec![Vec::new(); METRICS.len() * 2];
    let mut push = |key: String, seeds: &[stats::Predictions]| -> Result<(), TablesError> {
        keys.push(key);
        for (i, (metric, _)) in METRICS.iter().enumerate() {
            let b = interval(seeds, *metric, opts)?;
            bounds[2 * i].push(b.map(|b| b.0));
            bounds[2 * i + 1].push(b.map(|b| b.1));
        }
        Ok(())
    };
    for c in configs {
        let seeds: Vec<stats::Predictions> = c
            .models
            .iter()
            .filter_map(|m| evidence.get(&m.model.fingerprint))
            .map(|e| e.test.clone())
            .collect();
        if !seeds.is_empty() {
            push(c.key.clone(), &seeds)?;
        }
    }
    for m in majority {
        push(majority_key(&m.dataset), std::slice::from_ref(&m.test))?;
    }
    let mut cols = vec![Column::new("config".into(), keys)];
    for (i, (_, name)) in METRICS.iter().enumerate() {
        cols.push(Column::new(
            format!("{name}_lo").into(),
            std::mem::take(&mut bounds[2 * i]),
        ));
        cols.push(Column::new(
            format!("{name}_hi").into(),
            std::mem::take(&mut bounds[2 * i + 1]),
        ));
    }
    let height = cols[0].len();
    Ok(DataFrame::new(height, cols)?)
}
