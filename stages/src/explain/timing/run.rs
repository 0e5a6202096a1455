//! Stage kind `timing`: loads the data and every timed model (each upstream
//! but `data`, under its role as the label), measures them side by side and
//! writes `timing.json`. The engine runs it alone on its cores
//! (`resources.exclusive`).

use engine::exec::{StageContext, StageFailure, StageReport};
use serde_json::json;
use study::contract::names::ROLE_DATA;
use study::kd::params::TimingParams;

use super::measure::time_methods;
use crate::device::{device_name, resolve_device, set_threads};
use crate::explain::shared::{write_artifact, Inputs};
use crate::models::load_model;

/// Stage kind `timing`: every upstream but `data` is a model to time.
pub fn run_timing(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    let params: TimingParams = ctx.params()?;
    let device = resolve_device(&params.device).map_err(StageFailure::from)?;
    set_threads(params.threads as usize);
    let inputs = Inputs::load(ctx)?;
    let mut models = Vec::new();
    for (role, dir) in ctx.upstream.iter().filter(|(role, _)| *role != ROLE_DATA) {
        models.push((role.clone(), load_model(dir, device)?));
    }
    let timing = time_methods(&inputs, &models, &params, device, ctx.progress)?;
    write_artifact(ctx.out_dir, &timing)?;
    // The summary: each model's median seconds per method.
    let mut summary = serde_json::Map::new();
    for (label, m) in &timing.models {
        for (method, stats) in &m.methods {
            summary.insert(format!("{label}.{method}_median_s"), json!(stats.median_s));
        }
    }
    Ok(StageReport {
        device: device_name(device),
        summary: summary.into(),
    })
}
