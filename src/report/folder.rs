//! Writing the report folder: the tables as files, the plots, the sample
//! explanations and `index.html`.

use std::path::{Path, PathBuf};

use engine::store::Store;
use engine::StageSpec;
use study::index::StudyIndex;
use study::kd::CompareConfig;

use super::finding::{self, Row};
use super::overlays::{self, Pick};
use super::page::{self, Inputs};
use super::ReportError;
use crate::plots::{self, FindingPoint};
use crate::tables::{self, Format, Tables};

/// The finding's models as the figure's points (those with an accuracy
/// interval and a Grad-CAM time).
fn points(rows: &[Row]) -> Vec<FindingPoint> {
    rows.iter()
        .filter_map(|r| {
            let [Some(accuracy), Some(lo), Some(hi)] = r.accuracy else {
                return None;
            };
            Some(FindingPoint {
                dataset: r.dataset.clone(),
                label: match r.student {
                    None => "teacher".to_owned(),
                    Some((d, _, _)) => format!("d{d} {}", r.method_prefix()).trim_end().to_owned(),
                },
                teacher: r.student.is_none(),
                time_s: r.gradcam_s.filter(|t| *t > 0.0)?,
                accuracy,
                lo,
                hi,
            })
        })
        .collect()
}

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

    let rows = finding::rows(&t)?;
    let mut datasets: Vec<String> = rows.iter().map(|r| r.dataset.clone()).collect();
    datasets.dedup();
    let plot_dir = out_dir.join("plots");
    let finding_plot = plots::finding_figure(&points(&rows), &plot_dir.join("finding"))?;
    let parallel = plots::parallel_all(summary, &plot_dir)?;
    let others = plots::write_all(
        store,
        gathered,
        summary,
        &headline,
        options.select_on,
        &plot_dir,
    )?;
    let picks: Vec<Pick> = rows
        .iter()
        .map(|r| Pick {
            dataset: r.dataset.clone(),
            config: r.config.clone(),
            label: r.label(),
        })
        .collect();
    let samples =
        overlays::copy_samples(store, index, gathered, &picks, &out_dir.join("overlays"))?;
    let html = page::page(&Inputs {
        store,
        specs,
        experiment_name,
        experiment_toml_text,
        tables: &t,
        finding: &rows,
        datasets: &datasets,
        finding_plot: finding_plot.as_ref(),
        parallel: &parallel,
        plots: &others,
        samples: &samples,
        out_dir,
    })?;
    let index = out_dir.join("index.html");
    std::fs::write(&index, html).map_err(|source| ReportError::Io {
        path: index.clone(),
        source,
    })?;
    Ok(index)
}
