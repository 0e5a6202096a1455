//! The engine's error type. Messages are lowercase fragments that name the
//! file, key or value that caused them; the binary maps them to exit codes.

use std::path::PathBuf;

/// Everything that can go wrong in the engine (not inside a stage: a stage's
/// own failure is a [`crate::exec::StageFailure`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse json `{}`: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no stage spec for fingerprint `{0}` in the store (specs/{0}.json)")]
    MissingSpec(String),
    #[error("upstream `{role}` of stage `{name}` is not published (fingerprint `{fingerprint}`)")]
    UpstreamMissing {
        name: String,
        role: String,
        fingerprint: String,
    },
    #[error("upstream `{role}` of stage `{name}` ({upstream}, fingerprint {}) is corrupt: {detail}; refusing to read it (`kdpipe run` recomputes it, `kdpipe fsck --repair` quarantines it)", &fingerprint[..12.min(fingerprint.len())])]
    UpstreamCorrupt {
        name: String,
        role: String,
        /// The upstream stage's name (from its spec), or its fingerprint.
        upstream: String,
        fingerprint: String,
        detail: String,
    },
    #[error("stage graph has a cycle through `{0}`")]
    Cycle(String),
    #[error("stage `{name}` names upstream fingerprint `{fingerprint}` that is neither in the plan nor published")]
    UnknownUpstream { name: String, fingerprint: String },
    #[error("stage name `{0}` is used by two different stages")]
    DuplicateName(String),
    #[error("failed to launch stage `{name}`: {reason}")]
    Launch { name: String, reason: String },
    #[error("{0}")]
    Other(String),
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path` while doing `action` ("read", "create directory").
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Error {
        Error::Json {
            path: path.into(),
            source,
        }
    }
}

/// Adds the path and action to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(action, path, e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn io_error_names_the_path() {
        let err = Error::io(
            "read",
            "/x/y.json",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        let msg = err.to_string();
        assert!(msg.starts_with("failed to read `/x/y.json`"), "{msg}");
    }
}
