//! Measuring: every method on the fixed sample of test images for every
//! timed model, after untimed warm-up runs, the models interleaved so a
//! slow stretch of the machine hits them all alike.

use std::collections::BTreeMap;
use std::time::Instant;

use engine::exec::Progress;
use study::contract::artifacts::timing::{MethodTiming, TimedModel, Timing};
use study::contract::artifacts::ArtifactFile;
use study::kd::params::{ExplainMethod, TimingParams};
use tch::{Device, Tensor};

use super::stats::summarize;
use crate::device::device_name;
use crate::explain::error::ExplainError;
use crate::explain::expected_gradients::expected_gradients;
use crate::explain::feature_maps::feature_maps;
use crate::explain::gradcam::gradcam;
use crate::explain::layer::choose_layer;
use crate::explain::maps::image_dims;
use crate::explain::sample::{background_sample, image_rng, test_sample};
use crate::explain::shared::{method_name, params_json, Inputs};
use crate::models::Classifier;

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
    layer: i32,
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
            let _ = gradcam(model, x, layer, None)?.maps.to_device(Device::Cpu);
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
) -> Result<Timing, ExplainError> {
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
    // The Grad-CAM layer of each model, as the explain stage chooses it.
    let [_, c, h, w] = image_dims(&xs, "timed images")?;
    let mut layers = Vec::with_capacity(models.len());
    for (_, model) in models {
        let l = choose_layer(
            model.as_ref(),
            [c, h, w],
            device,
            params.gradcam_layer,
            params.gradcam_common_block,
        )?;
        layers.push(l as i32);
    }
    // results[model][method]
    let mut results: Vec<BTreeMap<String, MethodTiming>> = vec![BTreeMap::new(); models.len()];
    for (done, &method) in methods.iter().enumerate() {
        for w in 0..params.warmup as usize {
            let i = w % indices.len();
            for ((_, model), &layer) in models.iter().zip(&layers) {
                run_method(
                    method,
                    model.as_ref(),
                    &image(i),
                    indices[i],
                    layer,
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
                for (((_, model), secs), &layer) in models.iter().zip(secs.iter_mut()).zip(&layers)
                {
                    let start = Instant::now();
                    run_method(
                        method,
                        model.as_ref(),
                        &x,
                        index,
                        layer,
                        &background,
                        params,
                    )?;
                    sync(device);
                    secs.push(start.elapsed().as_secs_f64());
                }
            }
        }
        let mut metrics = BTreeMap::new();
        for (((label, _), secs), out) in models.iter().zip(&secs).zip(results.iter_mut()) {
            let stats = summarize(secs);
            metrics.insert(
                format!("{label}.{}_median_s", method_name(method)),
                stats.median_s,
            );
            out.insert(method_name(method).to_string(), stats);
        }
        progress(Progress {
            done: done as u64 + 1,
            total: methods.len() as u64,
            metrics,
        });
    }
    let models: BTreeMap<String, TimedModel> = models
        .iter()
        .zip(results)
        .map(|((label, _), methods)| (label.clone(), TimedModel { methods }))
        .collect();
    Ok(Timing {
        device: device_name(device),
        eg_background: params.eg_background,
        eg_samples: params.eg_samples,
        gradcam_layer: params.gradcam_layer,
        image_indices: indices.clone(),
        images: indices.len(),
        models,
        order: "interleaved".into(),
        params: params_json(params, Timing::FILE)?,
        repeats: params.repeats,
        threads: tch::get_num_threads(),
        warmup: params.warmup,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::explain::test_models::{test_inputs, Linear, TwoConv};

    #[test]
    fn timing_records_every_method() {
        let inputs = test_inputs();
        let p = TimingParams {
            methods: vec![
                ExplainMethod::Gradcam,
                ExplainMethod::FeatureMaps,
                ExplainMethod::ExpectedGradients,
            ],
            images: 2,
            sample_seed: 5,
            gradcam_layer: -1,
            gradcam_common_block: None,
            eg_samples: 4,
            eg_background: 3,
            warmup: 1,
            repeats: 3,
            threads: 1,
            device: "cpu".into(),
        };
        let no_progress = |_: Progress| {};
        let models: Vec<(String, Box<dyn Classifier>)> = vec![
            ("teacher".into(), Box::new(TwoConv::new())),
            ("student-d1".into(), Box::new(Linear::new(1, 6, 6))),
        ];
        let t = time_methods(&inputs, &models, &p, Device::Cpu, &no_progress).unwrap();
        assert_eq!(t.device, "cpu");
        assert_eq!(t.images, 2);
        assert_eq!(t.order, "interleaved");
        assert_eq!(t.models.len(), 2, "{t:?}");
        for label in ["teacher", "student-d1"] {
            for m in ["feature_maps", "gradcam", "expected_gradients"] {
                let s = &t.models[label].methods[m];
                assert_eq!(s.runs, 6, "{label} {m}");
                assert!(
                    s.median_s > 0.0 && s.p95_s >= s.median_s,
                    "{label} {m}: {s:?}"
                );
            }
        }
        let err = time_methods(&inputs, &[], &p, Device::Cpu, &no_progress).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the number of timed models must be at least 1"
        );
    }
}
