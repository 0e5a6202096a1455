//! Classification metrics from labels and predicted probabilities, in plain
//! Rust (no tensors), so they are tested against hand-computed examples.

pub use study::contract::artifacts::metrics::{ClassMetrics, Metrics};

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Index of the largest probability (first on ties).
pub fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in p.iter().enumerate() {
        if *v > p[best] {
            best = i;
        }
    }
    best
}

/// Metrics from true labels and per-class probabilities ([n][classes]).
/// Precision of a class that is never predicted is 0 (as is its F1), and it
/// still counts in the macro average. Size fields are left at 0 for the
/// caller to fill.
pub fn classification_metrics(labels: &[usize], probs: &[Vec<f64>], classes: &[String]) -> Metrics {
    let k = classes.len();
    let preds: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    let mut confusion = vec![vec![0u64; k]; k];
    for (&t, &p) in labels.iter().zip(&preds) {
        confusion[t][p] += 1;
    }
    let n = labels.len() as u64;
    let correct: u64 = (0..k).map(|c| confusion[c][c]).sum();
    let mut per_class = Vec::with_capacity(k);
    for c in 0..k {
        let tp = confusion[c][c];
        let support: u64 = confusion[c].iter().sum();
        let predicted: u64 = (0..k).map(|t| confusion[t][c]).sum();
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        per_class.push(ClassMetrics {
            class: classes[c].clone(),
            precision,
            recall,
            f1,
            support,
        });
    }
    let macro_avg =
        |f: fn(&ClassMetrics) -> f64| per_class.iter().map(f).sum::<f64>() / k.max(1) as f64;
    let weighted = |f: fn(&ClassMetrics) -> f64| {
        per_class
            .iter()
            .map(|m| f(m) * m.support as f64)
            .sum::<f64>()
            / (n.max(1)) as f64
    };
    let aucs: Vec<f64> = (0..k)
        .filter_map(|c| {
            let scores: Vec<f64> = probs.iter().map(|p| p[c]).collect();
            let pos: Vec<bool> = labels.iter().map(|&l| l == c).collect();
            roc_auc(&scores, &pos)
        })
        .collect();
    let present: Vec<f64> = per_class
        .iter()
        .filter(|m| m.support > 0)
        .map(|m| m.recall)
        .collect();
    Metrics {
        accuracy: ratio(correct, n),
        balanced_accuracy: Some(present.iter().sum::<f64>() / present.len().max(1) as f64),
        macro_precision: macro_avg(|m| m.precision),
        macro_recall: macro_avg(|m| m.recall),
        macro_f1: macro_avg(|m| m.f1),
        weighted_precision: weighted(|m| m.precision),
        weighted_recall: weighted(|m| m.recall),
        weighted_f1: weighted(|m| m.f1),
        roc_auc_macro_ovr: (!aucs.is_empty()).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64),
        per_class,
        confusion,
        params: 0,
        macs: 0,
        classes: classes.to_vec(),
        val_accuracy: None,
        val_loss: None,
    }
}

/// Binary ROC-AUC (Mann–Whitney, ties count one half); `None` without
/// positives or without negatives.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks (1-based) over ties.
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            if positive[o] {
                rank_sum_pos += avg;
            }
        }
        i = j + 1;
    }
    let np = n_pos as f64;
    Some((rank_sum_pos - np * (np + 1.0) / 2.0) / (np * n_neg as f64))
}

/// Median and 95th percentile (nearest rank) of a sample.
pub fn median_p95(samples: &[f64]) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    (median, s[rank - 1])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn onehot(preds: &[usize], k: usize) -> Vec<Vec<f64>> {
        preds
            .iter()
            .map(|&p| {
                (0..k)
                    .map(|c| if c == p { 0.8 } else { 0.2 / (k - 1) as f64 })
                    .collect()
            })
            .collect()
    }

    /// 3 classes; class 2 is never predicted.
    /// true: 0 0 0 1 1 2 2 ; pred: 0 0 1 1 0 1 0
    #[test]
    fn hand_computed_with_never_predicted_class() {
        let labels = [0, 0, 0, 1, 1, 2, 2];
        let preds = [0, 0, 1, 1, 0, 1, 0];
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = classification_metrics(&labels, &onehot(&preds, 3), &classes);
        assert_eq!(
            m.confusion,
            vec![vec![2, 1, 0], vec![1, 1, 0], vec![1, 1, 0]]
        );
        assert!((m.accuracy - 3.0 / 7.0).abs() < 1e-12);
        // class a: tp 2, predicted 4, support 3 → p 0.5, r 2/3, f1 4/7
        // class b: tp 1, predicted 3, support 2 → p 1/3, r 1/2, f1 0.4
        // class c: never predicted → p 0, r 0, f1 0
        let pc = &m.per_class;
        assert!((pc[0].precision - 0.5).abs() < 1e-12);
        assert!((pc[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((pc[0].f1 - 4.0 / 7.0).abs() < 1e-12);
        assert!((pc[1].f1 - 0.4).abs() < 1e-12);
        assert_eq!(
            (pc[2].precision, pc[2].recall, pc[2].f1, pc[2].support),
            (0.0, 0.0, 0.0, 2)
        );
        assert!((m.macro_precision - (0.5 + 1.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((m.macro_recall - (2.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12);
        assert!((m.macro_f1 - (4.0 / 7.0 + 0.4) / 3.0).abs() < 1e-12);
        assert!((m.weighted_f1 - (3.0 * 4.0 / 7.0 + 2.0 * 0.4) / 7.0).abs() < 1e-12);
        assert!((m.weighted_recall - m.accuracy).abs() < 1e-12);
    }

    /// Balanced accuracy = mean recall over the classes present: the
    /// 7-image case above gives (2/3 + 1/2 + 0) / 3; a class absent from
    /// the labels does not count; a collapsed binary model scores 0.5.
    #[test]
    fn balanced_accuracy_hand_computed() {
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = classification_metrics(
            &[0, 0, 0, 1, 1, 2, 2],
            &onehot(&[0, 0, 1, 1, 0, 1, 0], 3),
            &classes,
        );
        let b = m.balanced_accuracy.unwrap();
        assert!((b - 7.0 / 18.0).abs() < 1e-12, "{b}");
        // class c never occurs: (1 + 1/2) / 2, not / 3
        let m = classification_metrics(&[0, 0, 1, 1], &onehot(&[0, 0, 1, 0], 3), &classes);
        assert!((m.balanced_accuracy.unwrap() - 0.75).abs() < 1e-12);
        // 9 of class a, 1 of class b, always "a": accuracy 0.9, balanced 0.5
        let two = &classes[..2];
        let labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let m = classification_metrics(&labels, &onehot(&[0; 10], 2), two);
        assert!((m.accuracy - 0.9).abs() < 1e-12);
        assert_eq!(m.balanced_accuracy, Some(0.5));
    }

    #[test]
    fn roc_auc_hand_computed_with_ties() {
        // positives 0.8, 0.4; negatives 0.4, 0.1 → pairs: (0.8>0.4) 1, (0.8>0.1) 1,
        // (0.4=0.4) 0.5, (0.4>0.1) 1 → 3.5 / 4
        let auc = roc_auc(&[0.8, 0.4, 0.4, 0.1], &[true, true, false, false]).unwrap();
        assert!((auc - 0.875).abs() < 1e-12);
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1, 0.9], &[false, true]), Some(1.0));
    }

    #[test]
    fn macro_auc_skips_classes_without_positives() {
        let labels = [0, 0, 1, 1];
        let probs = vec![
            vec![0.9, 0.1, 0.0],
            vec![0.6, 0.4, 0.0],
            vec![0.3, 0.7, 0.0],
            vec![0.7, 0.3, 0.0],
        ];
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = classification_metrics(&labels, &probs, &classes);
        // class a: pos {0.9, 0.6} vs neg {0.3, 0.7}: 0.9 beats both, 0.6 beats 0.3 → 3/4
        // class b: pos {0.7, 0.3} vs neg {0.1, 0.4}: 0.7 beats both, 0.3 beats 0.1 → 3/4
        assert!((m.roc_auc_macro_ovr.unwrap() - 0.75).abs() < 1e-12);
    }

    #[test]
    fn percentiles() {
        let (med, p95) = median_p95(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((med, p95), (3.0, 5.0));
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(median_p95(&v), (50.5, 95.0));
    }
}
