//! Experiment files: the TOML schema ([`schema`]), loading with precise
//! errors ([`load`]), validation into resolved types ([`resolved`]) and the
//! expansion of a study into fingerprinted stage specs ([`expand`]).
//! [`params`] holds the typed parameters of every ML stage kind.

mod builtin;
mod error;
mod expand;
mod generate;
mod inputs;
mod load;
mod locate;
pub mod params;
mod resolved;
pub mod schema;
mod toy;
mod validate;

pub use builtin::{builtin_path, KNOWN as BUILTIN_DATASETS};
pub use error::{ExperimentError, Problem};
pub use expand::{expand, ExpandContext, Expansion};
pub use generate::{generate_large_toml, large_kd_stage_count};
pub use load::{load, load_str};
pub use resolved::*;

#[cfg(test)]
mod tests;
