//! Helpers shared by the stage test binaries: tiny data, default-ish
//! parameters, and running one stage through `stages::run_stage`.
// Each test binary compiles its own copy and uses a subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use engine::exec::{Progress, StageContext, StageReport};
use engine::spec::{Resources, StageSpec};
use serde::Serialize;
use study::kd::params::{
    Arch, ClassWeight, DatasetFormat, DatasetParams, ModelParams, OnLabelConflict, ResizeMode,
    Schedule, Select, TrainParams,
};

pub fn ds_params(name: &str, format: DatasetFormat, size: u32, channels: u32) -> DatasetParams {
    DatasetParams {
        name: name.into(),
        format,
        image_size: size,
        channels,
        val_fraction: 0.2,
        test_fraction: 0.2,
        split_seed: 1,
        train_dir: None,
        test_dir: None,
        val_dir: None,
        resize: ResizeMode::Pad,
        skip_corrupt: false,
        max_per_class: None,
        // The synthetic classes below are one near-duplicate cluster each
        // (the same half-bright image with noise); near-duplicate tests
        // turn it on with their own data.
        near_duplicates: false,
        near_dup_hamming: 10,
        near_dup_min_corr: 0.95,
        label_conflicts: OnLabelConflict::Error,
    }
}

/// A 16×16 image of class `class`: a bright left half (class 0) or a
/// bright right half (class 1), with per-image noise.
pub fn class_image(class: usize, i: usize) -> image::RgbImage {
    image::RgbImage::from_fn(16, 16, |x, y| {
        let noise = ((x * 7 + y * 13 + i as u32 * 31) % 40) as u8;
        let bright = (x < 8) == (class == 0);
        let v = if bright { 180 + noise } else { 30 + noise };
        image::Rgb([v, v / 2 + noise, v])
    })
}

pub fn model(depth: u32) -> ModelParams {
    ModelParams {
        arch: Arch::Cnn,
        depth,
        width: 4,
        max_width: 16,
        dropout: 0.1,
        weights: None,
    }
}

pub fn train(epochs: u32, augment: bool) -> TrainParams {
    TrainParams {
        epochs,
        batch_size: 8,
        lr: 0.01,
        weight_decay: 1e-4,
        schedule: Schedule::Cosine,
        plateau_patience: 2,
        plateau_factor: 0.5,
        augment,
        select: Select::ValLoss,
        class_weight: ClassWeight::None,
        seed: 3,
        device: "cpu".into(),
    }
}

/// Runs stage `kind` with `params` on `threads` libtorch threads, its
/// upstream roles at the given folders, into `out`; panics if it fails.
/// Returns its report and the `done` count of every progress event.
pub fn run_stage(
    kind: &str,
    params: &impl Serialize,
    upstream: &[(&str, &Path)],
    out: &Path,
    threads: usize,
) -> (StageReport, Vec<u64>) {
    let value = serde_json::to_value(params).unwrap();
    let params: BTreeMap<String, serde_json::Value> = value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let spec = StageSpec {
        name: format!("test/{kind}"),
        kind: kind.into(),
        code_version: 1,
        params,
        upstream: BTreeMap::new(),
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Resources::default(),
    };
    let fp = spec.fingerprint();
    let done = std::cell::RefCell::new(Vec::new());
    let progress = |p: Progress| done.borrow_mut().push(p.done);
    std::fs::create_dir_all(out).unwrap();
    let ctx = StageContext {
        spec: &spec,
        fingerprint: &fp,
        out_dir: out,
        upstream: upstream
            .iter()
            .map(|(r, d)| (r.to_string(), d.to_path_buf()))
            .collect(),
        threads,
        progress: &progress,
    };
    let report = stages::run_stage(&ctx).unwrap_or_else(|e| panic!("{kind} failed: {e}"));
    (report, done.into_inner())
}
