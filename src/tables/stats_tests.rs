//! Tests of the statistics in the tables (intervals, selection on
//! validation, the majority baseline, collapse flags, paired comparisons) on
//! the fixture store, against the statistics crate run by hand on the
//! fixture's own predictions.
#![allow(clippy::unwrap_used)]

use polars::prelude::*;
use stats::{BootstrapConfig, Metric};
use study::kd::CompareConfig;

use super::fixture::{self, Model, ALPHA, N_TEST, SEEDS};
use super::*;

fn tables() -> (tempfile::TempDir, Tables) {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = fixture::build(dir.path(), &[]);
    let t = Tables::build(&f.store, &f.specs, &f.index, &CompareConfig::default()).unwrap();
    (dir, t)
}

fn one(df: &DataFrame, pred: Expr) -> DataFrame {
    let out = df.clone().lazy().filter(pred).collect().unwrap();
    assert_eq!(out.height(), 1, "{out}");
    out
}

fn f(df: &DataFrame, column: &str) -> f64 {
    df.column(column).unwrap().f64().unwrap().get(0).unwrap()
}

/// The fixture's test predictions of `model` for every seed, rebuilt from
/// its correctness pattern (probability 0.8 on the right class, 0.3 on the
/// true class when wrong).
fn seeds_of(model: Model) -> Vec<stats::Predictions> {
    SEEDS
        .iter()
        .map(|&s| {
            let labels: Vec<usize> = (0..N_TEST).map(|i| i % 2).collect();
            let rows: Vec<Vec<f64>> = (0..N_TEST)
                .map(|i| {
                    let p: f64 = if fixture::correct(model, s, i) {
                        0.8
                    } else {
                        0.3
                    };
                    let p = f64::from(p as f32);
                    if i % 2 == 0 {
                        vec![p, f64::from((1.0 - p) as f32)]
                    } else {
                        vec![f64::from((1.0 - p) as f32), p]
                    }
                })
                .collect();
            stats::Predictions::from_rows(&labels, &rows).unwrap()
        })
        .collect()
}

fn student(depth: i64, t: f64) -> Expr {
    col("depth")
        .eq(lit(depth))
        .and(col("temperature").eq(lit(t)))
        .and(col("alpha").eq(lit(ALPHA)))
}

#[test]
fn summary_intervals_are_the_bootstrap_over_images_and_seeds() {
    let (_d, t) = tables();
    let row = one(&t.summary, student(2, 4.0));
    let model = Model::Student {
        depth: 2,
        temperature: 4.0,
    };
    let b = stats::bootstrap_mean(
        &seeds_of(model),
        Metric::Accuracy,
        BootstrapConfig::default(),
    )
    .unwrap();
    let i = b.interval(0.95).unwrap();
    assert_eq!(f(&row, "accuracy_lo"), i.lower);
    assert_eq!(f(&row, "accuracy_hi"), i.upper);
    assert!(
        i.lower < b.estimate && b.estimate < i.upper,
        "{i:?} {}",
        b.estimate
    );
    assert!(i.width() > 0.05, "test sampling makes it wide: {i:?}");
    assert_eq!(
        row.column("n_test").unwrap().i64().unwrap().get(0),
        Some(40)
    );
    for m in ["macro_f1", "balanced_accuracy", "roc_auc"] {
        let (lo, hi) = (f(&row, &format!("{m}_lo")), f(&row, &format!("{m}_hi")));
        assert!(
            lo < hi && (0.0..=1.0).contains(&lo) && hi <= 1.0,
            "{m}: {lo} {hi}"
        );
    }
}

#[test]
fn the_headline_student_per_depth_is_chosen_on_validation_loss() {
    let (_d, t) = tables();
    let selected = t
        .summary
        .clone()
        .lazy()
        .filter(col("selected"))
        .select([col("depth"), col("temperature")])
        .collect()
        .unwrap();
    assert_eq!(selected.height(), 2, "{selected}");
    let depth: Vec<Option<i64>> = selected
        .column("depth")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    let temp: Vec<Option<f64>> = selected
        .column("temperature")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    // The fixture gives T = 1 the better validation loss at depth 1, T = 4
    // at depth 2, whatever the test accuracy says (T = 4 at depth 1).
    assert_eq!(depth, vec![Some(1), Some(2)]);
    assert_eq!(temp, vec![Some(1.0), Some(4.0)]);
    // Majority, teacher, two controls, two selected students.
    assert_eq!(t.headline().unwrap().height(), 6);

    let by_accuracy = CompareConfig {
        select_on: study::kd::SelectOn::ValAccuracy,
        ..CompareConfig::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let fx = fixture::build(dir.path(), &[]);
    let t2 = Tables::build(&fx.store, &fx.specs, &fx.index, &by_accuracy).unwrap();
    // Validation accuracy is 1 for every model (p_true > 0.5): a tie, kept
    // by the first in sweep order (T = 1) at both depths.
    let sel = t2
        .summary
        .clone()
        .lazy()
        .filter(col("selected"))
        .collect()
        .unwrap();
    let temp: Vec<Option<f64>> = sel
        .column("temperature")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(temp, vec![Some(1.0), Some(1.0)]);
}

#[test]
fn majority_baseline_row_predicts_the_training_majority() {
    let (_d, t) = tables();
    assert_eq!(t.majority, vec![("toy".to_owned(), "yes".to_owned())]);
    let row = one(&t.summary, col("model").eq(lit(MAJORITY_LABEL)));
    // Test labels alternate: 'yes' everywhere is right on 20 of 40.
    assert_eq!(f(&row, "accuracy_mean"), 0.5);
    assert_eq!(f(&row, "balanced_accuracy_mean"), 0.5);
    let w = one(&t.gathered, col("model").eq(lit(MAJORITY_LABEL)));
    let wilson = stats::wilson_interval(20, 40, 0.95).unwrap();
    assert_eq!(f(&w, "accuracy_wilson_lo"), wilson.lower);
    assert_eq!(f(&w, "accuracy_wilson_hi"), wilson.upper);
    assert_eq!(
        w.column("collapsed").unwrap().bool().unwrap().get(0),
        Some(true)
    );
    // It comes first in the summary.
    let first = t.summary.column("model").unwrap().str().unwrap().get(0);
    assert_eq!(first, Some(MAJORITY_LABEL));
}

#[test]
fn a_model_predicting_one_class_is_flagged_collapsed() {
    let (_d, t) = tables();
    let control1 = one(
        &t.summary,
        col("depth").eq(lit(1)).and(col("alpha").eq(lit(0.0))),
    );
    assert_eq!(
        control1
            .column("n_collapsed")
            .unwrap()
            .i64()
            .unwrap()
            .get(0),
        Some(1)
    );
    let control2 = one(
        &t.summary,
        col("depth").eq(lit(2)).and(col("alpha").eq(lit(0.0))),
    );
    assert_eq!(
        control2
            .column("n_collapsed")
            .unwrap()
            .i64()
            .unwrap()
            .get(0),
        Some(0)
    );
}

#[test]
fn comparisons_pair_each_student_with_its_control_and_the_teacher() {
    let (_d, t) = tables();
    let c = &t.comparisons;
    // 2 depths × 2 temperatures × (control, teacher).
    assert_eq!(c.height(), 8, "{c}");
    let row = one(c, student(2, 4.0).and(col("versus").eq(lit("control"))));
    let a = Model::Student {
        depth: 2,
        temperature: 4.0,
    };
    let b = Model::Control { depth: 2 };
    let d = stats::bootstrap_paired_difference(
        &seeds_of(a),
        &seeds_of(b),
        Metric::Accuracy,
        BootstrapConfig::default(),
    )
    .unwrap();
    assert_eq!(f(&row, "d_accuracy_mean"), d.estimate);
    let i = d.interval(0.95).unwrap();
    assert_eq!(
        (f(&row, "d_accuracy_lo"), f(&row, "d_accuracy_hi")),
        (i.lower, i.upper)
    );
    let (mut a_only, mut b_only) = (0, 0);
    for s in SEEDS {
        for img in 0..N_TEST {
            match (fixture::correct(a, s, img), fixture::correct(b, s, img)) {
                (true, false) => a_only += 1,
                (false, true) => b_only += 1,
                _ => {}
            }
        }
    }
    assert_eq!(
        row.column("student_only").unwrap().i64().unwrap().get(0),
        Some(a_only)
    );
    assert_eq!(
        row.column("reference_only").unwrap().i64().unwrap().get(0),
        Some(b_only)
    );
    assert_eq!(
        f(&row, "p_mcnemar"),
        stats::mcnemar_exact(a_only as u64, b_only as u64)
    );
    let p: Vec<f64> = c
        .column("p_mcnemar")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let holm = stats::holm(&p).unwrap();
    let got: Vec<f64> = c
        .column("p_holm")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(got, holm);
    let verdicts: Vec<&str> = c
        .column("verdict")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    for v in &verdicts {
        assert!(
            ["equivalent", "not shown equivalent", "worse", "better"].contains(v),
            "{v}"
        );
    }
    // The teacher (0.95–0.97) is far better than the depth-1 students on
    // 3 × 40 pairs; no student is shown equivalent to it or better.
    let vs_teacher = c
        .clone()
        .lazy()
        .filter(col("versus").eq(lit("teacher")))
        .collect()
        .unwrap();
    let v: Vec<&str> = vs_teacher
        .column("verdict")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(&v[..2], ["worse", "worse"], "{vs_teacher}");
    assert!(
        v.iter()
            .all(|v| *v == "worse" || *v == "not shown equivalent"),
        "{v:?}"
    );
}

#[test]
fn intervals_render_as_mean_and_bounds() {
    let (_d, t) = tables();
    let md = render(&compact(&t.headline().unwrap()).unwrap(), Format::Markdown).unwrap();
    let header = md.lines().next().unwrap();
    assert!(
        header.contains("| accuracy |") && !header.contains("accuracy_lo"),
        "{header}"
    );
    let row = one(&t.summary, student(1, 1.0));
    let cell = format!(
        "{:.3} [{:.3}, {:.3}]",
        f(&row, "accuracy_mean"),
        f(&row, "accuracy_lo"),
        f(&row, "accuracy_hi")
    );
    assert!(md.contains(&cell), "{cell} not in\n{md}");
    let csv = render(&t.summary, Format::Csv).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .contains("accuracy_mean,accuracy_lo,accuracy_hi"));
}
