//! Errors of loading, validating and expanding an experiment file. Every
//! message names the file, and where it can the line, column, key and value.

use std::fmt;
use std::path::PathBuf;

/// Why an experiment file could not be loaded or expanded.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The file could not be read.
    #[error("failed to read experiment file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}:{line}:{column}: invalid toml: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A key that the schema does not know.
    #[error(
        "{}:{line}:{column}: unknown key `{key}` in {table}; allowed keys: {}",
        path.display(),
        allowed.join(", ")
    )]
    UnknownKey {
        path: PathBuf,
        line: usize,
        column: usize,
        key: String,
        /// `the top level`, `[teacher]`, `[[dataset]] #2`, ...
        table: String,
        allowed: Vec<String>,
    },
    /// A value of the wrong type (a string where a number belongs, ...).
    #[error("{}:{line}:{column}: `{key}`: {message}", path.display())]
    Type {
        path: PathBuf,
        line: usize,
        column: usize,
        key: String,
        message: String,
    },
    /// A schema error toml could not place in the file.
    #[error("{}: {message}", path.display())]
    Schema { path: PathBuf, message: String },
    /// Values that parse but make no sense; all of them, not just the first.
    #[error(
        "invalid experiment {} ({} problem{}):\n{}",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        Problems { path, problems }
    )]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
    /// `source = "builtin:<name>"` names a built-in dataset that is not on
    /// this machine yet: the CLI fetches it into `path` and retries.
    #[error("built-in dataset `{name}` is missing: expected it in {}", path.display())]
    BuiltinMissing { name: String, path: PathBuf },
    /// An input file of a stage could not be listed or hashed.
    #[error("failed to hash input {} of dataset `{dataset}`: {message}", path.display())]
    Input {
        dataset: String,
        path: PathBuf,
        message: String,
    },
    /// `run.device = "cuda"` on a machine without CUDA.
    #[error("{}: run.device = \"cuda\" but no cuda device is available", path.display())]
    CudaUnavailable { path: PathBuf },
}

/// One invalid value: where it is, which key, what it is and why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based position of the value in the file; `None` when the value is a
    /// default (the key is absent from the file).
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Full key path, e.g. `sweep.temperature[2]` or `dataset[1].path`.
    pub key: String,
    /// The value as written in the file (or the default), if any.
    pub value: Option<String>,
    /// Why it is wrong, a lowercase fragment.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "`{} = {}`: {}", self.key, v, self.message),
            None => write!(f, "`{}`: {}", self.key, self.message),
        }
    }
}

struct Problems<'a> {
    path: &'a PathBuf,
    problems: &'a [Problem],
}

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match (p.line, p.column) {
                (Some(l), Some(c)) => write!(f, "  {}:{l}:{c}: {p}", self.path.display())?,
                _ => write!(f, "  {}: {p}", self.path.display())?,
            }
        }
        Ok(())
    }
}
