//! The `explain` stage: runs the explainers of one model on the seeded test
//! sample and writes `explain.json` (faithfulness, agreement with the
//! teacher), `gradcam.safetensors` (the maps a student's explain stage
//! compares with) and `overlays/`.

use std::collections::BTreeMap;
use std::path::Path;

use engine::exec::{Progress, StageContext, StageFailure, StageReport};
use serde_json::json;
use study::contract::artifacts::explain::{self, Explain, Methods, PerImage};
use study::contract::artifacts::ArtifactFile;
use study::contract::names::{ROLE_MODEL, ROLE_TEACHER_EXPLAIN};
use study::kd::params::{ExplainMethod, ExplainParams};
use tch::{Device, Kind, Tensor};

use super::agreement::{agreement, Agreement};
use super::error::ExplainError;
use super::expected_gradients::expected_gradients;
use super::faithfulness::{deletion_insertion, Curves};
use super::feature_maps::feature_maps;
use super::gradcam::gradcam;
use super::maps::{to_vec_f32, to_vec_i64};
use super::overlay::{heat_overlay, input_image, panel_scale, save_png, strip, HEAT_ALPHA};
use super::sample::{background_sample, image_rng, test_sample};
use super::shared::{method_name, params_json, write_artifact, Inputs};
use crate::device::{device_name, resolve_device};
use crate::models::{load_model, Classifier};

/// Images per Grad-CAM batch.
const GRADCAM_BATCH: usize = 16;
/// Upstream role whose `gradcam.safetensors` holds the teacher's maps.
pub const TEACHER_EXPLAIN: &str = ROLE_TEACHER_EXPLAIN;

/// Overlay path of the image at `position` of the sample, relative to the
/// artifact: `overlays/img<NN>_<method>.png`, zero-padded to sort.
pub fn overlay_name(position: usize, sample_len: usize, method: ExplainMethod) -> String {
    let digits = sample_len.saturating_sub(1).to_string().len().max(2);
    format!(
        "overlays/img{position:0digits$}_{}.png",
        method_name(method)
    )
}

/// Stage kind `explain`.
pub fn run_explain(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    let params: ExplainParams = ctx.params()?;
    let device = resolve_device(&params.device).map_err(StageFailure::from)?;
    let inputs = Inputs::load(ctx)?;
    let model = load_model(ctx.upstream_dir(ROLE_MODEL)?, device)?;
    let teacher = ctx.upstream.get(TEACHER_EXPLAIN).map(|p| p.as_path());
    let summary = explain_into(
        model.as_ref(),
        &inputs,
        &params,
        device,
        ctx.out_dir,
        teacher,
        ctx.progress,
    )?;
    Ok(StageReport {
        device: device_name(device),
        summary,
    })
}

/// Adds one image's curves to a method's per-image AUCs.
fn push_curves(per_image: &mut PerImage, c: &Curves) {
    per_image.deletion_auc.push(c.deletion_auc());
    per_image.insertion_auc.push(c.insertion_auc());
}

/// Means of a method's per-image AUCs (deletion, insertion; 0 for none).
fn mean_aucs(per_image: &PerImage) -> (f64, f64) {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    (
        mean(&per_image.deletion_auc),
        mean(&per_image.insertion_auc),
    )
}

/// Runs every method of `params` on the seeded test sample, writes
/// `explain.json`, `gradcam.safetensors` and `overlays/`, and returns the
/// stage summary.
pub(crate) fn explain_into(
    model: &dyn Classifier,
    inputs: &Inputs,
    params: &ExplainParams,
    device: Device,
    out_dir: &Path,
    teacher: Option<&Path>,
    progress: &dyn Fn(Progress),
) -> Result<serde_json::Value, ExplainError> {
    let indices = test_sample(
        inputs.test_len(),
        params.images as usize,
        params.sample_seed,
    )?;
    let n = indices.len();
    let xs = inputs.test_images(&indices)?;
    let labels = to_vec_i64(&inputs.test_y.index_select(0, &Tensor::from_slice(&indices)))?;
    let wants = |m| params.methods.contains(&m);

    // Grad-CAM of every image: always computed, for gradcam.safetensors
    // (students compare theirs with the teacher's).
    let mut maps = Vec::new();
    let mut classes = Vec::new();
    let mut layer = 0;
    for start in (0..n).step_by(GRADCAM_BATCH) {
        let len = GRADCAM_BATCH.min(n - start) as i64;
        let batch = xs.narrow(0, start as i64, len).to_device(device);
        let cam = gradcam(model, &batch, params.gradcam_layer, None)?;
        layer = cam.layer;
        maps.push(cam.maps.to_device(Device::Cpu));
        classes.extend(to_vec_i64(&cam.classes)?);
    }
    let maps = Tensor::cat(&maps, 0);
    let gradcam_path = out_dir.join("gradcam.safetensors");
    Tensor::write_safetensors(
        &[
            ("maps", maps.shallow_clone()),
            ("images", Tensor::from_slice(&indices)),
            ("classes", Tensor::from_slice(&classes)),
        ],
        &gradcam_path,
    )
    .map_err(|e| ExplainError::Write {
        path: gradcam_path.clone(),
        message: e.to_string(),
    })?;

    let overlays = out_dir.join("overlays");
    std::fs::create_dir_all(&overlays).map_err(|e| ExplainError::Write {
        path: overlays.clone(),
        message: e.to_string(),
    })?;
    let background = if wants(ExplainMethod::ExpectedGradients) {
        let picks = background_sample(
            inputs.train_len(),
            params.eg_background as usize,
            params.sample_seed,
        )?;
        Some((inputs.train_images(&picks)?.to_device(device), picks))
    } else {
        None
    };
    let [_, _, height, width] = super::maps::image_dims(&xs, "test images")?;
    let scale = panel_scale(height.min(width) as u32);
    let mut cam_faith = PerImage::default();
    let mut eg_faith = PerImage::default();
    for (pos, &index) in indices.iter().enumerate() {
        let x = xs.get(pos as i64);
        let base = input_image(&x, &inputs.mean, &inputs.std)?;
        let x = x.to_device(device);
        let class = classes[pos];
        let save = |method, panels: &[image::RgbImage]| {
            save_png(
                &strip(panels, scale),
                &out_dir.join(overlay_name(pos, n, method)),
            )
        };
        if wants(ExplainMethod::FeatureMaps) {
            let fm = feature_maps(model, &x.unsqueeze(0))?;
            let mut panels = vec![base.clone()];
            for m in &fm.maps {
                panels.push(heat_overlay(&base, &to_vec_f32(m)?, HEAT_ALPHA)?);
            }
            save(ExplainMethod::FeatureMaps, &panels)?;
        }
        if wants(ExplainMethod::Gradcam) {
            let cam = maps.get(pos as i64);
            let heat = heat_overlay(&base, &to_vec_f32(&cam)?, HEAT_ALPHA)?;
            save(ExplainMethod::Gradcam, &[base.clone(), heat])?;
            let curves = deletion_insertion(
                model,
                &x,
                &cam.to_device(device),
                class,
                params.deletion_steps,
                0.0,
            )?;
            push_curves(&mut cam_faith, &curves);
        }
        if let Some((bg, _)) = &background {
            let mut rng = image_rng(params.sample_seed, index);
            let attr = expected_gradients(
                model,
                &x,
                bg,
                Some(class),
                params.eg_samples as usize,
                &mut rng,
            )?;
            let pixel = attr.pixel_map();
            // Drawn: positive evidence for the class, scaled by its maximum.
            let positive = pixel.clamp_min(0.0).unsqueeze(0);
            let shown = super::maps::divide_by_max(&positive);
            let heat = heat_overlay(&base, &to_vec_f32(&shown)?, HEAT_ALPHA)?;
            save(ExplainMethod::ExpectedGradients, &[base.clone(), heat])?;
            let curves = deletion_insertion(model, &x, &pixel, class, params.deletion_steps, 0.0)?;
            push_curves(&mut eg_faith, &curves);
        }
        progress(Progress {
            done: pos as u64 + 1,
            total: n as u64,
            metrics: BTreeMap::new(),
        });
    }

    let layer_names = model.layer_names();
    let mut methods = Methods::default();
    if wants(ExplainMethod::FeatureMaps) {
        methods.feature_maps = Some(explain::FeatureMaps {
            layers: layer_names.clone(),
        });
    }
    if wants(ExplainMethod::Gradcam) {
        let (deletion_auc, insertion_auc) = mean_aucs(&cam_faith);
        methods.gradcam = Some(explain::Gradcam {
            deletion_auc,
            insertion_auc,
            layer: layer_names.get(layer).cloned(),
            layer_index: layer,
            per_image: cam_faith,
        });
    }
    if let Some((_, picks)) = background {
        let (deletion_auc, insertion_auc) = mean_aucs(&eg_faith);
        methods.expected_gradients = Some(explain::ExpectedGradients {
            background: picks,
            deletion_auc,
            insertion_auc,
            per_image: eg_faith,
            samples: params.eg_samples,
        });
    }
    let mut summary = serde_json::Map::new();
    for method in [ExplainMethod::ExpectedGradients, ExplainMethod::Gradcam] {
        let name = method_name(method);
        if let Some((deletion, insertion)) = methods.faithfulness(name) {
            summary.insert(format!("{name}_deletion_auc"), json!(deletion));
            summary.insert(format!("{name}_insertion_auc"), json!(insertion));
        }
    }
    let agreement = match teacher {
        Some(dir) => {
            let a = teacher_agreement(dir, &indices, &maps)?;
            summary.insert("gradcam_pearson".into(), json!(a.gradcam_pearson));
            summary.insert("gradcam_iou_top10".into(), json!(a.gradcam_iou_top10));
            Some(a)
        }
        None => None,
    };
    let explain = Explain {
        agreement,
        deletion_baseline: "dataset mean (0 after normalisation)".into(),
        images: indices,
        labels,
        methods,
        params: params_json(params, Explain::FILE)?,
        predicted: classes,
    };
    write_artifact(out_dir, &explain)?;
    Ok(summary.into())
}

/// Compares our Grad-CAM maps with the teacher's (same images, same size).
fn teacher_agreement(
    dir: &Path,
    indices: &[i64],
    maps: &Tensor,
) -> Result<Agreement, ExplainError> {
    let path = dir.join("gradcam.safetensors");
    let tensors = Tensor::read_safetensors(&path).map_err(|e| ExplainError::Read {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let get = |name: &str| {
        tensors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.shallow_clone())
            .ok_or_else(|| ExplainError::Read {
                path: path.clone(),
                message: format!("no tensor `{name}`"),
            })
    };
    let mismatch = |message: String| ExplainError::TeacherMismatch {
        path: path.clone(),
        message,
    };
    let teacher_images = to_vec_i64(&get("images")?)?;
    if teacher_images != indices {
        return Err(mismatch(format!(
            "teacher explained test images {teacher_images:?}, this model {indices:?} \
             (both need the same images and sample_seed)"
        )));
    }
    let teacher_maps = get("maps")?.to_kind(Kind::Float);
    if teacher_maps.size() != maps.size() {
        return Err(mismatch(format!(
            "teacher maps {:?}, this model's {:?}",
            teacher_maps.size(),
            maps.size()
        )));
    }
    let flat = |t: &Tensor| -> Result<Vec<Vec<f32>>, ExplainError> {
        (0..indices.len() as i64)
            .map(|i| to_vec_f32(&t.get(i)))
            .collect()
    };
    Ok(agreement(&flat(maps)?, &flat(&teacher_maps)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::explain::test_models::{test_inputs, TwoConv};

    /// `explain_into` of the TwoConv model on [`test_inputs`], on the CPU.
    fn explain_two_conv(
        p: &ExplainParams,
        out: &Path,
        teacher: Option<&Path>,
    ) -> Result<serde_json::Value, ExplainError> {
        let no_progress = |_: Progress| {};
        explain_into(
            &TwoConv::new(),
            &test_inputs(),
            p,
            Device::Cpu,
            out,
            teacher,
            &no_progress,
        )
    }

    fn params(seed: u64) -> ExplainParams {
        ExplainParams {
            methods: vec![
                ExplainMethod::FeatureMaps,
                ExplainMethod::Gradcam,
                ExplainMethod::ExpectedGradients,
            ],
            images: 3,
            sample_seed: seed,
            gradcam_layer: -1,
            eg_samples: 8,
            eg_background: 4,
            deletion_steps: 6,
            device: "cpu".into(),
        }
    }

    fn read_json(path: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn overlay_names_sort_by_image_then_method() {
        assert_eq!(
            overlay_name(3, 8, ExplainMethod::Gradcam),
            "overlays/img03_gradcam.png"
        );
        assert_eq!(
            overlay_name(7, 120, ExplainMethod::FeatureMaps),
            "overlays/img007_feature_maps.png"
        );
    }

    #[test]
    fn explain_writes_the_artifact_and_agrees_with_itself() {
        let teacher = tempfile::tempdir().unwrap();
        let student = tempfile::tempdir().unwrap();
        let p = params(5);
        let summary = explain_two_conv(&p, teacher.path(), None).unwrap();
        assert!(summary.get("gradcam_deletion_auc").is_some());
        assert!(summary.get("gradcam_pearson").is_none());

        let explain = read_json(&teacher.path().join("explain.json"));
        let images: Vec<i64> = serde_json::from_value(explain["images"].clone()).unwrap();
        assert_eq!(images, test_sample(10, 3, 5).unwrap());
        for method in ["gradcam", "expected_gradients"] {
            for key in ["deletion_auc", "insertion_auc"] {
                let v = explain["methods"][method][key].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&v), "{method} {key} = {v}");
            }
        }
        assert_eq!(
            explain["methods"]["feature_maps"]["layers"],
            json!(["conv1", "conv2"])
        );
        assert!(explain.get("agreement").is_none());
        assert_eq!(explain["params"]["deletion_steps"], json!(6));

        let scale = panel_scale(6);
        for pos in 0..3 {
            let fm = image::open(teacher.path().join(overlay_name(
                pos,
                3,
                ExplainMethod::FeatureMaps,
            )))
            .unwrap();
            // Input + one panel per conv layer.
            assert_eq!(fm.width(), 3 * 6 * scale + 2 * 4);
            assert_eq!(fm.height(), 6 * scale);
            for m in [ExplainMethod::Gradcam, ExplainMethod::ExpectedGradients] {
                let img = image::open(teacher.path().join(overlay_name(pos, 3, m))).unwrap();
                assert_eq!(img.width(), 2 * 6 * scale + 4);
            }
        }
        let cams = Tensor::read_safetensors(teacher.path().join("gradcam.safetensors")).unwrap();
        let maps = &cams.iter().find(|(n, _)| n == "maps").unwrap().1;
        assert_eq!(maps.size(), vec![3, 6, 6]);

        // The same model as a "student" agrees perfectly with itself.
        let summary = explain_two_conv(&p, student.path(), Some(teacher.path())).unwrap();
        assert_eq!(summary["gradcam_iou_top10"], json!(1.0));
        let explain = read_json(&student.path().join("explain.json"));
        assert_eq!(explain["agreement"]["images"], json!(3));
        let pearson = explain["agreement"]["gradcam_pearson"].as_f64();
        let undefined = explain["agreement"]["pearson_undefined"].as_u64().unwrap();
        assert!(pearson.map_or(undefined == 3, |v| (v - 1.0).abs() < 1e-9));
        // Same seed: identical expected-gradients faithfulness.
        let t = read_json(&teacher.path().join("explain.json"));
        assert_eq!(t["methods"], explain["methods"]);
    }

    #[test]
    fn agreement_needs_the_same_images() {
        let teacher = tempfile::tempdir().unwrap();
        let student = tempfile::tempdir().unwrap();
        let mut p = params(5);
        p.methods = vec![ExplainMethod::Gradcam];
        explain_two_conv(&p, teacher.path(), None).unwrap();
        p.sample_seed = 6;
        let err = explain_two_conv(&p, student.path(), Some(teacher.path()))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("do not match: teacher explained test images"),
            "{err}"
        );
    }
}
