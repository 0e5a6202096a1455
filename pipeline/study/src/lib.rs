//! kdpipe's studies: what an experiment file says, and the stage specs it
//! expands into. The engine (`engine`) runs specs and knows no study; the ML
//! stages (`stages`) and the tables read back what this crate writes into
//! them. No tch.
//!
//! - [`experiment`]: what every study shares. Loading a file (TOML → serde,
//!   errors with file, line and column), the generic checker that collects
//!   every problem, the top-level keys (`kind`, `name`, `seeds`,
//!   `[executor]`), the resolved [`experiment::Experiment`] and its
//!   [`experiment::Study`], and [`experiment::expand()`], which hands the
//!   study to its own expansion.
//! - [`kd`]: the knowledge-distillation study: its tables, validation,
//!   resolved types, typed stage parameters ([`kd::params`]), input files,
//!   built-in data sets, and its expansion (prepare, teacher and students
//!   per seed, evaluate / explain / timing).
//! - [`toy`]: the toy study: its table, validation, expansion, and the toy
//!   stages themselves ([`toy::run_toy`]).
//! - [`contract`]: what the studies, the stages and the tables agree on:
//!   stage kinds with their code versions, stage names and upstream roles.
//! - [`index`]: the study index an expansion returns beside its specs, so
//!   the tables never parse stage names back.
//! - `specs` (private): the spec builders both studies' expansions share (a
//!   spec of a kind, typed params as its map, the fingerprint-deduped list).
//!
//! Dependencies run one way inside the crate: `contract`, `index` and
//! `specs` are leaves; `kd` and `toy` use them and the checker of
//! `experiment`; `experiment` loads and expands through `kd` and `toy`. No
//! two files `use` each other.

pub mod contract;
pub mod experiment;
pub mod index;
pub mod kd;
mod specs;
pub mod toy;

#[cfg(test)]
mod test_support;
