//! Test fixture: a small store written in the artifact contract's format
//! (metrics.json, explain.json, timing.json, history.csv, overlays) from
//! numbers the tests can recompute, with the specs that point at it.

use std::collections::BTreeMap;
use std::path::Path;

use engine::{Fingerprint, StageSpec};
use serde_json::{json, Value};

use super::artifact_dir;

pub(crate) const DATASET: &str = "toy";
pub(crate) const SEEDS: [u64; 3] = [0, 1, 2];
pub(crate) const DEPTHS: [u32; 2] = [1, 2];
pub(crate) const TEMPS: [f64; 2] = [1.0, 4.0];
pub(crate) const ALPHA: f64 = 0.5;

/// The model a fixture row describes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Model {
    Teacher,
    Student { depth: u32, temperature: f64 },
    Control { depth: u32 },
}

/// Accuracy the fixture writes for `model` and `seed`.
pub(crate) fn accuracy(model: Model, seed: u64) -> f64 {
    let s = seed as f64;
    match model {
        Model::Teacher => 0.95 + 0.01 * s,
        Model::Student { depth, temperature } => {
            0.70 + 0.05 * f64::from(depth) + 0.01 * temperature + 0.013 * s * s
        }
        Model::Control { depth } => 0.68 + 0.05 * f64::from(depth) + 0.02 * s,
    }
}

/// Median Grad-CAM seconds per image the fixture writes.
pub(crate) fn gradcam_s(model: Model, seed: u64) -> f64 {
    let base = match model {
        Model::Teacher => 0.02,
        Model::Student { depth, .. } | Model::Control { depth } => 0.002 * f64::from(depth),
    };
    base * (1.0 + 0.1 * seed as f64)
}

fn spec(
    name: String,
    kind: &str,
    params: Value,
    upstream: BTreeMap<String, Fingerprint>,
) -> StageSpec {
    let params = match params {
        Value::Object(m) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    StageSpec {
        name,
        kind: kind.to_owned(),
        code_version: 1,
        params,
        upstream,
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Default::default(),
    }
}

fn write(dir: &Path, file: &str, bytes: &[u8]) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write fixture file");
}

fn publish(store: &Path, fp: &Fingerprint, files: &[(&str, Vec<u8>)]) {
    let dir = artifact_dir(store, fp);
    for (f, bytes) in files {
        write(&dir, f, bytes);
    }
    write(
        &dir,
        "manifest.json",
        json!({"fingerprint": fp.as_str(), "outputs": {}})
            .to_string()
            .as_bytes(),
    );
}

fn png(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            ((x * 255) / w.max(1)) as u8,
            ((y * 255) / h.max(1)) as u8,
            (seed * 60 % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// Writes the fixture store under `store` and returns its specs. Stages named
/// in `unpublished` get a spec but no artifact (they "have not run").
pub(crate) fn build(store: &Path, unpublished: &[&str]) -> Vec<StageSpec> {
    let mut specs = Vec::new();
    let prepare = spec(
        format!("prepare/{DATASET}"),
        "prepare",
        json!({"name": DATASET, "image_size": 32, "channels": 1}),
        BTreeMap::new(),
    );
    let data_fp = prepare.fingerprint();
    specs.push(prepare);
    // The data set's one timing stage times every model (`timing_scope =
    // "model"`); `timing/<model stage>` in `unpublished` leaves that model
    // out of it, `timing/toy` leaves the whole stage unpublished.
    let mut timed = BTreeMap::from([("data".to_owned(), data_fp.clone())]);
    let mut timing = serde_json::Map::new();
    for seed in SEEDS {
        let mut models = vec![(format!("teacher/{DATASET}/s{seed}"), Model::Teacher)];
        for depth in DEPTHS {
            models.push((
                format!("student/{DATASET}/s{seed}/d{depth}-control"),
                Model::Control { depth },
            ));
            for t in TEMPS {
                models.push((
                    format!("student/{DATASET}/s{seed}/d{depth}-T{t}-a{ALPHA}"),
                    Model::Student {
                        depth,
                        temperature: t,
                    },
                ));
            }
        }
        let mut teacher_fp = None;
        for (name, model) in models {
            let (kind, depth, distill) = match model {
                Model::Teacher => ("teacher", 3, None),
                Model::Student { depth, temperature } => (
                    "student",
                    depth,
                    Some(json!({"temperature": temperature, "alpha": ALPHA})),
                ),
                Model::Control { depth } => ("student", depth, None),
            };
            let mut params = json!({
                "model": {"arch": "cnn", "depth": depth, "width": 8, "max_width": 32,
                          "dropout": 0.0, "weights": null},
                "train": {"seed": seed, "epochs": 3},
            });
            if kind == "student" {
                params["distill"] = distill.clone().unwrap_or(Value::Null);
            }
            let mut up = BTreeMap::from([("data".to_owned(), data_fp.clone())]);
            if let (Some(t), true) = (&teacher_fp, distill.is_some()) {
                up.insert("teacher".to_owned(), Fingerprint::clone(t));
            }
            let model_spec = spec(name.clone(), kind, params, up);
            let model_fp = model_spec.fingerprint();
            if kind == "teacher" {
                teacher_fp = Some(model_fp.clone());
            }
            specs.push(model_spec);
            let acc = accuracy(model, seed);
            let history: String =
                std::iter::once("epoch,train_loss,train_acc,val_loss,val_acc,lr\n".to_owned())
                    .chain((1..=3).map(|e| {
                        let e = f64::from(e);
                        format!(
                            "{e},{},{},{},{},0.001\n",
                            1.0 / e,
                            acc - 0.1 / e,
                            1.2 / e,
                            acc - 0.12 / e
                        )
                    }))
                    .collect();
            if !unpublished.contains(&name.as_str()) {
                publish(
                    store,
                    &model_fp,
                    &[
                        ("history.csv", history.into_bytes()),
                        (
                            "model.json",
                            json!({"arch": "cnn", "depth": depth})
                                .to_string()
                                .into_bytes(),
                        ),
                    ],
                );
            }
            let up = BTreeMap::from([
                ("data".to_owned(), data_fp.clone()),
                ("model".to_owned(), model_fp.clone()),
            ]);
            let params_of = |kind: &str| json!({"kind": kind});
            if !unpublished.contains(&format!("timing/{name}").as_str()) {
                let g = gradcam_s(model, seed);
                timed.insert(name.clone(), model_fp.clone());
                timing.insert(name.clone(), timing_entry(g));
            }
            for k in ["evaluate", "explain"] {
                let s = spec(format!("{k}/{name}"), k, params_of(k), up.clone());
                let fp = s.fingerprint();
                let stage_name = s.name.clone();
                specs.push(s);
                if unpublished.contains(&stage_name.as_str()) {
                    continue;
                }
                let f1 = acc - 0.02;
                let files: Vec<(&str, Vec<u8>)> = match k {
                    "evaluate" => vec![
                        (
                            "metrics.json",
                            json!({
                                "accuracy": acc, "macro_f1": f1, "weighted_f1": f1 + 0.005,
                                "roc_auc_macro_ovr": (acc + 0.03).min(1.0),
                                "params": 1000 * depth, "macs": 50_000 * depth,
                                "classes": ["no", "yes"],
                                "confusion": [[40 + seed, 10 - seed], [8, 42 + depth as u64]],
                            })
                            .to_string()
                            .into_bytes(),
                        ),
                        (
                            "latency.json",
                            json!({
                                "latency_ms_median": 0.5 * f64::from(depth),
                                "latency_ms_p95": 0.6 * f64::from(depth),
                            })
                            .to_string()
                            .into_bytes(),
                        ),
                    ],
                    _ => {
                        let mut files = vec![(
                            "explain.json",
                            json!({
                                "images": [3, 7],
                                "methods": {
                                    "gradcam": {"deletion_auc": 0.3 - 0.01 * seed as f64, "insertion_auc": 0.6},
                                    "expected_gradients": {"deletion_auc": 0.25, "insertion_auc": 0.65},
                                },
                                "agreement": {"gradcam_pearson": 0.5 + 0.1 * f64::from(depth), "gradcam_iou_top10": 0.4},
                            })
                            .to_string()
                            .into_bytes(),
                        )];
                        for (i, f) in [
                            "overlays/img00_feature_maps.png",
                            "overlays/img00_gradcam.png",
                            "overlays/img01_feature_maps.png",
                            "overlays/img01_gradcam.png",
                        ]
                        .into_iter()
                        .enumerate()
                        {
                            let w = if f.contains("feature_maps") { 128 } else { 32 };
                            files.push((f, png(w, 32, i as u32 + depth)));
                        }
                        files
                    }
                };
                publish(store, &fp, &files);
            }
        }
    }
    let name = format!("timing/{DATASET}");
    let t = spec(name.clone(), "timing", json!({"kind": "timing"}), timed);
    if !unpublished.contains(&name.as_str()) {
        write_timing(store, &t.fingerprint(), timing);
    }
    specs.push(t);
    specs
}

/// One model's entry in timing.json, from its Grad-CAM seconds `g`.
pub(crate) fn timing_entry(g: f64) -> Value {
    json!({"methods": {
        "feature_maps": {"median_s": g / 4.0, "p95_s": g / 3.0, "mean_s": g / 4.0},
        "gradcam": {"median_s": g, "p95_s": g * 1.2, "mean_s": g},
        "expected_gradients": {"median_s": g * 20.0, "p95_s": g * 25.0, "mean_s": g * 21.0},
    }})
}

/// Publishes (or overwrites) the timing stage `fp` with these model entries.
pub(crate) fn write_timing(store: &Path, fp: &Fingerprint, models: serde_json::Map<String, Value>) {
    let t = json!({
        "device": "cpu", "threads": 1, "images": 4, "warmup": 1, "repeats": 3,
        "order": "interleaved", "models": models,
    });
    publish(store, fp, &[("timing.json", t.to_string().into_bytes())]);
}
