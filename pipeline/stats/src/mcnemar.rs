//! McNemar's exact test: do two classifiers, evaluated on the same images,
//! err on different images equally often?
//!
//! Only the discordant images matter: b where A is right and B wrong, c the
//! reverse. Under H₀ each discordant image is A's win with probability ½, so
//! b ~ Binomial(b + c, ½) and the two-sided exact p-value is
//!
//! ```text
//! p = min(1, 2 · P(X ≤ min(b, c))),  X ~ Binomial(b + c, ½);  p = 1 if b + c = 0
//! ```
//!
//! (Q. McNemar, Psychometrika 12, 1947; T. G. Dietterich, "Approximate
//! statistical tests for comparing supervised classification learning
//! algorithms", Neural Computation 10, 1998). This is statsmodels'
//! `mcnemar([[a, b], [c, d]], exact=True).pvalue`.

use statrs::distribution::{Binomial, DiscreteCDF};

use crate::error::{Result, StatsError};

/// Two-sided exact McNemar p-value from the discordant counts `b` (A right,
/// B wrong) and `c` (A wrong, B right).
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    match Binomial::new(0.5, n) {
        Ok(binom) => (2.0 * binom.cdf(b.min(c))).min(1.0),
        // Unreachable: p = 0.5 is always a valid success probability.
        Err(_) => 1.0,
    }
}

/// The 2×2 table of two classifiers' correctness on the same images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairedCounts {
    pub both_right: u64,
    /// A right, B wrong (McNemar's b).
    pub a_only: u64,
    /// A wrong, B right (McNemar's c).
    pub b_only: u64,
    pub both_wrong: u64,
}

impl PairedCounts {
    /// Counts from per-image correctness of A and B on the same images.
    pub fn from_correct(a: &[bool], b: &[bool]) -> Result<Self> {
        if a.len() != b.len() {
            return Err(StatsError::LengthMismatch {
                what: "correctness of b",
                expected: a.len(),
                found: b.len(),
            });
        }
        let mut t = Self::default();
        for (&x, &y) in a.iter().zip(b) {
            match (x, y) {
                (true, true) => t.both_right += 1,
                (true, false) => t.a_only += 1,
                (false, true) => t.b_only += 1,
                (false, false) => t.both_wrong += 1,
            }
        }
        Ok(t)
    }

    /// Counts summed over paired seeds: seed i of A against seed i of B,
    /// each a per-image correctness vector on the same images.
    ///
    /// Pooling treats every (image, seed) pair as one trial, so the test's
    /// p-value speaks about these trained models on these images; it ignores
    /// that the same images recur across seeds (use the paired bootstrap for
    /// an interval that resamples both).
    pub fn pooled(a: &[Vec<bool>], b: &[Vec<bool>]) -> Result<Self> {
        if a.is_empty() {
            return Err(StatsError::Empty("seeds"));
        }
        if a.len() != b.len() {
            return Err(StatsError::LengthMismatch {
                what: "seeds of b",
                expected: a.len(),
                found: b.len(),
            });
        }
        let n = a[0].len();
        let mut total = Self::default();
        for (sa, sb) in a.iter().zip(b) {
            if sa.len() != n {
                return Err(StatsError::LengthMismatch {
                    what: "correctness of a seed",
                    expected: n,
                    found: sa.len(),
                });
            }
            let t = Self::from_correct(sa, sb)?;
            total.both_right += t.both_right;
            total.a_only += t.a_only;
            total.b_only += t.b_only;
            total.both_wrong += t.both_wrong;
        }
        Ok(total)
    }

    /// The exact McNemar p-value of this table.
    pub fn p_value(&self) -> f64 {
        mcnemar_exact(self.a_only, self.b_only)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testdata::assert_close;

    // statsmodels `mcnemar([[50, b], [c, 50]], exact=True).pvalue`.
    #[test]
    fn mcnemar_b0_c0_is_one() {
        assert_eq!(mcnemar_exact(0, 0), 1.0);
    }

    #[test]
    fn mcnemar_b5_c0() {
        assert_close(mcnemar_exact(5, 0), 0.0625, 1e-12);
    }

    #[test]
    fn mcnemar_b3_c7() {
        assert_close(mcnemar_exact(3, 7), 0.34375, 1e-12);
    }

    #[test]
    fn mcnemar_b10_c10_is_capped_at_one() {
        assert_eq!(mcnemar_exact(10, 10), 1.0);
    }

    #[test]
    fn mcnemar_b1_c2() {
        assert_close(mcnemar_exact(1, 2), 1.0, 1e-12);
    }

    #[test]
    fn mcnemar_b40_c60() {
        assert_close(mcnemar_exact(40, 60), 0.05688793364098089, 1e-9);
    }

    #[test]
    fn mcnemar_b200_c230() {
        assert_close(mcnemar_exact(200, 230), 0.16188409130586115, 1e-9);
    }

    #[test]
    fn mcnemar_b0_c25() {
        assert_close(mcnemar_exact(0, 25), 5.960464477539063e-08, 1e-9);
    }

    #[test]
    fn symmetric_in_b_and_c() {
        assert_eq!(mcnemar_exact(3, 7), mcnemar_exact(7, 3));
    }

    #[test]
    fn pooled_sums_discordant_pairs_over_seeds() {
        let a = vec![
            vec![true, true, false, false],
            vec![true, false, true, true],
        ];
        let b = vec![
            vec![true, false, true, false],
            vec![false, false, false, true],
        ];
        let t = PairedCounts::pooled(&a, &b).unwrap();
        assert_eq!(
            t,
            PairedCounts {
                both_right: 2,
                a_only: 3,
                b_only: 1,
                both_wrong: 2
            }
        );
        assert_close(t.p_value(), mcnemar_exact(3, 1), 0.0);
        assert_close(t.p_value(), 0.625, 1e-12);
    }

    #[test]
    fn pooled_rejects_mismatched_seeds() {
        let a = vec![vec![true, false]];
        assert_eq!(
            PairedCounts::pooled(&a, &[]).unwrap_err(),
            StatsError::LengthMismatch {
                what: "seeds of b",
                expected: 1,
                found: 0
            }
        );
        assert_eq!(
            PairedCounts::pooled(&a, &[vec![true]]).unwrap_err(),
            StatsError::LengthMismatch {
                what: "correctness of b",
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            PairedCounts::pooled(&[], &[]).unwrap_err(),
            StatsError::Empty("seeds")
        );
    }
}
