//! Built-in datasets: `source = "builtin:<name>"` resolves to an ImageFolder
//! under the CLI's builtin root. Fetching one is the CLI's job; expansion
//! only reports [`crate::experiment::ExperimentError::BuiltinMissing`].

use std::path::{Path, PathBuf};

/// Names accepted after `builtin:`.
pub const KNOWN: &[&str] = &["brain-mri"];

/// Where built-in dataset `name` lives: `<builtin_root>/<name>` (for
/// `brain-mri`: `<builtin_root>/brain-mri/{no,yes}/...`).
pub fn builtin_path(builtin_root: &Path, name: &str) -> PathBuf {
    builtin_root.join(name)
}
