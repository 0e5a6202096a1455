//! Errors of the ML stages. Every message is a lowercase fragment naming the
//! file, key or value at fault; [`StagesError`] converts into the engine's
//! [`StageFailure`] at the stage boundary.

use std::path::PathBuf;

use engine::exec::StageFailure;
use study::contract::artifacts::ArtifactFile;

/// What can go wrong in a data, training or evaluation stage.
#[derive(Debug, thiserror::Error)]
pub enum StagesError {
    #[error("failed to read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt or unreadable image `{path}`: {reason}")]
    CorruptImage { path: String, reason: String },
    #[error("invalid dataset file `{path}`: {reason}")]
    BadDataFile { path: String, reason: String },
    #[error("input `{key}` changed since planning (expected sha256 {expected}, found {found})")]
    InputChanged {
        key: String,
        expected: String,
        found: String,
    },
    #[error("dataset `{dataset}`: {reason}")]
    Dataset { dataset: String, reason: String },
    #[error("invalid parameter `{key}` = {value}: {reason}")]
    Param {
        key: String,
        value: String,
        reason: String,
    },
    #[error("invalid artifact `{path}`: {reason}")]
    Artifact { path: PathBuf, reason: String },
    #[error("torch error while {action}: {source}")]
    Torch {
        action: String,
        source: tch::TchError,
    },
    #[error("json error in `{path}`: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("csv error in `{path}`: {source}")]
    Csv { path: PathBuf, source: csv::Error },
}

impl StagesError {
    pub(crate) fn torch(action: impl Into<String>) -> impl FnOnce(tch::TchError) -> StagesError {
        let action = action.into();
        move |source| StagesError::Torch { action, source }
    }

    pub(crate) fn param(key: &str, value: impl ToString, reason: impl Into<String>) -> Self {
        StagesError::Param {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn artifact(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        StagesError::Artifact {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl StagesError {
    /// Whether the input data is at fault (a corrupt or unreadable image, a
    /// bad `.npz`/IDX file, a class without images, near-duplicates under
    /// two labels): the stage then exits "bad input" (2), not "failed" (1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StagesError::CorruptImage { .. }
                | StagesError::BadDataFile { .. }
                | StagesError::Dataset { .. }
        )
    }
}

impl From<StagesError> for StageFailure {
    fn from(e: StagesError) -> Self {
        if e.is_bad_input() {
            StageFailure::bad_input(e.to_string())
        } else {
            StageFailure::new(e.to_string())
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = StagesError> = std::result::Result<T, E>;

/// Reads a whole file, naming it on failure.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| StagesError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads and parses a JSON file, naming it on failure.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let bytes = read_file(path)?;
    serde_json::from_slice(&bytes).map_err(|source| StagesError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes pretty JSON (with a trailing newline), naming the file on failure.
pub(crate) fn write_json<T: serde::Serialize>(path: &std::path::Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| StagesError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| StagesError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `value` into the artifact folder `dir` under its file name, in
/// the contract's byte format, naming the file on failure.
pub(crate) fn write_artifact<T: ArtifactFile>(dir: &std::path::Path, value: &T) -> Result<()> {
    let path = dir.join(T::FILE);
    let bytes = value.to_bytes().map_err(|source| StagesError::Json {
        path: path.clone(),
        source,
    })?;
    std::fs::write(&path, bytes).map_err(|source| StagesError::Write { path, source })
}

/// Reads the artifact file of type `T` from the artifact folder `dir`.
pub(crate) fn read_artifact<T: ArtifactFile>(dir: &std::path::Path) -> Result<T> {
    let path = dir.join(T::FILE);
    T::from_bytes(&read_file(&path)?).map_err(|source| StagesError::Json { path, source })
}
