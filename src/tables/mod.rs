//! Comparison tables of an experiment, built with polars: [`gather`] reads
//! the published evaluate / explain / timing artifacts of every model stage
//! into one row per model, [`summarize`] aggregates seeds (mean ± std), and
//! [`pivot`] lays one metric out as temperature × depth. [`view`] holds the
//! user-facing row/column selection (`--sort`, `--filter`, `--only-changed`)
//! and [`render`] the output formats. Stages that have not run are null,
//! never zero.

mod error;
mod gather;
mod pivot;
mod render;
mod summarize;
mod view;

pub use error::TablesError;
pub use gather::{artifact_dir, gather, is_published, METHODS};
pub use pivot::{pivot, PivotTable};
pub(crate) use render::{html_table, pivot_title};
pub use render::{render, render_pivots, Format};
pub use summarize::{compact, summarize, CONTROL_LABEL};
pub use view::{filter, only_changed, resolve_column, sort, Filter};

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests;
