//! Reading the three dataset formats into labelled raw items: ImageFolder
//! (encoded image files, one folder per class, optionally under pre-made
//! `train_dir` / `val_dir` / `test_dir` folders), MedMNIST `.npz` and IDX.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use study::kd::params::{DatasetFormat, DatasetParams};

use super::arrays::{self, ImageArray};
use crate::error::{read_file, Result, StagesError};

/// Which split a source already assigns an item to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Given {
    /// Not split by the source: train, val and test are drawn from it.
    Pool,
    /// The source's training part: train and val are drawn from it.
    Train,
    Val,
    Test,
}

/// Pixels or an encoded file.
pub(crate) enum Content {
    Encoded(Vec<u8>),
    /// [h, w, c] u8, channels last.
    Pixels {
        h: usize,
        w: usize,
        c: usize,
        data: Vec<u8>,
    },
}

/// One labelled image before decoding.
pub(crate) struct RawItem {
    /// Names the image in errors: a file key, or `file.npz:train_images[7]`.
    pub key: String,
    pub label: usize,
    pub given: Given,
    /// SHA-256 hex of the file bytes (or of the raw pixels and shape).
    pub hash: String,
    pub content: Content,
}

impl RawItem {
    /// Bytes of the encoded file or of the raw pixels.
    pub(crate) fn content_len(&self) -> usize {
        match &self.content {
            Content::Encoded(bytes) => bytes.len(),
            Content::Pixels { data, .. } => data.len(),
        }
    }
}

/// The items of a dataset and its class names.
pub(crate) struct Source {
    pub classes: Vec<String>,
    pub items: Vec<RawItem>,
}

const IMAGE_EXTS: [&str; 7] = ["jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff"];

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_image_key(key: &str) -> bool {
    Path::new(key)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTS.contains(&e.to_ascii_lowercase().as_str()))
}

/// An input file: its key (relative path), its location, and the content
/// hash the planner recorded for it (checked when present).
pub struct InputFile {
    pub key: String,
    pub path: PathBuf,
    pub expected_sha256: Option<String>,
}

fn read_checked(file: &InputFile) -> Result<(Vec<u8>, String)> {
    let bytes = read_file(&file.path)?;
    let hash = sha256_hex(&bytes);
    if let Some(expected) = &file.expected_sha256 {
        if !expected.eq_ignore_ascii_case(&hash) {
            return Err(StagesError::InputChanged {
                key: file.key.clone(),
                expected: expected.clone(),
                found: hash,
            });
        }
    }
    Ok((bytes, hash))
}

/// Reads every item of the dataset described by `params` from `files`.
pub(crate) fn read_source(params: &DatasetParams, files: &[InputFile]) -> Result<Source> {
    match params.format {
        DatasetFormat::Imagefolder => read_imagefolder(params, files),
        DatasetFormat::Medmnist => read_medmnist(params, files),
        DatasetFormat::Idx => read_idx(params, files),
    }
}

fn dataset_err(params: &DatasetParams, reason: impl Into<String>) -> StagesError {
    StagesError::Dataset {
        dataset: params.name.clone(),
        reason: reason.into(),
    }
}

fn read_imagefolder(params: &DatasetParams, files: &[InputFile]) -> Result<Source> {
    // (file, class name, given split)
    let mut chosen: Vec<(&InputFile, String, Given)> = Vec::new();
    for f in files.iter().filter(|f| is_image_key(&f.key)) {
        let parts: Vec<&str> = f.key.split('/').filter(|p| !p.is_empty()).collect();
        if parts.len() < 2 {
            // An image at the root has no class folder.
            continue;
        }
        let class = parts[parts.len() - 2].to_string();
        let dirs = &parts[..parts.len() - 2];
        let given = match (&params.train_dir, &params.test_dir) {
            (None, None) => Given::Pool,
            (train, test) => {
                if params.val_dir.as_deref().is_some_and(|v| dirs.contains(&v)) {
                    Given::Val
                } else if train.as_deref().is_some_and(|t| dirs.contains(&t)) {
                    // Without a test folder the training folder is the pool.
                    if test.is_some() {
                        Given::Train
                    } else {
                        Given::Pool
                    }
                } else if test.as_deref().is_some_and(|t| dirs.contains(&t)) {
                    Given::Test
                } else {
                    continue;
                }
            }
        };
        chosen.push((f, class, given));
    }
    let classes: BTreeSet<String> = chosen.iter().map(|(_, c, _)| c.clone()).collect();
    if classes.is_empty() {
        return Err(dataset_err(params, "no image files found in class folders"));
    }
    check_empty_class_dirs(params, &chosen, &classes)?;
    let classes: Vec<String> = classes.into_iter().collect();
    let index: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let items = chosen
        .par_iter()
        .map(|(f, class, given)| {
            let (bytes, hash) = read_checked(f)?;
            Ok(RawItem {
                key: f.key.clone(),
                label: index[class.as_str()],
                given: *given,
                hash,
                content: Content::Encoded(bytes),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Source { classes, items })
}

/// A class folder on disk next to the others but without any image is an
/// error: the user meant it to be a class.
fn check_empty_class_dirs(
    params: &DatasetParams,
    chosen: &[(&InputFile, String, Given)],
    classes: &BTreeSet<String>,
) -> Result<()> {
    let parents: BTreeSet<PathBuf> = chosen
        .iter()
        .filter_map(|(f, _, _)| f.path.parent()?.parent().map(Path::to_path_buf))
        .collect();
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir && !name.starts_with('.') && !classes.contains(&name) {
                let known = [&params.train_dir, &params.val_dir, &params.test_dir]
                    .iter()
                    .any(|d| d.as_deref() == Some(name.as_str()));
                if !known {
                    return Err(dataset_err(
                        params,
                        format!(
                            "class folder `{}` has no images",
                            parent.join(&name).display()
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn pixel_items(
    arr: &ImageArray,
    labels: &[i64],
    given: Given,
    name: &str,
) -> Result<Vec<(RawItem, i64)>> {
    if labels.len() != arr.n {
        return Err(StagesError::BadDataFile {
            path: name.to_string(),
            reason: format!("{} images but {} labels", arr.n, labels.len()),
        });
    }
    (0..arr.n)
        .into_par_iter()
        .map(|i| {
            let data = arr.image(i).to_vec();
            let mut hasher = Sha256::new();
            hasher.update(format!("{}x{}x{}:", arr.h, arr.w, arr.c).as_bytes());
            hasher.update(&data);
            let hash = hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let item = RawItem {
                key: format!("{name}[{i}]"),
                label: 0,
                given,
                hash,
                content: Content::Pixels {
                    h: arr.h,
                    w: arr.w,
                    c: arr.c,
                    data,
                },
            };
            Ok((item, labels[i]))
        })
        .collect()
}

/// Labels are integers 0..k; classes are named by their number.
fn finish_numeric(params: &DatasetParams, labelled: Vec<(RawItem, i64)>) -> Result<Source> {
    let mut max = -1i64;
    for (item, l) in &labelled {
        if *l < 0 {
            return Err(StagesError::BadDataFile {
                path: item.key.clone(),
                reason: format!("negative label {l}"),
            });
        }
        max = max.max(*l);
    }
    if max < 0 {
        return Err(dataset_err(params, "no images found"));
    }
    let classes = (0..=max).map(|i| i.to_string()).collect();
    let items = labelled
        .into_iter()
        .map(|(mut item, l)| {
            item.label = l as usize;
            item
        })
        .collect();
    Ok(Source { classes, items })
}

fn read_medmnist(params: &DatasetParams, files: &[InputFile]) -> Result<Source> {
    let npz: Vec<&InputFile> = files.iter().filter(|f| f.key.ends_with(".npz")).collect();
    let [file] = npz[..] else {
        return Err(dataset_err(
            params,
            format!("expected exactly one .npz input, found {}", npz.len()),
        ));
    };
    let (bytes, _) = read_checked(file)?;
    let mut labelled = Vec::new();
    let mut has_val = false;
    for (part, given) in [
        ("train", Given::Train),
        ("val", Given::Val),
        ("test", Given::Test),
    ] {
        let images = arrays::read_npz_member(&bytes, &file.key, &format!("{part}_images"))?;
        let labels = arrays::read_npz_member(&bytes, &file.key, &format!("{part}_labels"))?;
        let (images, labels) = match (images, labels) {
            (Some(i), Some(l)) => (i, l),
            (None, None) if part == "val" => continue,
            _ => {
                return Err(StagesError::BadDataFile {
                    path: file.key.clone(),
                    reason: format!("missing `{part}_images` or `{part}_labels`"),
                })
            }
        };
        has_val |= part == "val";
        let name = format!("{}:{part}_images", file.key);
        let arr = images.images(&name)?;
        let labels = labels.labels(&format!("{}:{part}_labels", file.key))?;
        labelled.extend(pixel_items(&arr, &labels, given, &name)?);
    }
    let _ = has_val;
    finish_numeric(params, labelled)
}

fn read_idx(params: &DatasetParams, files: &[InputFile]) -> Result<Source> {
    let find = |prefixes: &[&str], what: &str| -> Option<&InputFile> {
        files.iter().find(|f| {
            let base = f.key.rsplit('/').next().unwrap_or(&f.key);
            prefixes.iter().any(|p| base.starts_with(p)) && base.contains(what)
        })
    };
    let mut labelled = Vec::new();
    for (prefixes, given) in [
        (&["train"][..], Given::Train),
        (&["t10k", "test"][..], Given::Test),
    ] {
        let (Some(img), Some(lab)) = (find(prefixes, "images-idx3"), find(prefixes, "labels-idx1"))
        else {
            return Err(dataset_err(
                params,
                format!(
                    "missing `{}-images-idx3-ubyte[.gz]` or its labels file",
                    prefixes[0]
                ),
            ));
        };
        let arr = arrays::parse_idx_images(read_checked(img)?.0, &img.key)?;
        let labels = arrays::parse_idx_labels(read_checked(lab)?.0, &lab.key)?;
        labelled.extend(pixel_items(&arr, &labels, given, &img.key)?);
    }
    finish_numeric(params, labelled)
}

/// Lists the files under `root` as input keys (relative paths with `/`),
/// sorted; hidden files and folders are skipped. For tests and for callers
/// that build a spec's inputs from a folder.
pub fn list_input_files(root: &Path) -> Result<Vec<InputFile>> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<InputFile>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|source| StagesError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(&path, root, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                let key = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(InputFile {
                    key,
                    path,
                    expected_sha256: None,
                });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}
