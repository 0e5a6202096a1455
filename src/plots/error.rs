//! Errors of plot rendering.

use std::path::PathBuf;

use crate::tables::TablesError;

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("failed to write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("failed to draw {path}: {reason}")]
    Draw { path: PathBuf, reason: String },
    #[error(transparent)]
    Tables(#[from] TablesError),
    #[error("plot data computation failed")]
    Polars(#[from] polars::prelude::PolarsError),
}
