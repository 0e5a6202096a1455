//! Pulling plot data out of the tables' polars frames.

use engine::Fingerprint;
use polars::prelude::*;
use study::kd::SelectOn;

use super::PlotError;

/// Datasets of a frame, in order of appearance.
pub(crate) fn datasets(df: &DataFrame) -> Result<Vec<String>, PlotError> {
    let u = df
        .clone()
        .lazy()
        .select([col("dataset")])
        .unique_stable(None, UniqueKeepStrategy::First)
        .collect()?;
    Ok(strs(&u, "dataset")?.into_iter().flatten().collect())
}

/// A file-name-safe form of a dataset or stage name.
pub(crate) fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(crate) fn strs(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, PlotError> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|v| v.map(str::to_owned)).collect())
}

pub(crate) fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, PlotError> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?
        .iter()
        .map(|v| v.filter(|x| x.is_finite()))
        .collect())
}

/// One model run (one seed) of the gathered frame.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub stage: String,
    pub model_fp: Fingerprint,
    pub evaluate_fp: Option<Fingerprint>,
}

fn first_run(df: &DataFrame) -> Result<Option<Run>, PlotError> {
    if df.height() == 0 {
        return Ok(None);
    }
    let stage = strs(df, "model_stage")?.swap_remove(0).unwrap_or_default();
    let model_fp = strs(df, "model_fp")?
        .swap_remove(0)
        .and_then(|s| Fingerprint::parse(&s));
    let evaluate_fp = strs(df, "evaluate_fp")?
        .swap_remove(0)
        .and_then(|s| Fingerprint::parse(&s));
    Ok(model_fp.map(|model_fp| Run {
        stage,
        model_fp,
        evaluate_fp,
    }))
}

/// The validation-selected student of `dataset` with the best mean
/// validation score (`select_on`) among the selected ones of every depth,
/// its first seed, and the teacher of the same seed (or the first teacher).
pub(crate) fn teacher_and_selected_student(
    gathered: &DataFrame,
    summary: &DataFrame,
    dataset: &str,
    select_on: SelectOn,
) -> Result<Vec<(&'static str, Run)>, PlotError> {
    let (column, descending) = match select_on {
        SelectOn::ValLoss => ("val_loss_mean", false),
        SelectOn::ValAccuracy => ("val_accuracy_mean", true),
        SelectOn::ValBalancedAccuracy => ("val_balanced_accuracy_mean", true),
    };
    let chosen = summary
        .clone()
        .lazy()
        .filter(
            col("dataset")
                .eq(lit(dataset))
                .and(col("selected"))
                .and(col(column).is_not_null()),
        )
        .sort(
            [column],
            SortMultipleOptions::default()
                .with_order_descending(descending)
                .with_maintain_order(true),
        )
        .limit(1)
        .collect()?;
    let config = strs(&chosen, "config")?.into_iter().flatten().next();
    let of_ds = gathered
        .clone()
        .lazy()
        .filter(col("dataset").eq(lit(dataset)));
    let best = match &config {
        Some(c) => of_ds
            .clone()
            .filter(col("config").eq(lit(c.clone())))
            .sort(["seed"], SortMultipleOptions::default())
            .limit(1)
            .collect()?,
        None => DataFrame::default(),
    };
    let seed = if best.height() > 0 {
        best.column("seed")?.i64()?.get(0)
    } else {
        None
    };
    let teachers = of_ds.filter(col("model").eq(lit("teacher")));
    let mut teacher = match seed {
        Some(s) => teachers.clone().filter(col("seed").eq(lit(s))).collect()?,
        None => DataFrame::default(),
    };
    if teacher.height() == 0 {
        teacher = teachers.limit(1).collect()?;
    }
    let mut out = Vec::new();
    if let Some(r) = first_run(&teacher)? {
        out.push(("teacher", r));
    }
    if let Some(r) = first_run(&best)? {
        out.push(("selected student", r));
    }
    Ok(out)
}
