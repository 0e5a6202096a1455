//! The statistics crate's error type: what can be wrong with the input of a
//! metric, an interval or a test. Messages are lowercase fragments naming
//! the argument and the value that caused them.

/// Invalid input to one of this crate's functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("`{0}` is empty")]
    Empty(&'static str),
    #[error("`{what}` has length {found}, expected {expected}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("`{what}` holds a non-finite value {value} at index {index}")]
    NotFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    #[error("label {label} at index {index} is out of range for {n_classes} classes")]
    LabelOutOfRange {
        index: usize,
        label: usize,
        n_classes: usize,
    },
    #[error("need at least 2 classes, got {0}")]
    TooFewClasses(usize),
    #[error("seed {seed} has different labels from seed 0 (first at image {index})")]
    LabelsDiffer { seed: usize, index: usize },
    #[error("`{name}` = {value} is invalid: {reason}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        reason: &'static str,
    },
    #[error("{successes} successes out of {trials} trials")]
    SuccessesExceedTrials { successes: u64, trials: u64 },
    #[error("p-value {value} at index {index} is not in [0, 1]")]
    InvalidPValue { index: usize, value: f64 },
    #[error("metric `{metric}` is undefined on the original data")]
    UndefinedMetric { metric: &'static str },
}

/// Shorthand for results of this crate.
pub type Result<T, E = StatsError> = std::result::Result<T, E>;
