//! The Wilson score interval for a binomial proportion.
//!
//! For k successes in n trials, p̂ = k/n and z = Φ⁻¹(1 − α/2) with
//! α = 1 − confidence:
//!
//! ```text
//! centre    = (p̂ + z²/(2n)) / (1 + z²/n)
//! half-width = z · sqrt(p̂(1 − p̂)/n + z²/(4n²)) / (1 + z²/n)
//! ```
//!
//! clipped to [0, 1] (E. B. Wilson, "Probable inference, the law of
//! succession, and statistical inference", JASA 22, 1927; Brown, Cai &
//! DasGupta, "Interval estimation for a binomial proportion", Stat. Sci. 16,
//! 2001). This is statsmodels' `proportion_confint(k, n, alpha,
//! method="wilson")`, operation for operation. Unlike the Wald interval it
//! stays inside [0, 1] and is not degenerate at k = 0 or k = n.

use statrs::function::erf::erfc_inv;

use crate::error::{Result, StatsError};
use crate::interval::{check_confidence, Interval};

/// The two-sided standard-normal critical value z = Φ⁻¹(1 − α/2)
/// = √2 · erfc⁻¹(α), computed from the tail so small α loses no precision.
pub(crate) fn normal_critical(confidence: f64) -> f64 {
    std::f64::consts::SQRT_2 * erfc_inv(1.0 - confidence)
}

/// Wilson score interval for `successes` out of `trials` at `confidence`
/// (e.g. 0.95). The lower end is exactly 0 when `successes` is 0 and the
/// upper end exactly 1 when `successes == trials`. Fails when `trials` is 0, `successes > trials` or the
/// confidence is not in (0, 1).
pub fn wilson_interval(successes: u64, trials: u64, confidence: f64) -> Result<Interval> {
    check_confidence(confidence)?;
    if trials == 0 {
        return Err(StatsError::Empty("trials"));
    }
    if successes > trials {
        return Err(StatsError::SuccessesExceedTrials { successes, trials });
    }
    let n = trials as f64;
    let q = successes as f64 / n;
    let crit = normal_critical(confidence);
    let crit2 = crit * crit;
    let denom = 1.0 + crit2 / n;
    let center = (q + crit2 / (2.0 * n)) / denom;
    let dist = crit * (q * (1.0 - q) / n + crit2 / (4.0 * n * n)).sqrt() / denom;
    // At k = 0 (k = n) the lower (upper) end is 0 (1) exactly; the formula
    // reaches it only up to rounding.
    Ok(Interval {
        lower: if successes == 0 {
            0.0
        } else {
            (center - dist).clamp(0.0, 1.0)
        },
        upper: if successes == trials {
            1.0
        } else {
            (center + dist).clamp(0.0, 1.0)
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testdata::assert_close;

    /// statsmodels `proportion_confint(k, n, alpha=1-conf, method="wilson")`,
    /// printed by bench/stats_reference.py.
    fn check(k: u64, n: u64, conf: f64, expected: [f64; 2]) {
        let i = wilson_interval(k, n, conf).unwrap();
        assert_close(i.lower, expected[0], 1e-12);
        assert_close(i.upper, expected[1], 1e-12);
    }

    #[test]
    fn wilson_0_of_20_at_95() {
        check(0, 20, 0.95, [0.0, 0.16112515805281938]);
    }

    #[test]
    fn wilson_20_of_20_at_95() {
        check(20, 20, 0.95, [0.8388748419471806, 1.0]);
    }

    #[test]
    fn wilson_7_of_20_at_95() {
        check(7, 20, 0.95, [0.18119182410108206, 0.5671457233147638]);
    }

    #[test]
    fn wilson_1_of_1_at_95() {
        check(1, 1, 0.95, [0.20654931437723745, 1.0]);
    }

    #[test]
    fn wilson_160_of_200_at_95() {
        check(160, 200, 0.95, [0.7391448134346212, 0.8495479907390189]);
    }

    #[test]
    fn wilson_850_of_1000_at_95() {
        check(850, 1000, 0.95, [0.8265313415731996, 0.8707899274869118]);
    }

    #[test]
    fn wilson_7_of_20_at_90() {
        check(7, 20, 0.90, [0.202260040056761, 0.5334873111515284]);
    }

    #[test]
    fn wilson_7_of_20_at_99() {
        check(7, 20, 0.99, [0.1463934413769388, 0.6283381789526871]);
    }

    #[test]
    fn critical_value_at_95_is_1_96() {
        assert_close(normal_critical(0.95), 1.959963984540054, 1e-14);
    }

    #[test]
    fn rejects_invalid_counts() {
        assert_eq!(
            wilson_interval(0, 0, 0.95).unwrap_err(),
            StatsError::Empty("trials")
        );
        assert_eq!(
            wilson_interval(3, 2, 0.95).unwrap_err(),
            StatsError::SuccessesExceedTrials {
                successes: 3,
                trials: 2
            }
        );
        assert!(wilson_interval(1, 2, 0.0).is_err());
    }
}
