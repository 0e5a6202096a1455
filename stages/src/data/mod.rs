//! Data preparation (`prepare` stage) and loading of prepared datasets.
//!
//! Flow: read the source ([`sources`]: ImageFolder, MedMNIST `.npz`, IDX) →
//! drop exact duplicates by content hash ([`split::dedupe`]) → seeded
//! stratified split ([`split::stratified_split`]) → decode, convert and
//! resize in parallel ([`decode`]) → `data.safetensors` (u8 [N, C, H, W] and
//! i64 labels per split) + `dataset.json`. Normalisation statistics are
//! computed on the training split only and applied at load time
//! ([`PreparedData::load`]), so training never decodes an image again.
//!
//! Not yet wired into `prepare`: [`near_dup`] groups near-duplicates (same
//! scan re-encoded or resized) and [`split::group_stratified_split`] keeps
//! each group inside one split.

mod arrays;
mod decode;
mod grouping_error;
mod near_dup;
mod prepared;
mod sources;
mod split;

use std::collections::BTreeMap;
use std::path::Path;

use engine::exec::{StageContext, StageReport};
use rayon::prelude::*;
use study::contract::artifacts::Dataset;
use study::kd::params::DatasetParams;
use tch::Tensor;

pub use grouping_error::GroupingError;
pub use near_dup::{
    HashKind, NearDupCfg, NearDupCounts, NearDupReport, OnLabelConflict, DEFAULT_CANONICAL_SIZE,
    DEFAULT_MAX_HAMMING, DEFAULT_MIN_PEARSON,
};
pub use prepared::{PreparedData, Split};
pub use sources::{list_input_files, InputFile};

use crate::error::{write_artifact, Result, StagesError};

/// The `prepare` stage: reads `ctx.spec.inputs` (keys relative to
/// `ctx.spec.input_root`, content hashes checked) and writes the dataset.
pub fn run_prepare(ctx: &StageContext<'_>) -> Result<StageReport, engine::exec::StageFailure> {
    let params: DatasetParams = ctx.params()?;
    let files: Vec<InputFile> = ctx
        .spec
        .inputs
        .iter()
        .map(|(key, hash)| InputFile {
            key: key.clone(),
            path: match &ctx.spec.input_root {
                Some(root) => root.join(key),
                None => key.into(),
            },
            expected_sha256: Some(hash.clone()),
        })
        .collect();
    let info = prepare_dataset(&params, &files, ctx.out_dir, ctx.threads)?;
    let summary = serde_json::json!({
        "classes": info.classes,
        "train": info.split["train"].len(),
        "val": info.split["val"].len(),
        "test": info.split["test"].len(),
        "duplicates_removed": info.duplicates_removed,
        "skipped_corrupt": info.skipped_corrupt,
    });
    Ok(StageReport {
        device: "cpu".into(),
        summary,
    })
}

/// Prepares a dataset from `files` into `out_dir` using `threads` workers.
pub fn prepare_dataset(
    params: &DatasetParams,
    files: &[InputFile],
    out_dir: &Path,
    threads: usize,
) -> Result<Dataset> {
    validate(params)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| StagesError::param("threads", threads, e.to_string()))?;
    pool.install(|| prepare_in_pool(params, files, out_dir))
}

fn validate(p: &DatasetParams) -> Result<()> {
    if !(p.channels == 1 || p.channels == 3) {
        return Err(StagesError::param(
            "channels",
            p.channels,
            "expected 1 or 3",
        ));
    }
    if p.image_size == 0 {
        return Err(StagesError::param("image_size", 0, "must be positive"));
    }
    for (key, v) in [
        ("val_fraction", p.val_fraction),
        ("test_fraction", p.test_fraction),
    ] {
        if !(0.0..1.0).contains(&v) {
            return Err(StagesError::param(key, v, "must be in [0, 1)"));
        }
    }
    if p.val_fraction + p.test_fraction >= 1.0 {
        return Err(StagesError::param(
            "val_fraction + test_fraction",
            p.val_fraction + p.test_fraction,
            "must be below 1",
        ));
    }
    Ok(())
}

fn prepare_in_pool(params: &DatasetParams, files: &[InputFile], out_dir: &Path) -> Result<Dataset> {
    let source = sources::read_source(params, files)?;
    let classes = source.classes;
    let (items, duplicates_removed) = split::dedupe(source.items);

    // Decode everything that survived deduplication, in parallel.
    let decoded: Vec<std::result::Result<Vec<u8>, String>> = items
        .par_iter()
        .map(|it| decode::to_chw(&it.content, params.channels, params.image_size))
        .collect();
    let mut keep = Vec::with_capacity(items.len());
    let mut pixels = Vec::with_capacity(items.len());
    let mut skipped_files = Vec::new();
    for (it, px) in items.iter().zip(decoded) {
        match px {
            Ok(px) => {
                keep.push(it);
                pixels.push(px);
            }
            Err(reason) if params.skip_corrupt => {
                let _ = reason;
                skipped_files.push(it.key.clone());
            }
            Err(reason) => {
                return Err(StagesError::CorruptImage {
                    path: it.key.clone(),
                    reason,
                })
            }
        }
    }

    let labels: Vec<usize> = keep.iter().map(|it| it.label).collect();
    let given: Vec<_> = keep.iter().map(|it| it.given).collect();
    let hashes: Vec<String> = keep.iter().map(|it| it.hash.clone()).collect();
    let dataset_err = |reason: String| StagesError::Dataset {
        dataset: params.name.clone(),
        reason,
    };
    for (c, name) in classes.iter().enumerate() {
        if !labels.contains(&c) {
            return Err(dataset_err(format!("class `{name}` has no images")));
        }
    }
    let idx = split::stratified_split(
        &labels,
        &given,
        &hashes,
        classes.len(),
        &split::SplitCfg {
            val_fraction: params.val_fraction,
            test_fraction: params.test_fraction,
            seed: params.split_seed,
            max_per_class: params.max_per_class,
        },
    );
    for (split_name, part) in [("train", &idx.train), ("test", &idx.test)] {
        for (c, name) in classes.iter().enumerate() {
            if !part.iter().any(|&i| labels[i] == c) {
                return Err(dataset_err(format!(
                    "class `{name}` has no images in the {split_name} split"
                )));
            }
        }
    }

    let c = params.channels as usize;
    let s = params.image_size as usize;
    let (mean, std) = channel_stats(&idx.train, &pixels, c, s * s);
    let mut tensors: Vec<(String, Tensor)> = Vec::new();
    let mut counts = BTreeMap::new();
    let mut split_hashes = BTreeMap::new();
    for (name, part) in [
        ("train", &idx.train),
        ("val", &idx.val),
        ("test", &idx.test),
    ] {
        let mut flat = Vec::with_capacity(part.len() * c * s * s);
        for &i in part.iter() {
            flat.extend_from_slice(&pixels[i]);
        }
        let ys: Vec<i64> = part.iter().map(|&i| labels[i] as i64).collect();
        let x = Tensor::from_slice(&flat).view([part.len() as i64, c as i64, s as i64, s as i64]);
        tensors.push((format!("{name}_x"), x));
        tensors.push((format!("{name}_y"), Tensor::from_slice(&ys)));
        let mut per_class: BTreeMap<String, usize> =
            classes.iter().map(|cl| (cl.clone(), 0)).collect();
        for &i in part.iter() {
            *per_class.entry(classes[labels[i]].clone()).or_default() += 1;
        }
        counts.insert(name.to_string(), per_class);
        split_hashes.insert(
            name.to_string(),
            part.iter().map(|&i| hashes[i].clone()).collect::<Vec<_>>(),
        );
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let data_path = out_dir.join("data.safetensors");
    Tensor::write_safetensors(&tensors, &data_path).map_err(StagesError::torch(format!(
        "writing {}",
        data_path.display()
    )))?;
    let info = Dataset {
        name: params.name.clone(),
        classes,
        channels: params.channels,
        image_size: params.image_size,
        counts,
        mean,
        std,
        duplicates_removed,
        skipped_corrupt: skipped_files.len(),
        skipped_files,
        split: split_hashes,
    };
    write_artifact(out_dir, &info)?;
    Ok(info)
}

/// Per-channel mean and std (population) of the training images in [0, 1].
fn channel_stats(
    train: &[usize],
    pixels: &[Vec<u8>],
    c: usize,
    plane: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; c];
    let mut std = vec![1.0; c];
    if train.is_empty() {
        return (mean, std);
    }
    for ch in 0..c {
        let (mut sum, mut sq) = (0u64, 0u64);
        for &i in train {
            for &v in &pixels[i][ch * plane..(ch + 1) * plane] {
                sum += v as u64;
                sq += (v as u64) * (v as u64);
            }
        }
        let n = (train.len() * plane) as f64;
        let m = sum as f64 / n / 255.0;
        let var = (sq as f64 / n / (255.0 * 255.0) - m * m).max(0.0);
        mean[ch] = m;
        std[ch] = if var.sqrt() > 1e-6 { var.sqrt() } else { 1.0 };
    }
    (mean, std)
}
