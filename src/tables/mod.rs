//! Comparison tables of an experiment, built with polars: [`gather`] reads
//! the published evaluate / explain / timing artifacts of every model of the
//! study's index into one row per model, [`summarize`] aggregates seeds
//! (mean ± std), and [`pivot`] lays one metric out as temperature × depth. [`view`] holds the
//! user-facing row/column selection (`--sort`, `--filter`, `--only-changed`)
//! and [`render`] the output formats. Stages that have not run are null,
//! never zero.

mod columns;
mod error;
mod gather;
mod pivot;
mod read;
mod render;
mod summarize;
mod view;

pub use columns::METHODS;
pub use error::TablesError;
pub use gather::gather;
pub use pivot::{pivot, PivotTable};
pub(crate) use read::{checked_dir, read_artifact};
pub(crate) use render::{html_table, pivot_title};
pub use render::{render, render_pivots, Format};
pub use summarize::{compact, summarize, CONTROL_LABEL};
pub use view::{filter, only_changed, resolve_column, sort, Filter};

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests;
