//! Validation of a KD `[[dataset]]` table: its source (a built-in data set,
//! or `format` + `path` checked to exist and to look like a data set of its
//! format, [`super::check_data`]), its pre-made split folders (inside
//! `path`), and its image, split and near-duplicate settings.

use std::path::{Component, Path};

use super::builtin;
use super::params::{DatasetFormat, DatasetParams, OnLabelConflict, ResizeMode};
use super::resolved::{DatasetConfig, DatasetSource};
use super::schema::DatasetTable;
use crate::experiment::check::Checker;
use crate::experiment::locate::KeyPath;

/// The `[[dataset]]` table `d` at key path `p`, named `name` (checked by
/// the caller): its resolved config, or `None` where its source or format
/// is unusable (the problem is recorded).
pub(crate) fn dataset(
    c: &mut Checker<'_>,
    p: &KeyPath,
    base: &Path,
    name: String,
    d: &DatasetTable,
) -> Option<DatasetConfig> {
    let formats = [
        ("imagefolder", DatasetFormat::Imagefolder),
        ("medmnist", DatasetFormat::Medmnist),
        ("idx", DatasetFormat::Idx),
    ];
    let source = match (&d.source, &d.format, &d.path) {
        (Some(src), None, None) => match src.strip_prefix("builtin:") {
            Some(b) if builtin::KNOWN.contains(&b) => {
                Some(DatasetSource::Builtin { name: b.to_owned() })
            }
            _ => {
                c.report(
                    &p.key("source"),
                    None,
                    format!(
                        "unknown source; expected one of {}",
                        builtin::KNOWN
                            .iter()
                            .map(|b| format!("\"builtin:{b}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        },
        (Some(_), _, _) => {
            let key = if d.format.is_some() { "format" } else { "path" };
            c.report(&p.key(key), None, "not allowed together with `source`");
            None
        }
        (None, Some(fmt), Some(rel)) => {
            let format = c.choice(&p.key("format"), fmt, &formats);
            let path = base.join(rel);
            match (format, std::fs::metadata(&path)) {
                (_, Err(e)) => {
                    c.report(
                        &p.key("path"),
                        None,
                        format!("dataset path {} does not exist ({e})", path.display()),
                    );
                    None
                }
                (Some(DatasetFormat::Medmnist), Ok(m)) if !m.is_file() => {
                    c.report(
                        &p.key("path"),
                        None,
                        "a medmnist dataset must be an .npz file",
                    );
                    None
                }
                (Some(f @ (DatasetFormat::Imagefolder | DatasetFormat::Idx)), Ok(m))
                    if !m.is_dir() =>
                {
                    c.report(
                        &p.key("path"),
                        None,
                        format!(
                            "an {} dataset must be a folder",
                            if f == DatasetFormat::Idx {
                                "idx"
                            } else {
                                "imagefolder"
                            }
                        ),
                    );
                    None
                }
                (Some(format), Ok(_)) => Some(DatasetSource::Path { format, path }),
                (None, Ok(_)) => None,
            }
        }
        (None, None, _) => {
            c.report(
                &p.key("source"),
                None,
                "missing: set `source = \"builtin:brain-mri\"` or `format` and `path`",
            );
            None
        }
        (None, Some(_), None) => {
            c.report(&p.key("path"), None, "missing: `format` needs a `path`");
            None
        }
    };

    let format = match &source {
        Some(DatasetSource::Builtin { .. }) => Some(DatasetFormat::Imagefolder),
        Some(DatasetSource::Path { format, .. }) => Some(*format),
        None => None,
    };
    split_dirs(c, p, d, source.as_ref());
    if let Some(DatasetSource::Path { format, path }) = &source {
        // Cheap looks at the data itself (folders, archive members, array
        // headers); what only decoding finds is left to `prepare`.
        let subdirs: Vec<&str> = [&d.train_dir, &d.val_dir, &d.test_dir]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|s| !escapes(s))
            .collect();
        if let Err(problem) = super::check_data::check(*format, path, &subdirs) {
            c.report(&p.key("path"), None, problem.to_string());
        }
    }

    let image_size = c.int::<u32>(&p.key("image_size"), d.image_size, 8, 1024);
    if d.channels != 1 && d.channels != 3 {
        c.report(
            &p.key("channels"),
            Some(d.channels.to_string()),
            "must be 1 (grayscale) or 3 (rgb)",
        );
    }
    let val = c.float(
        &p.key("val_fraction"),
        d.val_fraction,
        d.val_fraction > 0.0 && d.val_fraction < 1.0,
        "between 0 and 1 (exclusive)",
    );
    let test = c.float(
        &p.key("test_fraction"),
        d.test_fraction,
        d.test_fraction > 0.0 && d.test_fraction < 1.0,
        "between 0 and 1 (exclusive)",
    );
    if val > 0.0 && test > 0.0 && val < 1.0 && test < 1.0 && val + test >= 1.0 {
        c.report(
            &p.key("test_fraction"),
            Some(test.to_string()),
            format!(
                "val_fraction + test_fraction = {} must be below 1",
                val + test
            ),
        );
    }
    let resize = c.choice(
        &p.key("resize"),
        &d.resize,
        &[
            ("pad", ResizeMode::Pad),
            ("crop", ResizeMode::Crop),
            ("stretch", ResizeMode::Stretch),
        ],
    );
    let label_conflicts = c.choice(
        &p.key("label_conflicts"),
        &d.label_conflicts,
        &[
            ("error", OnLabelConflict::Error),
            ("drop", OnLabelConflict::Drop),
        ],
    );
    let near_dup_hamming = c.int::<u32>(&p.key("near_dup_hamming"), d.near_dup_hamming, 0, 64);
    let near_dup_min_corr = c.float(
        &p.key("near_dup_min_corr"),
        d.near_dup_min_corr,
        d.near_dup_min_corr > 0.0 && d.near_dup_min_corr <= 1.0,
        "in (0, 1]",
    );
    let split_seed = c.u64(&p.key("split_seed"), d.split_seed);
    let max_per_class = d
        .max_per_class
        .map(|m| c.u32(&p.key("max_per_class"), m, 1));

    Some(DatasetConfig {
        source: source?,
        params: DatasetParams {
            name,
            format: format?,
            image_size,
            channels: d.channels.clamp(1, 3) as u32,
            val_fraction: val,
            test_fraction: test,
            split_seed,
            train_dir: d.train_dir.clone(),
            test_dir: d.test_dir.clone(),
            val_dir: d.val_dir.clone(),
            resize: resize?,
            skip_corrupt: d.skip_corrupt,
            max_per_class,
            near_duplicates: d.near_duplicates,
            near_dup_hamming,
            near_dup_min_corr,
            label_conflicts: label_conflicts?,
        },
    })
}

/// Whether a split folder key leaves the dataset path: absolute, or with a
/// `..` component (`"../../.."`).
fn escapes(sub: &str) -> bool {
    let p = Path::new(sub);
    p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
}

/// `train_dir` / `val_dir` / `test_dir`: given together (val optional), on
/// an ImageFolder `path` only, inside it and existing.
fn split_dirs(c: &mut Checker<'_>, p: &KeyPath, d: &DatasetTable, source: Option<&DatasetSource>) {
    match (&d.train_dir, &d.test_dir) {
        (None, None) => {
            if d.val_dir.is_some() {
                c.report(
                    &p.key("val_dir"),
                    None,
                    "needs `train_dir` and `test_dir` (a pre-made split)",
                );
            }
        }
        (Some(_), None) => c.report(
            &p.key("test_dir"),
            None,
            "missing: `train_dir` needs a `test_dir`",
        ),
        (None, Some(_)) => c.report(
            &p.key("train_dir"),
            None,
            "missing: `test_dir` needs a `train_dir`",
        ),
        (Some(tr), Some(te)) => match source {
            Some(DatasetSource::Path {
                format: DatasetFormat::Imagefolder,
                path,
            }) => {
                let dirs = [
                    ("train_dir", Some(tr)),
                    ("val_dir", d.val_dir.as_ref()),
                    ("test_dir", Some(te)),
                ];
                let mut seen: Vec<(&str, &str)> = Vec::new();
                for (key, sub) in dirs {
                    let Some(sub) = sub else { continue };
                    if escapes(sub) {
                        c.report(
                            &p.key(key),
                            None,
                            format!(
                                "must be a folder inside the dataset path {} (relative, no `..`)",
                                path.display()
                            ),
                        );
                        continue;
                    }
                    if let Some((other, _)) =
                        seen.iter().find(|(_, s)| Path::new(s) == Path::new(sub))
                    {
                        c.report(&p.key(key), None, format!("the same folder as `{other}`"));
                        continue;
                    }
                    seen.push((key, sub));
                    let dir = path.join(sub);
                    if !dir.is_dir() {
                        c.report(
                            &p.key(key),
                            None,
                            format!("folder {} does not exist", dir.display()),
                        );
                    }
                }
            }
            Some(_) => c.report(
                &p.key("train_dir"),
                None,
                "only an imagefolder `path` can be pre-split",
            ),
            None => {}
        },
    }
}
