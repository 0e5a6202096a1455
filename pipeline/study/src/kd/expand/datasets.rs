//! The `prepare` stage of a KD dataset: its params, and every input file
//! of the dataset content-hashed into its fingerprint.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::contract::{names, Kind};
use crate::experiment::{ExpandContext, ExperimentError};
use crate::kd::builtin::builtin_path;
use crate::kd::inputs::{self, absolute};
use crate::kd::params::DatasetFormat;
use crate::kd::resolved::{DatasetConfig, DatasetSource};
use crate::specs::{spec, to_params, Versions};
use engine::spec::StageSpec;

/// `prepare/<ds>`: its params, and every input file content-hashed.
pub(super) fn prepare_spec(
    v: Versions<'_>,
    ds: &DatasetConfig,
    ctx: &mut ExpandContext<'_>,
    hashes: &mut HashMap<PathBuf, String>,
) -> Result<StageSpec, ExperimentError> {
    let dsn = &ds.params.name;
    let mut s = spec(v, names::prepare(dsn), Kind::Prepare);
    s.params = to_params(&ds.params);
    let (root, format) = match &ds.source {
        DatasetSource::Builtin { name } => {
            let p = builtin_path(&ctx.builtin_root, name);
            if !p.is_dir() {
                return Err(ExperimentError::BuiltinMissing {
                    name: name.clone(),
                    path: p,
                });
            }
            (p, DatasetFormat::Imagefolder)
        }
        DatasetSource::Path { format, path } => (path.clone(), *format),
    };
    let subdirs: Vec<&str> = match (&ds.params.train_dir, &ds.params.test_dir) {
        (Some(train), Some(test)) => [Some(train), ds.params.val_dir.as_ref(), Some(test)]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect(),
        _ => Vec::new(),
    };
    let files = inputs::list(format, &root, &subdirs).map_err(|(path, message)| {
        ExperimentError::Input {
            dataset: dsn.clone(),
            path,
            message,
        }
    })?;
    for key in files.keys {
        let path = files.root.join(&key);
        let hash = match hashes.get(&path) {
            Some(h) => h.clone(),
            None => {
                let h = (ctx.hash_file)(&path).map_err(|message| ExperimentError::Input {
                    dataset: dsn.clone(),
                    path: path.clone(),
                    message,
                })?;
                hashes.insert(path, h.clone());
                h
            }
        };
        s.inputs.insert(key, hash);
    }
    // Absolute: a stage process (or a Slurm job) may run elsewhere.
    s.input_root = Some(absolute(files.root));
    Ok(s)
}
