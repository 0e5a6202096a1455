//! Pulling plot data out of the tables' polars frames.

use engine::Fingerprint;
use polars::prelude::*;

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

/// The best student run of `dataset` (highest macro F1, evaluated) and the
/// teacher of the same seed (or the first teacher).
pub(crate) fn teacher_and_best_student(
    gathered: &DataFrame,
    dataset: &str,
) -> Result<Vec<(&'static str, Run)>, PlotError> {
    let of_ds = gathered
        .clone()
        .lazy()
        .filter(col("dataset").eq(lit(dataset)));
    let best = of_ds
        .clone()
        .filter(
            col("model")
                .eq(lit("student"))
                .and(col("macro_f1").is_not_null()),
        )
        .sort(
            ["macro_f1"],
            SortMultipleOptions::default()
                .with_order_descending(true)
                .with_maintain_order(true),
        )
        .limit(1)
        .collect()?;
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
        out.push(("best student", r));
    }
    Ok(out)
}
