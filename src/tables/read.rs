//! Reading a published stage's artifact file through the study contract's
//! types; the store alone knows where the artifact is.
//!
//! Every read goes through [`checked_dir`]: an artifact whose files no
//! longer match its manifest (or whose manifest is unreadable) is an error
//! naming the stage and the file, never a row of numbers. `compare` exits 2
//! on it, `report` fails; `kdpipe run` recomputes the artifact.

use std::path::PathBuf;

use engine::store::{Integrity, Store};
use engine::Fingerprint;
use study::contract::artifacts::{ArtifactFile, Predictions};

use super::TablesError;

/// The artifact folder of stage `fp`, its files checked against its
/// manifest (cheap when unchanged since the last check); `None` when there
/// is no such stage or it has not been published (not run yet).
pub(crate) fn checked_dir(
    store: &Store,
    fp: Option<&Fingerprint>,
) -> Result<Option<PathBuf>, TablesError> {
    let Some(fp) = fp else { return Ok(None) };
    match store.check(fp) {
        Integrity::Intact => Ok(Some(store.artifact_dir(fp))),
        Integrity::Missing => Ok(None),
        Integrity::Corrupt(c) => Err(TablesError::Corrupt {
            stage: store
                .read_spec(fp)
                .map_or_else(|_| fp.short().to_owned(), |s| s.name),
            fingerprint: fp.short().to_owned(),
            file: c.file().to_owned(),
            detail: c.to_string(),
        }),
    }
}

/// The file of type `T` of stage `fp`; `None` when there is no such stage
/// or it has not been published (not run yet).
pub(crate) fn read_artifact<T: ArtifactFile>(
    store: &Store,
    fp: Option<&Fingerprint>,
) -> Result<Option<T>, TablesError> {
    let Some(dir) = checked_dir(store, fp)? else {
        return Ok(None);
    };
    let path = dir.join(T::FILE);
    let bytes = std::fs::read(&path).map_err(|source| TablesError::Io {
        path: path.clone(),
        source,
    })?;
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
    let Some(dir) = checked_dir(store, fp)? else {
        return Ok(None);
    };
    if !dir.join(T::FILE).is_file() {
        return Ok(None);
    }
    read_artifact(store, fp)
}

/// The per-image predictions of evaluate stage `fp`, checked like every
/// read; `None` when it has not run, or ran before evaluate stages wrote
/// predictions (no such file).
pub(crate) fn read_predictions(
    store: &Store,
    fp: Option<&Fingerprint>,
) -> Result<Option<Predictions>, TablesError> {
    let Some(dir) = checked_dir(store, fp)? else {
        return Ok(None);
    };
    let path = dir.join(Predictions::FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|source| TablesError::Io {
        path: path.clone(),
        source,
    })?;
    Predictions::from_bytes(&bytes)
        .map(Some)
        .map_err(|e| TablesError::Predictions {
            path,
            reason: e.to_string(),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use study::contract::artifacts::Metrics;

    use super::*;

    #[test]
    fn a_corrupt_metrics_file_is_an_error_naming_stage_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let fx = crate::tables::fixture::build(dir.path(), &[]);
        let eval = fx
            .specs
            .iter()
            .find(|s| s.kind == "evaluate")
            .unwrap()
            .clone();
        let fp = eval.fingerprint();
        // The stage's name comes from its spec, which a run writes first.
        fx.store.write_spec(&eval).unwrap();
        let read = || read_artifact::<Metrics>(&fx.store, Some(&fp));
        assert!(read().unwrap().is_some());
        let path = fx.store.artifact_dir(&fp).join(Metrics::FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        // One digit changed, as a flipped bit would.
        let pos = text.find(|c: char| c.is_ascii_digit()).unwrap();
        let mut bytes = text.into_bytes();
        bytes[pos] = if bytes[pos] == b'9' {
            b'8'
        } else {
            bytes[pos] + 1
        };
        std::fs::write(&path, &bytes).unwrap();
        let err = read().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&eval.name), "{msg}");
        assert!(msg.contains("metrics.json hash mismatch"), "{msg}");
        assert!(matches!(err, TablesError::Corrupt { ref file, .. } if file == "metrics.json"));
        // Gathering the whole table refuses too: no row shows the number.
        let err = crate::tables::gather(&fx.store, &fx.specs, &fx.index).unwrap_err();
        assert!(
            err.to_string().contains("metrics.json hash mismatch"),
            "{err}"
        );
    }
}
