//! Errors of report writing.

use std::path::PathBuf;

use crate::plots::PlotError;
use crate::tables::TablesError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Tables(#[from] TablesError),
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("report table computation failed")]
    Polars(#[from] polars::prelude::PolarsError),
}
