//! Classification metrics of one model on one test split, each matching a
//! scikit-learn function (the reference values in `bench/stats_reference.py`
//! pin that).
//!
//! Every metric has a weighted form, where image `i` counts `counts[i]`
//! times: a bootstrap replicate is a multiset of the test images, and
//! evaluating with multiplicities equals evaluating on the resampled list of
//! images (duplicates included), without copying it.

use crate::predictions::Predictions;

/// A metric the bootstrap can resample. All are "higher is better".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    Accuracy,
    MacroF1,
    BalancedAccuracy,
    /// Macro one-vs-rest ROC AUC ([`roc_auc_ovr`]).
    RocAucOvr,
}

impl Metric {
    /// Short lowercase name, used in tables and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::MacroF1 => "macro_f1",
            Metric::BalancedAccuracy => "balanced_accuracy",
            Metric::RocAucOvr => "roc_auc_ovr",
        }
    }

    /// The metric on all images once each; `None` only for an undefined AUC.
    pub fn compute(self, p: &Predictions) -> Option<f64> {
        self.eval(p, None)
    }

    /// The metric with image `i` counted `counts[i]` times (`counts` has one
    /// entry per image and a positive sum).
    pub(crate) fn compute_weighted(self, p: &Predictions, counts: &[u32]) -> Option<f64> {
        self.eval(p, Some(counts))
    }

    fn eval(self, p: &Predictions, w: Weights<'_>) -> Option<f64> {
        match self {
            Metric::Accuracy => Some(accuracy_w(p, w)),
            Metric::MacroF1 => Some(macro_f1_w(p, w)),
            Metric::BalancedAccuracy => Some(balanced_accuracy_w(p, w)),
            Metric::RocAucOvr => roc_auc_ovr_w(p, w),
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Multiplicity of each image; `None` means once each.
type Weights<'a> = Option<&'a [u32]>;

fn weight(w: Weights<'_>, i: usize) -> f64 {
    w.map_or(1.0, |w| f64::from(w[i]))
}

/// Fraction of images whose predicted class is the true one
/// (sklearn `accuracy_score`).
pub fn accuracy(p: &Predictions) -> f64 {
    accuracy_w(p, None)
}

fn accuracy_w(p: &Predictions, w: Weights<'_>) -> f64 {
    let (mut right, mut total) = (0.0, 0.0);
    for (i, (l, y)) in p.labels().iter().zip(p.predicted()).enumerate() {
        let wi = weight(w, i);
        total += wi;
        if l == y {
            right += wi;
        }
    }
    right / total
}

/// Per-class confusion counts: true positives, false positives, false
/// negatives, and the class's weight among the true labels.
struct ClassCounts {
    tp: Vec<f64>,
    fp: Vec<f64>,
    fn_: Vec<f64>,
    support: Vec<f64>,
}

fn class_counts(p: &Predictions, w: Weights<'_>) -> ClassCounts {
    let k = p.n_classes();
    let mut c = ClassCounts {
        tp: vec![0.0; k],
        fp: vec![0.0; k],
        fn_: vec![0.0; k],
        support: vec![0.0; k],
    };
    for (i, (&l, &y)) in p.labels().iter().zip(p.predicted()).enumerate() {
        let wi = weight(w, i);
        c.support[l] += wi;
        if l == y {
            c.tp[l] += wi;
        } else {
            c.fn_[l] += wi;
            c.fp[y] += wi;
        }
    }
    c
}

/// Unweighted mean over classes of F1 = 2·TP / (2·TP + FP + FN).
///
/// Convention: only classes *present* (in the true labels or in the
/// predictions, with positive weight) are averaged, so a class absent from
/// both neither counts as 0 nor as 1. This equals sklearn
/// `f1_score(y, y_pred, average="macro", labels=present)` with `present`
/// the sorted union of `y` and `y_pred` (sklearn's default `labels=None`
/// does the same). A present class never has a zero denominator; a class
/// that is never predicted scores 0.
pub fn macro_f1(p: &Predictions) -> f64 {
    macro_f1_w(p, None)
}

fn macro_f1_w(p: &Predictions, w: Weights<'_>) -> f64 {
    let c = class_counts(p, w);
    let (mut sum, mut present) = (0.0, 0usize);
    for k in 0..p.n_classes() {
        let denom = 2.0 * c.tp[k] + c.fp[k] + c.fn_[k];
        if denom > 0.0 {
            sum += 2.0 * c.tp[k] / denom;
            present += 1;
        }
    }
    // At least one image has positive weight, so one class is present.
    sum / present as f64
}

/// Mean over classes of recall = TP / (TP + FN), over the classes present in
/// the true labels (sklearn `balanced_accuracy_score`, which drops classes
/// only predicted, with a warning).
pub fn balanced_accuracy(p: &Predictions) -> f64 {
    balanced_accuracy_w(p, None)
}

fn balanced_accuracy_w(p: &Predictions, w: Weights<'_>) -> f64 {
    let c = class_counts(p, w);
    let (mut sum, mut present) = (0.0, 0usize);
    for k in 0..p.n_classes() {
        if c.support[k] > 0.0 {
            sum += c.tp[k] / c.support[k];
            present += 1;
        }
    }
    sum / present as f64
}

/// ROC AUC as the Mann–Whitney probability that a random positive scores
/// above a random negative, ties counted 1/2:
/// AUC = (Σ_pos Σ_neg [s⁺ > s⁻] + ½·[s⁺ = s⁻]) / (P·N)
/// (Hanley & McNeil 1982; equal to the trapezoidal area under sklearn's
/// `roc_curve`).
///
/// - Two classes: the AUC of class 1's probability for label 1
///   (sklearn `roc_auc_score(y, probs[:, 1])`).
/// - More classes: the unweighted mean over classes `c` of the AUC of
///   `probs[:, c]` for `y == c` (one-vs-rest), over the classes that have
///   both positives and negatives. When every class occurs in `y` this is
///   sklearn `roc_auc_score(y, probs, multi_class="ovr", average="macro")`;
///   where a class never occurs sklearn returns NaN, and this skips it.
///
/// `None` when no class has both positives and negatives.
pub fn roc_auc_ovr(p: &Predictions) -> Option<f64> {
    roc_auc_ovr_w(p, None)
}

fn roc_auc_ovr_w(p: &Predictions, w: Weights<'_>) -> Option<f64> {
    if p.n_classes() == 2 {
        return binary_auc(p, 1, w);
    }
    let aucs: Vec<f64> = (0..p.n_classes())
        .filter_map(|c| binary_auc(p, c, w))
        .collect();
    if aucs.is_empty() {
        None
    } else {
        Some(aucs.iter().sum::<f64>() / aucs.len() as f64)
    }
}

/// One-vs-rest AUC of `class`, by one sweep over the images sorted by that
/// class's score: each group of equal scores adds its positive weight times
/// the negative weight strictly below it, plus half the pairs inside it.
fn binary_auc(p: &Predictions, class: usize, w: Weights<'_>) -> Option<f64> {
    let order = p.order_by_score(class);
    let labels = p.labels();
    let (mut pairs, mut neg_below, mut pos_total) = (0.0, 0.0, 0.0);
    let mut start = 0;
    while start < order.len() {
        let s = p.score(order[start], class);
        let (mut pos, mut neg) = (0.0, 0.0);
        let mut end = start;
        while end < order.len() && p.score(order[end], class) == s {
            let i = order[end];
            if labels[i] == class {
                pos += weight(w, i);
            } else {
                neg += weight(w, i);
            }
            end += 1;
        }
        pairs += pos * neg_below + 0.5 * pos * neg;
        neg_below += neg;
        pos_total += pos;
        start = end;
    }
    if pos_total > 0.0 && neg_below > 0.0 {
        Some(pairs / (pos_total * neg_below))
    } else {
        None
    }
}

/// Whether the model predicts one class for every image: a collapsed model
/// (for example, one that always outputs the majority class). Its accuracy
/// is that class's share, its macro-F1 and balanced accuracy are low, and
/// comparisons involving it should be flagged rather than read as skill.
pub fn is_collapsed(p: &Predictions) -> bool {
    p.predicted().windows(2).all(|w| w[0] == w[1])
}

#[cfg(test)]
mod tests;
