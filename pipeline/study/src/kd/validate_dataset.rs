//! Validation of a KD `[[dataset]]` table: its source (a built-in data set,
//! or `format` + `path` checked to exist), its pre-made split folders, and
//! its image and split settings.

use std::path::Path;

use super::builtin;
use super::params::{DatasetFormat, DatasetParams};
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
    match (&d.train_dir, &d.test_dir) {
        (None, None) => {}
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
        (Some(tr), Some(te)) => match &source {
            Some(DatasetSource::Path {
                format: DatasetFormat::Imagefolder,
                path,
            }) => {
                for (key, sub) in [("train_dir", tr), ("test_dir", te)] {
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
            skip_corrupt: d.skip_corrupt,
            max_per_class,
        },
    })
}
