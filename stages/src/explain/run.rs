//! The `explain` stage: runs the explainers of one model on the test
//! images (all of them, or a seeded sample) and writes `explain.json`
//! (faithfulness against a random-order baseline, completeness, agreement
//! with the teacher), `gradcam.safetensors` (the maps a student's explain
//! stage compares with) and `overlays/`.

use std::collections::BTreeMap;
use std::path::Path;

use engine::exec::{Progress, StageContext, StageFailure, StageReport};
use serde_json::json;
use study::contract::artifacts::explain::{self, Explain, Methods};
use study::contract::artifacts::ArtifactFile;
use study::contract::names::{ROLE_MODEL, ROLE_TEACHER_EXPLAIN};
use study::kd::params::{ExplainMethod, ExplainParams};
use tch::{Device, Tensor};

use super::error::ExplainError;
use super::expected_gradients::{completeness, expected_gradients};
use super::faithfulness::{deletion_insertion, random_baseline, random_order, RANDOM_ORDERS};
use super::feature_maps::feature_maps;
use super::layer::{choose_layer, tap_sizes};
use super::maps::{image_dims, to_vec_f32, to_vec_i64};
use super::overlay::{heat_overlay, input_image, panel_scale, save_png, strip, HEAT_ALPHA};
use super::record::{gradcam_all, mean, teacher_agreement, write_cams, Baselines, Faith};
use super::sample::{background_sample, curve_rng, image_rng, test_sample};
use super::shared::{method_name, params_json, write_artifact, Inputs};
use crate::device::{device_name, resolve_device};
use crate::models::{load_model, Classifier};

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

/// Expected gradients' per-image completeness gaps.
#[derive(Default)]
struct Gaps {
    gap: Vec<f64>,
    relative: Vec<f64>,
}

/// Runs every method of `params` on the test images, writes
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
    let wanted = params.images.map_or(inputs.test_len(), |n| n as usize);
    let indices = test_sample(inputs.test_len(), wanted, params.sample_seed)?;
    let n = indices.len();
    let xs = inputs.test_images(&indices)?;
    let labels = to_vec_i64(&inputs.test_y.index_select(0, &Tensor::from_slice(&indices)))?;
    let wants = |m| params.methods.contains(&m);
    let [_, channels, height, width] = image_dims(&xs, "test images")?;
    let input = [channels, height, width];
    let layer = choose_layer(
        model,
        input,
        device,
        params.gradcam_layer,
        params.gradcam_common_block,
    )?;
    let layer_size = tap_sizes(model, input, device)
        .get(layer)
        .copied()
        .unwrap_or([0, 0]);

    // Grad-CAM of every image for its predicted class: always computed, for
    // gradcam.safetensors (students compare with the teacher's).
    let cams = gradcam_all(model, &xs, layer, None, device)?;
    write_cams(out_dir, &cams, &indices)?;
    let classes = cams.classes.clone();

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
    let curves_wanted = wants(ExplainMethod::Gradcam) || background.is_some();
    let scale = panel_scale(height.min(width) as u32);
    let mut cam_faith = Faith::default();
    let mut eg_faith = Faith::default();
    let mut gaps = Gaps::default();
    let mut baselines = Baselines::default();
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
        // One tie-break order and one random baseline per image, shared by
        // the methods and (same seed, same image) by every model.
        let mut rng = curve_rng(params.sample_seed, index);
        let tiebreak = random_order((height * width) as usize, &mut rng);
        let baseline = if curves_wanted {
            let b = random_baseline(
                model,
                &x,
                class,
                params.deletion_steps,
                0.0,
                RANDOM_ORDERS,
                &mut rng,
            )?;
            baselines.push(&b);
            Some(b)
        } else {
            None
        };
        let curves = |map: &Tensor| {
            deletion_insertion(model, &x, map, class, params.deletion_steps, 0.0, &tiebreak)
        };
        if let (true, Some(b)) = (wants(ExplainMethod::Gradcam), &baseline) {
            let cam = cams.maps.get(pos as i64);
            let heat = heat_overlay(&base, &to_vec_f32(&cam)?, HEAT_ALPHA)?;
            save(ExplainMethod::Gradcam, &[base.clone(), heat])?;
            cam_faith.push(&curves(&cam.to_device(device))?, b);
        }
        if let (Some((bg, _)), Some(b)) = (&background, &baseline) {
            let mut rng = image_rng(params.sample_seed, index);
            let attr = expected_gradients(
                model,
                &x,
                bg,
                Some(class),
                params.eg_samples as usize,
                &mut rng,
            )?;
            let c = completeness(model, &x, bg, &attr)?;
            gaps.gap.push(c.gap);
            gaps.relative.push(c.relative);
            let pixel = attr.pixel_map();
            // Drawn: positive evidence for the class, scaled by its maximum.
            let positive = pixel.clamp_min(0.0).unsqueeze(0);
            let shown = super::maps::divide_by_max(&positive);
            let heat = heat_overlay(&base, &to_vec_f32(&shown)?, HEAT_ALPHA)?;
            save(ExplainMethod::ExpectedGradients, &[base.clone(), heat])?;
            eg_faith.push(&curves(&pixel)?, b);
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
        let [deletion_auc, deletion_norm, insertion_auc, insertion_norm] = cam_faith.means();
        methods.gradcam = Some(explain::Gradcam {
            classes: classes.clone(),
            deletion_auc,
            deletion_norm,
            insertion_auc,
            insertion_norm,
            layer: layer_names.get(layer).cloned(),
            layer_index: layer,
            layer_size,
            per_image: cam_faith.per_image,
        });
    }
    if let Some((_, picks)) = background {
        let [deletion_auc, deletion_norm, insertion_auc, insertion_norm] = eg_faith.means();
        methods.expected_gradients = Some(explain::ExpectedGradients {
            background: picks,
            classes: classes.clone(),
            completeness_gap_mean: mean(&gaps.gap),
            completeness_gap: gaps.gap,
            completeness_gap_relative: gaps.relative,
            deletion_auc,
            deletion_norm,
            insertion_auc,
            insertion_norm,
            per_image: eg_faith.per_image,
            samples: params.eg_samples,
        });
    }
    let mut summary = serde_json::Map::new();
    for method in [ExplainMethod::ExpectedGradients, ExplainMethod::Gradcam] {
        let name = method_name(method);
        if let Some(f) = methods.scores(name) {
            summary.insert(format!("{name}_deletion_auc"), json!(f.deletion_auc));
            summary.insert(format!("{name}_deletion_norm"), json!(f.deletion_norm));
            summary.insert(format!("{name}_insertion_auc"), json!(f.insertion_auc));
            summary.insert(format!("{name}_insertion_norm"), json!(f.insertion_norm));
        }
    }
    let agreement = match teacher {
        Some(dir) => {
            let a = teacher_agreement(model, &xs, layer, device, dir, &indices)?;
            summary.insert("gradcam_pearson".into(), json!(a.gradcam_pearson));
            summary.insert("gradcam_iou_top10".into(), json!(a.gradcam_iou_top10));
            summary.insert("agreement_n_defined".into(), json!(a.n_defined));
            Some(a)
        }
        None => None,
    };
    let explain = Explain {
        agreement,
        class_names: inputs.classes.clone(),
        deletion_baseline: "dataset mean (0 after normalisation)".into(),
        images: indices,
        labels,
        methods,
        params: params_json(params, Explain::FILE)?,
        predicted: classes,
        random_baseline: baselines.finish(),
    };
    write_artifact(out_dir, &explain)?;
    Ok(summary.into())
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
            images: Some(3),
            sample_seed: seed,
            gradcam_layer: -1,
            gradcam_common_block: None,
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
            for key in ["deletion_norm", "insertion_norm"] {
                let v = explain["methods"][method][key].as_f64().unwrap();
                assert!((-1.0..=1.0).contains(&v), "{method} {key} = {v}");
                assert_eq!(summary[format!("{method}_{key}")].as_f64(), Some(v));
            }
            // norm = random − map (deletion), per image.
            let m = &explain["methods"][method]["per_image"];
            let r = &explain["random_baseline"];
            for i in 0..3 {
                let d =
                    r["deletion_auc"][i].as_f64().unwrap() - m["deletion_auc"][i].as_f64().unwrap();
                assert!((d - m["deletion_norm"][i].as_f64().unwrap()).abs() < 1e-12);
            }
            assert_eq!(explain["methods"][method]["classes"], explain["predicted"]);
        }
        assert_eq!(explain["random_baseline"]["orders"], json!(RANDOM_ORDERS));
        assert_eq!(explain["class_names"], json!(["no", "yes"]));
        assert_eq!(explain["methods"]["gradcam"]["layer_size"], json!([3, 3]));
        let gaps = explain["methods"]["expected_gradients"]["completeness_gap"]
            .as_array()
            .unwrap();
        assert_eq!(gaps.len(), 3);
        assert!(gaps.iter().all(|g| g.as_f64().unwrap() >= 0.0));
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
        let explain = read_json(&student.path().join("explain.json"));
        let a = &explain["agreement"];
        assert_eq!(a["images"], json!(3));
        let defined = a["n_defined"].as_u64().unwrap();
        assert_eq!(defined + a["n_undefined"].as_u64().unwrap(), 3);
        assert!(defined > 0, "{a}");
        assert_eq!(summary["gradcam_iou_top10"], json!(1.0));
        assert!((a["gradcam_pearson"].as_f64().unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(a["classes"], explain["predicted"]);
        assert_eq!(a["compared_at"], json!([6, 6]));
        assert_eq!(a["teacher_layer"], json!("conv2"));
        // Same seed: identical expected-gradients faithfulness.
        let t = read_json(&teacher.path().join("explain.json"));
        assert_eq!(t["methods"], explain["methods"]);
    }

    /// Agreement explains the teacher's class in both models: a teacher
    /// whose maps are this model's Grad-CAM of the *other* class agrees
    /// perfectly (the old code compared them with this model's own
    /// prediction's maps).
    #[test]
    fn agreement_explains_the_teachers_class() {
        let teacher = tempfile::tempdir().unwrap();
        let student = tempfile::tempdir().unwrap();
        let mut p = params(5);
        p.methods = vec![ExplainMethod::Gradcam];
        p.images = None;
        explain_two_conv(&p, teacher.path(), None).unwrap();
        let inputs = test_inputs();
        let indices: Vec<i64> = (0..10).collect();
        let xs = inputs.test_images(&indices).unwrap();
        let model = TwoConv::new();
        let own = gradcam_all(&model, &xs, 1, None, Device::Cpu).unwrap();
        let other: Vec<i64> = own.classes.iter().map(|c| 1 - c).collect();
        let flipped = gradcam_all(&model, &xs, 1, Some(&other), Device::Cpu).unwrap();
        // Every test image explained (images = all).
        assert_eq!(flipped.maps.size(), vec![10, 6, 6]);
        write_cams(teacher.path(), &flipped, &indices).unwrap();

        explain_two_conv(&p, student.path(), Some(teacher.path())).unwrap();
        let a = &read_json(&student.path().join("explain.json"))["agreement"];
        assert_eq!(a["classes"], json!(other));
        assert!(a["n_defined"].as_u64().unwrap() > 0, "{a}");
        assert_eq!(a["gradcam_iou_top10"], json!(1.0), "{a}");
        for (i, v) in a["per_image"]["iou_top10"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            assert!(v.is_null() || v.as_f64() == Some(1.0), "image {i}: {v}");
        }
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
