//! Pivot views: one metric laid out as temperature × depth, one table per
//! (dataset, method, alpha), with polars' pivot.

use std::sync::Arc;

use polars::prelude::*;

use super::{resolve_column, TablesError};

/// One pivot view. `table` has a `temperature` column (null for the control)
/// and, for every depth `k`, `d<k>_mean` and `d<k>_std`.
#[derive(Debug, Clone)]
pub struct PivotTable {
    pub dataset: String,
    /// The distillation method; `None` for the control, and for Hinton
    /// when it is the study's only method (the titles of before the axis).
    pub method: Option<String>,
    /// 0 for the no-distillation control.
    pub alpha: f64,
    /// The metric's column base name, e.g. `macro_f1`.
    pub metric: String,
    pub table: DataFrame,
}

/// Short names accepted by `--pivot`.
fn alias(metric: &str) -> &str {
    match metric {
        "f1" => "macro_f1",
        "acc" => "accuracy",
        "time" | "explain_time" | "explain-time" => "gradcam_s",
        other => other,
    }
}

/// Pivots `metric` (a base name of the summary, or `f1`, `acc`, `time`) of
/// the students of a [`super::summarize`] frame: rows are temperatures,
/// columns depths, one table per (dataset, alpha), sorted.
pub fn pivot(summary: &DataFrame, metric: &str) -> Result<Vec<PivotTable>, TablesError> {
    let base = alias(metric);
    let mean = resolve_column(summary, base)?;
    let Some(metric_name) = mean.strip_suffix("_mean").map(str::to_owned) else {
        return Err(TablesError::UnknownColumn {
            column: metric.to_owned(),
            available: super::view::display_names(summary)
                .into_iter()
                .filter(|n| summary.column(&format!("{n}_mean")).is_ok())
                .collect(),
        });
    };
    let std = format!("{metric_name}_std");
    let students = summary
        .clone()
        .lazy()
        .filter(
            col("model")
                .neq(lit("teacher"))
                .and(col("model").neq(lit(super::gather::MAJORITY_LABEL))),
        )
        .select([
            col("dataset"),
            col("method"),
            col("alpha"),
            col("temperature"),
            col("depth"),
            col(mean.as_str()).alias("mean"),
            col(std.as_str()).alias("std"),
        ])
        .collect()?;
    if students.height() == 0 {
        return Ok(Vec::new());
    }
    let depths = students
        .clone()
        .lazy()
        .select([col("depth").unique().sort(SortOptions::default())])
        .collect()?;
    let pivoted = students
        .clone()
        .lazy()
        .pivot(
            cols(["depth"]),
            Arc::new(depths.clone()),
            cols(["dataset", "method", "alpha", "temperature"]),
            cols(["mean", "std"]),
            element().first(),
            true,
            "|".into(),
            polars::frame::PivotColumnNaming::Combine,
        )
        .sort(
            ["dataset", "alpha", "temperature"],
            SortMultipleOptions::default()
                .with_nulls_last(false)
                .with_maintain_order(true),
        )
        .collect()?;
    let depth_values: Vec<i64> = depths
        .column("depth")?
        .cast(&DataType::Int64)?
        .i64()?
        .into_no_null_iter()
        .collect();
    let mut select = vec![col("temperature")];
    for d in &depth_values {
        for stat in ["mean", "std"] {
            select.push(col(format!("{stat}|{d}")).alias(format!("d{d}_{stat}")));
        }
    }
    let groups = pivoted
        .clone()
        .lazy()
        .select([col("dataset"), col("method"), col("alpha")])
        .unique_stable(None, UniqueKeepStrategy::First)
        .collect()?;
    let only_hinton = groups
        .column("method")?
        .str()?
        .iter()
        .all(|m| m.is_none_or(|m| m == "hinton"));
    let mut out = Vec::new();
    let ds = groups.column("dataset")?.str()?.clone();
    let me = groups.column("method")?.str()?.clone();
    let al = groups.column("alpha")?.f64()?.clone();
    for ((dataset, method), alpha) in ds.iter().zip(me.iter()).zip(al.iter()) {
        let (Some(dataset), Some(alpha)) = (dataset, alpha) else {
            continue;
        };
        let same_method = match method {
            Some(m) => col("method").eq(lit(m)),
            None => col("method").is_null(),
        };
        let table = pivoted
            .clone()
            .lazy()
            .filter(
                col("dataset")
                    .eq(lit(dataset))
                    .and(same_method)
                    .and(col("alpha").eq(lit(alpha))),
            )
            .select(select.clone())
            .collect()?;
        out.push(PivotTable {
            dataset: dataset.to_owned(),
            method: method.filter(|_| !only_hinton).map(str::to_owned),
            alpha,
            metric: metric_name.clone(),
            table,
        });
    }
    Ok(out)
}
