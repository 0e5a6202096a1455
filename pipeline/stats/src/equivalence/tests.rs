//! Verdicts: each branch of the rule, its order, and the exact wording.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::bootstrap::{bootstrap_paired_difference, BootstrapConfig};
use crate::mcnemar::PairedCounts;
use crate::metrics::Metric;
use crate::predictions::Predictions;
use crate::testdata::binary200;

/// Replicates spread evenly over [lo, hi] (1001 values), so the (1 − 2α)
/// and (1 − α) intervals are known: the q quantile is lo + q·(hi − lo).
fn uniform(lo: f64, hi: f64) -> Bootstrap {
    let r = (0..=1000)
        .map(|i| lo + (hi - lo) * f64::from(i) / 1000.0)
        .collect();
    Bootstrap::from_replicates(Metric::Accuracy, (lo + hi) / 2.0, r)
}

fn verdict(b: &Bootstrap, margin: f64, p: f64) -> Verdict {
    equivalence_test(b, margin, 0.05, p).unwrap().verdict
}

#[test]
fn display_wording_is_exact() {
    assert_eq!(Verdict::Equivalent.to_string(), "equivalent");
    assert_eq!(
        Verdict::NotShownEquivalent.to_string(),
        "not shown equivalent"
    );
    assert_eq!(Verdict::Worse.to_string(), "worse");
    assert_eq!(Verdict::Better.to_string(), "better");
}

#[test]
fn intervals_are_at_one_minus_two_alpha_and_one_minus_alpha() {
    let t = equivalence_test(&uniform(-0.1, 0.1), 0.5, 0.05, 1.0).unwrap();
    // 90 % interval of U[-0.1, 0.1]: the 5 % and 95 % quantiles.
    assert!((t.tost_interval.lower + 0.09).abs() < 1e-12);
    assert!((t.tost_interval.upper - 0.09).abs() < 1e-12);
    // 95 %: the 2.5 % and 97.5 % quantiles.
    assert!((t.difference_interval.lower + 0.095).abs() < 1e-12);
    assert!((t.difference_interval.upper - 0.095).abs() < 1e-12);
}

#[test]
fn equivalent_when_tost_interval_inside_margin() {
    // 90 % interval ±0.09: inside (−0.1, 0.1), not inside (−0.09, 0.09).
    assert_eq!(verdict(&uniform(-0.1, 0.1), 0.1, 1.0), Verdict::Equivalent);
    assert_eq!(
        verdict(&uniform(-0.1, 0.1), 0.09, 1.0),
        Verdict::NotShownEquivalent
    );
}

#[test]
fn equivalence_takes_precedence_over_a_significant_difference() {
    // Interval [0.0125, 0.0575] at 90 %: excludes 0, yet inside ±0.06.
    let b = uniform(0.01, 0.06);
    assert_eq!(verdict(&b, 0.06, 0.001), Verdict::Equivalent);
    assert_eq!(verdict(&b, 0.05, 0.001), Verdict::Better);
}

#[test]
fn better_and_worse_need_interval_and_mcnemar() {
    assert_eq!(verdict(&uniform(0.02, 0.2), 0.01, 0.01), Verdict::Better);
    assert_eq!(verdict(&uniform(-0.2, -0.02), 0.01, 0.01), Verdict::Worse);
    // Interval excludes 0 but McNemar does not reject (p ≥ α).
    assert_eq!(
        verdict(&uniform(0.02, 0.2), 0.01, 0.05),
        Verdict::NotShownEquivalent
    );
    // McNemar rejects but the 95 % interval [−0.00475, 0.19475] reaches 0.
    assert_eq!(
        verdict(&uniform(-0.01, 0.2), 0.01, 0.001),
        Verdict::NotShownEquivalent
    );
}

#[test]
fn end_to_end_on_predictions() {
    // A is right on every image; B on half of them.
    let labels: Vec<usize> = (0..200).map(|i| i % 2).collect();
    let probs = |right: &dyn Fn(usize) -> bool| -> Predictions {
        let flat = (0..200)
            .flat_map(|i| {
                let p1 = if (i % 2 == 1) == right(i) { 0.9 } else { 0.1 };
                [1.0 - p1, p1]
            })
            .collect();
        Predictions::from_flat(labels.clone(), flat, 2).unwrap()
    };
    let a = [probs(&|_| true)];
    let b = [probs(&|i| i % 4 < 2)];
    let cfg = BootstrapConfig::default();
    let p = PairedCounts::from_correct(&a[0].correct(), &b[0].correct())
        .unwrap()
        .p_value();
    assert!(p < 1e-20);
    let ab = bootstrap_paired_difference(&a, &b, Metric::Accuracy, cfg).unwrap();
    assert_eq!(ab.estimate, 0.5);
    assert_eq!(
        equivalence_test(&ab, 0.05, 0.05, p).unwrap().verdict,
        Verdict::Better
    );
    let ba = bootstrap_paired_difference(&b, &a, Metric::Accuracy, cfg).unwrap();
    assert_eq!(
        equivalence_test(&ba, 0.05, 0.05, p).unwrap().verdict,
        Verdict::Worse
    );
    let aa = bootstrap_paired_difference(&a, &a, Metric::Accuracy, cfg).unwrap();
    assert_eq!(
        equivalence_test(&aa, 0.05, 0.05, 1.0).unwrap().verdict,
        Verdict::Equivalent
    );
    // binary200 pair: 95 % interval [−0.04, 0.155] straddles 0.
    let c = bootstrap_paired_difference(
        &[binary200(37, 11, 0.3)],
        &[binary200(53, 29, 0.2)],
        Metric::Accuracy,
        cfg,
    )
    .unwrap();
    assert_eq!(
        equivalence_test(&c, 0.05, 0.05, 0.01).unwrap().verdict,
        Verdict::NotShownEquivalent
    );
}

#[test]
fn rejects_invalid_parameters() {
    let b = uniform(-0.1, 0.1);
    assert!(matches!(
        equivalence_test(&b, 0.0, 0.05, 0.5).unwrap_err(),
        StatsError::InvalidParameter { name: "margin", .. }
    ));
    assert!(matches!(
        equivalence_test(&b, 0.1, 0.5, 0.5).unwrap_err(),
        StatsError::InvalidParameter { name: "alpha", .. }
    ));
    assert!(matches!(
        equivalence_test(&b, 0.1, 0.05, f64::NAN).unwrap_err(),
        StatsError::InvalidPValue { .. }
    ));
}
