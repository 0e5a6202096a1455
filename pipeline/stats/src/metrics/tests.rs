//! Metrics against scikit-learn, on the cases of bench/stats_reference.py
//! (same names, same literals).

#![allow(clippy::unwrap_used)]

use super::*;
use crate::testdata::{assert_close, binary200, three_class150};

fn preds(labels: &[usize], rows: &[[f64; 3]]) -> Predictions {
    let rows: Vec<Vec<f64>> = rows.iter().map(|r| r.to_vec()).collect();
    Predictions::from_rows(labels, &rows).unwrap()
}

fn three_class_ties() -> Predictions {
    preds(
        &[0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
        &[
            [0.6, 0.3, 0.1],
            [0.5, 0.3, 0.2],
            [0.2, 0.5, 0.3],
            [0.4, 0.4, 0.2],
            [0.3, 0.5, 0.2],
            [0.2, 0.6, 0.2],
            [0.5, 0.3, 0.2],
            [0.2, 0.4, 0.4],
            [0.2, 0.2, 0.6],
            [0.3, 0.3, 0.4],
            [0.2, 0.5, 0.3],
            [0.4, 0.4, 0.2],
        ],
    )
}

fn class_never_predicted() -> Predictions {
    preds(
        &[0, 0, 1, 1, 2, 2, 0, 1],
        &[
            [0.7, 0.2, 0.1],
            [0.4, 0.5, 0.1],
            [0.2, 0.7, 0.1],
            [0.5, 0.3, 0.2],
            [0.5, 0.2, 0.3],
            [0.3, 0.4, 0.3],
            [0.8, 0.1, 0.1],
            [0.1, 0.8, 0.1],
        ],
    )
}

fn class_absent_from_both() -> Predictions {
    let rows = [
        [0.5, 0.2, 0.2, 0.1],
        [0.1, 0.6, 0.2, 0.1],
        [0.2, 0.2, 0.5, 0.1],
        [0.3, 0.4, 0.2, 0.1],
        [0.2, 0.5, 0.2, 0.1],
        [0.6, 0.1, 0.2, 0.1],
    ];
    let rows: Vec<Vec<f64>> = rows.iter().map(|r| r.to_vec()).collect();
    Predictions::from_rows(&[0, 1, 1, 0, 1, 0], &rows).unwrap()
}

fn binary_ties() -> Predictions {
    let p1 = [0.3, 0.7, 0.7, 0.5, 0.3, 0.5, 0.8, 0.1, 0.3, 0.7];
    let p0 = [0.7, 0.3, 0.3, 0.5, 0.7, 0.5, 0.2, 0.9, 0.7, 0.3];
    let probs = p0.iter().zip(&p1).flat_map(|(a, b)| [*a, *b]).collect();
    Predictions::from_flat(vec![0, 1, 0, 1, 1, 0, 1, 0, 0, 1], probs, 2).unwrap()
}

/// Asserts accuracy, macro-F1, balanced accuracy and AUC at 1e-12.
#[track_caller]
fn check(p: &Predictions, expected: [f64; 4]) {
    assert_close(accuracy(p), expected[0], 1e-12);
    assert_close(macro_f1(p), expected[1], 1e-12);
    assert_close(balanced_accuracy(p), expected[2], 1e-12);
    assert_close(roc_auc_ovr(p).unwrap(), expected[3], 1e-12);
}

#[test]
fn three_class_ties_matches_sklearn() {
    let e = 0.6666666666666666;
    check(&three_class_ties(), [e, e, e, 0.75]);
}

#[test]
fn class_never_predicted_matches_sklearn() {
    let p = class_never_predicted();
    assert!(!p.predicted().contains(&2));
    check(
        &p,
        [
            0.5,
            0.38095238095238093,
            0.4444444444444444,
            0.9111111111111111,
        ],
    );
}

#[test]
fn class_absent_from_both_matches_sklearn_over_present_classes() {
    // Class 3 is excluded from macro-F1 (absent from labels and
    // predictions); class 2 (only predicted) counts with F1 = 0; the AUC
    // skips class 2 and 3, which have no positives.
    check(
        &class_absent_from_both(),
        [
            0.6666666666666666,
            0.48888888888888893,
            0.6666666666666666,
            0.9166666666666666,
        ],
    );
}

#[test]
fn binary_ties_matches_sklearn() {
    check(&binary_ties(), [0.7, 0.696969696969697, 0.7, 0.78]);
}

#[test]
fn synthetic_sets_match_sklearn() {
    assert_close(accuracy(&binary200(37, 11, 0.3)), 0.65, 1e-12);
    assert_close(roc_auc_ovr(&binary200(37, 11, 0.3)).unwrap(), 0.748, 1e-12);
    assert_close(accuracy(&binary200(53, 29, 0.2)), 0.6, 1e-12);
    assert_close(macro_f1(&three_class150(0)), 0.786758267663501, 1e-12);
}

#[test]
fn weighted_equals_duplicated_images() {
    // Counting image i `w[i]` times must equal evaluating on the list with
    // the duplicates written out.
    let p = three_class_ties();
    let w = [2u32, 0, 1, 3, 0, 1, 1, 2, 0, 1, 1, 0];
    let mut labels = Vec::new();
    let mut rows = Vec::new();
    for (i, &k) in w.iter().enumerate() {
        for _ in 0..k {
            labels.push(p.labels()[i]);
            rows.push((0..3).map(|c| p.score(i, c)).collect::<Vec<_>>());
        }
    }
    let dup = Predictions::from_rows(&labels, &rows).unwrap();
    for m in [
        Metric::Accuracy,
        Metric::MacroF1,
        Metric::BalancedAccuracy,
        Metric::RocAucOvr,
    ] {
        let weighted = m.compute_weighted(&p, &w).unwrap();
        assert_close(weighted, m.compute(&dup).unwrap(), 1e-12);
    }
}

#[test]
fn auc_is_undefined_with_one_label() {
    let p = Predictions::from_flat(vec![1, 1], vec![0.2, 0.8, 0.6, 0.4], 2).unwrap();
    assert_eq!(roc_auc_ovr(&p), None);
    assert_eq!(Metric::RocAucOvr.compute(&p), None);
    // Accuracy is still defined.
    assert_eq!(Metric::Accuracy.compute(&p), Some(0.5));
}

#[test]
fn constant_scores_give_auc_one_half() {
    let p = Predictions::from_flat(vec![0, 1, 1, 0], vec![0.5; 8], 2).unwrap();
    assert_eq!(roc_auc_ovr(&p), Some(0.5));
}

#[test]
fn collapsed_model_is_detected() {
    let always_one = Predictions::from_flat(
        vec![0, 1, 2, 1],
        vec![0.2, 0.5, 0.3, 0.1, 0.8, 0.1, 0.3, 0.4, 0.3, 0.0, 0.9, 0.1],
        3,
    )
    .unwrap();
    assert!(is_collapsed(&always_one));
    assert_close(accuracy(&always_one), 0.5, 0.0);
    assert_close(balanced_accuracy(&always_one), 1.0 / 3.0, 1e-15);
    assert!(!is_collapsed(&three_class_ties()));
}

#[test]
fn metric_names() {
    assert_eq!(Metric::MacroF1.to_string(), "macro_f1");
    assert_eq!(Metric::RocAucOvr.name(), "roc_auc_ovr");
}
