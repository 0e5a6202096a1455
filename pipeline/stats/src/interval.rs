//! A two-sided interval `[lower, upper]`, the common output of the Wilson
//! and bootstrap procedures.

/// A closed interval with `lower <= upper`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }

    /// Whether `x` lies in the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// Whether the interval lies strictly inside `(-margin, margin)`.
    pub fn within_margin(&self, margin: f64) -> bool {
        -margin < self.lower && self.upper < margin
    }
}

/// Checks a confidence level is in the open interval (0, 1).
pub(crate) fn check_confidence(confidence: f64) -> crate::Result<()> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(crate::StatsError::InvalidParameter {
            name: "confidence",
            value: confidence,
            reason: "must be in (0, 1)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_strict_and_contains_is_closed() {
        let i = Interval {
            lower: -0.02,
            upper: 0.01,
        };
        assert!((i.width() - 0.03).abs() < 1e-15);
        assert!(i.within_margin(0.021));
        assert!(!i.within_margin(0.02));
        assert!(i.contains(0.01) && i.contains(-0.02) && !i.contains(0.011));
        assert!(check_confidence(0.95).is_ok());
        assert!(check_confidence(1.0).is_err() && check_confidence(f64::NAN).is_err());
    }
}
