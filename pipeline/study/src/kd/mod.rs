//! The knowledge-distillation study (`kind = "kd"`, the default): its TOML
//! tables ([`schema`]), their validation into resolved types ([`KdStudy`]
//! and the types it holds), the typed parameters of its stage kinds
//! ([`params`], which the `stages` crate reads back), its input files and
//! built-in data sets, and its expansion: datasets × seeds × teacher ×
//! student depth × method × temperature × alpha, each model evaluated, explained and
//! timed.

mod builtin;
mod check_data;
pub(crate) mod expand;
mod inputs;
pub mod params;
mod resolved;
pub mod schema;
mod schema_compare;
mod schema_distill;
pub(crate) mod validate;
mod validate_compare;
mod validate_dataset;
mod validate_distill;

pub use builtin::{builtin_path, KNOWN as BUILTIN_DATASETS};
pub use resolved::{
    CompareConfig, DatasetConfig, DatasetSource, Device, DistillConfig, EvaluateConfig,
    ExplainConfig, KdStudy, ModelConfig, SelectOn, Sweep, TimingScope, TrainConfig,
};

#[cfg(test)]
mod tests;
