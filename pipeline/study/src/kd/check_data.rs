//! Cheap checks of a dataset's files at planning time, so that a data set
//! that cannot work fails before anything runs (exit 2, nothing written):
//! an ImageFolder has at least two class folders, each holding an image
//! file, and the same classes in every split folder; a MedMNIST `.npz` is a
//! zip holding `train_*` / `test_*` (and maybe `val_*`) `.npy` arrays of
//! image and label shapes that agree; IDX files have the right magic and
//! counts. Only names, archive directories and headers are read; what only
//! decoding finds (a truncated or corrupt image) is `prepare`'s to report.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::inputs::{is_image, IDX_FILES};
use super::params::DatasetFormat;

/// What is wrong with a dataset's files; each names the file or folder,
/// and the key or value at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum DataProblem {
    #[error("cannot read {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("class folder {} holds no image file (expected .jpg, .jpeg, .png, .gif, .bmp, .tif or .tiff)", folder.display())]
    EmptyClass { folder: PathBuf },
    #[error("{} has {found} class folder(s) ({names}); a classification data set needs at least two", root.display())]
    TooFewClasses {
        root: PathBuf,
        found: usize,
        names: String,
    },
    #[error("class `{class}` has a folder in {} but not in {}", has.display(), lacks.display())]
    ClassMissing {
        class: String,
        has: PathBuf,
        lacks: PathBuf,
    },
    #[error("{} is not a .npz (zip) archive: {reason}", file.display())]
    NotZip { file: PathBuf, reason: String },
    #[error("{} has no array `{key}` (found: {found})", file.display())]
    MissingKey {
        file: PathBuf,
        key: String,
        found: String,
    },
    #[error("{}: `{key}` {problem}", file.display())]
    BadArray {
        file: PathBuf,
        key: String,
        problem: String,
    },
}

/// Checks the files of a `format` data set at `path`; `subdirs` are the
/// pre-made split folders of an ImageFolder (empty: one pool).
pub(crate) fn check(
    format: DatasetFormat,
    path: &Path,
    subdirs: &[&str],
) -> Result<(), DataProblem> {
    match format {
        DatasetFormat::Imagefolder => imagefolder(path, subdirs),
        DatasetFormat::Medmnist => medmnist(path),
        DatasetFormat::Idx => idx(path),
    }
}

fn unreadable(path: &Path, e: impl ToString) -> DataProblem {
    DataProblem::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The classes under `root`: the non-hidden folders that directly hold an
/// image file. A folder with no image anywhere below it is an empty class.
fn classes_under(root: &Path) -> Result<BTreeSet<String>, DataProblem> {
    let mut classes = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut has_image = false;
        let mut subdirs = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| unreadable(&dir, e))? {
            let entry = entry.map_err(|e| unreadable(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let p = entry.path();
            match std::fs::metadata(&p) {
                Ok(m) if m.is_dir() => subdirs.push(p),
                Ok(m) if m.is_file() && is_image(&name) => has_image = true,
                _ => {}
            }
        }
        if dir != root {
            if has_image {
                if let Some(name) = dir.file_name() {
                    classes.insert(name.to_string_lossy().into_owned());
                }
            } else if subdirs.is_empty() {
                return Err(DataProblem::EmptyClass { folder: dir });
            }
        }
        stack.extend(subdirs);
    }
    Ok(classes)
}

fn imagefolder(path: &Path, subdirs: &[&str]) -> Result<(), DataProblem> {
    let roots: Vec<PathBuf> = if subdirs.is_empty() {
        vec![path.to_path_buf()]
    } else {
        subdirs.iter().map(|s| path.join(s)).collect()
    };
    let mut per_root = Vec::new();
    for root in &roots {
        let classes = classes_under(root)?;
        if classes.len() < 2 {
            let names: Vec<String> = classes.iter().map(|c| format!("`{c}`")).collect();
            return Err(DataProblem::TooFewClasses {
                root: root.clone(),
                found: classes.len(),
                names: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            });
        }
        per_root.push(classes);
    }
    for (i, a) in per_root.iter().enumerate() {
        for (j, b) in per_root.iter().enumerate() {
            if let Some(class) = a.difference(b).next() {
                return Err(DataProblem::ClassMissing {
                    class: class.clone(),
                    has: roots[i].clone(),
                    lacks: roots[j].clone(),
                });
            }
        }
    }
    Ok(())
}

/// `shape` of a `.npy` header read from `r` (the start of the member).
fn npy_shape(r: &mut impl Read) -> Result<Vec<usize>, String> {
    let mut head = [0u8; 10];
    r.read_exact(&mut head)
        .map_err(|e| format!("is not a .npy array ({e})"))?;
    if &head[..6] != b"\x93NUMPY" {
        return Err("is not a .npy array (bad magic)".into());
    }
    let len = match head[6] {
        1 => usize::from(u16::from_le_bytes([head[8], head[9]])),
        2 | 3 => {
            let mut more = [0u8; 2];
            r.read_exact(&mut more)
                .map_err(|e| format!("has a truncated header ({e})"))?;
            u32::from_le_bytes([head[8], head[9], more[0], more[1]]) as usize
        }
        v => return Err(format!("has an unsupported .npy version {v}")),
    };
    if len > 1 << 16 {
        return Err(format!("has a header of {len} bytes"));
    }
    let mut header = vec![0u8; len];
    r.read_exact(&mut header)
        .map_err(|e| format!("has a truncated header ({e})"))?;
    let header = String::from_utf8_lossy(&header);
    let shape = header
        .split_once("'shape'")
        .and_then(|(_, rest)| rest.split_once('('))
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside)
        .ok_or("has no shape in its header")?;
    shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("has a bad shape ({shape})"))
        })
        .collect()
}

fn medmnist(file: &Path) -> Result<(), DataProblem> {
    let f = std::fs::File::open(file).map_err(|e| unreadable(file, e))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| DataProblem::NotZip {
        file: file.to_path_buf(),
        reason: e.to_string(),
    })?;
    let names: BTreeSet<String> = zip.file_names().map(str::to_owned).collect();
    let found = || {
        let list: Vec<&str> = names.iter().map(String::as_str).collect();
        if list.is_empty() {
            "nothing".into()
        } else {
            list.join(", ")
        }
    };
    let bad = |key: &str, problem: String| DataProblem::BadArray {
        file: file.to_path_buf(),
        key: key.to_owned(),
        problem,
    };
    for part in ["train", "val", "test"] {
        let (ik, lk) = (format!("{part}_images"), format!("{part}_labels"));
        let (has_i, has_l) = (
            names.contains(&format!("{ik}.npy")),
            names.contains(&format!("{lk}.npy")),
        );
        if part == "val" && !has_i && !has_l {
            continue;
        }
        for (key, has) in [(&ik, has_i), (&lk, has_l)] {
            if !has {
                return Err(DataProblem::MissingKey {
                    file: file.to_path_buf(),
                    key: key.clone(),
                    found: found(),
                });
            }
        }
        let mut shape_of = |key: &str| {
            let mut member = zip
                .by_name(&format!("{key}.npy"))
                .map_err(|e| bad(key, format!("cannot be read ({e})")))?;
            npy_shape(&mut member).map_err(|p| bad(key, p))
        };
        let images = shape_of(&ik)?;
        let labels = shape_of(&lk)?;
        let image_ok = match images[..] {
            [n, h, w] => n > 0 && h > 0 && w > 0,
            [n, h, w, c] => n > 0 && h > 0 && w > 0 && (c == 1 || c == 3),
            _ => false,
        };
        if !image_ok {
            return Err(bad(
                &ik,
                format!("has shape {images:?}; expected [n, h, w] or [n, h, w, 1 or 3], n > 0"),
            ));
        }
        if !matches!(labels[..], [_] | [_, 1]) {
            return Err(bad(
                &lk,
                format!("has shape {labels:?}; expected [n] or [n, 1]"),
            ));
        }
        if labels[0] != images[0] {
            return Err(bad(
                &lk,
                format!(
                    "holds {} labels for {} images in `{ik}`",
                    labels[0], images[0]
                ),
            ));
        }
    }
    Ok(())
}

/// The first `n` big-endian u32s of an IDX file (gzip-compressed or not).
fn idx_header(file: &Path, n: usize) -> Result<Vec<u32>, DataProblem> {
    let f = std::fs::File::open(file).map_err(|e| unreadable(file, e))?;
    let mut r: Box<dyn Read> = if file.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let mut buf = vec![0u8; 4 * n];
    r.read_exact(&mut buf).map_err(|e| DataProblem::BadArray {
        file: file.to_path_buf(),
        key: "header".into(),
        problem: format!("cannot be read ({e})"),
    })?;
    Ok(buf
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn idx(dir: &Path) -> Result<(), DataProblem> {
    let find = |base: &str| {
        let gz = dir.join(format!("{base}.gz"));
        if gz.is_file() {
            gz
        } else {
            dir.join(base)
        }
    };
    for pair in IDX_FILES.chunks_exact(2) {
        let (images, labels) = (find(pair[0]), find(pair[1]));
        if !images.is_file() || !labels.is_file() {
            // The input listing names the missing file.
            continue;
        }
        let ih = idx_header(&images, 4)?;
        let lh = idx_header(&labels, 2)?;
        let bad = |file: &Path, problem: String| DataProblem::BadArray {
            file: file.to_path_buf(),
            key: "magic".into(),
            problem,
        };
        if ih[0] != 0x803 {
            return Err(bad(
                &images,
                format!(
                    "is {:#010x}; expected 0x00000803 (u8 images, 3 dims)",
                    ih[0]
                ),
            ));
        }
        if lh[0] != 0x801 {
            return Err(bad(
                &labels,
                format!("is {:#010x}; expected 0x00000801 (u8 labels, 1 dim)", lh[0]),
            ));
        }
        if ih[1] == 0 || ih[1] != lh[1] {
            return Err(DataProblem::BadArray {
                file: labels.clone(),
                key: "count".into(),
                problem: format!(
                    "is {}, but {} holds {} images",
                    lh[1],
                    images.display(),
                    ih[1]
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn folder(root: &Path, files: &[&str]) {
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
    }

    #[test]
    fn an_imagefolder_needs_two_classes_each_with_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        folder(root, &["a/1.png", "b/2.JPG"]);
        assert_eq!(check(DatasetFormat::Imagefolder, root, &[]), Ok(()));
        std::fs::create_dir_all(root.join("c")).unwrap();
        std::fs::write(root.join("c/notes.txt"), b"x").unwrap();
        let err = check(DatasetFormat::Imagefolder, root, &[]).unwrap_err();
        assert!(
            matches!(&err, DataProblem::EmptyClass { folder } if folder.ends_with("c")),
            "{err}"
        );
        std::fs::remove_dir_all(root.join("c")).unwrap();
        std::fs::remove_dir_all(root.join("b")).unwrap();
        let err = check(DatasetFormat::Imagefolder, root, &[]).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "has 1 class folder(s) (`a`); a classification data set needs at least two"
            ),
            "{err}"
        );
    }

    #[test]
    fn split_folders_must_hold_the_same_classes() {
        let dir = tempfile::tempdir().unwrap();
        folder(
            dir.path(),
            &["tr/a/1.png", "tr/b/2.png", "te/a/3.png", "te/c/4.png"],
        );
        let err = check(DatasetFormat::Imagefolder, dir.path(), &["tr", "te"]).unwrap_err();
        assert!(
            matches!(&err, DataProblem::ClassMissing { class, .. } if class == "b"),
            "{err}"
        );
    }

    fn npy(shape: &str) -> Vec<u8> {
        let header = format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({shape}), }}");
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v
    }

    fn npz(path: &Path, members: &[(&str, &str)]) {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, shape) in members {
            z.start_file(
                format!("{name}.npy"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            z.write_all(&npy(shape)).unwrap();
        }
        z.finish().unwrap();
    }

    #[test]
    fn an_npz_needs_its_keys_and_agreeing_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("d.npz");
        let good = [
            ("train_images", "4, 28, 28"),
            ("train_labels", "4, 1"),
            ("test_images", "2, 28, 28"),
            ("test_labels", "2,"),
        ];
        npz(&f, &good);
        assert_eq!(check(DatasetFormat::Medmnist, &f, &[]), Ok(()));
        npz(&f, &good[..3]);
        let err = check(DatasetFormat::Medmnist, &f, &[]).unwrap_err();
        assert!(
            err.to_string().contains("has no array `test_labels`"),
            "{err}"
        );
        npz(&f, &[good[0], ("train_labels", "3, 1"), good[2], good[3]]);
        let err = check(DatasetFormat::Medmnist, &f, &[]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("`train_labels` holds 3 labels for 4 images in `train_images`"),
            "{err}"
        );
        std::fs::write(&f, b"not a zip").unwrap();
        let err = check(DatasetFormat::Medmnist, &f, &[]).unwrap_err();
        assert!(matches!(err, DataProblem::NotZip { .. }), "{err}");
    }
}
