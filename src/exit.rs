//! Documented exit codes and the error type that carries one.

use std::fmt;

/// Everything went as asked.
pub const OK: u8 = 0;
/// At least one stage failed (its log is kept; nothing was published for it).
pub const STAGE_FAILED: u8 = 1;
/// Bad input: experiment file, arguments, data. Nothing ran, nothing was
/// written; or, for data only decoding can judge (a corrupt image, one
/// class), every failed stage failed on it and published nothing.
pub const BAD_INPUT: u8 = 2;
/// Interrupted (Ctrl-C); running stages were cancelled.
pub const INTERRUPTED: u8 = 130;

/// An error that knows its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: BAD_INPUT,
            error: error.into(),
        }
    }

    pub fn stage_failed(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: STAGE_FAILED,
            error: error.into(),
        }
    }
}

/// The error and its causes as `outer: inner: ...`, each said once. Most
/// library errors end their message with `: {source}` *and* expose that
/// source, so anyhow's `{:#}` would print the innermost cause twice
/// ("No such file or directory (os error 2): No such file or directory
/// (os error 2)"); a cause whose text is already shown is left out.
pub fn render(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(&self.error))
    }
}

/// Internal errors (a store that cannot be written, ...) are exit code 1.
impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure { code: 1, error }
    }
}

pub type CmdResult = Result<u8, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to read `x.toml`: {source}")]
    struct ReadError {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let io_text = io.to_string();
        let err = anyhow::Error::new(ReadError { source: io }).context("failed to load");
        let text = render(&err);
        assert_eq!(
            text,
            format!("failed to load: failed to read `x.toml`: {io_text}")
        );
        assert_eq!(text.matches(&io_text).count(), 1, "{text}");
    }

    #[test]
    fn causes_not_in_the_message_are_kept() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let io_text = io.to_string();
        let err = anyhow::Error::new(io).context("failed to open the store");
        assert_eq!(render(&err), format!("failed to open the store: {io_text}"));
    }
}
