//! Real end-to-end runs of the ML stages on tiny images: data preparation in
//! all three formats (and its errors), teacher training, a distilled and a
//! control student, evaluation, and the determinism guarantee.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::{class_image, ds_params, model, run_stage, train};
use engine::exec::StageReport;
use engine::spec::{Resources, StageSpec};
use serde::Serialize;
use stages::data::{list_input_files, prepare_dataset, PreparedData};
use study::kd::params::{
    Arch, DatasetFormat, DistillParams, EvalParams, ModelParams, Schedule, StudentParams,
    TeacherParams,
};

/// libtorch's thread count and seed are process-global: run stage tests one
/// at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// An ImageFolder with `per_class` PNGs in `a/` and `b/` plus one exact
/// duplicate file.
fn write_imagefolder(root: &Path, per_class: usize) {
    for (c, name) in ["a", "b"].iter().enumerate() {
        std::fs::create_dir_all(root.join(name)).unwrap();
        for i in 0..per_class {
            class_image(c, i)
                .save(root.join(name).join(format!("img{i:03}.png")))
                .unwrap();
        }
    }
    std::fs::copy(root.join("a/img000.png"), root.join("a/copy_of_0.png")).unwrap();
}

fn run(kind: &str, params: &impl Serialize, upstream: &[(&str, &Path)], out: &Path) -> StageReport {
    run_threads(kind, params, upstream, out, 1)
}

fn run_threads(
    kind: &str,
    params: &impl Serialize,
    upstream: &[(&str, &Path)],
    out: &Path,
    threads: usize,
) -> StageReport {
    let (report, done) = run_stage(kind, params, upstream, out, threads);
    if kind == "teacher" || kind == "student" {
        assert_eq!(done, (1..=done.len() as u64).collect::<Vec<_>>());
        assert!(!done.is_empty());
    }
    report
}

fn eval_params() -> EvalParams {
    EvalParams {
        latency_warmup: 1,
        latency_repeats: 3,
        device: "cpu".into(),
    }
}

fn prepare_folder(tmp: &Path) -> PathBuf {
    let src = tmp.join("src");
    write_imagefolder(&src, 20);
    let files = list_input_files(&src).unwrap();
    let out = tmp.join("data");
    std::fs::create_dir_all(&out).unwrap();
    let info = prepare_dataset(
        &ds_params("tiny", DatasetFormat::Imagefolder, 16, 3),
        &files,
        &out,
        2,
    )
    .unwrap();
    assert_eq!(info.classes, vec!["a", "b"]);
    assert_eq!(info.duplicates_removed, 1);
    let total: usize = info.counts.values().flat_map(|c| c.values()).sum();
    assert_eq!(total, 40);
    assert_eq!(info.counts["test"]["a"], 4);
    out
}

/// `predictions.safetensors` holds exactly the six tensors of its contract;
/// the argmax of the test probabilities reproduces metrics.json's accuracy
/// and the validation accuracy, and the hashes are dataset.json's, row for
/// row.
fn check_predictions(eval_dir: &Path, data: &PreparedData, m: &serde_json::Value) {
    use tch::{Kind, Tensor};
    let tensors = Tensor::read_safetensors(eval_dir.join("predictions.safetensors")).unwrap();
    let by_name: BTreeMap<String, Tensor> = tensors.into_iter().collect();
    let names: Vec<&str> = by_name.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "test.hashes",
            "test.labels",
            "test.probs",
            "val.hashes",
            "val.labels",
            "val.probs"
        ]
    );
    for (split, rows, accuracy) in [
        ("test", &data.test, m["accuracy"].as_f64().unwrap()),
        ("val", &data.val, m["val_accuracy"].as_f64().unwrap()),
    ] {
        let probs = &by_name[&format!("{split}.probs")];
        let labels = &by_name[&format!("{split}.labels")];
        let hashes = &by_name[&format!("{split}.hashes")];
        let n = rows.len();
        assert!(n > 0, "{split} is empty");
        assert_eq!(probs.kind(), Kind::Float);
        assert_eq!(probs.size(), vec![n, 2]);
        assert_eq!(labels.kind(), Kind::Int64);
        assert!(labels.equal(&rows.y));
        assert_eq!((hashes.kind(), hashes.size()), (Kind::Uint8, vec![n, 32]));
        let sums = probs.sum_dim_intlist(1, false, Kind::Double);
        assert!((sums - 1.0).abs().max().double_value(&[]) < 1e-5);
        let correct = probs
            .argmax(1, false)
            .eq_tensor(labels)
            .sum(Kind::Int64)
            .int64_value(&[]);
        assert_eq!(correct as f64 / n as f64, accuracy, "{split}");
        let bytes = Vec::<u8>::try_from(hashes.flatten(0, -1)).unwrap();
        let hex: Vec<String> = bytes
            .chunks(32)
            .map(|h| h.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        assert_eq!(hex, data.info.split[split], "{split} hashes");
    }
    let loss = m["val_loss"].as_f64().unwrap();
    assert!(loss.is_finite() && loss > 0.0, "{m}");
}

#[test]
fn imagefolder_teacher_students_evaluate() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = prepare_folder(tmp.path());
    let data = PreparedData::load(&data_dir).unwrap();
    // 20 per class: 4 test, 4 val (0.2 of the pool, was 0.2 of the 16
    // left: 3), 12 train.
    assert_eq!(data.train.x.size(), vec![24, 3, 16, 16]);
    assert_eq!(data.test.len(), 8);

    let teacher_dir = tmp.path().join("teacher");
    let tp = TeacherParams {
        model: model(3),
        train: train(15, true),
    };
    run("teacher", &tp, &[("data", &data_dir)], &teacher_dir);
    for f in [
        "model.safetensors",
        "model.json",
        "history.csv",
        "train.json",
        "logits.safetensors",
        "environment.json",
    ] {
        assert!(teacher_dir.join(f).is_file(), "missing {f}");
    }
    let history = std::fs::read_to_string(teacher_dir.join("history.csv")).unwrap();
    assert!(
        history.starts_with("epoch,train_loss,train_acc,val_loss,val_acc,val_balanced_acc,lr\n")
    );
    // The kept epoch is the one with the lowest validation loss.
    let tj: serde_json::Value =
        serde_json::from_slice(&std::fs::read(teacher_dir.join("train.json")).unwrap()).unwrap();
    let losses: Vec<f64> = history
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    let lowest = losses.iter().cloned().fold(f64::INFINITY, f64::min);
    let best = tj["best_epoch"].as_u64().unwrap() as usize;
    assert_eq!(losses[best - 1], lowest, "{tj}");
    assert_eq!(tj["select"], "val_loss");
    assert!((tj["val_loss"].as_f64().unwrap() - lowest).abs() < 1e-12);
    assert_eq!(history.lines().count(), 16);
    let logits = tch::Tensor::read_safetensors(teacher_dir.join("logits.safetensors")).unwrap();
    let shapes: BTreeMap<String, Vec<i64>> =
        logits.iter().map(|(n, t)| (n.clone(), t.size())).collect();
    assert_eq!(shapes["train"], vec![24, 2]);
    assert_eq!(shapes["test"], vec![8, 2]);

    let eval_dir = tmp.path().join("eval-teacher");
    run(
        "evaluate",
        &eval_params(),
        &[("data", &data_dir), ("model", &teacher_dir)],
        &eval_dir,
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(eval_dir.join("metrics.json")).unwrap()).unwrap();
    // Left-bright vs right-bright is easy: the teacher must learn it.
    assert!(m["accuracy"].as_f64().unwrap() >= 0.85, "{m}");
    assert!(m["macs"].as_u64().unwrap() > 0);
    assert_eq!(m["confusion"].as_array().unwrap().len(), 2);
    assert!(eval_dir.join("metrics.csv").is_file());
    check_predictions(&eval_dir, &data, &m);

    let student = StudentParams {
        model: model(1),
        train: train(4, false),
        distill: Some(DistillParams::hinton(4.0, 0.7)),
    };
    let s_dir = tmp.path().join("student");
    run(
        "student",
        &student,
        &[("data", &data_dir), ("teacher", &teacher_dir)],
        &s_dir,
    );
    let tj: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s_dir.join("train.json")).unwrap()).unwrap();
    assert_eq!(tj["distill"]["alpha"], 0.7);
    let control = StudentParams {
        distill: None,
        ..student
    };
    let c_dir = tmp.path().join("control");
    // The control needs no teacher upstream.
    run("student", &control, &[("data", &data_dir)], &c_dir);
    assert!(!c_dir.join("logits.safetensors").exists());
    // The distilled student and the control see the same data and seed; the
    // soft term must make their weights differ.
    assert_ne!(
        std::fs::read(s_dir.join("model.safetensors")).unwrap(),
        std::fs::read(c_dir.join("model.safetensors")).unwrap()
    );
    let loaded = stages::models::load_model(&s_dir, tch::Device::Cpu).unwrap();
    assert_eq!(loaded.layer_names(), vec!["block1.conv"]);
}

#[test]
fn training_is_bit_identical_across_runs() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = prepare_folder(tmp.path());
    let tp = TeacherParams {
        model: model(2),
        train: train(2, true),
    };
    let mut outs = Vec::new();
    for run_i in 0..2 {
        let dir = tmp.path().join(format!("run{run_i}"));
        run("teacher", &tp, &[("data", &data_dir)], &dir);
        let ev = tmp.path().join(format!("eval{run_i}"));
        run(
            "evaluate",
            &eval_params(),
            &[("data", &data_dir), ("model", &dir)],
            &ev,
        );
        // Every output but the wall-clock files (latency.json,
        // throughput.json) must be bit-identical.
        let m = [
            std::fs::read(ev.join("metrics.json")).unwrap(),
            std::fs::read(ev.join("metrics.csv")).unwrap(),
            std::fs::read(dir.join("train.json")).unwrap(),
            std::fs::read(dir.join("model.json")).unwrap(),
        ];
        assert!(ev.join("latency.json").is_file());
        outs.push((
            std::fs::read(dir.join("model.safetensors")).unwrap(),
            std::fs::read(dir.join("logits.safetensors")).unwrap(),
            std::fs::read(dir.join("history.csv")).unwrap(),
            m,
        ));
    }
    assert!(
        outs[0].0 == outs[1].0,
        "model.safetensors differs between runs"
    );
    assert!(
        outs[0].1 == outs[1].1,
        "logits.safetensors differs between runs"
    );
    assert_eq!(outs[0].2, outs[1].2);
    assert_eq!(outs[0].3, outs[1].3);
}

fn npy(shape: &[usize], descr: &str, data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn medmnist_npz_keeps_its_splits() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tinymnist.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (part, n) in [("train", 12usize), ("val", 4), ("test", 6)] {
        let mut imgs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let label = (i % 3) as u8;
            // Distinct content per image (no accidental duplicates).
            imgs.extend((0..64).map(|p| {
                (p as u8)
                    .wrapping_mul(label + 1)
                    .wrapping_add(i as u8 * 7 + part.len() as u8)
            }));
            labels.push(label);
        }
        zip.start_file(format!("{part}_images.npy"), opts).unwrap();
        zip.write_all(&npy(&[n, 8, 8], "|u1", &imgs)).unwrap();
        zip.start_file(format!("{part}_labels.npy"), opts).unwrap();
        zip.write_all(&npy(&[n, 1], "|u1", &labels)).unwrap();
    }
    zip.finish().unwrap();
    let files = list_input_files(tmp.path()).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let info = prepare_dataset(
        &ds_params("npz", DatasetFormat::Medmnist, 8, 1),
        &files,
        &out,
        1,
    )
    .unwrap();
    assert_eq!(info.classes, vec!["0", "1", "2"]);
    assert_eq!(info.split["train"].len(), 12);
    assert_eq!(info.split["val"].len(), 4);
    assert_eq!(info.split["test"].len(), 6);
    assert_eq!(info.counts["test"]["2"], 2);
    let data = PreparedData::load(&out).unwrap();
    assert_eq!(data.train.x.size(), vec![12, 1, 8, 8]);
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn idx_gz_resized_and_split() {
    let tmp = tempfile::tempdir().unwrap();
    for (prefix, n) in [("train", 20u32), ("t10k", 6)] {
        let mut img = vec![0, 0, 8, 3];
        for d in [n, 6, 6] {
            img.extend_from_slice(&d.to_be_bytes());
        }
        let mut lab = vec![0, 0, 8, 1];
        lab.extend_from_slice(&n.to_be_bytes());
        for i in 0..n {
            img.extend(
                (0..36u32).map(|p| ((p * 3 + i * 11 + prefix.len() as u32 * 5) % 256) as u8),
            );
            lab.push((i % 2) as u8);
        }
        std::fs::write(
            tmp.path().join(format!("{prefix}-images-idx3-ubyte.gz")),
            gz(&img),
        )
        .unwrap();
        std::fs::write(
            tmp.path().join(format!("{prefix}-labels-idx1-ubyte.gz")),
            gz(&lab),
        )
        .unwrap();
    }
    let files = list_input_files(tmp.path()).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut p = ds_params("idx", DatasetFormat::Idx, 12, 3);
    p.val_fraction = 0.25;
    let info = prepare_dataset(&p, &files, &out, 2).unwrap();
    assert_eq!(info.split["test"].len(), 6);
    assert_eq!(info.split["val"].len(), 6); // round(10 · 0.25) = 3 per class
    assert_eq!(info.split["train"].len(), 14);
    let data = PreparedData::load(&out).unwrap();
    assert_eq!(data.test.x.size(), vec![6, 3, 12, 12]);
    p.max_per_class = Some(2);
    let info = prepare_dataset(&p, &files, &out, 2).unwrap();
    for split in ["train", "val", "test"] {
        assert_eq!(info.split[split].len(), 4, "{split}");
    }
}

#[test]
fn corrupt_image_is_named_or_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_imagefolder(&src, 6);
    std::fs::write(src.join("b/broken.png"), b"this is not a png").unwrap();
    let files = list_input_files(&src).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut p = ds_params("c", DatasetFormat::Imagefolder, 16, 1);
    let err = prepare_dataset(&p, &files, &out, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("b/broken.png"), "{err}");
    p.skip_corrupt = true;
    let info = prepare_dataset(&p, &files, &out, 1).unwrap();
    assert_eq!(info.skipped_corrupt, 1);
    assert_eq!(info.skipped_files, vec!["b/broken.png"]);
}

#[test]
fn empty_class_and_missing_test_class_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_imagefolder(&src, 6);
    std::fs::create_dir_all(src.join("empty")).unwrap();
    let files = list_input_files(&src).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let p = ds_params("e", DatasetFormat::Imagefolder, 16, 1);
    let err = prepare_dataset(&p, &files, &out, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("empty") && err.contains("has no images"),
        "{err}"
    );

    std::fs::remove_dir(src.join("empty")).unwrap();
    std::fs::create_dir_all(src.join("rare")).unwrap();
    class_image(0, 99).save(src.join("rare/only.png")).unwrap();
    let files = list_input_files(&src).unwrap();
    let err = prepare_dataset(&p, &files, &out, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("class `rare` has no images in the test split"),
        "{err}"
    );
}

/// `val_fraction` is a fraction of each class's pool: 20 per class at
/// val 0.15 / test 0.2 give 3 val and 4 test (the old code took 15 % of
/// the 16 left after the test split: 2).
#[test]
fn val_fraction_is_a_fraction_of_the_pool() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_imagefolder(&src, 20);
    std::fs::remove_file(src.join("a/copy_of_0.png")).unwrap();
    let files = list_input_files(&src).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut p = ds_params("v", DatasetFormat::Imagefolder, 8, 1);
    p.val_fraction = 0.15;
    p.test_fraction = 0.2;
    let info = prepare_dataset(&p, &files, &out, 1).unwrap();
    for class in ["a", "b"] {
        assert_eq!(info.counts["val"][class], 3, "{class}");
        assert_eq!(info.counts["test"][class], 4, "{class}");
        assert_eq!(info.counts["train"][class], 13, "{class}");
    }
}

/// A shipped `val/` folder is the validation split (it used to be
/// ignored), train and test stay as given.
#[test]
fn val_dir_is_the_validation_split() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    // Distinct images (class_image repeats every 40 seeds).
    for (split, n, first) in [("train", 6, 0), ("val", 2, 10), ("test", 3, 20)] {
        for (c, class) in ["a", "b"].iter().enumerate() {
            let dir = src.join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let seed = first + i;
                class_image(c, seed)
                    .save(dir.join(format!("{i}.png")))
                    .unwrap();
            }
        }
    }
    let files = list_input_files(&src).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut p = ds_params("v", DatasetFormat::Imagefolder, 8, 1);
    p.train_dir = Some("train".into());
    p.test_dir = Some("test".into());
    p.val_dir = Some("val".into());
    let info = prepare_dataset(&p, &files, &out, 1).unwrap();
    for class in ["a", "b"] {
        assert_eq!(
            [
                info.counts["train"][class],
                info.counts["val"][class],
                info.counts["test"][class]
            ],
            [6, 2, 3],
            "{class}"
        );
    }
    // Without val_dir the val folder is not read, and validation is drawn
    // from train (round(6 * 0.2) = 1 per class).
    p.val_dir = None;
    let files: Vec<_> = list_input_files(&src)
        .unwrap()
        .into_iter()
        .filter(|f| !f.key.starts_with("val/"))
        .collect();
    let info = prepare_dataset(&p, &files, &out, 1).unwrap();
    assert_eq!(info.counts["val"]["a"], 1);
    assert_eq!(info.counts["train"]["a"], 5);
}

/// Every class must reach validation too (only train and test were
/// checked): one image per class cannot, and the error names class and
/// split.
#[test]
fn a_class_missing_from_validation_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_imagefolder(&src, 8);
    // `rare`: 2 images: round(2 * 0.5) = 1 test, round(2 * 0.15) = 0 val.
    std::fs::create_dir_all(src.join("rare")).unwrap();
    for i in 0..2 {
        class_image(0, 50 + i)
            .save(src.join(format!("rare/{i}.png")))
            .unwrap();
    }
    let files = list_input_files(&src).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut p = ds_params("r", DatasetFormat::Imagefolder, 8, 1);
    p.val_fraction = 0.15;
    p.test_fraction = 0.5;
    let err = prepare_dataset(&p, &files, &out, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("class `rare` has no images in the val split"),
        "{err}"
    );
}

#[test]
fn changed_input_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_imagefolder(&src, 3);
    let mut files = list_input_files(&src).unwrap();
    files[0].expected_sha256 = Some("00".repeat(32));
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let err = prepare_dataset(
        &ds_params("x", DatasetFormat::Imagefolder, 8, 1),
        &files,
        &out,
        1,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&files[0].key) && err.contains("changed"),
        "{err}"
    );
}

/// Training throughput of the VGG-style CNN on random data, for
/// BENCHMARKS.md (compare with `bench/pytorch_train.py`, same settings).
/// Run: `KDPIPE_BENCH_THREADS=1 cargo test -p stages --release --test
/// tiny_stages -- --ignored --nocapture bench_train_throughput`.
/// Env: KDPIPE_BENCH_{THREADS,DEPTH,WIDTH,MAX_WIDTH,SIZE,CHANNELS,N,BATCH,EPOCHS}.
#[test]
#[ignore]
fn bench_train_throughput() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = |k: &str, d: i64| -> i64 {
        std::env::var(format!("KDPIPE_BENCH_{k}"))
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let threads = env("THREADS", 1);
    let (depth, width, max_width) = (env("DEPTH", 5), env("WIDTH", 16), env("MAX_WIDTH", 256));
    let (size, channels, n, batch, epochs) = (
        env("SIZE", 48),
        env("CHANNELS", 1),
        env("N", 512),
        env("BATCH", 32),
        env("EPOCHS", 3),
    );
    tch::set_num_threads(threads as i32);
    tch::manual_seed(0);
    let x = tch::Tensor::randn([n, channels, size, size], tch::kind::FLOAT_CPU);
    let y = tch::Tensor::randint(4, [n], tch::kind::INT64_CPU);
    let train_split = stages::data::Split { x, y };
    let val = stages::data::Split {
        x: tch::Tensor::zeros([0, channels, size, size], tch::kind::FLOAT_CPU),
        y: tch::Tensor::zeros([0], tch::kind::INT64_CPU),
    };
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let mp = ModelParams {
        arch: Arch::Cnn,
        depth: depth as u32,
        width: width as u32,
        max_width: max_width as u32,
        dropout: 0.2,
        weights: None,
    };
    let built = stages::models::build_model(&mp, channels, size, 4, &vs.root()).unwrap();
    let mut tp = train(epochs as u32, false);
    tp.batch_size = batch as u32;
    tp.lr = 1e-3;
    tp.schedule = Schedule::None;
    let res = stages::train::fit::fit(
        built.model.as_ref(),
        &vs,
        &train_split,
        &val,
        &tp,
        None,
        &|_| {},
    )
    .unwrap();
    let gflop = 2.0 * 3.0 * built.macs as f64 * res.images_per_s / 1e9;
    println!(
        "kdpipe-bench depth={depth} width={width} max_width={max_width} size={size} channels={channels} n={n} batch={batch} threads={threads} params={} macs={} images_per_s={:.1} approx_train_gflops={gflop:.2}",
        stages::models::param_count(&vs),
        built.macs,
        res.images_per_s
    );
}

/// Sanity run on the real brain MRI set (not a test of record): prepare at
/// 32×32 grayscale, train a 5-block teacher, evaluate; prints timings.
/// Run: `cargo test -p stages --release --test tiny_stages -- --ignored
/// --nocapture brain_mri_sanity` (data in ~/.cache/kdpipe/data/brain-mri).
#[test]
#[ignore]
fn brain_mri_sanity() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let home = std::env::var("HOME").unwrap();
    let src = PathBuf::from(home).join(".cache/kdpipe/data/brain-mri");
    let threads: usize = std::env::var("KDPIPE_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let tmp = tempfile::tempdir().unwrap();
    let t0 = std::time::Instant::now();
    let files = list_input_files(&src).unwrap();
    let out = tmp.path().join("data");
    std::fs::create_dir_all(&out).unwrap();
    let info = prepare_dataset(
        &ds_params("brain-mri", DatasetFormat::Imagefolder, 32, 1),
        &files,
        &out,
        threads,
    )
    .unwrap();
    println!(
        "prepare: {:.2}s files={} dups={} counts={:?}",
        t0.elapsed().as_secs_f64(),
        files.len(),
        info.duplicates_removed,
        info.counts
    );
    let t1 = std::time::Instant::now();
    let mut tr = train(30, true);
    tr.batch_size = 32;
    tr.lr = 1e-3;
    let tp = TeacherParams {
        model: ModelParams {
            depth: 5,
            width: 16,
            max_width: 256,
            dropout: 0.3,
            ..model(5)
        },
        train: tr,
    };
    let tdir = tmp.path().join("teacher");
    run_threads("teacher", &tp, &[("data", &out)], &tdir, threads);
    println!(
        "teacher: {:.2}s train.json={}",
        t1.elapsed().as_secs_f64(),
        std::fs::read_to_string(tdir.join("train.json")).unwrap()
    );
    let ev = tmp.path().join("eval");
    run_threads(
        "evaluate",
        &eval_params(),
        &[("data", &out), ("model", &tdir)],
        &ev,
        threads,
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ev.join("metrics.json")).unwrap()).unwrap();
    println!(
        "test accuracy={} macro_f1={} auc={} latency_ms={}",
        m["accuracy"], m["macro_f1"], m["roc_auc_macro_ovr"], m["latency_ms_median"]
    );
}

/// The `kdpipe-stage` binary runs the exec-stage protocol against a real
/// store: prepare (inputs checked by content hash) then a teacher, with
/// progress lines on stdout and the artifacts published.
#[test]
fn kdpipe_stage_binary_publishes_prepare_and_teacher() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_imagefolder(&src, 8);
    let store = engine::store::Store::open(&tmp.path().join("store")).unwrap();
    let inputs: BTreeMap<String, String> = list_input_files(&src)
        .unwrap()
        .into_iter()
        .map(|f| {
            let digest = sha2::Sha256::digest(std::fs::read(&f.path).unwrap());
            (f.key, digest.iter().map(|b| format!("{b:02x}")).collect())
        })
        .collect();
    let to_params = |v: serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        v.as_object().unwrap().clone().into_iter().collect()
    };
    let spec = |kind: &str, params, upstream, inputs, input_root| StageSpec {
        name: format!("t/{kind}"),
        kind: kind.into(),
        code_version: 1,
        params,
        upstream,
        inputs,
        input_root,
        resources: Resources::default(),
    };
    let exec = |fp: &engine::Fingerprint| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kdpipe-stage"))
            .args(["exec-stage", fp.as_str(), "--store"])
            .arg(store.root())
            .args(["--threads", "1"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let ds = serde_json::to_value(ds_params("tiny", DatasetFormat::Imagefolder, 16, 1)).unwrap();
    let prep = spec(
        "prepare",
        to_params(ds),
        BTreeMap::new(),
        inputs,
        Some(src.clone()),
    );
    let prep_fp = store.write_spec(&prep).unwrap();
    exec(&prep_fp);
    assert!(store.artifact_dir(&prep_fp).join("dataset.json").is_file());

    let tp = TeacherParams {
        model: model(2),
        train: train(2, false),
    };
    let teacher = spec(
        "teacher",
        to_params(serde_json::to_value(&tp).unwrap()),
        [("data".to_string(), prep_fp.clone())]
            .into_iter()
            .collect(),
        BTreeMap::new(),
        None,
    );
    let t_fp = store.write_spec(&teacher).unwrap();
    let stdout = exec(&t_fp);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("@kdpipe")).count(),
        2,
        "{stdout}"
    );
    assert!(store
        .artifact_dir(&t_fp)
        .join("logits.safetensors")
        .is_file());
}

/// The Kaggle layout: `Training/<class>` and `Testing/<class>`; the test
/// folder is the test split, validation comes out of the training folder,
/// and a training image duplicated in the test folder is dropped from
/// training (no leak).
#[test]
fn presplit_train_test_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_imagefolder(&src.join("Training"), 10);
    write_imagefolder(&src.join("Testing"), 3);
    // Testing/a/img000.png equals Training/a/img000.png (same generator).
    let files = list_input_files(&src).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut p = ds_params("k", DatasetFormat::Imagefolder, 16, 1);
    p.train_dir = Some("Training".into());
    p.test_dir = Some("Testing".into());
    let info = prepare_dataset(&p, &files, &out, 1).unwrap();
    // Testing: 3 per class + a copy (removed); Training: 10 + 1 copy per a,
    // minus the 3 per class that also sit in Testing.
    assert_eq!(info.split["test"].len(), 6);
    assert_eq!(info.duplicates_removed, 1 + 1 + 6);
    let trainval = info.split["train"].len() + info.split["val"].len();
    assert_eq!(trainval, 14);
    let test: std::collections::BTreeSet<_> = info.split["test"].iter().collect();
    assert!(info.split["train"].iter().all(|h| !test.contains(h)));
}
