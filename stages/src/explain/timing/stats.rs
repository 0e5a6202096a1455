//! Statistics of one method's per-image durations.

use study::contract::artifacts::timing::MethodTiming;

/// Median, nearest-rank p95 and mean of `secs` (empty → all zero).
pub fn summarize(secs: &[f64]) -> MethodTiming {
    let mut s = secs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return MethodTiming {
            median_s: 0.0,
            p95_s: 0.0,
            mean_s: 0.0,
            runs: 0,
        };
    }
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    MethodTiming {
        median_s: median,
        p95_s: s[rank - 1],
        mean_s: s.iter().sum::<f64>() / n as f64,
        runs: n,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics() {
        let s = summarize(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.median_s, s.p95_s, s.mean_s, s.runs), (3.0, 5.0, 3.0, 5));
        let s = summarize(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.median_s, 2.5);
        // 20 runs: the 19th smallest is the nearest-rank p95.
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(summarize(&v).p95_s, 19.0);
        assert_eq!(summarize(&[]).runs, 0);
    }
}
