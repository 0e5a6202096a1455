//! Plots of an experiment with plotters, each written as PNG and SVG: the
//! report's finding (accuracy with intervals vs Grad-CAM time), the sweep in
//! parallel coordinates, macro F1 vs depth, explain time vs depth, accuracy
//! vs explain time with the Pareto front, confusion matrices and training
//! curves. Text is drawn with
//! the bundled DejaVu Sans (ab_glyph), so no system font is needed.

mod canvas;
mod confusion;
mod curves;
mod depth;
mod error;
mod finding;
mod frame;
mod parallel;
mod pareto;

pub use canvas::Plot;
pub use confusion::confusion_matrix;
pub use curves::{training_curves, History};
pub use depth::{explain_time_vs_depth, f1_vs_depth};
pub use error::PlotError;
pub use finding::{finding_figure, FindingPoint};
pub(crate) use frame::file_safe;
pub use parallel::parallel_all;
pub use pareto::accuracy_vs_time;

use std::path::Path;

use engine::store::Store;
use polars::prelude::DataFrame;
use study::contract::artifacts::{ArtifactFile, Metrics};
use study::kd::SelectOn;

use crate::tables::{checked_dir, read_artifact};

/// A model stage's per-epoch training curves.
const HISTORY_CSV: &str = "history.csv";

/// Writes every plot of an experiment into `out_dir` from the frames of
/// [`crate::tables::gather`] and [`crate::tables::summarize`]; confusion
/// matrices and training curves are drawn for each dataset's teacher and
/// validation-selected student (the selected configuration with the best
/// validation score, first seed); the accuracy-vs-time front is drawn over
/// the headline models only (teacher, controls, selected students). Plots
/// whose data has not been computed yet are left out.
pub fn write_all(
    store: &Store,
    gathered: &DataFrame,
    summary: &DataFrame,
    headline: &DataFrame,
    select_on: SelectOn,
    out_dir: &Path,
) -> Result<Vec<Plot>, PlotError> {
    std::fs::create_dir_all(out_dir).map_err(|source| PlotError::Io {
        path: out_dir.to_owned(),
        source,
    })?;
    let mut plots = Vec::new();
    for dataset in frame::datasets(summary)? {
        let safe = frame::file_safe(&dataset);
        plots.extend(f1_vs_depth(
            summary,
            &dataset,
            &out_dir.join(format!("f1_vs_depth_{safe}")),
        )?);
        plots.extend(explain_time_vs_depth(
            gathered,
            &dataset,
            &out_dir.join(format!("time_vs_depth_{safe}")),
        )?);
        plots.extend(accuracy_vs_time(
            headline,
            &dataset,
            &out_dir.join(format!("accuracy_vs_time_{safe}")),
        )?);
        for (role, run) in
            frame::teacher_and_selected_student(gathered, summary, &dataset, select_on)?
        {
            if let Some(fp) = &run.evaluate_fp {
                if let Some(metrics) = read_artifact::<Metrics>(store, Some(fp))? {
                    let path = store.artifact_dir(fp).join(Metrics::FILE);
                    let stem = out_dir.join(format!("confusion_{safe}_{}", role.replace(' ', "_")));
                    let title = format!("Confusion matrix, {role} ({})", run.stage);
                    plots.push(confusion_matrix(&metrics, &path, &title, &stem)?);
                }
            }
            if let Some(dir) = checked_dir(store, Some(&run.model_fp))? {
                let path = dir.join(HISTORY_CSV);
                if path.is_file() {
                    let history = History::read(&path)?;
                    let stem = out_dir.join(format!("curves_{safe}_{}", role.replace(' ', "_")));
                    let title = format!("Training curves, {role} ({})", run.stage);
                    plots.push(training_curves(&history, &title, &stem)?);
                }
            }
        }
    }
    Ok(plots)
}
