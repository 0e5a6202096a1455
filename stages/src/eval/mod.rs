//! The `evaluate` stage: test-split metrics (and validation loss and
//! accuracy) of one trained model, its size and its per-image inference
//! latency, written as `metrics.json`, `latency.json` and a one-row
//! `metrics.csv`, and every test and validation image's probabilities as
//! `predictions.safetensors` ([`predictions`]).

pub mod metrics;
pub mod predictions;

use std::path::Path;
use std::time::Instant;

use engine::exec::{StageContext, StageFailure, StageReport};
use serde_json::json;
use study::contract::artifacts::Latency;
use study::kd::params::EvalParams;
use tch::{Device, Tensor};

use crate::data::PreparedData;
use crate::device::{device_name, resolve_device};
use crate::error::{write_artifact, Result, StagesError};
use crate::models::{load_model_with_info, Classifier};
pub use metrics::{classification_metrics, ClassMetrics, Metrics};
pub use predictions::{predict_split, write_predictions, SplitPredictions, PREDICTIONS_FILE};

/// The one-row CSV form of [`Metrics`], with one `f1_<class>` per class.
pub const METRICS_CSV: &str = "metrics.csv";

/// The `evaluate` stage (upstream roles `data` and `model`).
pub fn run_evaluate(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    let p: EvalParams = ctx.params()?;
    let device = resolve_device(&p.device)?;
    let data = PreparedData::load(ctx.upstream_dir("data")?)?;
    let (model, info) = load_model_with_info(ctx.upstream_dir("model")?, device)?;
    let (mut m, latency) = evaluate_into(model.as_ref(), &data, device, &p, ctx.out_dir)?;
    m.params = info.params;
    m.macs = info.macs;
    write_metrics(ctx.out_dir, &m, &latency)?;
    Ok(StageReport {
        device: device_name(device),
        summary: json!({
            "accuracy": m.accuracy,
            "macro_f1": m.macro_f1,
            "roc_auc_macro_ovr": m.roc_auc_macro_ovr,
            "val_accuracy": m.val_accuracy,
            "val_loss": m.val_loss,
            "latency_ms_median": latency.latency_ms_median,
        }),
    })
}

/// [`evaluate_model`], also writing `predictions.safetensors` into `dir`.
pub fn evaluate_into(
    model: &dyn Classifier,
    data: &PreparedData,
    device: Device,
    p: &EvalParams,
    dir: &Path,
) -> Result<(Metrics, Latency)> {
    let (m, latency, test, val) = evaluate_splits(model, data, device, p)?;
    write_predictions(dir, &test, &val)?;
    Ok((m, latency))
}

/// Test-split metrics (size fields left at 0), validation loss and
/// accuracy, and latency of `model`.
pub fn evaluate_model(
    model: &dyn Classifier,
    data: &PreparedData,
    device: Device,
    p: &EvalParams,
) -> Result<(Metrics, Latency)> {
    let (m, latency, _, _) = evaluate_splits(model, data, device, p)?;
    Ok((m, latency))
}

fn evaluate_splits(
    model: &dyn Classifier,
    data: &PreparedData,
    device: Device,
    p: &EvalParams,
) -> Result<(Metrics, Latency, SplitPredictions, SplitPredictions)> {
    let test = predict_split(model, data, "test", device)?;
    let val = predict_split(model, data, "val", device)?;
    // The metrics read the stored (f32) probabilities, so the file
    // reproduces them exactly.
    let mut m = classification_metrics(&test.label_indices()?, &test.prob_rows()?, &data.classes);
    m.val_accuracy = val.accuracy()?;
    m.val_loss = val.loss;
    let (median, p95) = latency_ms(
        model,
        &data.test.x,
        device,
        p.latency_warmup,
        p.latency_repeats,
    );
    let latency = Latency {
        latency_ms_median: median,
        latency_ms_p95: p95,
    };
    Ok((m, latency, test, val))
}

/// Median and p95 wall time (ms) of a one-image forward pass after
/// `warmup` untimed passes, over `repeats` passes cycling through `x`.
pub fn latency_ms(
    model: &dyn Classifier,
    x: &Tensor,
    device: Device,
    warmup: u32,
    repeats: u32,
) -> (f64, f64) {
    let n = x.size()[0];
    if n == 0 || repeats == 0 {
        return (0.0, 0.0);
    }
    let images: Vec<Tensor> = (0..n.min(16))
        .map(|i| x.narrow(0, i, 1).to_device(device))
        .collect();
    let mut samples = Vec::with_capacity(repeats as usize);
    tch::no_grad(|| {
        for i in 0..(warmup + repeats) {
            let img = &images[i as usize % images.len()];
            let start = Instant::now();
            let out = model.logits(img, false);
            if device.is_cuda() {
                tch::Cuda::synchronize(match device {
                    Device::Cuda(d) => d as i64,
                    _ => 0,
                });
            }
            let _ = out.size();
            if i >= warmup {
                samples.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    });
    metrics::median_p95(&samples)
}

/// Writes `metrics.json`, `latency.json` and the one-row `metrics.csv`.
pub fn write_metrics(dir: &Path, m: &Metrics, latency: &Latency) -> Result<()> {
    write_artifact(dir, m)?;
    write_artifact(dir, latency)?;
    let mut header = vec![
        "accuracy",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "weighted_precision",
        "weighted_recall",
        "weighted_f1",
        "roc_auc_macro_ovr",
        "params",
        "macs",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    let mut row = vec![
        m.accuracy.to_string(),
        m.macro_precision.to_string(),
        m.macro_recall.to_string(),
        m.macro_f1.to_string(),
        m.weighted_precision.to_string(),
        m.weighted_recall.to_string(),
        m.weighted_f1.to_string(),
        m.roc_auc_macro_ovr
            .map(|v| v.to_string())
            .unwrap_or_default(),
        m.params.to_string(),
        m.macs.to_string(),
    ];
    for c in &m.per_class {
        header.push(format!("f1_{}", c.class));
        row.push(c.f1.to_string());
    }
    let path = dir.join(METRICS_CSV);
    let csv_err = |source| StagesError::Csv {
        path: path.clone(),
        source,
    };
    let mut w = csv::Writer::from_path(&path).map_err(csv_err)?;
    w.write_record(&header).map_err(csv_err)?;
    w.write_record(&row).map_err(csv_err)?;
    w.flush().map_err(|source| StagesError::Write {
        path: path.clone(),
        source,
    })
}
