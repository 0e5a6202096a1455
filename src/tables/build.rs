//! Every table of an experiment from one read of the store: the per-model
//! frame, the seed summary with its intervals and validation selection, and
//! the paired comparisons. `compare` and the report both start here.

use engine::store::Store;
use engine::StageSpec;
use polars::prelude::*;
use study::index::StudyIndex;
use study::kd::CompareConfig;

use super::comparisons::comparisons;
use super::config::configs;
use super::evidence::Evidence;
use super::gather::gather_with;
use super::intervals::interval_frame;
use super::majority::majority;
use super::selection::select;
use super::summarize::summarize;
use super::TablesError;

/// The tables of one experiment.
pub struct Tables {
    /// One row per model and seed ([`super::gather`]), majority baselines
    /// last.
    pub gathered: DataFrame,
    /// One row per configuration: means, std over seeds, bootstrap
    /// intervals (`<metric>_lo` / `_hi`), `selected`.
    pub summary: DataFrame,
    /// Paired comparisons ([`super::comparisons`]).
    pub comparisons: DataFrame,
    /// Per data set, the class its majority baseline predicts.
    pub majority: Vec<(String, String)>,
    /// The settings these were computed with.
    pub options: CompareConfig,
}

impl Tables {
    /// Reads and computes everything; a model whose evaluate stage has not
    /// run (or wrote no predictions) has null numbers and no interval.
    pub fn build(
        store: &Store,
        specs: &[StageSpec],
        index: &StudyIndex,
        options: &CompareConfig,
    ) -> Result<Tables, TablesError> {
        let evidence = Evidence::load(store, index)?;
        let majority = majority(store, specs, index, &evidence)?;
        let gathered = gather_with(store, specs, index, &evidence, &majority)?;
        let configs = configs(index);
        let selected = select(&configs, &evidence, options);
        let intervals = interval_frame(&configs, &evidence, &majority, options)?;
        let summary = summarize(&gathered)?;
        let summary = attach(summary, intervals, &selected)?;
        let comparisons = comparisons(&configs, &evidence, &selected, options)?;
        Ok(Tables {
            gathered,
            summary,
            comparisons,
            majority: majority
                .iter()
                .map(|m| (m.dataset.clone(), m.class.clone()))
                .collect(),
            options: options.clone(),
        })
    }

    /// The headline rows: per data set the majority baseline, the teacher,
    /// and per depth the control and the validation-selected student.
    pub fn headline(&self) -> Result<DataFrame, TablesError> {
        Ok(self
            .summary
            .clone()
            .lazy()
            .filter(col("selected").or(col("alpha").eq(lit(0.0)).or(col("alpha").is_null())))
            .collect()?)
    }
}

/// The summary with each interval column placed right after its mean and
/// `selected` after `alpha`.
fn attach(
    summary: DataFrame,
    intervals: DataFrame,
    selected: &[String],
) -> Result<DataFrame, TablesError> {
    let keys: Vec<&str> = selected.iter().map(String::as_str).collect();
    let is_selected: Vec<bool> = summary
        .column("config")?
        .str()?
        .iter()
        .map(|c| c.is_some_and(|c| keys.contains(&c)))
        .collect();
    let mut joined = summary
        .lazy()
        .left_join(intervals.clone().lazy(), col("config"), col("config"))
        .collect()?;
    joined.with_column(Column::new("selected".into(), is_selected))?;
    let mut order: Vec<String> = Vec::new();
    for name in joined.get_column_names() {
        let n = name.as_str();
        if n == "selected" || intervals.column(n).is_ok() && n != "config" {
            continue;
        }
        order.push(n.to_owned());
        if let Some(base) = n.strip_suffix("_mean") {
            for side in ["lo", "hi"] {
                let c = format!("{base}_{side}");
                if intervals.column(&c).is_ok() {
                    order.push(c);
                }
            }
        }
        if n == "alpha" {
            order.push("selected".to_owned());
        }
    }
    Ok(joined.select(order)?)
}
