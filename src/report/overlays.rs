//! Sample explanations: the overlay PNGs of a few test images for the
//! teacher and every student of one seed, copied into the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engine::store::Store;
use polars::prelude::*;
use study::index::{StageRef, StudyIndex};

use super::ReportError;
use crate::plots::file_safe;

/// The explain stage's folder of overlay PNGs.
const OVERLAYS: &str = "overlays";

/// How many sample images the report shows per dataset.
const SAMPLE_IMAGES: usize = 3;

/// Overlays of one model: image number → method → path relative to the
/// report folder.
#[derive(Debug, Clone)]
pub(crate) struct ModelSamples {
    pub model_stage: String,
    pub explain_fp: String,
    pub images: BTreeMap<u32, BTreeMap<String, String>>,
}

/// Samples of one dataset (teacher first).
#[derive(Debug, Clone)]
pub(crate) struct DatasetSamples {
    pub dataset: String,
    pub seed: i64,
    pub methods: Vec<String>,
    pub models: Vec<ModelSamples>,
}

/// `img<NN>_<method>.png` → (NN, method).
fn parse_overlay(name: &str) -> Option<(u32, String)> {
    let rest = name.strip_prefix("img")?.strip_suffix(".png")?;
    let (num, method) = rest.split_once('_')?;
    Some((num.parse().ok()?, method.to_owned()))
}

pub(crate) fn copy_samples(
    store: &Store,
    index: &StudyIndex,
    gathered: &DataFrame,
    out_dir: &Path,
) -> Result<Vec<DatasetSamples>, ReportError> {
    // Model stage name → its explain stage.
    let explain_of: BTreeMap<&str, &StageRef> = index
        .models
        .iter()
        .filter_map(|m| Some((m.model.name.as_str(), m.explain.as_ref()?)))
        .collect();
    // The lowest seed of each dataset, teacher first then students in order.
    let rows = gathered
        .clone()
        .lazy()
        .filter(col("seed").eq(col("seed").min().over([col("dataset")])?))
        .select([col("dataset"), col("seed"), col("model_stage")])
        .collect()?;
    let ds = rows.column("dataset")?.str()?.clone();
    let seeds = rows.column("seed")?.i64()?.clone();
    let stages = rows.column("model_stage")?.str()?.clone();
    let mut out: Vec<DatasetSamples> = Vec::new();
    for i in 0..rows.height() {
        let (Some(dataset), Some(seed), Some(stage)) = (ds.get(i), seeds.get(i), stages.get(i))
        else {
            continue;
        };
        let Some(explain) = explain_of.get(stage) else {
            continue;
        };
        let fp = &explain.fingerprint;
        if !store.is_published(fp) {
            continue;
        }
        let src_dir = store.artifact_dir(fp).join(OVERLAYS);
        let Ok(entries) = std::fs::read_dir(&src_dir) else {
            continue;
        };
        let mut files: Vec<(u32, String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let (n, m) = parse_overlay(e.file_name().to_str()?)?;
                Some((n, m, e.path()))
            })
            .collect();
        files.sort();
        let entry = match out.iter_mut().position(|d| d.dataset == dataset) {
            Some(k) => &mut out[k],
            None => {
                out.push(DatasetSamples {
                    dataset: dataset.to_owned(),
                    seed,
                    methods: Vec::new(),
                    models: Vec::new(),
                });
                let k = out.len() - 1;
                &mut out[k]
            }
        };
        // The sample images are the first ones of the dataset's first model.
        let wanted: Vec<u32> = match entry.models.first() {
            Some(first) => first.images.keys().cloned().collect(),
            None => {
                let mut nums: Vec<u32> = files.iter().map(|f| f.0).collect();
                nums.dedup();
                nums.truncate(SAMPLE_IMAGES);
                nums
            }
        };
        let dir_name = file_safe(stage);
        let dest_dir = out_dir.join(&dir_name);
        std::fs::create_dir_all(&dest_dir).map_err(|source| ReportError::Io {
            path: dest_dir.clone(),
            source,
        })?;
        let mut images: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for (n, method, src) in files.into_iter().filter(|f| wanted.contains(&f.0)) {
            let file = format!("img{n:02}_{method}.png");
            let dest = dest_dir.join(&file);
            std::fs::copy(&src, &dest).map_err(|source| ReportError::Io { path: dest, source })?;
            if !entry.methods.contains(&method) {
                entry.methods.push(method.clone());
            }
            images
                .entry(n)
                .or_default()
                .insert(method, format!("overlays/{dir_name}/{file}"));
        }
        entry.models.push(ModelSamples {
            model_stage: stage.to_owned(),
            explain_fp: fp.to_string(),
            images,
        });
    }
    for d in &mut out {
        // Feature-map strip first, then Grad-CAM, then the rest.
        d.methods.sort_by_key(|m| match m.as_str() {
            "feature_maps" => 0,
            "gradcam" => 1,
            _ => 2,
        });
    }
    Ok(out)
}
