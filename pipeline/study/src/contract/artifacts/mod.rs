//! The JSON files the ML stages write into their artifacts and the head's
//! tables, plots and report read, as serde types: one module per file, each
//! type with its file name ([`ArtifactFile::FILE`]).
//!
//! The bytes of these files are part of every published artifact (`kdpipe
//! verify` compares them), so each type's fields are declared in the order
//! the file has always had them: the files the stages once built as
//! `serde_json::Value` (explain, timing, train, latency, throughput) have
//! their keys sorted, the others (dataset, metrics) follow the struct they
//! were written from. The tests round-trip real files byte for byte.

mod file;
mod nullable;

pub mod dataset;
pub mod environment;
pub mod explain;
pub mod metrics;
pub mod predictions;
pub mod timing;
pub mod train;

pub use dataset::{Dataset, HashKind, NearDupCounts, NearDupReport};
pub use environment::Environment;
pub use explain::Explain;
pub use file::ArtifactFile;
pub use metrics::{Latency, Metrics};
pub use predictions::Predictions;
pub use timing::Timing;
pub use train::{Throughput, Train};

#[cfg(test)]
mod tests;
