//! Loading an experiment as every command needs it: the store, the
//! validated experiment, and its stage specs (external inputs hashed through
//! the stat cache; a missing built-in data set fetched on demand).

use std::path::{Path, PathBuf};

use anyhow::Context;
use engine::hashing::StatCache;
use engine::store::Store;
use engine::StageSpec;
use study::contract::Kind;
use study::experiment::{self, ExpandContext, Expansion, Experiment, ExperimentError};
use study::index::StudyIndex;

use crate::builtin;
use crate::cli::GlobalArgs;
use crate::exit::Failure;

/// A loaded, expanded experiment.
pub struct Study {
    pub experiment: Experiment,
    pub specs: Vec<StageSpec>,
    /// Every model stage with the stages that measure it.
    pub index: StudyIndex,
    pub store: Store,
}

/// The store root: `--store`, `KDPIPE_STORE`, else `./artifacts`.
pub fn store_root(global: &GlobalArgs) -> PathBuf {
    global
        .store
        .clone()
        .unwrap_or_else(|| PathBuf::from("artifacts"))
}

/// Opens (creating if needed) the store. A store path that is, or lies
/// under, something other than a directory is bad input (exit 2).
pub fn open_store(global: &GlobalArgs) -> Result<Store, Failure> {
    let root = store_root(global);
    if let Some(file) = root
        .ancestors()
        .find(|a| a.exists())
        .filter(|a| !a.is_dir())
    {
        return Err(Failure::bad_input(if file == root {
            anyhow::anyhow!("the artifact store {} is not a directory", root.display())
        } else {
            anyhow::anyhow!(
                "cannot create the artifact store {}: {} is not a directory",
                root.display(),
                file.display()
            )
        }));
    }
    Store::open(&root)
        .with_context(|| format!("failed to open the artifact store at {}", root.display()))
        .map_err(Failure::from)
}

/// Whether a CUDA device is visible to stage processes. The head never loads
/// libtorch, so it looks for the NVIDIA device nodes (`KDPIPE_CUDA=0|1`
/// overrides).
pub fn cuda_available() -> bool {
    match std::env::var("KDPIPE_CUDA").as_deref() {
        Ok("1") => true,
        Ok("0") => false,
        _ => Path::new("/dev/nvidiactl").exists() && Path::new("/dev/nvidia0").exists(),
    }
}

/// Number of GPU slots for the scheduler.
pub fn gpu_slots() -> usize {
    if !cuda_available() {
        return 0;
    }
    (0..64)
        .take_while(|i| Path::new(&format!("/dev/nvidia{i}")).exists())
        .count()
}

/// Loads and validates the experiment only (exit 2 on any problem).
pub fn load_experiment(path: &Path) -> Result<Experiment, Failure> {
    experiment::load(path).map_err(Failure::bad_input)
}

/// Loads, validates and expands `path`. Nothing is written to the store
/// except the stat cache of input hashes.
pub fn load(path: &Path, global: &GlobalArgs) -> Result<Study, Failure> {
    let experiment = load_experiment(path)?;
    let store = open_store(global)?;
    let expansion = expand(&experiment, &store)?;
    Ok(Study {
        experiment,
        specs: expansion.specs,
        index: expansion.index,
        store,
    })
}

fn expand(exp: &Experiment, store: &Store) -> Result<Expansion, Failure> {
    let mut cache = StatCache::load(&store.statcache_path());
    let mut fetched = false;
    loop {
        let mut hash = |p: &Path| cache.hash(p).map_err(|e| e.to_string());
        let mut ctx = ExpandContext {
            code_version: &Kind::code_version,
            hash_file: &mut hash,
            builtin_root: builtin::builtin_root(),
            cuda_available: cuda_available(),
        };
        match experiment::expand(exp, &mut ctx) {
            Ok(expansion) => {
                if let Err(e) = cache.save() {
                    tracing::warn!("could not save the stat cache: {e}");
                }
                return Ok(expansion);
            }
            Err(ExperimentError::BuiltinMissing { name, .. }) if !fetched => {
                let b = builtin::find(&name).map_err(Failure::bad_input)?;
                builtin::ensure(b).map_err(Failure::bad_input)?;
                fetched = true;
            }
            Err(e) => return Err(Failure::bad_input(e)),
        }
    }
}
