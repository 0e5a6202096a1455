//! Stage-kind dispatch: an exhaustive match on [`Kind`], so a new kind is a
//! compile error here until it has an implementation. Code versions live
//! with the kind (`study::contract::Kind::code_version`), the one table the
//! fingerprints use; bump it there when the kind's outputs change.

use engine::exec::{StageContext, StageFailure, StageReport};
use study::contract::Kind;

use crate::{data, device, eval, explain, train};

/// Runs one ML stage: sets libtorch's thread count from the scheduler's
/// slots, then dispatches on the kind.
pub fn run_stage(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    device::set_threads(ctx.threads);
    let Some(kind) = Kind::from_name(&ctx.spec.kind) else {
        return Err(StageFailure::new(format!(
            "unknown stage kind `{}`",
            ctx.spec.kind
        )));
    };
    match kind {
        Kind::Prepare => data::run_prepare(ctx),
        Kind::Teacher => train::run_teacher(ctx),
        Kind::Student => train::run_student(ctx),
        Kind::Evaluate => eval::run_evaluate(ctx),
        Kind::Explain => explain::run_explain(ctx),
        Kind::Timing => explain::run_timing(ctx),
        Kind::ToyGen | Kind::ToySquare | Kind::ToySum => Err(StageFailure::new(format!(
            "`{kind}` is a toy stage: `kdpipe exec-stage` runs it, not kdpipe-stage"
        ))),
    }
}
