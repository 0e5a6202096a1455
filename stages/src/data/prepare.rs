//! The `prepare` stage: one data set source in, `data.safetensors` and
//! `dataset.json` out (the flow is in [`super`]'s docs).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use engine::exec::{StageContext, StageReport};
use rayon::prelude::*;
use study::contract::artifacts::Dataset;
use study::kd::params::{DatasetParams, OnLabelConflict};
use tch::Tensor;

use super::decode;
use super::grouping_error::GroupingError;
use super::near_dup::{group_near_duplicates, NearDupCfg};
use super::sources::{self, InputFile, RawItem};
use super::split::{self, SplitCfg, SplitIdx};
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
    let count = |s: &str| info.split.get(s).map_or(0, Vec::len);
    let summary = serde_json::json!({
        "classes": info.classes,
        "train": count("train"),
        "val": count("val"),
        "test": count("test"),
        "duplicates_removed": info.duplicates_removed,
        "skipped_corrupt": info.skipped_corrupt,
        "near_dup_clusters": info.near_duplicates.as_ref().map(|r| r.counts.clusters),
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

fn dataset_err(params: &DatasetParams, reason: String) -> StagesError {
    StagesError::Dataset {
        dataset: params.name.clone(),
        reason,
    }
}

/// Decodable items, their pixels by key, the keys skipped as unreadable.
type Decoded = (Vec<RawItem>, HashMap<String, Vec<u8>>, Vec<String>);

/// Decodes every item (in the current pool); returns the decodable items
/// with their pixels, and the keys of the undecodable ones when
/// `skip_corrupt` (else the first undecodable one is an error).
fn decode_all(params: &DatasetParams, items: Vec<RawItem>) -> Result<Decoded> {
    let decoded: Vec<std::result::Result<Vec<u8>, String>> = items
        .par_iter()
        .map(|it| {
            decode::to_chw(
                &it.content,
                params.channels,
                params.image_size,
                params.resize,
            )
        })
        .collect();
    let mut keep = Vec::with_capacity(items.len());
    let mut pixels = HashMap::with_capacity(items.len());
    let mut skipped = Vec::new();
    for (it, px) in items.into_iter().zip(decoded) {
        match px {
            Ok(px) => {
                pixels.insert(it.key.clone(), px);
                keep.push(it);
            }
            Err(_) if params.skip_corrupt => skipped.push(it.key),
            Err(reason) => {
                let reason = if it.content_len() == 0 {
                    "the file is empty (0 bytes)".to_string()
                } else {
                    reason
                };
                return Err(StagesError::CorruptImage {
                    path: it.key,
                    reason,
                });
            }
        }
    }
    Ok((keep, pixels, skipped))
}

/// Byte-identical files under two labels (which [`split::dedupe`] would
/// silently reduce to one): an error naming two of them, or with
/// `label_conflicts = "drop"` every copy dropped; returns the rest and the
/// dropped groups (keys).
fn exact_label_conflicts(
    params: &DatasetParams,
    classes: &[String],
    items: Vec<RawItem>,
) -> Result<(Vec<RawItem>, Vec<Vec<String>>)> {
    let mut by_hash: BTreeMap<&str, Vec<&RawItem>> = BTreeMap::new();
    for it in &items {
        by_hash.entry(it.hash.as_str()).or_default().push(it);
    }
    let mut drop: HashSet<String> = HashSet::new();
    let mut groups = Vec::new();
    for copies in by_hash.values_mut() {
        copies.sort_by(|a, b| a.key.cmp(&b.key));
        let Some(other) = copies.iter().find(|c| c.label != copies[0].label) else {
            continue;
        };
        match params.label_conflicts {
            OnLabelConflict::Error => {
                let name = |l: usize| classes.get(l).cloned().unwrap_or_else(|| l.to_string());
                return Err(GroupingError::LabelConflict {
                    first: copies[0].key.clone(),
                    first_label: name(copies[0].label),
                    second: other.key.clone(),
                    second_label: name(other.label),
                    hamming: 0,
                    pearson: 1.0,
                }
                .into_stages(&params.name));
            }
            OnLabelConflict::Drop => {
                drop.insert(copies[0].hash.clone());
                groups.push(copies.iter().map(|c| c.key.clone()).collect());
            }
        }
    }
    let kept = items
        .into_iter()
        .filter(|it| !drop.contains(&it.hash))
        .collect();
    Ok((kept, groups))
}

fn prepare_in_pool(params: &DatasetParams, files: &[InputFile], out_dir: &Path) -> Result<Dataset> {
    let source = sources::read_source(params, files)?;
    let classes = source.classes;
    if classes.len() < 2 {
        return Err(dataset_err(
            params,
            format!(
                "only one class (`{}`); a classification data set needs at least two",
                classes.join("`, `")
            ),
        ));
    }
    let (items, exact_conflicts) = exact_label_conflicts(params, &classes, source.items)?;
    let (items, duplicates_removed) = split::dedupe(items);
    let (items, mut pixels, skipped_files) = decode_all(params, items)?;
    for (c, name) in classes.iter().enumerate() {
        if !items.iter().any(|it| it.label == c) {
            let why = if skipped_files.is_empty() {
                ""
            } else {
                " left after skipping unreadable ones"
            };
            return Err(dataset_err(
                params,
                format!("class `{name}` has no images{why}"),
            ));
        }
    }

    // Near-duplicate groups (or every image its own group).
    let (items, groups, near_duplicates) = if params.near_duplicates {
        let cfg = NearDupCfg {
            max_hamming: params.near_dup_hamming,
            min_pearson: params.near_dup_min_corr,
            on_label_conflict: params.label_conflicts,
            ..NearDupCfg::default()
        };
        let mut out = group_near_duplicates(items, &classes, &cfg)
            .map_err(|e| e.into_stages(&params.name))?;
        let dropped: usize = exact_conflicts.iter().map(Vec::len).sum();
        out.report.counts.dropped_label_conflict += dropped;
        out.report.label_conflicts.extend(exact_conflicts);
        out.report.label_conflicts.sort();
        (out.items, out.groups, Some(out.report))
    } else {
        let mut items = items;
        items.sort_by(|a, b| a.key.cmp(&b.key));
        let groups = (0..items.len()).collect();
        (items, groups, None)
    };
    let labels: Vec<usize> = items.iter().map(|it| it.label).collect();
    let given: Vec<_> = items.iter().map(|it| it.given).collect();
    let hashes: Vec<String> = items.iter().map(|it| it.hash.clone()).collect();
    let idx = split::group_stratified_split(
        &labels,
        &given,
        &hashes,
        &groups,
        &classes,
        &SplitCfg {
            val_fraction: params.val_fraction,
            test_fraction: params.test_fraction,
            seed: params.split_seed,
            max_per_class: params.max_per_class,
        },
    )
    .map_err(|e| e.into_stages(&params.name))?;
    let pixels: Vec<Vec<u8>> = items
        .iter()
        .map(|it| pixels.remove(&it.key).unwrap_or_default())
        .collect();
    let (mean, std, counts, split_hashes) =
        write_tensors(params, &classes, &idx, &labels, &hashes, &pixels, out_dir)?;
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
        near_duplicates,
    };
    write_artifact(out_dir, &info)?;
    Ok(info)
}

/// split → class → count.
type Counts = BTreeMap<String, BTreeMap<String, usize>>;

/// Writes `data.safetensors` (`<split>_x`: u8 [n, C, S, S], `<split>_y`:
/// i64 [n]); returns the training split's channel mean and std, the counts
/// and the split hashes.
#[allow(clippy::type_complexity)]
fn write_tensors(
    params: &DatasetParams,
    classes: &[String],
    idx: &SplitIdx,
    labels: &[usize],
    hashes: &[String],
    pixels: &[Vec<u8>],
    out_dir: &Path,
) -> Result<(Vec<f64>, Vec<f64>, Counts, BTreeMap<String, Vec<String>>)> {
    let c = params.channels as usize;
    let s = params.image_size as usize;
    let (mean, std) = channel_stats(&idx.train, pixels, c, s * s);
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
    Ok((mean, std, counts, split_hashes))
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
