//! The validated input of every metric: one model's predicted class
//! probabilities on a test split, with the true labels.
//!
//! Validation happens once, here, so the metrics themselves cannot fail on
//! malformed input (only be undefined, like an AUC with no negatives).

use std::sync::OnceLock;

use crate::error::{Result, StatsError};

/// Per-image true labels and predicted class probabilities of one model.
///
/// `probs` is row-major `[n_images, n_classes]`. Rows need not sum to one:
/// only their order (argmax, ranking) is used. The predicted class is the
/// argmax of a row, the first one on ties (as `numpy.argmax`).
#[derive(Debug, Clone)]
pub struct Predictions {
    labels: Vec<usize>,
    probs: Vec<f64>,
    n_classes: usize,
    predicted: Vec<usize>,
    /// Per class, image indices sorted by that class's score (ascending),
    /// built on first use by the AUC.
    rank_order: OnceLock<Vec<Vec<usize>>>,
}

impl Predictions {
    /// From a flat row-major probability slice of `labels.len() * n_classes`
    /// values. Fails on no images, fewer than 2 classes, a length mismatch, a
    /// NaN or infinite probability, or a label `>= n_classes`.
    pub fn from_flat(labels: Vec<usize>, probs: Vec<f64>, n_classes: usize) -> Result<Self> {
        if labels.is_empty() {
            return Err(StatsError::Empty("labels"));
        }
        if n_classes < 2 {
            return Err(StatsError::TooFewClasses(n_classes));
        }
        let expected = labels.len() * n_classes;
        if probs.len() != expected {
            return Err(StatsError::LengthMismatch {
                what: "probs",
                expected,
                found: probs.len(),
            });
        }
        if let Some((index, &value)) = probs.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(StatsError::NotFinite {
                what: "probs",
                index,
                value,
            });
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= n_classes) {
            return Err(StatsError::LabelOutOfRange {
                index,
                label,
                n_classes,
            });
        }
        let predicted = probs.chunks_exact(n_classes).map(argmax).collect();
        Ok(Self {
            labels,
            probs,
            n_classes,
            predicted,
            rank_order: OnceLock::new(),
        })
    }

    /// From one probability row per image; all rows must have the same
    /// length (the number of classes).
    pub fn from_rows(labels: &[usize], rows: &[Vec<f64>]) -> Result<Self> {
        if labels.len() != rows.len() {
            return Err(StatsError::LengthMismatch {
                what: "rows",
                expected: labels.len(),
                found: rows.len(),
            });
        }
        let n_classes = rows.first().map_or(0, Vec::len);
        if let Some(bad) = rows.iter().find(|r| r.len() != n_classes) {
            return Err(StatsError::LengthMismatch {
                what: "probability row",
                expected: n_classes,
                found: bad.len(),
            });
        }
        Self::from_flat(labels.to_vec(), rows.concat(), n_classes)
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: construction rejects an empty split.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Predicted class (argmax) per image.
    pub fn predicted(&self) -> &[usize] {
        &self.predicted
    }

    /// Score of `class` for image `i`.
    pub(crate) fn score(&self, i: usize, class: usize) -> f64 {
        self.probs[i * self.n_classes + class]
    }

    /// Per image: is the predicted class the true one?
    pub fn correct(&self) -> Vec<bool> {
        self.labels
            .iter()
            .zip(&self.predicted)
            .map(|(l, p)| l == p)
            .collect()
    }

    /// Image indices sorted by the score of `class`, ascending.
    pub(crate) fn order_by_score(&self, class: usize) -> &[usize] {
        let orders = self.rank_order.get_or_init(|| {
            (0..self.n_classes)
                .map(|c| {
                    let mut idx: Vec<usize> = (0..self.len()).collect();
                    idx.sort_by(|&a, &b| self.score(a, c).total_cmp(&self.score(b, c)));
                    idx
                })
                .collect()
        });
        &orders[class]
    }
}

/// Index of the largest value, the first on ties (`numpy.argmax`).
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// Checks that every seed's predictions are on the same test images: the
/// same number of images, classes and the same labels as seed 0. Returns
/// seed 0.
pub(crate) fn check_same_split<'a>(
    seeds: impl IntoIterator<Item = &'a Predictions>,
    what: &'static str,
) -> Result<&'a Predictions> {
    let mut seeds = seeds.into_iter();
    let first = seeds.next().ok_or(StatsError::Empty(what))?;
    for (i, p) in seeds.enumerate() {
        let seed = i + 1;
        if p.len() != first.len() {
            return Err(StatsError::LengthMismatch {
                what,
                expected: first.len(),
                found: p.len(),
            });
        }
        if p.n_classes != first.n_classes {
            return Err(StatsError::LengthMismatch {
                what: "classes",
                expected: first.n_classes,
                found: p.n_classes,
            });
        }
        if let Some(index) = (0..p.len()).find(|&i| p.labels[i] != first.labels[i]) {
            return Err(StatsError::LabelsDiffer { seed, index });
        }
    }
    Ok(first)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_first_of_ties() {
        let p = Predictions::from_rows(&[0, 1], &[vec![0.5, 0.5], vec![0.2, 0.8]]).unwrap();
        assert_eq!(p.predicted(), &[0, 1]);
        assert_eq!(p.correct(), vec![true, true]);
    }

    #[test]
    fn rejects_invalid_input() {
        assert_eq!(
            Predictions::from_flat(vec![], vec![], 2).unwrap_err(),
            StatsError::Empty("labels")
        );
        assert_eq!(
            Predictions::from_flat(vec![0], vec![1.0], 1).unwrap_err(),
            StatsError::TooFewClasses(1)
        );
        assert_eq!(
            Predictions::from_flat(vec![0, 1], vec![0.1, 0.9, 0.3], 2).unwrap_err(),
            StatsError::LengthMismatch {
                what: "probs",
                expected: 4,
                found: 3
            }
        );
        let nan = Predictions::from_flat(vec![0], vec![0.1, f64::NAN], 2).unwrap_err();
        assert!(matches!(nan, StatsError::NotFinite { index: 1, .. }));
        assert_eq!(
            Predictions::from_flat(vec![0, 2], vec![0.1, 0.9, 0.3, 0.7], 2).unwrap_err(),
            StatsError::LabelOutOfRange {
                index: 1,
                label: 2,
                n_classes: 2
            }
        );
        assert_eq!(
            Predictions::from_rows(&[0, 1], &[vec![0.1, 0.9], vec![1.0]]).unwrap_err(),
            StatsError::LengthMismatch {
                what: "probability row",
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            StatsError::LabelsDiffer { seed: 2, index: 5 }.to_string(),
            "seed 2 has different labels from seed 0 (first at image 5)"
        );
    }

    #[test]
    fn seeds_must_share_labels() {
        let a = Predictions::from_flat(vec![0, 1], vec![0.9, 0.1, 0.2, 0.8], 2).unwrap();
        let b = Predictions::from_flat(vec![0, 0], vec![0.9, 0.1, 0.2, 0.8], 2).unwrap();
        let two = [a.clone(), a.clone()];
        assert_eq!(check_same_split(&two, "seeds").unwrap().labels(), &[0, 1]);
        assert_eq!(
            check_same_split(&[a, b], "seeds").unwrap_err(),
            StatsError::LabelsDiffer { seed: 1, index: 1 }
        );
        assert_eq!(
            check_same_split(&[] as &[Predictions], "seeds").unwrap_err(),
            StatsError::Empty("seeds")
        );
    }
}
