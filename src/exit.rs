//! Documented exit codes and the error type that carries one.

use std::fmt;

/// Everything went as asked.
pub const OK: u8 = 0;
/// At least one stage failed (its log is kept; nothing was published for it).
pub const STAGE_FAILED: u8 = 1;
/// Bad input: experiment file, arguments, data. Nothing ran, nothing was written.
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

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// Internal errors (a store that cannot be written, ...) are exit code 1.
impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure { code: 1, error }
    }
}

pub type CmdResult = Result<u8, Failure>;
