//! Seeded percentile-bootstrap intervals for a metric averaged over training
//! seeds, and for the paired difference of two models.
//!
//! Two sources of variation are resampled in every replicate:
//! - the test images, n draws with replacement from the n images, the same
//!   draws for every seed (and for both models when paired), since all seeds
//!   are evaluated on the same images;
//! - the training seeds, S draws with replacement from the S seeds (seed
//!   pairs when paired: seed i of A goes with seed i of B).
//!
//! The replicate statistic is the mean over the drawn seeds of the metric on
//! the drawn images, `(1/S) Σ_s m_s · metric(seed s)` with m_s the number of
//! times seed s was drawn; paired, `metric(A_s) − metric(B_s)` in its place.
//! The interval at confidence 1 − α is the α/2 and 1 − α/2 quantiles of the
//! replicates, linearly interpolated (Hyndman–Fan type 7, `numpy.quantile`'s
//! default, which `scipy.stats.bootstrap(method="percentile")` uses). See
//! B. Efron & R. Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13;
//! for resampling both seeds and test items, Bouthillier et al.,
//! "Accounting for variance in machine learning benchmarks", MLSys 2021.
//!
//! Randomness: a `ChaCha8Rng` from the `u64` seed draws the images (stream
//! 0) and a second generator from the same seed draws the seeds. Having
//! its own generator keeps the image draws independent of how many seeds
//! there are; being on stream 1 keeps its draws from copying the image
//! draws. Draws use `rand`'s `random_range`; the pinned outputs in the tests
//! change if `rand`'s uniform sampling does.
//!
//! A replicate where the metric is undefined (an AUC on a resample where no
//! class has both positives and negatives) is dropped and counted in
//! [`Bootstrap::undefined`]; all seeds share the labels, so it is undefined
//! for all of them at once.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Result, StatsError};
use crate::interval::{check_confidence, Interval};
use crate::metrics::Metric;
use crate::predictions::{check_same_split, Predictions};

/// Number of bootstrap replicates unless configured otherwise: enough for
/// the 2.5 % and 97.5 % quantiles to move by well under a tenth of the
/// interval's width between seeds of the bootstrap itself.
pub const DEFAULT_RESAMPLES: usize = 2000;

/// How many replicates to draw, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapConfig {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: DEFAULT_RESAMPLES,
            seed: 0,
        }
    }
}

/// The bootstrap distribution of a statistic and its value on the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    pub metric: Metric,
    /// The statistic on the original images and seeds.
    pub estimate: f64,
    /// Replicates where the metric was undefined, dropped.
    pub undefined: usize,
    /// The defined replicates, sorted ascending.
    replicates: Vec<f64>,
}

impl Bootstrap {
    /// A distribution from given replicates, for tests of code that reads
    /// intervals.
    #[cfg(test)]
    pub(crate) fn from_replicates(metric: Metric, estimate: f64, mut replicates: Vec<f64>) -> Self {
        replicates.sort_by(f64::total_cmp);
        Self {
            metric,
            estimate,
            undefined: 0,
            replicates,
        }
    }

    /// The defined replicates, sorted ascending.
    pub fn replicates(&self) -> &[f64] {
        &self.replicates
    }

    /// Percentile interval at `confidence` (e.g. 0.95): the (1 − c)/2 and
    /// (1 + c)/2 quantiles of the replicates.
    pub fn interval(&self, confidence: f64) -> Result<Interval> {
        check_confidence(confidence)?;
        let alpha = (1.0 - confidence) / 2.0;
        Ok(Interval {
            lower: quantile_sorted(&self.replicates, alpha)?,
            upper: quantile_sorted(&self.replicates, 1.0 - alpha)?,
        })
    }
}

/// Interval for the mean over seeds of `metric`; `seeds` holds one model's
/// predictions per training seed, all on the same test images.
pub fn bootstrap_mean(
    seeds: &[Predictions],
    metric: Metric,
    config: BootstrapConfig,
) -> Result<Bootstrap> {
    let first = check_same_split(seeds, "seeds")?;
    let mut values = Vec::with_capacity(seeds.len());
    for p in seeds {
        values.push(metric.compute(p).ok_or(StatsError::UndefinedMetric {
            metric: metric.name(),
        })?);
    }
    run(seeds.len(), first, &values, metric, config, |s, counts| {
        metric.compute_weighted(&seeds[s], counts)
    })
}

/// Paired interval for mean over seeds of `metric(A) − metric(B)`, where
/// seed i of `a` pairs with seed i of `b` and all are on the same images
/// (in a [`StatsError::LabelsDiffer`], seeds of `b` are numbered after
/// those of `a`).
pub fn bootstrap_paired_difference(
    a: &[Predictions],
    b: &[Predictions],
    metric: Metric,
    config: BootstrapConfig,
) -> Result<Bootstrap> {
    if a.len() != b.len() {
        return Err(StatsError::LengthMismatch {
            what: "seeds of b",
            expected: a.len(),
            found: b.len(),
        });
    }
    let first = check_same_split(a.iter().chain(b), "seeds")?;
    let undefined = StatsError::UndefinedMetric {
        metric: metric.name(),
    };
    let mut diffs = Vec::with_capacity(a.len());
    for (pa, pb) in a.iter().zip(b) {
        let ma = metric.compute(pa).ok_or(undefined.clone())?;
        let mb = metric.compute(pb).ok_or(undefined.clone())?;
        diffs.push(ma - mb);
    }
    run(a.len(), first, &diffs, metric, config, |s, counts| {
        Some(metric.compute_weighted(&a[s], counts)? - metric.compute_weighted(&b[s], counts)?)
    })
}

/// The resampling loop shared by both intervals. `per_seed` is the
/// statistic of seed `s` on image multiplicities `counts`; `original` its
/// value per seed on the data.
fn run(
    n_seeds: usize,
    first: &Predictions,
    original: &[f64],
    metric: Metric,
    config: BootstrapConfig,
    per_seed: impl Fn(usize, &[u32]) -> Option<f64>,
) -> Result<Bootstrap> {
    if config.resamples == 0 {
        return Err(StatsError::Empty("resamples"));
    }
    let n = first.len();
    let mut image_rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut seed_rng = ChaCha8Rng::seed_from_u64(config.seed);
    seed_rng.set_stream(1);
    let mut counts = vec![0u32; n];
    let mut seed_counts = vec![0u32; n_seeds];
    let mut replicates = Vec::with_capacity(config.resamples);
    let mut undefined = 0;
    for _ in 0..config.resamples {
        counts.fill(0);
        for _ in 0..n {
            counts[image_rng.random_range(0..n)] += 1;
        }
        seed_counts.fill(0);
        for _ in 0..n_seeds {
            seed_counts[seed_rng.random_range(0..n_seeds)] += 1;
        }
        match replicate(&seed_counts, &counts, &per_seed) {
            Some(v) => replicates.push(v),
            None => undefined += 1,
        }
    }
    replicates.sort_by(f64::total_cmp);
    Ok(Bootstrap {
        metric,
        estimate: original.iter().sum::<f64>() / n_seeds as f64,
        undefined,
        replicates,
    })
}

fn replicate(
    seed_counts: &[u32],
    counts: &[u32],
    per_seed: &impl Fn(usize, &[u32]) -> Option<f64>,
) -> Option<f64> {
    let mut sum = 0.0;
    for (s, &m) in seed_counts.iter().enumerate() {
        if m > 0 {
            sum += f64::from(m) * per_seed(s, counts)?;
        }
    }
    Some(sum / seed_counts.len() as f64)
}

/// The `q` quantile of ascending `sorted` values by linear interpolation
/// between order statistics at virtual index (n − 1)·q (Hyndman–Fan type 7,
/// `numpy.quantile(method="linear")`). Fails on an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Result<f64> {
    let n = sorted.len();
    if n == 0 {
        return Err(StatsError::Empty("bootstrap replicates"));
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // numpy's lerp: from the nearer end, so t = 1 returns b exactly.
    Ok(if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    })
}

#[cfg(test)]
mod tests;
