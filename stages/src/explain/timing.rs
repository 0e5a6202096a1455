//! The timing stage: seconds per image of each explanation method for every
//! timed model of a data set, on a fixed sample of test images, after
//! untimed warm-up runs, the models interleaved. The engine runs it alone on
//! its cores (`resources.exclusive`).

use std::time::Instant;

use engine::exec::Progress;
use serde::Serialize;
use study::kd::params::{ExplainMethod, TimingParams};
use tch::{Device, Tensor};

use super::error::ExplainError;
use super::expected_gradients::expected_gradients;
use super::feature_maps::feature_maps;
use super::gradcam::gradcam;
use super::sample::{background_sample, image_rng, test_sample};
use super::stage::{method_name, Inputs};
use crate::device::device_name;
use crate::models::Classifier;

/// Summary of a set of per-image durations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingStats {
    pub median_s: f64,
    /// Nearest-rank 95th percentile.
    pub p95_s: f64,
    pub mean_s: f64,
    /// Timed runs (images × repeats).
    pub runs: usize,
}

/// Median, nearest-rank p95 and mean of `secs` (empty → all zero).
pub fn summarize(secs: &[f64]) -> TimingStats {
    let mut s = secs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return TimingStats {
            median_s: 0.0,
            p95_s: 0.0,
            mean_s: 0.0,
            runs: 0,
        };
    }
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    TimingStats {
        median_s: median,
        p95_s: s[rank - 1],
        mean_s: s.iter().sum::<f64>() / n as f64,
        runs: n,
    }
}

/// Waits for queued device work so a timer sees it.
fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Runs one method on one image ([1, C, H, W] on the device) up to host
/// tensors, as the explain stage does before drawing.
fn run_method(
    method: ExplainMethod,
    model: &dyn Classifier,
    x: &Tensor,
    index: i64,
    background: &Tensor,
    params: &TimingParams,
) -> Result<(), ExplainError> {
    match method {
        ExplainMethod::FeatureMaps => {
            for m in feature_maps(model, x)?.maps {
                let _ = m.to_device(Device::Cpu);
            }
        }
        ExplainMethod::Gradcam => {
            let _ = gradcam(model, x, params.gradcam_layer, None)?
                .maps
                .to_device(Device::Cpu);
        }
        ExplainMethod::ExpectedGradients => {
            let mut rng = image_rng(params.sample_seed, index);
            let _ = expected_gradients(
                model,
                &x.get(0),
                background,
                None,
                params.eg_samples as usize,
                &mut rng,
            )?
            .values
            .to_device(Device::Cpu);
        }
    }
    Ok(())
}

/// Times every method of `params` on every model of `models` (label,
/// model), side by side: for each method, image and repeat the models run
/// one after another, so a slow stretch of a shared machine hits them all
/// alike and their ratios stay meaningful (absolute times of
/// millisecond-scale work drift by ±30 % between processes here; ratios
/// measured this way move by a few percent). Returns the timing.json value.
pub(crate) fn time_methods(
    inputs: &Inputs,
    models: &[(String, Box<dyn Classifier>)],
    params: &TimingParams,
    device: Device,
    progress: &dyn Fn(Progress),
) -> Result<serde_json::Value, ExplainError> {
    if params.repeats == 0 {
        return Err(ExplainError::Zero {
            what: "timing repeats",
        });
    }
    if models.is_empty() {
        return Err(ExplainError::Zero {
            what: "the number of timed models",
        });
    }
    let indices = test_sample(
        inputs.test_len(),
        params.images as usize,
        params.sample_seed,
    )?;
    let xs = inputs.test_images(&indices)?.to_device(device);
    let background = inputs
        .train_images(&background_sample(
            inputs.train_len(),
            params.eg_background as usize,
            params.sample_seed,
        )?)?
        .to_device(device);
    let mut methods = params.methods.clone();
    methods.sort();
    methods.dedup();
    let image = |i: usize| xs.narrow(0, i as i64, 1);
    // results[model][method]
    let mut results: Vec<serde_json::Map<String, serde_json::Value>> =
        vec![serde_json::Map::new(); models.len()];
    for (done, &method) in methods.iter().enumerate() {
        for w in 0..params.warmup as usize {
            let i = w % indices.len();
            for (_, model) in models {
                run_method(
                    method,
                    model.as_ref(),
                    &image(i),
                    indices[i],
                    &background,
                    params,
                )?;
            }
        }
        sync(device);
        let runs = indices.len() * params.repeats as usize;
        let mut secs = vec![Vec::with_capacity(runs); models.len()];
        for (i, &index) in indices.iter().enumerate() {
            let x = image(i);
            for _ in 0..params.repeats {
                for ((_, model), secs) in models.iter().zip(secs.iter_mut()) {
                    let start = Instant::now();
                    run_method(method, model.as_ref(), &x, index, &background, params)?;
                    sync(device);
                    secs.push(start.elapsed().as_secs_f64());
                }
            }
        }
        let mut metrics = std::collections::BTreeMap::new();
        for (((label, _), secs), out) in models.iter().zip(&secs).zip(results.iter_mut()) {
            let stats = summarize(secs);
            metrics.insert(
                format!("{label}.{}_median_s", method_name(method)),
                stats.median_s,
            );
            out.insert(
                method_name(method).to_string(),
                serde_json::to_value(stats).unwrap_or_default(),
            );
        }
        progress(Progress {
            done: done as u64 + 1,
            total: methods.len() as u64,
            metrics,
        });
    }
    let models: serde_json::Map<String, serde_json::Value> = models
        .iter()
        .zip(results)
        .map(|((label, _), methods)| (label.clone(), serde_json::json!({ "methods": methods })))
        .collect();
    Ok(serde_json::json!({
        "device": device_name(device),
        "threads": tch::get_num_threads(),
        "order": "interleaved",
        "images": indices.len(),
        "image_indices": indices,
        "warmup": params.warmup,
        "repeats": params.repeats,
        "gradcam_layer": params.gradcam_layer,
        "eg_samples": params.eg_samples,
        "eg_background": params.eg_background,
        "models": models,
        "params": params,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics() {
        let s = summarize(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.median_s, s.p95_s, s.mean_s, s.runs), (3.0, 5.0, 3.0, 5));
        let s = summarize(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.median_s, 2.5);
        // 20 runs: the 19th smallest is the nearest-rank p95.
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(summarize(&v).p95_s, 19.0);
        assert_eq!(summarize(&[]).runs, 0);
    }
}
