//! Paired comparisons (`kdpipe compare --comparisons`): every distilled
//! student configuration (each method, temperature and alpha) against its
//! control (same depth, no teacher: one control shared by every method) and
//! against the teacher, seed by seed on the same test images.
//!
//! Per pair of configurations A (the student) and B (the reference), over
//! the seeds both have:
//! - the difference A − B of mean accuracy, macro-F1 and ROC AUC with a
//!   paired-bootstrap interval (`stats::bootstrap_paired_difference`: the
//!   same image and seed draws for both);
//! - McNemar's exact test on the discordant (image, seed) pairs pooled over
//!   seeds (`student_only`: A right and B wrong; `reference_only`: the
//!   reverse), Holm-adjusted over every row of the table;
//! - the verdict on accuracy (`stats::equivalence_test`): "equivalent" only
//!   when the (1 − 2α) interval lies inside ±`[compare] equivalence_margin`;
//!   "better" / "worse" only when the (1 − α) interval excludes 0 and the
//!   Holm-adjusted McNemar p is below α; "not shown equivalent" otherwise.

use polars::prelude::*;
use stats::{BootstrapConfig, Metric, PairedCounts};
use study::kd::CompareConfig;

use super::config::{Config, ConfigRole};
use super::evidence::Evidence;
use super::intervals::bootstrap_config;
use super::TablesError;

/// The metrics whose paired difference is shown, and their column prefix.
const DIFFS: [(Metric, &str); 3] = [
    (Metric::Accuracy, "d_accuracy"),
    (Metric::MacroF1, "d_macro_f1"),
    (Metric::RocAucOvr, "d_roc_auc"),
];

/// One comparison before Holm's adjustment.
struct Row {
    dataset: String,
    depth: u32,
    method: &'static str,
    temperature: f64,
    alpha: f64,
    versus: &'static str,
    selected: bool,
    n_seeds: usize,
    n_test: usize,
    diffs: Vec<Option<(f64, f64, f64)>>,
    counts: PairedCounts,
    p: f64,
    accuracy_boot: stats::Bootstrap,
}

fn paired<'e>(
    a: &Config<'_>,
    b: &Config<'_>,
    evidence: &'e Evidence,
) -> (Vec<&'e stats::Predictions>, Vec<&'e stats::Predictions>) {
    let mut pa = Vec::new();
    let mut pb = Vec::new();
    for seed in a.seeds() {
        let ea = a
            .seed(seed)
            .and_then(|m| evidence.get(&m.model.fingerprint));
        let eb = b
            .seed(seed)
            .and_then(|m| evidence.get(&m.model.fingerprint));
        if let (Some(ea), Some(eb)) = (ea, eb) {
            pa.push(&ea.test);
            pb.push(&eb.test);
        }
    }
    (pa, pb)
}

fn difference(
    a: &[stats::Predictions],
    b: &[stats::Predictions],
    metric: Metric,
    config: BootstrapConfig,
) -> Result<Option<stats::Bootstrap>, TablesError> {
    match stats::bootstrap_paired_difference(a, b, metric, config) {
        Ok(d) => Ok(Some(d)),
        Err(stats::StatsError::UndefinedMetric { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The comparisons table; `selected` holds the keys of the
/// validation-selected configurations (flagged in column `selected`).
pub(crate) fn comparisons(
    configs: &[Config<'_>],
    evidence: &Evidence,
    selected: &[String],
    opts: &CompareConfig,
) -> Result<DataFrame, TablesError> {
    let boot = bootstrap_config(opts);
    let mut rows = Vec::new();
    for a in configs {
        let ConfigRole::Student {
            depth,
            method,
            temperature,
            alpha,
        } = a.role
        else {
            continue;
        };
        for (versus, wanted) in [
            ("control", ConfigRole::Control { depth }),
            ("teacher", ConfigRole::Teacher),
        ] {
            let Some(b) = configs
                .iter()
                .find(|b| b.dataset == a.dataset && b.role == wanted)
            else {
                continue;
            };
            let (pa, pb) = paired(a, b, evidence);
            if pa.is_empty() {
                continue;
            }
            let pa: Vec<stats::Predictions> = pa.into_iter().cloned().collect();
            let pb: Vec<stats::Predictions> = pb.into_iter().cloned().collect();
            let mut diffs = Vec::new();
            let mut accuracy_boot = None;
            for (metric, _) in DIFFS {
                let d = difference(&pa, &pb, metric, boot)?;
                diffs.push(match &d {
                    Some(d) => {
                        let i = d.interval(opts.confidence)?;
                        Some((d.estimate, i.lower, i.upper))
                    }
                    None => None,
                });
                if metric == Metric::Accuracy {
                    accuracy_boot = d;
                }
            }
            let correct =
                |p: &[stats::Predictions]| p.iter().map(|x| x.correct()).collect::<Vec<_>>();
            let counts = PairedCounts::pooled(&correct(&pa), &correct(&pb))?;
            rows.push(Row {
                dataset: a.dataset.to_owned(),
                depth,
                method: method.name(),
                temperature,
                alpha,
                versus,
                selected: selected.contains(&a.key),
                n_seeds: pa.len(),
                n_test: pa[0].len(),
                diffs,
                p: counts.p_value(),
                counts,
                accuracy_boot: accuracy_boot
                    .ok_or(stats::StatsError::UndefinedMetric { metric: "accuracy" })?,
            });
        }
    }
    frame(rows, opts)
}

fn frame(rows: Vec<Row>, opts: &CompareConfig) -> Result<DataFrame, TablesError> {
    let ps: Vec<f64> = rows.iter().map(|r| r.p).collect();
    let adjusted = if ps.is_empty() {
        Vec::new()
    } else {
        stats::holm(&ps)?
    };
    let alpha = 1.0 - opts.confidence;
    let mut verdicts = Vec::with_capacity(rows.len());
    for (r, p) in rows.iter().zip(&adjusted) {
        let t = stats::equivalence_test(&r.accuracy_boot, opts.equivalence_margin, alpha, *p)?;
        verdicts.push(t.verdict.to_string());
    }
    let mut cols = vec![
        Column::new(
            "dataset".into(),
            rows.iter().map(|r| r.dataset.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "depth".into(),
            rows.iter().map(|r| i64::from(r.depth)).collect::<Vec<_>>(),
        ),
        Column::new(
            "method".into(),
            rows.iter().map(|r| r.method).collect::<Vec<_>>(),
        ),
        Column::new(
            "temperature".into(),
            rows.iter().map(|r| r.temperature).collect::<Vec<_>>(),
        ),
        Column::new(
            "alpha".into(),
            rows.iter().map(|r| r.alpha).collect::<Vec<_>>(),
        ),
        Column::new(
            "versus".into(),
            rows.iter().map(|r| r.versus).collect::<Vec<_>>(),
        ),
        Column::new(
            "selected".into(),
            rows.iter().map(|r| r.selected).collect::<Vec<_>>(),
        ),
        Column::new(
            "n_seeds".into(),
            rows.iter().map(|r| r.n_seeds as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            "n_test".into(),
            rows.iter().map(|r| r.n_test as i64).collect::<Vec<_>>(),
        ),
    ];
    for (i, (_, name)) in DIFFS.iter().enumerate() {
        let part = |k: usize| -> Vec<Option<f64>> {
            rows.iter()
                .map(|r| {
                    r.diffs[i].map(|d| match k {
                        0 => d.0,
                        1 => d.1,
                        _ => d.2,
                    })
                })
                .collect()
        };
        cols.push(Column::new(format!("{name}_mean").into(), part(0)));
        cols.push(Column::new(format!("{name}_lo").into(), part(1)));
        cols.push(Column::new(format!("{name}_hi").into(), part(2)));
    }
    cols.push(Column::new(
        "student_only".into(),
        rows.iter()
            .map(|r| r.counts.a_only as i64)
            .collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "reference_only".into(),
        rows.iter()
            .map(|r| r.counts.b_only as i64)
            .collect::<Vec<_>>(),
    ));
    cols.push(Column::new("p_mcnemar".into(), ps));
    cols.push(Column::new("p_holm".into(), adjusted));
    cols.push(Column::new("verdict".into(), verdicts));
    let height = rows.len();
    Ok(DataFrame::new(height, cols)?)
}
