//! Per-fingerprint advisory locks (`flock` on `locks/<fp>.lock`). The kernel
//! releases them when the holding process dies, so a killed run never leaves
//! a stage locked.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// A held lock; released on drop.
#[derive(Debug)]
pub struct StageLock {
    _file: File,
    path: PathBuf,
}

impl StageLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens (creating) the file at `path` for `flock`ing.
pub(super) fn open(path: &Path) -> Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .ctx("open lock file", path)
}

/// Blocks until the lock at `path` is ours.
pub(crate) fn lock(path: &Path) -> Result<StageLock> {
    let file = open(path)?;
    fs4::FileExt::lock(&file).ctx("lock", path)?;
    Ok(StageLock {
        _file: file,
        path: path.to_path_buf(),
    })
}

/// Takes the lock at `path` if nobody holds it.
pub(crate) fn try_lock(path: &Path) -> Result<Option<StageLock>> {
    let file = open(path)?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(Some(StageLock {
            _file: file,
            path: path.to_path_buf(),
        })),
        Err(fs4::TryLockError::WouldBlock) => Ok(None),
        Err(fs4::TryLockError::Error(e)) => Err(Error::io("lock", path, e)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let held = lock(&p).unwrap();
        assert!(try_lock(&p).unwrap().is_none());
        drop(held);
        assert!(try_lock(&p).unwrap().is_some());
    }
}
