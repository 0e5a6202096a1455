//! `kdpipe status EXP`: each stage, cached or will run, and why.

use std::fmt::Write;

use anyhow::Context;
use engine::plan::{plan, PlannedStage};
use engine::targets::select_targets;

use crate::cli::{GlobalArgs, StatusArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn status(args: StatusArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let specs = select_targets(study.specs.clone(), &args.targets)
        .map_err(|e| Failure::bad_input(anyhow::Error::from(e)))?;
    let plan = plan(&specs, &study.store, &[]).map_err(Failure::bad_input)?;
    if args.json {
        let stages: Vec<_> = plan
            .stages
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.spec.name,
                    "kind": s.spec.kind,
                    "fingerprint": s.fingerprint,
                    "cached": !s.will_run(),
                    "reasons": s.reasons(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "experiment": study.experiment.name,
                "stages": stages,
                "to_run": plan.to_run(),
                "cached": plan.cached(),
            }))
            .context("failed to encode the status")?
        );
        return Ok(exit::OK);
    }
    let width = plan
        .stages
        .iter()
        .map(|s| s.spec.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::with_capacity(plan.stages.len() * (width + 40));
    for s in &plan.stages {
        if s.will_run() {
            let _ = writeln!(
                out,
                "  will run  {:width$}  {}",
                s.spec.name,
                reasons_text(s)
            );
        } else {
            let _ = writeln!(
                out,
                "  cached    {:width$}  {}",
                s.spec.name,
                s.fingerprint.short()
            );
        }
    }
    let _ = writeln!(
        out,
        "{}: {} stages, {} cached, {} will run",
        study.experiment.name,
        plan.stages.len(),
        plan.cached(),
        plan.to_run()
    );
    print!("{out}");
    Ok(exit::OK)
}

/// Reasons of a stage that will run, as one line.
pub fn reasons_text(s: &PlannedStage) -> String {
    let reasons = s.reasons();
    if reasons.is_empty() {
        return "upstream will run".to_owned();
    }
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
