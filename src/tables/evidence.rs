//! The per-image evidence behind every number with an interval: each
//! model's test and validation predictions, read once from its evaluate
//! stage's `predictions.safetensors` and checked for pairing (every model of
//! a data set must have been scored on the same images, in the same order).

use std::collections::HashMap;

use engine::store::Store;
use engine::Fingerprint;
use study::contract::artifacts::predictions::SplitPredictions;
use study::index::StudyIndex;

use super::read::read_predictions;
use super::TablesError;

/// One model's predictions, as the statistics crate takes them.
pub(crate) struct ModelEvidence {
    pub test: stats::Predictions,
    /// `None` when the data set has no validation split.
    pub val_scores: Option<ValScores>,
}

/// The validation numbers a configuration can be selected on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ValScores {
    /// Mean negative log-likelihood of the true class (natural log, each
    /// row renormalised to sum to one and clipped at 1e-15, as scikit-learn's
    /// `log_loss`).
    pub loss: f64,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
}

/// Evidence of every model of an index that has it, by model fingerprint.
#[derive(Default)]
pub(crate) struct Evidence {
    by_model: HashMap<Fingerprint, ModelEvidence>,
}

impl Evidence {
    /// Reads the predictions of every evaluated model of `index`. Models of
    /// one data set must share their test images (hashes, in order).
    pub(crate) fn load(store: &Store, index: &StudyIndex) -> Result<Evidence, TablesError> {
        let mut by_model = HashMap::new();
        let mut reference: HashMap<&str, (&str, Vec<[u8; 32]>)> = HashMap::new();
        for entry in &index.models {
            if by_model.contains_key(&entry.model.fingerprint) {
                continue;
            }
            let Some(p) = read_predictions(store, Some(&entry.evaluate.fingerprint))? else {
                continue;
            };
            match reference.get(entry.dataset.as_str()) {
                Some((first, hashes)) if *hashes != p.test.hashes => {
                    return Err(TablesError::Unpaired {
                        dataset: entry.dataset.clone(),
                        a: (*first).to_owned(),
                        b: entry.evaluate.name.clone(),
                    })
                }
                Some(_) => {}
                None => {
                    reference.insert(
                        &entry.dataset,
                        (&entry.evaluate.name, p.test.hashes.clone()),
                    );
                }
            }
            let test = to_stats(&p.test)?;
            let val = (!p.val.is_empty()).then(|| to_stats(&p.val)).transpose()?;
            let val_scores = val.as_ref().map(|v| ValScores {
                loss: log_loss(&p.val),
                accuracy: stats::accuracy(v),
                balanced_accuracy: stats::balanced_accuracy(v),
            });
            by_model.insert(
                entry.model.fingerprint.clone(),
                ModelEvidence { test, val_scores },
            );
        }
        Ok(Evidence { by_model })
    }

    pub(crate) fn get(&self, model: &Fingerprint) -> Option<&ModelEvidence> {
        self.by_model.get(model)
    }
}

/// One split of a predictions file as the statistics crate takes it.
pub(crate) fn to_stats(s: &SplitPredictions) -> Result<stats::Predictions, TablesError> {
    let labels = s.labels.iter().map(|&l| l as usize).collect();
    let probs = s.probs.iter().map(|&v| f64::from(v)).collect();
    Ok(stats::Predictions::from_flat(labels, probs, s.n_classes)?)
}

/// Mean cross-entropy of the true class: −(1/n) Σᵢ ln p̂ᵢ,yᵢ with p̂ the row
/// divided by its sum and clipped to [1e-15, 1].
pub(crate) fn log_loss(s: &SplitPredictions) -> f64 {
    let n = s.len();
    let total: f64 = (0..n)
        .map(|i| {
            let row = s.row(i);
            let sum: f64 = row.iter().map(|&v| f64::from(v)).sum();
            let p = f64::from(row[s.labels[i] as usize]) / sum;
            -p.clamp(1e-15, 1.0).ln()
        })
        .sum();
    total / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_loss_matches_a_hand_value() {
        // Rows (0.8, 0.2) label 0, (0.4, 0.6) label 0, (0.3, 0.3) label 1:
        // −(ln 0.8 + ln 0.4 + ln 0.5) / 3 = 0.610860...
        let s = SplitPredictions {
            probs: vec![0.8, 0.2, 0.4, 0.6, 0.3, 0.3],
            n_classes: 2,
            labels: vec![0, 0, 1],
            hashes: vec![[0; 32]; 3],
        };
        let expected = -(0.8f64.ln() + 0.4f64.ln() + 0.5f64.ln()) / 3.0;
        assert!((log_loss(&s) - expected).abs() < 1e-7, "{}", log_loss(&s));
        assert!((expected - 0.610_860).abs() < 1e-6, "{expected}");
    }
}
