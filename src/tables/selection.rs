//! Selection on validation: per data set, student depth and distillation
//! method, the configuration (temperature, alpha) with the best mean
//! validation score over seeds (`[compare] select_on`) is the headline
//! student of that depth and method.
//! Test numbers never enter the choice; the rest of the grid is exploratory.

use std::collections::HashMap;

use study::kd::{CompareConfig, SelectOn};

use super::config::{Config, ConfigRole};
use super::evidence::{Evidence, ValScores};

/// The mean validation score of a configuration over the seeds that have
/// one; `None` when none has.
pub(crate) fn mean_val(config: &Config<'_>, evidence: &Evidence) -> Option<ValScores> {
    let scores: Vec<ValScores> = config
        .models
        .iter()
        .filter_map(|m| evidence.get(&m.model.fingerprint)?.val_scores)
        .collect();
    if scores.is_empty() {
        return None;
    }
    let n = scores.len() as f64;
    Some(ValScores {
        loss: scores.iter().map(|s| s.loss).sum::<f64>() / n,
        accuracy: scores.iter().map(|s| s.accuracy).sum::<f64>() / n,
        balanced_accuracy: scores.iter().map(|s| s.balanced_accuracy).sum::<f64>() / n,
    })
}

/// The value `select_on` reads, oriented so that larger is better.
fn score(s: &ValScores, on: SelectOn) -> f64 {
    match on {
        SelectOn::ValLoss => -s.loss,
        SelectOn::ValAccuracy => s.accuracy,
        SelectOn::ValBalancedAccuracy => s.balanced_accuracy,
    }
}

/// The keys of the selected configurations, one per (data set, depth,
/// method) that has a distilled configuration with validation evidence. Ties go to the
/// first in sweep order.
pub(crate) fn select(
    configs: &[Config<'_>],
    evidence: &Evidence,
    opts: &CompareConfig,
) -> Vec<String> {
    let mut best: HashMap<(&str, u32, &str), (f64, &str)> = HashMap::new();
    let mut order: Vec<(&str, u32, &str)> = Vec::new();
    for c in configs {
        let ConfigRole::Student { depth, method, .. } = c.role else {
            continue;
        };
        let Some(v) = mean_val(c, evidence) else {
            continue;
        };
        let s = score(&v, opts.select_on);
        let slot = (c.dataset, depth, method.name());
        match best.get(&slot) {
            Some((b, _)) if *b >= s => {}
            _ => {
                if !best.contains_key(&slot) {
                    order.push(slot);
                }
                best.insert(slot, (s, c.key.as_str()));
            }
        }
    }
    order.iter().map(|slot| best[slot].1.to_owned()).collect()
}
