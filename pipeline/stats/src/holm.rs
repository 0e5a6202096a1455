//! Holm–Bonferroni step-down adjustment of p-values for m simultaneous
//! comparisons, controlling the family-wise error rate.
//!
//! With the p-values sorted ascending, p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted value of
//! the i-th (1-based) is
//!
//! ```text
//! p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1) · p₍ⱼ₎)
//! ```
//!
//! so adjusted values are monotone in the raw ones, and a comparison is
//! rejected at level α when p̃ < α (S. Holm, "A simple sequentially rejective
//! multiple test procedure", Scand. J. Statist. 6, 1979). Tied raw p-values
//! get equal adjusted values whatever their order. This is statsmodels'
//! `multipletests(p, method="holm")[1]`.

use crate::error::{Result, StatsError};

/// Holm-adjusted p-values, in the order of `p`. An empty input gives an
/// empty output (no comparisons, nothing to adjust); a value outside
/// [0, 1] or NaN is an error.
pub fn holm(p: &[f64]) -> Result<Vec<f64>> {
    if let Some((index, &value)) = p
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(StatsError::InvalidPValue { index, value });
    }
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max((m - rank) as f64 * p[i]);
        adjusted[i] = running.min(1.0);
    }
    Ok(adjusted)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testdata::assert_all_close;

    // statsmodels `multipletests(p, method="holm")[1]`.
    #[test]
    fn holm_four() {
        let got = holm(&[0.01, 0.04, 0.03, 0.005]).unwrap();
        assert_all_close(&got, &[0.03, 0.06, 0.06, 0.02], 1e-12);
    }

    #[test]
    fn holm_ties() {
        let got = holm(&[0.02, 0.02, 0.01, 0.5, 0.02]).unwrap();
        assert_all_close(&got, &[0.08, 0.08, 0.05, 0.5, 0.08], 1e-12);
    }

    #[test]
    fn holm_capped() {
        let got = holm(&[0.3, 0.6, 0.9]).unwrap();
        assert_all_close(&got, &[0.8999999999999999, 1.0, 1.0], 1e-12);
    }

    #[test]
    fn holm_single() {
        assert_eq!(holm(&[0.2]).unwrap(), vec![0.2]);
    }

    #[test]
    fn holm_monotone_step() {
        let got = holm(&[0.001, 0.04, 0.045, 0.0125]).unwrap();
        assert_all_close(&got, &[0.004, 0.08, 0.08, 0.037500000000000006], 1e-12);
    }

    #[test]
    fn holm_empty_is_empty() {
        assert_eq!(holm(&[]).unwrap(), Vec::<f64>::new());
    }

    #[test]
    fn holm_rejects_nan_and_out_of_range() {
        assert!(matches!(
            holm(&[0.1, f64::NAN]).unwrap_err(),
            StatsError::InvalidPValue { index: 1, .. }
        ));
        assert_eq!(
            holm(&[1.5]).unwrap_err(),
            StatsError::InvalidPValue {
                index: 0,
                value: 1.5
            }
        );
    }
}
