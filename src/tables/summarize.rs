//! Seed aggregation: one row per (dataset, model, depth, temperature, alpha)
//! with mean and standard deviation over seeds, and the student/teacher
//! explain-time ratio.

use polars::prelude::*;

use super::columns::{metric_columns, FAITHFUL_METHODS, METHODS};
use super::TablesError;

/// How the no-distillation control appears in the `model` column.
pub const CONTROL_LABEL: &str = "student (control, α=0)";

/// The grouping keys of [`summarize`].
pub(crate) const KEYS: [&str; 6] = ["dataset", "model", "arch", "depth", "temperature", "alpha"];

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
        col("accuracy")
            .count()
            .cast(DataType::Int64)
            .alias("n_seeds"),
        col("params").drop_nulls().first().alias("params"),
        col("macs").drop_nulls().first().alias("macs"),
    ];
    for m in &metrics {
        aggs.push(col(m.as_str()).mean().alias(format!("{m}_mean")));
        aggs.push(col(m.as_str()).std(1).alias(format!("{m}_std")));
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
            when(col("model").eq(lit("teacher")))
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
    order.extend(["n_seeds", "params", "macs"].map(col));
    for m in &metrics {
        order.push(col(format!("{m}_mean")));
        order.push(col(format!("{m}_std")));
        if let Some(method) = m.strip_suffix("_s") {
            if method == METHODS[METHODS.len() - 1] {
                order.extend(METHODS.iter().map(|x| col(format!("ratio_{x}"))));
            }
        }
    }
    Ok(with_ratio.select(order).collect()?)
}

/// The default view of a summary: keys, seeds, parameters and
/// multiply-accumulates per image, accuracy, macro F1, explain time and
/// ratio per method, normalised deletion and insertion scores, and teacher
/// agreement (Pearson, and the images it is defined on).
pub fn compact(summary: &DataFrame) -> Result<DataFrame, TablesError> {
    let mut cols: Vec<String> = [
        "dataset",
        "model",
        "depth",
        "temperature",
        "alpha",
        "n_seeds",
        "params",
        "macs",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut pair = |m: &str| {
        cols.push(format!("{m}_mean"));
        cols.push(format!("{m}_std"));
    };
    pair("accuracy");
    pair("macro_f1");
    for m in METHODS {
        pair(&format!("{m}_s"));
    }
    for m in FAITHFUL_METHODS {
        pair(&format!("{m}_deletion_norm"));
        pair(&format!("{m}_insertion_norm"));
    }
    pair("agreement_pearson");
    cols.push("agreement_n_defined_mean".into());
    cols.extend(METHODS.iter().map(|m| format!("ratio_{m}")));
    let present: Vec<&str> = cols
        .iter()
        .map(String::as_str)
        .filter(|c| summary.column(c).is_ok())
        .collect();
    Ok(summary.select(present)?)
}
