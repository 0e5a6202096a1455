//! Numbers as the report prints them: three significant digits of the
//! value's own magnitude (0.842, 12.3, 2.13 ms), an interval with the
//! value's decimals, and a spread only when it shows a non-zero digit.

/// HTML-escapes text for element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Decimals that show three significant digits of `v` (at most 6).
pub(crate) fn decimals(v: f64) -> usize {
    if v == 0.0 || !v.is_finite() {
        return 3;
    }
    (2 - v.abs().log10().floor() as i64).clamp(0, 6) as usize
}

/// `v` with three significant digits; `missing` for none.
pub(crate) fn num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.*}", decimals(v)),
        _ => "missing".to_owned(),
    }
}

/// `mean [lo, hi]` with the mean's decimals, or fewer when the interval is
/// wide (a difference near 0 needs no more digits than its interval has);
/// the bare mean without an interval.
pub(crate) fn interval(mean: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> String {
    match (mean, lo, hi) {
        (Some(m), Some(l), Some(h)) if m.is_finite() => {
            let d = if h > l {
                decimals(m).min(decimals(h - l))
            } else {
                decimals(m)
            };
            format!("{m:.d$} [{l:.d$}, {h:.d$}]")
        }
        _ => num(mean),
    }
}

/// `mean ± spread`, the bare mean when the spread is absent or rounds to 0
/// at the mean's decimals (a "± 0.000" says nothing).
pub(crate) fn spread(mean: Option<f64>, sd: Option<f64>) -> String {
    let Some(m) = mean.filter(|m| m.is_finite()) else {
        return num(None);
    };
    let d = decimals(m);
    match sd.filter(|s| s.is_finite()) {
        Some(s) if format!("{s:.d$}").chars().any(|c| ('1'..='9').contains(&c)) => {
            format!("{m:.d$} ± {s:.d$}")
        }
        _ => format!("{m:.d$}"),
    }
}

/// Seconds as milliseconds, three significant digits: `2.13 ms`.
pub(crate) fn ms(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) if s.is_finite() => format!("{} ms", num(Some(s * 1000.0))),
        _ => num(None),
    }
}

/// A ratio: `0.104×`.
pub(crate) fn times(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() => format!("{}×", num(Some(r))),
        _ => num(None),
    }
}

/// A sweep value as written in the experiment: `4`, `0.5`.
pub(crate) fn plain(v: f64) -> String {
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(num(Some(0.95)), "0.950");
        assert_eq!(num(Some(12.345)), "12.3");
        assert_eq!(num(Some(0.002134)), "0.00213");
        assert_eq!(num(Some(1234.0)), "1234");
        assert_eq!(num(None), "missing");
        assert_eq!(ms(Some(0.002134)), "2.13 ms");
        assert_eq!(times(Some(0.1)), "0.100×");
        assert_eq!(
            interval(Some(0.8421), Some(0.7), Some(0.9)),
            "0.842 [0.700, 0.900]"
        );
        assert_eq!(
            interval(Some(-0.0111), Some(-0.4222), Some(0.4)),
            "-0.011 [-0.422, 0.400]"
        );
        assert_eq!(
            interval(Some(0.0222), Some(0.0), Some(0.0889)),
            "0.0222 [0.0000, 0.0889]"
        );
    }

    #[test]
    fn a_spread_that_rounds_to_zero_is_left_out() {
        assert_eq!(spread(Some(2.5), Some(0.0)), "2.50");
        assert_eq!(spread(Some(2.5), Some(0.001)), "2.50");
        assert_eq!(spread(Some(2.5), None), "2.50");
        assert_eq!(spread(Some(0.842), Some(0.013)), "0.842 ± 0.013");
        assert_eq!(spread(None, Some(0.1)), "missing");
    }
}
