//! What the schemas of every study share: the `[executor]` table, the
//! default of `seeds`, and the rule that a table's defaults are those of an
//! empty table. Each study's file struct (the KD study's
//! [`crate::kd::schema::KdFile`], the toy study's
//! [`crate::toy::schema::ToyFile`]) spells out the shared top-level keys
//! (`kind`, `name`, `description`, `seeds`, `executor`) itself: no
//! `#[serde(flatten)]`, which would ruin the error messages.
//!
//! These doc comments are the schema reference of the README.

use serde::Deserialize;

/// `[executor]`: where stage processes run. Command-line flags override it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorTable {
    /// `"local"` (child processes, default) or `"slurm"` (one `sbatch` job
    /// per ready stage).
    #[serde(default = "d_executor_kind")]
    pub kind: String,
    /// Slurm partition (`sbatch --partition`).
    pub partition: Option<String>,
    /// Slurm account (`sbatch --account`).
    pub account: Option<String>,
    /// Slurm time limit per stage (`sbatch --time`), e.g. `"30"`,
    /// `"1:00:00"`, `"1-00:00:00"`.
    pub time: Option<String>,
    /// Slurm generic resources (`sbatch --gres`), e.g. `"gpu:1"`.
    pub gres: Option<String>,
}

/// Default of every study's `seeds`.
pub(crate) fn default_seeds() -> Vec<i64> {
    vec![0]
}
fn d_executor_kind() -> String {
    "local".into()
}

/// A table's defaults are those of an empty table, so `[teacher]` absent,
/// `[teacher]` empty and every key set to its default all resolve alike.
macro_rules! default_from_empty_table {
    ($($t:ty),*) => {$(
        impl Default for $t {
            fn default() -> Self {
                toml::from_str("").expect("an empty table deserializes: every key has a default")
            }
        }
    )*};
}
pub(crate) use default_from_empty_table;

default_from_empty_table!(ExecutorTable);
