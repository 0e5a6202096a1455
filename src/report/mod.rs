//! The HTML report of an experiment: one self-contained folder (relative
//! links only, no network) with the comparison tables, the plots, sample
//! explanations of every model, the experiment file, the fingerprint of every
//! stage behind the numbers and the kdpipe version.

mod error;
mod html;
mod overlays;

pub use error::ReportError;

use std::path::{Path, PathBuf};

use engine::store::Store;
use engine::StageSpec;
use study::index::StudyIndex;
use study::kd::CompareConfig;

use crate::plots;
use crate::tables::{self, Format, Tables};

/// Writes the report of an experiment into `out_dir` (created if needed;
/// its `plots/`, `overlays/` and `tables/` sub-folders are replaced) and
/// returns the path of `index.html`.
pub fn write(
    store: &Store,
    specs: &[StageSpec],
    index: &StudyIndex,
    options: &CompareConfig,
    experiment_toml_text: &str,
    experiment_name: &str,
    out_dir: &Path,
) -> Result<PathBuf, ReportError> {
    let t = Tables::build(store, specs, index, options)?;
    let (gathered, summary) = (&t.gathered, &t.summary);
    let headline = t.headline()?;
    for sub in ["plots", "overlays", "tables"] {
        let dir = out_dir.join(sub);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|source| ReportError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        std::fs::create_dir_all(&dir).map_err(|source| ReportError::Io {
            path: dir.clone(),
            source,
        })?;
    }
    let write_file = |name: &str, text: &str| -> Result<(), ReportError> {
        let path = out_dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Io { path, source })
    };
    write_file("experiment.toml", experiment_toml_text)?;
    write_file("tables/summary.csv", &tables::render(summary, Format::Csv)?)?;
    write_file(
        "tables/summary.json",
        &tables::render(summary, Format::Json)?,
    )?;
    write_file(
        "tables/summary.md",
        &tables::render(&tables::compact(summary)?, Format::Markdown)?,
    )?;
    write_file(
        "tables/comparisons.csv",
        &tables::render(&t.comparisons, Format::Csv)?,
    )?;
    write_file("tables/runs.csv", &tables::render(gathered, Format::Csv)?)?;

    let plots = plots::write_all(
        store,
        gathered,
        summary,
        &headline,
        options.select_on,
        &out_dir.join("plots"),
    )?;
    let samples = overlays::copy_samples(store, index, gathered, &out_dir.join("overlays"))?;
    let page = html::page(&html::Inputs {
        store,
        specs,
        experiment_name,
        experiment_toml_text,
        gathered,
        summary,
        headline: &headline,
        comparisons: &t.comparisons,
        tables: &t,
        plots: &plots,
        samples: &samples,
        out_dir,
    })?;
    let index = out_dir.join("index.html");
    std::fs::write(&index, page).map_err(|source| ReportError::Io {
        path: index.clone(),
        source,
    })?;
    Ok(index)
}

#[cfg(test)]
mod tests;
