//! The explain and timing stages end to end on real (tiny) trained models:
//! a teacher and a distilled student on 16×16 images, through the same
//! `stages::run_stage` dispatch the `kdpipe exec-stage` worker uses.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{class_image, ds_params, model, run_stage, train};
use engine::exec::StageReport;
use serde::Serialize;
use serde_json::Value;
use stages::data::{list_input_files, prepare_dataset};
use study::kd::params::{
    DatasetFormat, DistillParams, ExplainMethod, ExplainParams, ModelParams, StudentParams,
    TeacherParams, TimingParams,
};

fn run(kind: &str, params: &impl Serialize, upstream: &[(&str, &Path)], out: &Path) -> StageReport {
    run_stage(kind, params, upstream, out, 1).0
}

/// 20 images per class: a bright left half (class a) or right half (b).
fn write_images(root: &Path) {
    for (c, name) in ["a", "b"].iter().enumerate() {
        std::fs::create_dir_all(root.join(name)).unwrap();
        for i in 0..20 {
            class_image(c, i)
                .save(root.join(name).join(format!("img{i:03}.png")))
                .unwrap();
        }
    }
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn teacher_and_student_explanations_and_timing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_images(&src);
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let ds = ds_params("tiny", DatasetFormat::Imagefolder, 16, 3);
    prepare_dataset(&ds, &list_input_files(&src).unwrap(), &data, 1).unwrap();

    let teacher = tmp.path().join("teacher");
    let tp = TeacherParams {
        model: model(3),
        train: train(8, false),
    };
    run("teacher", &tp, &[("data", &data)], &teacher);
    let student = tmp.path().join("student");
    let sp = StudentParams {
        model: model(1),
        train: train(3, false),
        distill: Some(DistillParams::hinton(4.0, 0.7)),
    };
    run(
        "student",
        &sp,
        &[("data", &data), ("teacher", &teacher)],
        &student,
    );

    let ep = ExplainParams {
        methods: vec![
            ExplainMethod::FeatureMaps,
            ExplainMethod::Gradcam,
            ExplainMethod::ExpectedGradients,
        ],
        images: Some(4),
        sample_seed: 9,
        gradcam_layer: -1,
        gradcam_common_block: None,
        eg_samples: 8,
        eg_background: 4,
        deletion_steps: 8,
        device: "cpu".into(),
    };
    let te = tmp.path().join("teacher_explain");
    run("explain", &ep, &[("data", &data), ("model", &teacher)], &te);
    let se = tmp.path().join("student_explain");
    let report = run(
        "explain",
        &ep,
        &[
            ("data", &data),
            ("model", &student),
            ("teacher_explain", &te),
        ],
        &se,
    );
    assert_eq!(report.device, "cpu");
    let (tj, sj) = (
        read(&te.join("explain.json")),
        read(&se.join("explain.json")),
    );
    assert_eq!(tj["images"], sj["images"]);
    assert_eq!(tj["images"].as_array().unwrap().len(), 4);
    assert!(tj.get("agreement").is_none());
    let a = &sj["agreement"];
    let defined = a["n_defined"].as_u64().unwrap();
    assert_eq!(defined + a["n_undefined"].as_u64().unwrap(), 4);
    // Both models explain the teacher's prediction.
    assert_eq!(a["classes"], tj["predicted"]);
    assert_eq!(a["compared_at"], serde_json::json!([16, 16]));
    if defined > 0 {
        let iou = a["gradcam_iou_top10"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&iou));
        assert_eq!(report.summary["gradcam_iou_top10"].as_f64(), Some(iou));
    }
    // Teacher strip: input + 3 conv layers; student: input + 1.
    let layers = |j: &Value| {
        j["methods"]["feature_maps"]["layers"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((layers(&tj), layers(&sj)), (3, 1));
    let t_strip = image::open(te.join("overlays/img00_feature_maps.png")).unwrap();
    let s_strip = image::open(se.join("overlays/img00_feature_maps.png")).unwrap();
    assert_eq!(t_strip.height(), s_strip.height());
    assert!(t_strip.width() > s_strip.width());
    for pos in 0..4 {
        for m in ["feature_maps", "gradcam", "expected_gradients"] {
            assert!(se.join(format!("overlays/img{pos:02}_{m}.png")).is_file());
        }
    }
    for m in ["gradcam", "expected_gradients"] {
        for k in ["deletion_auc", "insertion_auc"] {
            let v = sj["methods"][m][k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{m} {k} {v}");
        }
    }

    let tp = TimingParams {
        methods: ep.methods.clone(),
        images: 2,
        sample_seed: 9,
        gradcam_layer: -1,
        gradcam_common_block: None,
        eg_samples: 8,
        eg_background: 4,
        warmup: 1,
        repeats: 2,
        threads: 1,
        device: "cpu".into(),
    };
    let tt = tmp.path().join("timing");
    // One timing stage times every model, interleaved; the roles label them.
    let report = run(
        "timing",
        &tp,
        &[
            ("data", &data),
            ("teacher", &teacher),
            ("student-d1", &student),
        ],
        &tt,
    );
    let t = read(&tt.join("timing.json"));
    assert_eq!(t["threads"], 1);
    assert_eq!(t["repeats"], 2);
    assert_eq!(t["order"], "interleaved");
    let models: Vec<&String> = t["models"].as_object().unwrap().keys().collect();
    assert_eq!(models, ["student-d1", "teacher"], "{t}");
    for label in ["teacher", "student-d1"] {
        for m in ["feature_maps", "gradcam", "expected_gradients"] {
            let s = &t["models"][label]["methods"][m];
            assert_eq!(s["runs"], 4, "{t}");
            let median = s["median_s"].as_f64().unwrap();
            assert!(median > 0.0);
            // (serde_json's default float parsing may differ in the last bit)
            let reported = report.summary[format!("{label}.{m}_median_s")]
                .as_f64()
                .unwrap();
            assert!((reported - median).abs() <= 1e-12 * median, "{label} {m}");
        }
    }
}

/// Seconds per image of Grad-CAM and expected gradients (32 samples, 16
/// background images) on untrained CNNs of the default experiment's sizes
/// (1×48×48, width 16 → 128): a preview of the timing stage's numbers.
/// `cargo test -p stages --release --test tiny_explain -- --ignored --nocapture`
#[test]
#[ignore = "benchmark; prints numbers"]
fn bench_explain_default_sizes() {
    use stages::explain::{expected_gradients::expected_gradients, gradcam::gradcam};
    tch::set_num_threads(1);
    let xs = tch::Tensor::randn([4, 1, 48, 48], (tch::Kind::Float, tch::Device::Cpu));
    let bg = tch::Tensor::randn([16, 1, 48, 48], (tch::Kind::Float, tch::Device::Cpu));
    for depth in [5, 1, 4] {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let p = ModelParams {
            width: 16,
            max_width: 128,
            ..model(depth)
        };
        let m = stages::models::build_model(&p, 1, 48, 4, &vs.root())
            .unwrap()
            .model;
        let time = |f: &dyn Fn(i64)| {
            f(0);
            let mut s: Vec<f64> = (0..12)
                .map(|i| {
                    let t = std::time::Instant::now();
                    f(i % 4);
                    t.elapsed().as_secs_f64()
                })
                .collect();
            s.sort_by(f64::total_cmp);
            (s[5] + s[6]) / 2.0
        };
        let cam = time(&|i| {
            gradcam(m.as_ref(), &xs.narrow(0, i, 1), -1, None).unwrap();
        });
        let eg = time(&|i| {
            let mut rng = stages::explain::sample::image_rng(0, i);
            expected_gradients(m.as_ref(), &xs.get(i), &bg, None, 32, &mut rng).unwrap();
        });
        println!(
            "depth {depth}: gradcam {:.2} ms, expected gradients {:.2} ms",
            cam * 1e3,
            eg * 1e3
        );
    }
}
