//! Stage-kind dispatch and code versions. The versions are those of
//! `pipeline::kinds` (the one table fingerprints use), re-exported as a const
//! next to each kind's logic (`PREPARE_CODE_VERSION` in `data/`, ...); bump
//! the `pipeline::kinds` entry when the kind's outputs change.

use std::collections::BTreeMap;

use pipeline::exec::{StageContext, StageFailure, StageReport};

use crate::{data, device, eval, explain, train};

/// Code version of every ML stage kind.
pub fn code_versions() -> BTreeMap<&'static str, u32> {
    let mut v = BTreeMap::new();
    v.insert("prepare", data::PREPARE_CODE_VERSION);
    v.insert("teacher", train::TEACHER_CODE_VERSION);
    v.insert("student", train::STUDENT_CODE_VERSION);
    v.insert("evaluate", eval::EVALUATE_CODE_VERSION);
    v.insert("explain", explain::EXPLAIN_CODE_VERSION);
    v.insert("timing", explain::TIMING_CODE_VERSION);
    v
}

/// Runs one ML stage: sets libtorch's thread count from the scheduler's
/// slots, then dispatches on the kind.
pub fn run_stage(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    device::set_threads(ctx.threads);
    match ctx.spec.kind.as_str() {
        "prepare" => data::run_prepare(ctx),
        "teacher" => train::run_teacher(ctx),
        "student" => train::run_student(ctx),
        "evaluate" => eval::run_evaluate(ctx),
        "explain" => explain::run_explain(ctx),
        "timing" => explain::run_timing(ctx),
        other => Err(StageFailure::new(format!("unknown stage kind `{other}`"))),
    }
}
