//! The external input files of a KD stage: which files of a dataset are
//! hashed into its `prepare` stage's fingerprint, under which keys, and the
//! absolute input roots a stage process finds them under.

use std::path::{Path, PathBuf};

use super::params::DatasetFormat;

/// Image extensions an ImageFolder dataset is made of (case-insensitive).
pub(crate) const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff"];

/// The four files of an IDX dataset (each may also end in `.gz`).
pub(crate) const IDX_FILES: &[&str] = &[
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// A dataset's input files: `root.join(key)` is each file; keys sorted,
/// relative, `/`-separated.
pub(crate) struct InputFiles {
    pub(crate) root: PathBuf,
    pub(crate) keys: Vec<String>,
}

/// Lists the input files of a dataset at `path` (an existing folder, or the
/// `.npz` file of a MedMNIST set); an ImageFolder with pre-made split
/// folders `subdirs` (train, test and maybe val) lists only those. Errors
/// name the path and what is missing.
pub(crate) fn list(
    format: DatasetFormat,
    path: &Path,
    subdirs: &[&str],
) -> Result<InputFiles, (PathBuf, String)> {
    match format {
        DatasetFormat::Imagefolder => {
            let mut keys = Vec::new();
            if subdirs.is_empty() {
                walk_images(path, path, &mut keys)?;
            }
            for sub in subdirs {
                walk_images(path, &path.join(sub), &mut keys)?;
            }
            if keys.is_empty() {
                return Err((path.to_path_buf(), "no image files found".into()));
            }
            keys.sort_unstable();
            keys.dedup();
            Ok(InputFiles {
                root: path.to_path_buf(),
                keys,
            })
        }
        DatasetFormat::Medmnist => {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            match (path.parent(), name) {
                (Some(parent), Some(name)) => Ok(InputFiles {
                    root: if parent.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        parent.to_path_buf()
                    },
                    keys: vec![name],
                }),
                _ => Err((path.to_path_buf(), "not a file path".into())),
            }
        }
        DatasetFormat::Idx => {
            let mut keys = Vec::new();
            for base in IDX_FILES {
                let gz = format!("{base}.gz");
                if path.join(&gz).is_file() {
                    keys.push(gz);
                } else if path.join(base).is_file() {
                    keys.push((*base).to_owned());
                } else {
                    return Err((
                        path.join(base),
                        "idx file missing (also looked for .gz)".into(),
                    ));
                }
            }
            keys.sort_unstable();
            Ok(InputFiles {
                root: path.to_path_buf(),
                keys,
            })
        }
    }
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

pub(crate) fn is_image(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// Every image file under `dir`, as keys relative to `root`, hidden files
/// and folders skipped, symlinks followed.
fn walk_images(root: &Path, dir: &Path, keys: &mut Vec<String>) -> Result<(), (PathBuf, String)> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| (d.clone(), e.to_string()))?;
        for entry in entries {
            let entry = entry.map_err(|e| (d.clone(), e.to_string()))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err((entry.path(), "file name is not valid utf-8".into()));
            };
            if is_hidden(name) {
                continue;
            }
            let p = entry.path();
            let meta = std::fs::metadata(&p).map_err(|e| (p.clone(), e.to_string()))?;
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() && is_image(name) {
                let rel = p
                    .strip_prefix(root)
                    .map_err(|e| (p.clone(), e.to_string()))?;
                let key: Vec<&str> = rel
                    .components()
                    .filter_map(|c| c.as_os_str().to_str())
                    .collect();
                keys.push(key.join("/"));
            }
        }
    }
    Ok(())
}

/// `path` made absolute (as it is, if that fails): a stage process (or a
/// Slurm job) may run in another folder.
pub(crate) fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}
