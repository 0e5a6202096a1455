//! Reading a published stage's artifact file through the study contract's
//! types; the store alone knows where the artifact is.

use engine::store::Store;
use engine::Fingerprint;
use study::contract::artifacts::{ArtifactFile, Predictions};

use super::TablesError;

/// The bytes of file `file` of stage `fp`; `None` when there is no such
/// stage or it has not been published (not run yet).
fn read_bytes(
    store: &Store,
    fp: Option<&Fingerprint>,
    file: &str,
) -> Result<Option<(std::path::PathBuf, Vec<u8>)>, TablesError> {
    let Some(fp) = fp else { return Ok(None) };
    if !store.is_published(fp) {
        return Ok(None);
    }
    let path = store.artifact_dir(fp).join(file);
    let bytes = std::fs::read(&path).map_err(|source| TablesError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Some((path, bytes)))
}

/// The file of type `T` of stage `fp`; `None` when there is no such stage
/// or it has not been published (not run yet).
pub(crate) fn read_artifact<T: ArtifactFile>(
    store: &Store,
    fp: Option<&Fingerprint>,
) -> Result<Option<T>, TablesError> {
    let Some((path, bytes)) = read_bytes(store, fp, T::FILE)? else {
        return Ok(None);
    };
    T::from_bytes(&bytes)
        .map(Some)
        .map_err(|source| TablesError::Json { path, source })
}

/// Like [`read_artifact`], but `None` also when the stage is published
/// without that file (artifacts of an older code version, test fixtures).
pub(crate) fn read_optional_artifact<T: ArtifactFile>(
    store: &Store,
    fp: Option<&Fingerprint>,
) -> Result<Option<T>, TablesError> {
    match fp {
        Some(f) if store.artifact_dir(f).join(T::FILE).is_file() => read_artifact(store, fp),
        _ => Ok(None),
    }
}

/// The per-image predictions of evaluate stage `fp`; `None` when it has not
/// run, or ran before evaluate stages wrote predictions (no such file).
pub(crate) fn read_predictions(
    store: &Store,
    fp: Option<&Fingerprint>,
) -> Result<Option<Predictions>, TablesError> {
    let Some(fp) = fp else { return Ok(None) };
    if !store.artifact_dir(fp).join(Predictions::FILE).is_file() {
        return Ok(None);
    }
    let Some((path, bytes)) = read_bytes(store, Some(fp), Predictions::FILE)? else {
        return Ok(None);
    };
    Predictions::from_bytes(&bytes)
        .map(Some)
        .map_err(|e| TablesError::Predictions {
            path,
            reason: e.to_string(),
        })
}
