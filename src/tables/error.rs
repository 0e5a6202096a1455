//! Errors of table gathering, aggregation and rendering.

use std::path::PathBuf;

use polars::prelude::PolarsError;

#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error("failed to read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse {path}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("failed to read predictions {path}: {reason}")]
    Predictions { path: PathBuf, reason: String },
    #[error("{0}")]
    Stats(#[from] stats::StatsError),
    #[error(
        "models of data set '{dataset}' were not evaluated on the same test images ({a} vs {b})"
    )]
    Unpaired {
        dataset: String,
        a: String,
        b: String,
    },
    #[error("the artifact of {stage} ({fingerprint}) is corrupt: {detail}; its numbers are not shown (`kdpipe run` recomputes it, `kdpipe fsck --repair` quarantines it)")]
    Corrupt {
        stage: String,
        fingerprint: String,
        /// The file, relative to the artifact folder.
        file: String,
        detail: String,
    },
    #[error("stage {stage} has malformed params: {reason}")]
    Params { stage: String, reason: String },
    #[error("unknown column '{column}' (available: {})", available.join(", "))]
    UnknownColumn {
        column: String,
        available: Vec<String>,
    },
    #[error("invalid filter '{expr}': {reason}")]
    BadFilter { expr: String, reason: String },
    #[error("failed to write {format} output")]
    Write {
        format: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("table computation failed")]
    Polars(#[from] PolarsError),
}
