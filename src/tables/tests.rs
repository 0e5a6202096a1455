//! Tests of gathering, aggregation, views and rendering on the fixture store.
#![allow(clippy::unwrap_used)]

use polars::prelude::*;

use super::fixture::{self, Model};
use super::view::FilterOp;
use super::*;

fn store(unpublished: &[&str]) -> (tempfile::TempDir, DataFrame) {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = fixture::build(dir.path(), unpublished);
    let df = gather(&f.store, &f.specs, &f.index).expect("gather");
    (dir, df)
}

fn f64_at(df: &DataFrame, column: &str, row: usize) -> Option<f64> {
    df.column(column)
        .expect(column)
        .f64()
        .expect("f64")
        .get(row)
}

fn row_where(df: &DataFrame, pred: Expr) -> DataFrame {
    df.clone().lazy().filter(pred).collect().expect("filter")
}

fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

#[test]
fn gather_has_one_row_per_model_stage() {
    let (_d, df) = store(&[]);
    // 3 seeds × (teacher + 2 depths × (control + 2 temperatures)), and the
    // majority-class baseline.
    assert_eq!(df.height(), 3 * (1 + 2 * 3) + 1);
    let majority = row_where(&df, col("model").eq(lit(MAJORITY_LABEL)));
    assert_eq!(majority.height(), 1);
    let teacher = row_where(&df, col("model").eq(lit("teacher")));
    assert_eq!(teacher.height(), 3);
    assert_eq!(teacher.column("temperature").unwrap().null_count(), 3);
    assert_eq!(teacher.column("alpha").unwrap().null_count(), 3);
    let control = row_where(&df, col("control"));
    assert_eq!(control.height(), 6);
    assert_eq!(control.column("temperature").unwrap().null_count(), 6);
    assert_eq!(f64_at(&control, "alpha", 0), Some(0.0));
    let one = row_where(&df, col("model_stage").eq(lit("student/toy/s2/d2-T4-a0.5")));
    let m = Model::Student {
        depth: 2,
        temperature: 4.0,
    };
    assert_eq!(f64_at(&one, "accuracy", 0), Some(fixture::accuracy(m, 2)));
    assert_eq!(f64_at(&one, "gradcam_s", 0), Some(fixture::gradcam_s(m, 2)));
    assert_eq!(f64_at(&one, "agreement_pearson", 0), Some(0.5 + 0.2));
    assert_eq!(
        one.column("params").unwrap().i64().unwrap().get(0),
        Some(2000)
    );
    let fp = one
        .column("timing_fp")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(fp.len(), 64);
}

#[test]
fn stages_not_run_are_null_not_zero() {
    let (_d, df) = store(&[
        "evaluate/student/toy/s1/d1-T1-a0.5",
        "timing/student/toy/s1/d1-T1-a0.5",
    ]);
    let row = row_where(&df, col("model_stage").eq(lit("student/toy/s1/d1-T1-a0.5")));
    assert_eq!(f64_at(&row, "accuracy", 0), None);
    assert_eq!(f64_at(&row, "gradcam_s", 0), None);
    assert_eq!(row.column("params").unwrap().i64().unwrap().get(0), None);
    // The explain stage ran: its numbers are there.
    assert!(f64_at(&row, "gradcam_deletion_auc", 0).is_some());

    let s = summarize(&df).expect("summarize");
    let g = row_where(
        &s,
        col("depth")
            .eq(lit(1i64))
            .and(col("temperature").eq(lit(1.0)))
            .and(col("alpha").eq(lit(0.5))),
    );
    assert_eq!(g.height(), 1);
    assert_eq!(g.column("n_seeds").unwrap().i64().unwrap().get(0), Some(2));
    let m = Model::Student {
        depth: 1,
        temperature: 1.0,
    };
    let (mean, std) = mean_std(&[fixture::accuracy(m, 0), fixture::accuracy(m, 2)]);
    assert!((f64_at(&g, "accuracy_mean", 0).unwrap() - mean).abs() < 1e-12);
    assert!((f64_at(&g, "accuracy_std", 0).unwrap() - std).abs() < 1e-12);

    // (n_collapsed is a count: 0 there is a number, not a missing value.)
    let shown = compact(&g).unwrap().drop("n_collapsed").unwrap();
    let md = render(&shown, Format::Markdown).unwrap();
    assert!(!md.contains("| 0 |"), "{md}");
}

#[test]
fn an_unrun_timing_stage_leaves_every_time_null() {
    let (_d, df) = store(&["timing/toy"]);
    for m in METHODS {
        let c = df.column(&format!("{m}_s")).unwrap();
        assert_eq!(c.null_count(), df.height(), "{m}");
    }
    assert_eq!(df.column("timing_fp").unwrap().null_count(), df.height());
    // Everything else is there.
    assert_eq!(df.column("accuracy").unwrap().null_count(), 0);
}

#[test]
fn times_per_architecture_apply_to_every_model_of_it() {
    // `timing_scope = "architecture"`: timing.json has one entry per
    // architecture (teacher, student-d<k>), shared by every seed and
    // (T, alpha) of that architecture.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = fixture::build(dir.path(), &[]);
    fixture::time_by_architecture(&mut f.index);
    let t = f.specs.iter().find(|s| s.kind == "timing").unwrap();
    let mut models = std::collections::BTreeMap::new();
    models.insert("teacher".into(), fixture::timing_entry(0.03));
    models.insert("student-d1".into(), fixture::timing_entry(0.001));
    fixture::write_timing(&f.store, &t.fingerprint(), models);
    let df = gather(&f.store, &f.specs, &f.index).expect("gather");
    let teacher = row_where(&df, col("model").eq(lit("teacher")));
    let d1 = row_where(
        &df,
        col("depth")
            .eq(lit(1i64))
            .and(col("model").eq(lit("student"))),
    );
    let d2 = row_where(
        &df,
        col("depth")
            .eq(lit(2i64))
            .and(col("model").eq(lit("student"))),
    );
    assert_eq!(teacher.height(), 3);
    assert_eq!(d1.height(), 3 * (1 + 2));
    for i in 0..teacher.height() {
        assert_eq!(f64_at(&teacher, "gradcam_s", i), Some(0.03));
    }
    for i in 0..d1.height() {
        assert_eq!(f64_at(&d1, "gradcam_s", i), Some(0.001));
        assert_eq!(f64_at(&d1, "expected_gradients_s", i), Some(0.02));
    }
    // Depth 2 was not timed: missing, not zero.
    assert_eq!(d2.column("gradcam_s").unwrap().null_count(), d2.height());
    let s = summarize(&df).unwrap();
    let g = row_where(
        &s,
        col("depth")
            .eq(lit(1i64))
            .and(col("model").eq(lit(CONTROL_LABEL))),
    );
    assert!((f64_at(&g, "ratio_gradcam", 0).unwrap() - 0.001 / 0.03).abs() < 1e-12);
}

#[test]
fn an_unrun_group_renders_missing() {
    let names: Vec<String> = fixture::SEEDS
        .iter()
        .map(|s| format!("evaluate/student/toy/s{s}/d2-control"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_d, df) = store(&refs);
    let s = summarize(&df).unwrap();
    let g = row_where(
        &s,
        col("model")
            .eq(lit(CONTROL_LABEL))
            .and(col("depth").eq(lit(2i64))),
    );
    assert_eq!(g.column("n_seeds").unwrap().i64().unwrap().get(0), Some(0));
    assert_eq!(f64_at(&g, "accuracy_mean", 0), None);
    let text = render(&compact(&g).unwrap(), Format::Table).unwrap();
    assert!(text.contains("missing"), "{text}");
}

#[test]
fn summarize_means_stds_and_ratios() {
    let (_d, df) = store(&[]);
    let s = summarize(&df).expect("summarize");
    // majority baseline + teacher + 2 depths × (control + 2 temperatures)
    assert_eq!(s.height(), 8);
    assert_eq!(
        s.column("model").unwrap().str().unwrap().get(0),
        Some(MAJORITY_LABEL)
    );
    let s = s.slice(1, 7);
    assert_eq!(
        s.column("model").unwrap().str().unwrap().get(0),
        Some("teacher")
    );
    let labels: Vec<_> = s
        .column("model")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(labels.iter().filter(|l| **l == CONTROL_LABEL).count(), 2);

    let m = Model::Student {
        depth: 2,
        temperature: 4.0,
    };
    let g = row_where(
        &s,
        col("depth")
            .eq(lit(2i64))
            .and(col("temperature").eq(lit(4.0))),
    );
    let accs: Vec<f64> = fixture::SEEDS
        .iter()
        .map(|&x| fixture::accuracy(m, x))
        .collect();
    let (mean, std) = mean_std(&accs);
    assert!((f64_at(&g, "accuracy_mean", 0).unwrap() - mean).abs() < 1e-12);
    assert!((f64_at(&g, "accuracy_std", 0).unwrap() - std).abs() < 1e-12);
    assert_eq!(g.column("n_seeds").unwrap().i64().unwrap().get(0), Some(3));

    let times: Vec<f64> = fixture::SEEDS
        .iter()
        .map(|&x| fixture::gradcam_s(m, x))
        .collect();
    let teacher: Vec<f64> = fixture::SEEDS
        .iter()
        .map(|&x| fixture::gradcam_s(Model::Teacher, x))
        .collect();
    let ratio = mean_std(&times).0 / mean_std(&teacher).0;
    assert!((f64_at(&g, "ratio_gradcam", 0).unwrap() - ratio).abs() < 1e-12);
    assert!((f64_at(&s, "ratio_gradcam", 0).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn filter_parsing_and_errors() {
    let f = Filter::parse("depth<=2").unwrap();
    assert_eq!(
        (f.column.as_str(), f.op, f.value.as_str()),
        ("depth", FilterOp::Le, "2")
    );
    let f = Filter::parse(" model != teacher ").unwrap();
    assert_eq!(
        (f.column.as_str(), f.op, f.value.as_str()),
        ("model", FilterOp::Ne, "teacher")
    );

    let err = Filter::parse("depth=2").unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid filter 'depth=2': unknown operator '=' (use <, <=, >, >=, ==, !=)"
    );
    let err = Filter::parse("depth").unwrap_err().to_string();
    assert!(err.contains("expected 'column op value'"), "{err}");
    assert!(Filter::parse("<=2")
        .unwrap_err()
        .to_string()
        .contains("missing column"));
    assert!(Filter::parse("depth<=")
        .unwrap_err()
        .to_string()
        .contains("missing value"));

    let (_d, df) = store(&[]);
    let s = summarize(&df).unwrap();
    let err = filter(&s, &[Filter::parse("dept<=2").unwrap()])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("unknown column 'dept' (available: dataset, model, method, arch, depth"),
        "{err}"
    );
    let err = filter(&s, &[Filter::parse("depth<=two").unwrap()])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "invalid filter 'depth<=two': value 'two' is not a number, but column 'depth' is numeric"
    );
    let err = filter(&s, &[Filter::parse("model<x").unwrap()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("column 'model' is text"), "{err}");

    let shallow = filter(
        &s,
        &[
            Filter::parse("depth<=1").unwrap(),
            Filter::parse("model!=teacher").unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(shallow.height(), 3);
    // A metric is addressed by its base name.
    let good = filter(&s, &[Filter::parse("accuracy>=0.9").unwrap()]).unwrap();
    assert_eq!(good.height(), 1);
}

#[test]
fn sort_by_column_and_unknown_column() {
    let (_d, df) = store(&[]);
    let s = summarize(&df).unwrap();
    let sorted = sort(&s, "-accuracy").unwrap();
    let accs: Vec<f64> = sorted
        .column("accuracy_mean")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert!(accs.windows(2).all(|w| w[0] >= w[1]), "{accs:?}");
    let err = sort(&s, "f2").unwrap_err();
    assert!(matches!(err, TablesError::UnknownColumn { ref column, .. } if column == "f2"));
    assert!(err.to_string().contains("macro_f1"));
}

#[test]
fn only_changed_drops_constant_columns() {
    let (_d, df) = store(&[]);
    let s = compact(&summarize(&df).unwrap()).unwrap().slice(1, 7);
    let changed = only_changed(&s).unwrap();
    let names: Vec<String> = changed
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert!(!names.contains(&"dataset".to_owned()), "{names:?}");
    assert!(!names.contains(&"n_seeds".to_owned()), "{names:?}");
    assert!(!names.contains(&"expected_gradients_deletion_auc_mean".to_owned()));
    assert!(!names.contains(&"expected_gradients_deletion_auc_std".to_owned()));
    assert!(names.contains(&"depth".to_owned()));
    assert!(names.contains(&"accuracy_mean".to_owned()));
    assert!(names.contains(&"accuracy_std".to_owned()));
}

#[test]
fn pivot_temperature_by_depth() {
    let (_d, df) = store(&[]);
    let s = summarize(&df).unwrap();
    let p = pivot(&s, "f1").unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].alpha, 0.0);
    assert_eq!(p[0].table.height(), 1);
    let t = &p[1];
    assert_eq!(
        (t.dataset.as_str(), t.alpha, t.metric.as_str()),
        ("toy", 0.5, "macro_f1")
    );
    let names: Vec<String> = t
        .table
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        names,
        ["temperature", "d1_mean", "d1_std", "d2_mean", "d2_std"]
    );
    assert_eq!(
        t.table.column("temperature").unwrap().f64().unwrap().get(1),
        Some(4.0)
    );
    let m = Model::Student {
        depth: 2,
        temperature: 4.0,
    };
    let f1s: Vec<f64> = fixture::SEEDS
        .iter()
        .map(|&x| fixture::accuracy(m, x) - 0.02)
        .collect();
    assert!((f64_at(&t.table, "d2_mean", 1).unwrap() - mean_std(&f1s).0).abs() < 1e-12);
    let err = pivot(&s, "nope").unwrap_err().to_string();
    assert!(err.starts_with("unknown column 'nope'"), "{err}");
    let md = render_pivots(&p, Format::Markdown).unwrap();
    insta::assert_snapshot!("pivot_f1_markdown", md);
}

#[test]
fn markdown_snapshot() {
    let (_d, df) = store(&["timing/student/toy/s0/d1-control"]);
    let s = compact(&summarize(&df).unwrap()).unwrap();
    assert_eq!(
        s.column("model").unwrap().str().unwrap().get(0),
        Some(MAJORITY_LABEL)
    );
    let s = s.slice(1, 7);
    // The default view shows compute next to size.
    let names: Vec<&str> = s.get_column_names().iter().map(|n| n.as_str()).collect();
    let params = names.iter().position(|n| *n == "params").unwrap();
    assert_eq!(names[params + 1], "macs", "{names:?}");
    assert_eq!(
        s.column("macs").unwrap().i64().unwrap().get(0),
        Some(50_000 * 3),
        "the fixture teacher (depth 3)"
    );
    let s = s
        .select([
            "model",
            "depth",
            "temperature",
            "alpha",
            "n_seeds",
            "params",
            "accuracy_mean",
            "accuracy_std",
            "macro_f1_mean",
            "macro_f1_std",
            "gradcam_s_mean",
            "gradcam_s_std",
            "ratio_gradcam",
        ])
        .unwrap();
    insta::assert_snapshot!("summary_markdown", render(&s, Format::Markdown).unwrap());
}

#[test]
fn csv_and_json_keep_raw_columns_and_nulls() {
    let (_d, df) = store(&["evaluate/teacher/toy/s0"]);
    let csv = render(&df, Format::Csv).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with(
        "dataset,config,model,arch,depth,method,temperature,alpha,control,seed,params"
    ));
    assert!(lines
        .next()
        .unwrap()
        .starts_with("toy,toy|teacher,teacher,cnn,3,,,,false,0,,,,"));
    let json: serde_json::Value =
        serde_json::from_str(&render(&df, Format::Json).unwrap()).unwrap();
    assert_eq!(json[0]["accuracy"], serde_json::Value::Null);
    assert_eq!(json[0]["model"], "teacher");
}
