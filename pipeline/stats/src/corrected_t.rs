//! The Nadeau–Bengio corrected resampled t-test for comparing two learners
//! over repeated k-fold cross-validation.
//!
//! The J = k·r per-fold differences d_j of a metric are not independent
//! (training sets overlap), so the plain t-test's variance var(d)/J is too
//! small. Nadeau & Bengio inflate it by the test/train size ratio:
//!
//! ```text
//! t = mean(d) / sqrt((1/J + n_test/n_train) · var(d)),  var with ddof 1
//! p = 2 · P(T_{J−1} > |t|)                              (two-sided)
//! ```
//!
//! (C. Nadeau & Y. Bengio, "Inference for the generalization error", Machine
//! Learning 52, 2003; Bouckaert & Frank, PAKDD 2004, for the k-fold × r
//! form). The reference values come from `scipy.stats.t.sf`.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{Result, StatsError};

/// Result of the corrected resampled t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorrectedT {
    pub t: f64,
    /// Degrees of freedom, J − 1.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Corrected resampled t-test on per-fold differences `diffs` (J ≥ 2 values,
/// one per fold of every repeat) with `n_train` and `n_test` images per fold.
///
/// When every difference is equal the variance is 0: a zero mean then gives
/// t = 0 and p = 1 (no evidence of a difference; SciPy would give NaN), a
/// non-zero mean t = ±∞ and p = 0.
pub fn corrected_resampled_t(diffs: &[f64], n_train: usize, n_test: usize) -> Result<CorrectedT> {
    if diffs.len() < 2 {
        return Err(StatsError::LengthMismatch {
            what: "diffs (at least)",
            expected: 2,
            found: diffs.len(),
        });
    }
    if let Some((index, &value)) = diffs.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(StatsError::NotFinite {
            what: "diffs",
            index,
            value,
        });
    }
    if n_train == 0 {
        return Err(StatsError::Empty("n_train"));
    }
    if n_test == 0 {
        return Err(StatsError::Empty("n_test"));
    }
    let j = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / j;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (j - 1.0);
    let df = j - 1.0;
    let scale = ((1.0 / j + n_test as f64 / n_train as f64) * var).sqrt();
    if scale == 0.0 {
        let (t, p_value) = if mean == 0.0 {
            (0.0, 1.0)
        } else {
            (mean.signum() * f64::INFINITY, 0.0)
        };
        return Ok(CorrectedT { t, df, p_value });
    }
    let t = mean / scale;
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|_| StatsError::InvalidParameter {
        name: "df",
        value: df,
        reason: "must be positive",
    })?;
    Ok(CorrectedT {
        t,
        df,
        p_value: (2.0 * dist.sf(t.abs())).min(1.0),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testdata::assert_close;

    // t and p from bench/stats_reference.py (numpy var(ddof=1),
    // scipy.stats.t.sf).
    #[test]
    fn corrected_t_5x2() {
        let d = [
            0.012, 0.018, -0.004, 0.021, 0.009, 0.015, 0.002, 0.011, 0.019, 0.007,
        ];
        let r = corrected_resampled_t(&d, 800, 200).unwrap();
        assert_close(r.t, 2.365606593017758, 1e-9);
        assert_close(r.p_value, 0.04221178348623798, 1e-9);
        assert_eq!(r.df, 9.0);
    }

    #[test]
    fn corrected_t_negative() {
        let d = [-0.03, -0.01, -0.025, 0.005, -0.02, -0.015];
        let r = corrected_resampled_t(&d, 900, 100).unwrap();
        assert_close(r.t, -2.419515251874651, 1e-9);
        assert_close(r.p_value, 0.06015337464162393, 1e-9);
    }

    #[test]
    fn corrected_t_10x10() {
        let d: Vec<f64> = (0..100)
            .map(|i| (((i * 37) % 23) as f64 - 9.0) / 1000.0)
            .collect();
        let r = corrected_resampled_t(&d, 900, 100).unwrap();
        assert_close(r.t, 0.7829699430827362, 1e-9);
        assert_close(r.p_value, 0.43551373798932885, 1e-9);
        assert_eq!(r.df, 99.0);
    }

    #[test]
    fn correction_widens_the_plain_t_test() {
        // Without the n_test/n_train term this is the ordinary one-sample t.
        let d = [
            0.012, 0.018, -0.004, 0.021, 0.009, 0.015, 0.002, 0.011, 0.019, 0.007,
        ];
        let corrected = corrected_resampled_t(&d, 800, 200).unwrap();
        let nearly_plain = corrected_resampled_t(&d, 1_000_000_000, 1).unwrap();
        assert!(corrected.p_value > 3.0 * nearly_plain.p_value);
        assert!(corrected.t < nearly_plain.t);
    }

    #[test]
    fn zero_variance() {
        let zero = corrected_resampled_t(&[0.0, 0.0, 0.0], 10, 5).unwrap();
        assert_eq!((zero.t, zero.p_value), (0.0, 1.0));
        let pos = corrected_resampled_t(&[0.1, 0.1], 10, 5).unwrap();
        assert_eq!((pos.t, pos.p_value), (f64::INFINITY, 0.0));
    }

    #[test]
    fn rejects_invalid_input() {
        assert!(corrected_resampled_t(&[0.1], 10, 5).is_err());
        assert_eq!(
            corrected_resampled_t(&[0.1, 0.2], 0, 5).unwrap_err(),
            StatsError::Empty("n_train")
        );
        assert!(matches!(
            corrected_resampled_t(&[0.1, f64::NAN], 10, 5).unwrap_err(),
            StatsError::NotFinite { index: 1, .. }
        ));
    }
}
