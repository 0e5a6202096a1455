//! Comparison tables of an experiment, built with polars: [`gather`] reads
//! the published evaluate / explain / timing artifacts of every model of the
//! study's index into one row per model (with a majority-class baseline per
//! data set), [`summarize`] aggregates seeds (mean ± std), `intervals`
//! bootstraps test images × seeds from the per-image predictions
//! (`evidence`), `selection` picks the headline student per depth on
//! validation, `comparisons` pairs each student with its control and the
//! teacher, and [`Tables`] builds them all at once. [`pivot`] lays one
//! metric out as temperature × depth; [`view`] holds the user-facing
//! row/column selection (`--sort`, `--filter`, `--only-changed`) and
//! [`render`] the output formats. Stages that have not run are null, never
//! zero.

mod build;
mod columns;
mod comparisons;
mod config;
mod error;
mod evidence;
mod gather;
mod intervals;
mod majority;
mod pivot;
mod read;
mod render;
mod selection;
mod summarize;
mod view;

pub use build::Tables;
pub use columns::METHODS;
pub use error::TablesError;
pub(crate) use evidence::to_stats;
#[cfg(test)]
pub(crate) use gather::{gather, MAJORITY_LABEL};
pub use pivot::{pivot, PivotTable};
pub(crate) use read::{checked_dir, read_artifact, read_predictions as read_predictions_of};
pub(crate) use render::{html_table, pivot_title};
pub use render::{render, render_pivots, Format};
#[cfg(test)]
pub(crate) use summarize::summarize;
pub use summarize::{compact, CONTROL_LABEL};
pub use view::{filter, only_changed, resolve_column, sort, Filter};

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod fixture_evidence;

#[cfg(test)]
mod stats_tests;
#[cfg(test)]
mod tests;
