//! Test helpers: closeness assertions and the synthetic data sets of
//! `bench/stats_reference.py`, rebuilt operation for operation so the
//! floating-point values are identical.

#![allow(clippy::unwrap_used)]

use crate::predictions::Predictions;

/// `|actual − expected| ≤ rel · max(|expected|, 1e-300)`, or exact when
/// `rel` is 0.
#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: f64, rel: f64) {
    let tol = rel * expected.abs().max(1e-300);
    assert!(
        (actual - expected).abs() <= tol || actual == expected,
        "{actual:?} is not within {rel:e} (relative) of {expected:?}"
    );
}

#[track_caller]
pub(crate) fn assert_all_close(actual: &[f64], expected: &[f64], rel: f64) {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    for (a, e) in actual.iter().zip(expected) {
        assert_close(*a, *e, rel);
    }
}

/// `binary200(mult, add, scale)` of the script: y = i % 2,
/// p1 = (((mult·i + add) % 100) / 100 + scale·y) / (1 + scale), p0 = 1 − p1.
pub(crate) fn binary200(mult: usize, add: usize, scale: f64) -> Predictions {
    let mut labels = Vec::new();
    let mut probs = Vec::new();
    for i in 0..200 {
        let y = i % 2;
        let p1 = (((mult * i + add) % 100) as f64 / 100.0 + scale * y as f64) / (1.0 + scale);
        labels.push(y);
        probs.extend([1.0 - p1, p1]);
    }
    Predictions::from_flat(labels, probs, 2).unwrap()
}

/// `three_class150(shift)` of the script: y = i % 3,
/// s_c = ((i·(13 + 7c) + 5c + 17·shift) % 50) / 50 + 0.5·[c = y], rows
/// divided by their sum.
pub(crate) fn three_class150(shift: usize) -> Predictions {
    let mut labels = Vec::new();
    let mut probs = Vec::new();
    for i in 0..150 {
        let s: Vec<f64> = (0..3)
            .map(|c| {
                let base = ((i * (13 + 7 * c) + 5 * c + 17 * shift) % 50) as f64 / 50.0;
                base + if c == i % 3 { 0.5 } else { 0.0 }
            })
            .collect();
        let tot = s[0] + s[1] + s[2];
        labels.push(i % 3);
        probs.extend([s[0] / tot, s[1] / tot, s[2] / tot]);
    }
    Predictions::from_flat(labels, probs, 3).unwrap()
}
