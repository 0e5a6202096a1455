//! The verdict of comparing model A with model B: equivalent within a
//! margin, better, worse, or none of these shown.
//!
//! Let d = metric(A) − metric(B) (mean over paired seeds; all metrics here
//! are "higher is better"), m > 0 the equivalence margin and α the level.
//! In this order:
//!
//! 1. **equivalent** when the (1 − 2α) paired-bootstrap percentile interval
//!    of d lies strictly inside (−m, m). This is the two one-sided tests
//!    procedure (TOST): H₀⁻: d ≤ −m and H₀⁺: d ≥ m are each rejected at
//!    level α exactly when the interval's lower end is above −m and its upper
//!    end below m (D. J. Schuirmann, "A comparison of the two one-sided tests
//!    procedure and the power approach for assessing the equivalence of
//!    average bioavailability", J. Pharmacokin. Biopharm. 15, 1987).
//! 2. **better** when the (1 − α) interval lies entirely above 0 and the
//!    McNemar p-value (Holm-adjusted over the comparisons of the table) is
//!    below α; **worse** when that interval lies entirely below 0 and the
//!    same p-value is below α. Both the interval and the test must agree.
//! 3. **not shown equivalent** otherwise: the data neither show a difference
//!    nor rule out one as large as m. It is not evidence of equivalence.
//!
//! An interval that excludes 0 but sits inside (−m, m) is "equivalent": the
//! difference is real but smaller than what the margin declares negligible.

use std::fmt;

use crate::bootstrap::Bootstrap;
use crate::error::{Result, StatsError};
use crate::interval::Interval;

/// Outcome of [`equivalence_test`]; `Display` gives the table's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Equivalent,
    NotShownEquivalent,
    Worse,
    Better,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Equivalent => "equivalent",
            Verdict::NotShownEquivalent => "not shown equivalent",
            Verdict::Worse => "worse",
            Verdict::Better => "better",
        })
    }
}

/// The verdict and the two intervals it was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquivalenceTest {
    pub verdict: Verdict,
    /// The (1 − 2α) interval of A − B, compared with (−margin, margin).
    pub tost_interval: Interval,
    /// The (1 − α) interval of A − B, compared with 0.
    pub difference_interval: Interval,
}

/// Verdict for A against B from the paired bootstrap of A − B
/// ([`crate::bootstrap_paired_difference`]), the margin, the level `alpha`
/// (in (0, 0.5)) and the McNemar p-value of the pair, already
/// Holm-adjusted when the table makes several comparisons.
pub fn equivalence_test(
    difference: &Bootstrap,
    margin: f64,
    alpha: f64,
    mcnemar_p: f64,
) -> Result<EquivalenceTest> {
    if !(margin > 0.0 && margin.is_finite()) {
        return Err(StatsError::InvalidParameter {
            name: "margin",
            value: margin,
            reason: "must be positive and finite",
        });
    }
    if !(alpha > 0.0 && alpha < 0.5) {
        return Err(StatsError::InvalidParameter {
            name: "alpha",
            value: alpha,
            reason: "must be in (0, 0.5)",
        });
    }
    if !(0.0..=1.0).contains(&mcnemar_p) {
        return Err(StatsError::InvalidPValue {
            index: 0,
            value: mcnemar_p,
        });
    }
    let tost_interval = difference.interval(1.0 - 2.0 * alpha)?;
    let difference_interval = difference.interval(1.0 - alpha)?;
    let significant = mcnemar_p < alpha;
    let verdict = if tost_interval.within_margin(margin) {
        Verdict::Equivalent
    } else if significant && difference_interval.lower > 0.0 {
        Verdict::Better
    } else if significant && difference_interval.upper < 0.0 {
        Verdict::Worse
    } else {
        Verdict::NotShownEquivalent
    };
    Ok(EquivalenceTest {
        verdict,
        tost_interval,
        difference_interval,
    })
}

#[cfg(test)]
mod tests;
