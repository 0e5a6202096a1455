//! Stage-kind dispatch and code versions.
use std::collections::BTreeMap;

use pipeline::exec::{StageContext, StageFailure, StageReport};

/// Code version of every ML stage kind.
pub fn code_versions() -> BTreeMap<&'static str, u32> {
    BTreeMap::new()
}

/// Runs one ML stage.
pub fn run_stage(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    Err(StageFailure::new(format!(
        "unknown stage kind `{}`",
        ctx.spec.kind
    )))
}
