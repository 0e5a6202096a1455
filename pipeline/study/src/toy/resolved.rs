//! The validated toy study.

use std::collections::BTreeSet;

/// `[toy]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToyStudy {
    /// Distinct, in file order.
    pub values: Vec<i64>,
    pub n: u64,
    pub sleep_ms: u64,
    pub slow_write_ms: u64,
    /// A subset of `values`.
    pub fail: BTreeSet<i64>,
}
