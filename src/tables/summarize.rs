//! Seed aggregation: one row per (dataset, model, method, depth, temperature,
//! alpha)
//! with mean and standard deviation over seeds, and the student/teacher
//! explain-time ratio.

use polars::prelude::*;

use super::columns::{metric_columns, FAITHFUL_METHODS, METHODS};
use super::gather::MAJORITY_LABEL;
use super::TablesError;

/// How the no-distillation control appears in the `model` column.
pub const CONTROL_LABEL: &str = "student (control, α=0)";

/// The grouping keys of [`summarize`].
pub(crate) const KEYS: [&str; 7] = [
    "dataset",
    "model",
    "method",
    "arch",
    "depth",
    "temperature",
    "alpha",
];

/// Aggregates the frame of [`super::gather`] over seeds.
///
/// Output columns: the keys (`model` relabelled [`CONTROL_LABEL`] for the
/// control), `n_seeds` (seeds with an evaluation), `params`, `macs`, then
/// `<metric>_mean` and `<metric>_std` (sample std, ddof 1; null for a single
/// seed) for every metric, and `ratio_<method>`: the student's mean explain
/// time over the mean of the teachers of the same dataset (1 for teachers).
/// Means ignore stages that have not run; a group where none has run is null.
pub fn summarize(gathered: &DataFrame) -> Result<DataFrame, TablesError> {
    let metrics = metric_columns();
    let labelled = gathered.clone().lazy().with_column(
        when(col("control"))
            .then(lit(CONTROL_LABEL))
            .otherwise(col("model"))
            .alias("model"),
    );
    let mut aggs = vec![
        col("config").first().alias("config"),
        col("accuracy")
            .count()
            .cast(DataType::Int64)
            .alias("n_seeds"),
        col("n_test").max().alias("n_test"),
        col("params").drop_nulls().first().alias("params"),
        col("macs").drop_nulls().first().alias("macs"),
        col("collapsed")
            .cast(DataType::Int64)
            .sum()
            .alias("n_collapsed"),
        col("timing_label")
            .drop_nulls()
            .n_unique()
            .cast(DataType::Int64)
            .alias("n_timed"),
    ];
    for m in &metrics {
        aggs.push(col(m.as_str()).mean().alias(format!("{m}_mean")));
        // A time measured on fewer than two models has no spread to show.
        let std = col(m.as_str()).std(1);
        let std = if m.ends_with("_s") {
            when(col("timing_label").drop_nulls().n_unique().gt(lit(1)))
                .then(std)
                .otherwise(lit(NULL).cast(DataType::Float64))
        } else {
            std
        };
        aggs.push(std.alias(format!("{m}_std")));
    }
    let keys: Vec<Expr> = KEYS.iter().map(|k| col(*k)).collect();
    let grouped = labelled.group_by_stable(keys).agg(aggs);

    let teacher_times = gathered
        .clone()
        .lazy()
        .filter(col("model").eq(lit("teacher")))
        .group_by_stable([col("dataset")])
        .agg(
            METHODS
                .iter()
                .map(|m| col(format!("{m}_s")).mean().alias(format!("{m}_teacher_s")))
                .collect::<Vec<_>>(),
        );
    let with_ratio = grouped
        .left_join(teacher_times, col("dataset"), col("dataset"))
        .with_columns(
            METHODS
                .iter()
                .map(|m| {
                    (col(format!("{m}_s_mean")) / col(format!("{m}_teacher_s")))
                        .alias(format!("ratio_{m}"))
                })
                .collect::<Vec<_>>(),
        )
        .with_column(
            when(col("model").eq(lit(MAJORITY_LABEL)))
                .then(lit(-1))
                .when(col("model").eq(lit("teacher")))
                .then(lit(0))
                .otherwise(lit(1))
                .alias("_rank"),
        )
        .sort(
            ["dataset", "_rank", "depth", "temperature", "alpha"],
            SortMultipleOptions::default()
                .with_nulls_last(false)
                .with_maintain_order(true),
        );

    let mut order: Vec<Expr> = KEYS.iter().map(|k| col(*k)).collect();
    order.extend(["n_seeds", "n_test", "params", "macs"].map(col));
    for m in &metrics {
        order.push(col(format!("{m}_mean")));
        order.push(col(format!("{m}_std")));
        if let Some(method) = m.strip_suffix("_s") {
            if method == METHODS[METHODS.len() - 1] {
                order.extend(METHODS.iter().map(|x| col(format!("ratio_{x}"))));
                order.push(col("n_timed"));
            }
        }
    }
    order.extend(["n_collapsed", "config"].map(col));
    Ok(with_ratio.select(order).collect()?)
}

/// The default view of a summary: keys, the validation selection, seeds and
/// test images, size, accuracy / macro-F1 / balanced accuracy / ROC AUC
/// with their intervals, validation loss and best epoch, explain time and
/// ratio per method with how many models were timed, normalised deletion
/// and insertion scores, teacher agreement (Pearson, and the images it is
/// defined on) and how many seeds collapsed to one class.
pub fn compact(summary: &DataFrame) -> Result<DataFrame, TablesError> {
    let mut cols: Vec<String> = [
        "dataset",
        "model",
        "method",
        "depth",
        "temperature",
        "alpha",
        "selected",
        "n_seeds",
        "n_test",
        "params",
        "macs",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut group = |m: &str| {
        for part in ["mean", "std", "lo", "hi"] {
            cols.push(format!("{m}_{part}"));
        }
    };
    for m in ["accuracy", "macro_f1", "balanced_accuracy", "roc_auc"] {
        group(m);
    }
    group("val_loss");
    group("best_epoch");
    for m in METHODS {
        group(&format!("{m}_s"));
    }
    for m in FAITHFUL_METHODS {
        group(&format!("{m}_deletion_norm"));
        group(&format!("{m}_insertion_norm"));
    }
    group("agreement_pearson");
    cols.push("agreement_n_defined_mean".into());
    cols.extend(METHODS.iter().map(|m| format!("ratio_{m}")));
    cols.push("n_timed".into());
    cols.push("n_collapsed".into());
    let present: Vec<&str> = cols
        .iter()
        .map(String::as_str)
        .filter(|c| summary.column(c).is_ok())
        .collect();
    Ok(summary.select(present)?)
}
