//! Sample explanations: the overlay PNGs of a few test images for the
//! teacher and the selected students of one seed, copied into the report,
//! with what each map shows read from the explain stage's `explain.json`
//! (the image's test index and true label, the model's prediction, the
//! class each method explains).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engine::store::Store;
use polars::prelude::*;
use study::contract::artifacts::explain::Explain;
use study::index::{StageRef, StudyIndex};

use super::frame::{floats, strs};
use super::ReportError;
use crate::plots::file_safe;
use crate::tables::{checked_dir, read_artifact};

/// The explain stage's folder of overlay PNGs.
const OVERLAYS: &str = "overlays";

/// How many sample images the report shows per dataset.
const SAMPLE_IMAGES: usize = 3;

/// One model to show: its data set, configuration key and display name.
pub(crate) struct Pick {
    pub dataset: String,
    pub config: String,
    pub label: String,
}

/// One overlay PNG copied into the report.
#[derive(Debug, Clone)]
pub(crate) struct Map {
    /// Relative to the report folder.
    pub src: String,
    /// Square panels side by side in the PNG (input, then maps).
    pub panels: u32,
    /// The class the map explains; `None` for feature maps (no class).
    pub explains: Option<String>,
}

/// One model on one test image: its prediction and its maps by method.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    pub predicted: Option<String>,
    pub maps: BTreeMap<String, Map>,
}

/// The views of one model, by test index.
#[derive(Debug, Clone)]
pub(crate) struct ModelSamples {
    pub label: String,
    pub model_stage: String,
    pub explain_fp: String,
    pub views: BTreeMap<i64, View>,
}

/// Samples of one dataset: the test images (index, true label) the first
/// model explains, then every model on those same images.
#[derive(Debug, Clone)]
pub(crate) struct DatasetSamples {
    pub dataset: String,
    pub seed: i64,
    pub methods: Vec<String>,
    pub images: Vec<(i64, Option<String>)>,
    pub models: Vec<ModelSamples>,
}

/// `img<NN>_<method>.png` → (NN, method).
fn parse_overlay(name: &str) -> Option<(usize, String)> {
    let rest = name.strip_prefix("img")?.strip_suffix(".png")?;
    let (num, method) = rest.split_once('_')?;
    Some((num.parse().ok()?, method.to_owned()))
}

fn class_name(e: &Explain, class: Option<&i64>) -> Option<String> {
    let c = *class?;
    Some(
        usize::try_from(c)
            .ok()
            .and_then(|i| e.class_names.get(i).cloned())
            .unwrap_or_else(|| format!("class {c}")),
    )
}

/// The class `method` explains at `pos`, as `explain.json` records it.
fn explained(e: &Explain, method: &str, pos: usize) -> Option<String> {
    let classes = match method {
        "gradcam" => &e.methods.gradcam.as_ref()?.classes,
        "expected_gradients" => &e.methods.expected_gradients.as_ref()?.classes,
        _ => return None,
    };
    class_name(e, classes.get(pos))
}

/// Square panels in a `w` × `h` strip.
fn panels(path: &Path) -> u32 {
    match image::image_dimensions(path) {
        Ok((w, h)) if h > 0 => ((f64::from(w) / f64::from(h)).round() as u32).max(1),
        _ => 1,
    }
}

/// The lowest seed of `dataset` among the picked configurations.
fn first_seed(rows: &DataFrame, picks: &[&Pick]) -> PolarsResult<Option<i64>> {
    let configs = strs(rows, "config")?;
    let seeds = floats(rows, "seed")?;
    Ok(configs
        .iter()
        .zip(&seeds)
        .filter(|(c, _)| {
            picks
                .iter()
                .any(|p| c.as_deref() == Some(p.config.as_str()))
        })
        .filter_map(|(_, s)| s.map(|s| s as i64))
        .min())
}

pub(crate) fn copy_samples(
    store: &Store,
    index: &StudyIndex,
    gathered: &DataFrame,
    picks: &[Pick],
    out_dir: &Path,
) -> Result<Vec<DatasetSamples>, ReportError> {
    let explain_of: BTreeMap<&str, &StageRef> = index
        .models
        .iter()
        .filter_map(|m| Some((m.model.name.as_str(), m.explain.as_ref()?)))
        .collect();
    let configs = strs(gathered, "config")?;
    let seeds = floats(gathered, "seed")?;
    let stages = strs(gathered, "model_stage")?;
    let mut out: Vec<DatasetSamples> = Vec::new();
    let mut datasets: Vec<&str> = picks.iter().map(|p| p.dataset.as_str()).collect();
    datasets.dedup();
    for dataset in datasets {
        let of_ds: Vec<&Pick> = picks.iter().filter(|p| p.dataset == dataset).collect();
        let Some(seed) = first_seed(gathered, &of_ds)? else {
            continue;
        };
        let mut d = DatasetSamples {
            dataset: dataset.to_owned(),
            seed,
            methods: Vec::new(),
            images: Vec::new(),
            models: Vec::new(),
        };
        for pick in of_ds {
            let stage = (0..gathered.height()).find_map(|i| {
                (configs[i].as_deref() == Some(pick.config.as_str())
                    && seeds[i] == Some(seed as f64))
                .then(|| stages[i].clone())
                .flatten()
            });
            let Some(stage) = stage else { continue };
            let Some(explain) = explain_of.get(stage.as_str()) else {
                continue;
            };
            let fp = &explain.fingerprint;
            let (Some(dir), Some(e)) = (
                checked_dir(store, Some(fp))?,
                read_artifact::<Explain>(store, Some(fp))?,
            ) else {
                continue;
            };
            let Ok(entries) = std::fs::read_dir(dir.join(OVERLAYS)) else {
                continue;
            };
            let mut files: Vec<(usize, String, PathBuf)> = entries
                .filter_map(Result::ok)
                .filter_map(|f| {
                    let (n, m) = parse_overlay(f.file_name().to_str()?)?;
                    Some((n, m, f.path()))
                })
                .collect();
            files.sort();
            if d.images.is_empty() {
                let mut positions: Vec<usize> = files.iter().map(|f| f.0).collect();
                positions.dedup();
                for pos in positions.into_iter().take(SAMPLE_IMAGES) {
                    if let Some(&test_index) = e.images.get(pos) {
                        d.images
                            .push((test_index, class_name(&e, e.labels.get(pos))));
                    }
                }
            }
            let dir_name = file_safe(&stage);
            let dest_dir = out_dir.join(&dir_name);
            std::fs::create_dir_all(&dest_dir).map_err(|source| ReportError::Io {
                path: dest_dir.clone(),
                source,
            })?;
            let mut views: BTreeMap<i64, View> = BTreeMap::new();
            for (pos, method, src) in files {
                let Some(&test_index) = e.images.get(pos) else {
                    continue;
                };
                if !d.images.iter().any(|(i, _)| *i == test_index) {
                    continue;
                }
                let file = format!("test{test_index}_{method}.png");
                let dest = dest_dir.join(&file);
                std::fs::copy(&src, &dest).map_err(|source| ReportError::Io {
                    path: dest.clone(),
                    source,
                })?;
                if !d.methods.contains(&method) {
                    d.methods.push(method.clone());
                }
                let view = views.entry(test_index).or_default();
                view.predicted = class_name(&e, e.predicted.get(pos));
                view.maps.insert(
                    method.clone(),
                    Map {
                        src: format!("{OVERLAYS}/{dir_name}/{file}"),
                        panels: panels(&dest),
                        explains: explained(&e, &method, pos),
                    },
                );
            }
            d.models.push(ModelSamples {
                label: pick.label.clone(),
                model_stage: stage,
                explain_fp: fp.to_string(),
                views,
            });
        }
        // Grad-CAM first (the method the finding times), then expected
        // gradients, then the feature-map strips.
        d.methods.sort_by_key(|m| match m.as_str() {
            "gradcam" => 0,
            "expected_gradients" => 1,
            _ => 2,
        });
        if !d.models.is_empty() {
            out.push(d);
        }
    }
    Ok(out)
}
