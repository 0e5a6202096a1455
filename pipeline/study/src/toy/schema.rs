//! The toy study's file as written (`kind = "toy"`): serde structs
//! mirroring the TOML, as for the KD study ([`crate::kd::schema`]).

use serde::Deserialize;

use crate::experiment::schema::{default_from_empty_table, default_seeds, ExecutorTable};

/// The engine's test experiment (`kind = "toy"`): per seed, one `toy.gen`
/// stage, one `toy.square` stage per value, and one `toy.sum`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyFile {
    /// Must be `"toy"`.
    pub kind: Option<String>,
    /// Required, as for a study.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Default `[0]`; must not be empty.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<i64>,
    /// The toy stages.
    #[serde(default)]
    pub toy: ToyTable,
    /// As for a study.
    #[serde(default)]
    pub executor: ExecutorTable,
}

/// `[toy]`: parameters of the toy stages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyTable {
    /// One `toy.square` stage per value and seed; non-empty, no duplicates.
    /// Default `[1, 2, 3]`.
    #[serde(default = "d_toy_values")]
    pub values: Vec<i64>,
    /// Size of `toy.gen`'s output, ≥ 0. Default 4.
    #[serde(default = "d_toy_n")]
    pub n: i64,
    /// Sleep of every toy stage, in milliseconds, ≥ 0. Default 0.
    #[serde(default)]
    pub sleep_ms: i64,
    /// `toy.square` only: sleep between writing and finishing its output, in
    /// milliseconds (to kill a stage mid-write), ≥ 0. Default 0.
    #[serde(default)]
    pub slow_write_ms: i64,
    /// Values (from `values`) whose `toy.square` stage fails. Default `[]`.
    #[serde(default)]
    pub fail: Vec<i64>,
}

// Defaults. One function per key so that `Default` impls and serde agree.
fn d_toy_values() -> Vec<i64> {
    vec![1, 2, 3]
}
fn d_toy_n() -> i64 {
    4
}

default_from_empty_table!(ToyTable);
