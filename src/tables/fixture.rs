//! Test fixture: a small store written through the artifact contract's
//! types (metrics.json, latency.json, explain.json, timing.json) plus
//! history.csv and overlays, from numbers the tests can recompute, with the
//! specs and the study index that point at it.

use std::collections::BTreeMap;
use std::path::Path;

use engine::store::Store;
use engine::{Fingerprint, StageSpec};
use serde_json::{json, Value};
use study::contract::artifacts::explain::{
    self, Agreement, AgreementPerImage, Explain, Methods, PerImage, RandomBaseline,
};
use study::contract::artifacts::metrics::ClassMetrics;
use study::contract::artifacts::predictions::Predictions;
use study::contract::artifacts::timing::{MethodTiming, TimedModel, Timing};
use study::contract::artifacts::{ArtifactFile, Latency, Metrics};
use study::contract::names;
use study::index::{Distilled, ModelEntry, ModelRole, StageRef, StudyIndex};
use study::kd::params::DistillMethod;

pub(crate) const DATASET: &str = "toy";
pub(crate) const SEEDS: [u64; 3] = [0, 1, 2];
pub(crate) const DEPTHS: [u32; 2] = [1, 2];
pub(crate) const TEMPS: [f64; 2] = [1.0, 4.0];
pub(crate) const ALPHA: f64 = 0.5;

pub(crate) use super::fixture_evidence::{correct, N_TEST};
use super::fixture_evidence::{dataset_file, predictions};

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

fn publish(store: &Store, fp: &Fingerprint, files: &[(&str, Vec<u8>)]) {
    let dir = store.artifact_dir(fp);
    for (f, bytes) in files {
        write(&dir, f, bytes);
    }
    // A real manifest with the files' hashes: the tables check them.
    let outputs: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(f, b)| (f.to_string(), json!(engine::hashing::sha256_bytes(b))))
        .collect();
    let inputs = json!({"schema": engine::STORE_SCHEMA_VERSION, "kind": "fixture",
        "code_version": 1, "params": {}, "upstream": {}, "inputs": {}});
    write(
        &dir,
        "manifest.json",
        json!({"schema": engine::STORE_SCHEMA_VERSION, "name": "fixture", "kind": "fixture",
            "fingerprint": fp.as_str(), "inputs": inputs, "outputs": outputs,
            "started_at": "", "finished_at": "", "wall_s": 0.0, "cpu_s": 0.0, "host": "",
            "kdpipe_version": "", "threads": 1, "device": "cpu", "executor": "fixture"})
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

/// The fixture: its store, its specs and the study index over them.
pub(crate) struct Fixture {
    pub(crate) store: Store,
    pub(crate) specs: Vec<StageSpec>,
    pub(crate) index: StudyIndex,
}

fn bytes<T: ArtifactFile>(value: &T) -> (&'static str, Vec<u8>) {
    (T::FILE, value.to_bytes().expect("serialize fixture file"))
}

fn metrics(acc: f64, seed: u64, depth: u32) -> Metrics {
    let f1 = acc - 0.02;
    let class = |class: &str, support: u64| ClassMetrics {
        class: class.to_owned(),
        precision: f1,
        recall: f1,
        f1,
        support,
    };
    Metrics {
        accuracy: acc,
        balanced_accuracy: None,
        macro_precision: f1,
        macro_recall: f1,
        macro_f1: f1,
        weighted_precision: f1,
        weighted_recall: f1,
        weighted_f1: f1 + 0.005,
        per_class: vec![class("no", 50), class("yes", 50 + u64::from(depth))],
        confusion: vec![vec![40 + seed, 10 - seed], vec![8, 42 + u64::from(depth)]],
        roc_auc_macro_ovr: Some((acc + 0.03).min(1.0)),
        params: 1000 * u64::from(depth),
        macs: 50_000 * u64::from(depth),
        classes: vec!["no".into(), "yes".into()],
        val_accuracy: Some(acc - 0.05),
        val_loss: Some(0.5),
    }
}

fn explain_file(seed: u64, depth: u32) -> Explain {
    // Raw AUCs with a random-order baseline of 0.35 (deletion) and 0.5
    // (insertion): deletion_norm = 0.35 − AUC, insertion_norm = AUC − 0.5.
    let faith = |deletion: f64, insertion: f64| PerImage {
        deletion_auc: vec![deletion; 2],
        deletion_norm: vec![0.35 - deletion; 2],
        insertion_auc: vec![insertion; 2],
        insertion_norm: vec![insertion - 0.5; 2],
    };
    let gradcam_deletion = 0.3 - 0.01 * seed as f64;
    Explain {
        agreement: Some(Agreement {
            classes: vec![0, 1],
            compared_at: [32, 32],
            gradcam_iou_top10: Some(0.4),
            gradcam_pearson: Some(0.5 + 0.1 * f64::from(depth)),
            images: 2,
            n_defined: 2,
            n_undefined: 0,
            per_image: AgreementPerImage {
                iou_top10: vec![Some(0.4); 2],
                pearson: vec![Some(0.5 + 0.1 * f64::from(depth)); 2],
            },
            teacher_layer: Some("conv1".into()),
        }),
        class_names: vec!["no".into(), "yes".into()],
        deletion_baseline: "dataset mean (0 after normalisation)".into(),
        images: vec![3, 7],
        labels: vec![0, 1],
        methods: Methods {
            expected_gradients: Some(explain::ExpectedGradients {
                background: vec![0, 1],
                classes: vec![0, 1],
                completeness_gap: vec![0.01, 0.03],
                completeness_gap_mean: 0.02,
                completeness_gap_relative: vec![0.1, 0.2],
                deletion_auc: 0.25,
                deletion_norm: 0.1,
                insertion_auc: 0.65,
                insertion_norm: 0.15,
                per_image: faith(0.25, 0.65),
                samples: 4,
            }),
            feature_maps: Some(explain::FeatureMaps {
                layers: vec!["conv1".into()],
            }),
            gradcam: Some(explain::Gradcam {
                classes: vec![0, 1],
                deletion_auc: gradcam_deletion,
                deletion_norm: 0.35 - gradcam_deletion,
                insertion_auc: 0.6,
                insertion_norm: 0.1,
                layer: Some("conv1".into()),
                layer_index: 0,
                layer_size: [32, 32],
                per_image: faith(gradcam_deletion, 0.6),
            }),
        },
        params: json!({"images": 2}),
        predicted: vec![0, 1],
        random_baseline: Some(RandomBaseline {
            deletion_auc: vec![0.35; 2],
            insertion_auc: vec![0.5; 2],
            orders: 4,
        }),
    }
}

/// Writes the fixture store under `store_root` and returns it. Stages named
/// in `unpublished` get a spec but no artifact (they "have not run").
pub(crate) fn build(store_root: &Path, unpublished: &[&str]) -> Fixture {
    let store = Store::open(store_root).expect("open fixture store");
    let mut specs = Vec::new();
    let mut index = StudyIndex::default();
    let prepare = spec(
        names::prepare(DATASET),
        "prepare",
        json!({"name": DATASET, "image_size": 32, "channels": 1}),
        BTreeMap::new(),
    );
    let data_fp = prepare.fingerprint();
    specs.push(prepare);
    if !unpublished.contains(&names::prepare(DATASET).as_str()) {
        publish(&store, &data_fp, &[bytes(&dataset_file())]);
    }
    // The data set's one timing stage times every model (`timing_scope =
    // "model"`); `timing/<model stage>` in `unpublished` leaves that model
    // out of it, `timing/toy` leaves the whole stage unpublished.
    let mut timed = BTreeMap::from([(names::ROLE_DATA.to_owned(), data_fp.clone())]);
    let mut timing = BTreeMap::new();
    for seed in SEEDS {
        let mut models = vec![(names::teacher(DATASET, seed), Model::Teacher)];
        for depth in DEPTHS {
            models.push((
                names::student(DATASET, seed, depth, None),
                Model::Control { depth },
            ));
            for t in TEMPS {
                models.push((
                    names::student(DATASET, seed, depth, Some(("hinton", t, ALPHA))),
                    Model::Student {
                        depth,
                        temperature: t,
                    },
                ));
            }
        }
        let mut teacher_fp = None;
        for (name, model) in models {
            let (kind, depth, distill, role) = match model {
                Model::Teacher => ("teacher", 3, None, ModelRole::Teacher),
                Model::Student { depth, temperature } => (
                    "student",
                    depth,
                    Some(json!({"temperature": temperature, "alpha": ALPHA})),
                    ModelRole::Student {
                        depth,
                        distill: Some(Distilled {
                            method: DistillMethod::Hinton,
                            temperature,
                            alpha: ALPHA,
                        }),
                    },
                ),
                Model::Control { depth } => (
                    "student",
                    depth,
                    None,
                    ModelRole::Student {
                        depth,
                        distill: None,
                    },
                ),
            };
            let mut params = json!({
                "model": {"arch": "cnn", "depth": depth, "width": 8, "max_width": 32,
                          "dropout": 0.0, "weights": null},
                "train": {"seed": seed, "epochs": 3},
            });
            if kind == "student" {
                params["distill"] = distill.clone().unwrap_or(Value::Null);
            }
            let mut up = BTreeMap::from([(names::ROLE_DATA.to_owned(), data_fp.clone())]);
            if let (Some(t), true) = (&teacher_fp, distill.is_some()) {
                up.insert(names::ROLE_TEACHER.to_owned(), Fingerprint::clone(t));
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
                    &store,
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
                (names::ROLE_DATA.to_owned(), data_fp.clone()),
                (names::ROLE_MODEL.to_owned(), model_fp.clone()),
            ]);
            if !unpublished.contains(&format!("timing/{name}").as_str()) {
                timed.insert(name.clone(), model_fp.clone());
                timing.insert(name.clone(), timing_entry(gradcam_s(model, seed)));
            }
            let mut stage = |name: String, kind: &str, files: Vec<(&str, Vec<u8>)>| {
                let s = spec(name, kind, json!({ "kind": kind }), up.clone());
                let fp = s.fingerprint();
                if !unpublished.contains(&s.name.as_str()) {
                    publish(&store, &fp, &files);
                }
                let r = StageRef {
                    name: s.name.clone(),
                    fingerprint: fp,
                };
                specs.push(s);
                r
            };
            let latency = Latency {
                latency_ms_median: 0.5 * f64::from(depth),
                latency_ms_p95: 0.6 * f64::from(depth),
            };
            let evaluate = stage(
                names::evaluate(&name),
                "evaluate",
                vec![
                    bytes(&metrics(acc, seed, depth)),
                    bytes(&latency),
                    (
                        Predictions::FILE,
                        predictions(model, seed)
                            .to_bytes()
                            .expect("serialize predictions"),
                    ),
                ],
            );
            let mut files = vec![bytes(&explain_file(seed, depth))];
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
            let explain = stage(names::explain(&name), "explain", files);
            index.models.push(ModelEntry {
                dataset: DATASET.to_owned(),
                seed,
                role,
                model: StageRef {
                    name: name.clone(),
                    fingerprint: model_fp,
                },
                evaluate,
                explain: Some(explain),
                timing: None,
            });
        }
    }
    let name = names::timing(DATASET);
    let t = spec(name.clone(), "timing", json!({"kind": "timing"}), timed);
    let timing_ref = StageRef {
        name: name.clone(),
        fingerprint: t.fingerprint(),
    };
    for entry in &mut index.models {
        entry.timing = Some((timing_ref.clone(), entry.model.name.clone()));
    }
    if !unpublished.contains(&name.as_str()) {
        write_timing(&store, &timing_ref.fingerprint, timing);
    }
    specs.push(t);
    Fixture {
        store,
        specs,
        index,
    }
}

/// Every model reads the timing of its architecture (`timing_scope =
/// "architecture"`): `teacher`, `student-d<k>`.
pub(crate) fn time_by_architecture(index: &mut StudyIndex) {
    for entry in &mut index.models {
        let depth = match entry.role {
            ModelRole::Teacher => None,
            ModelRole::Student { depth, .. } => Some(depth),
        };
        if let Some((_, label)) = &mut entry.timing {
            *label = names::timing_arch_label(depth);
        }
    }
}

/// One model's entry in timing.json, from its Grad-CAM seconds `g`.
pub(crate) fn timing_entry(g: f64) -> TimedModel {
    let stats = |median_s: f64, p95_s: f64, mean_s: f64| MethodTiming {
        mean_s,
        median_s,
        p95_s,
        runs: 12,
    };
    TimedModel {
        methods: BTreeMap::from([
            ("feature_maps".to_owned(), stats(g / 4.0, g / 3.0, g / 4.0)),
            ("gradcam".to_owned(), stats(g, g * 1.2, g)),
            (
                "expected_gradients".to_owned(),
                stats(g * 20.0, g * 25.0, g * 21.0),
            ),
        ]),
    }
}

/// Publishes (or overwrites) the timing stage `fp` with these model entries.
pub(crate) fn write_timing(store: &Store, fp: &Fingerprint, models: BTreeMap<String, TimedModel>) {
    let t = Timing {
        device: "cpu".into(),
        eg_background: 4,
        eg_samples: 4,
        gradcam_layer: -1,
        image_indices: vec![3, 7, 1, 5],
        images: 4,
        models,
        order: "interleaved".into(),
        params: json!({"kind": "timing"}),
        repeats: 3,
        threads: 1,
        warmup: 1,
    };
    publish(store, fp, &[bytes(&t)]);
}
