//! Stage-kind dispatch: an exhaustive match on [`Kind`], so a new kind is a
//! compile error here until it has an implementation. Code versions live
//! with the kind (`study::contract::Kind::code_version`), the one table the
//! fingerprints use; bump it there when the kind's outputs change.

use engine::exec::{StageContext, StageFailure, StageReport};
use engine::spec::StageSpec;
use study::contract::artifacts::Environment;
use study::contract::Kind;

use crate::environment::{check_pin, cpu_info, environment, split_pin};
use crate::error::write_artifact;
use crate::{data, device, eval, explain, train};

/// Runs one ML stage: checks the spec's CPU kernel pin on this host and in
/// this process's environment, sets libtorch's thread count from the
/// scheduler's slots, dispatches on the kind (with the pin taken out of the
/// params the kind reads), and records `environment.json`.
pub fn run_stage(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    let fail = |e: crate::environment::PinError| {
        StageFailure::new(format!("stage `{}`: {e}", ctx.spec.name))
    };
    let (isa, params) = split_pin(ctx.spec).map_err(fail)?;
    if let Some(isa) = isa {
        let cpu = cpu_info();
        check_pin(isa, &cpu.flags, &cpu.model, |k| std::env::var(k).ok()).map_err(fail)?;
    }
    device::set_threads(ctx.threads);
    let spec = StageSpec {
        params,
        ..ctx.spec.clone()
    };
    let inner = StageContext {
        spec: &spec,
        fingerprint: ctx.fingerprint,
        out_dir: ctx.out_dir,
        upstream: ctx.upstream.clone(),
        threads: ctx.threads,
        progress: ctx.progress,
    };
    let report = dispatch(&inner)?;
    let env: Environment = environment(isa);
    write_artifact(ctx.out_dir, &env)?;
    Ok(report)
}

fn dispatch(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
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
