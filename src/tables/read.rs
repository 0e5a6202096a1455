//! Reading a published stage's artifact file through the study contract's
//! types; the store alone knows where the artifact is.

use engine::store::Store;
use engine::Fingerprint;
use study::contract::artifacts::ArtifactFile;

use super::TablesError;

/// The file of type `T` of stage `fp`; `None` when there is no such stage
/// or it has not been published (not run yet).
pub(crate) fn read_artifact<T: ArtifactFile>(
    store: &Store,
    fp: Option<&Fingerprint>,
) -> Result<Option<T>, TablesError> {
    let Some(fp) = fp else { return Ok(None) };
    if !store.is_published(fp) {
        return Ok(None);
    }
    let path = store.artifact_dir(fp).join(T::FILE);
    let bytes = std::fs::read(&path).map_err(|source| TablesError::Io {
        path: path.clone(),
        source,
    })?;
    T::from_bytes(&bytes)
        .map(Some)
        .map_err(|source| TablesError::Json { path, source })
}
