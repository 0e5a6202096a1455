//! Runs in progress on a store, so that `gc` never removes what one of them
//! plans to read or write.
//!
//! A run writes `active/<run-id>.json` (the fingerprints of every stage it
//! planned) and holds an exclusive `flock` on that file for as long as it
//! lives; the kernel drops the lock when the process dies, so a file whose
//! lock is free belongs to a dead run. Registration happens under a shared
//! lock on `locks/gc.lock` and `gc` holds that lock exclusively for its whole
//! pass: a run registers either before `gc` looks (and is seen) or after it
//! is done (and finds the store as `gc` left it).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use crate::error::{Error, IoContext, Result};
use crate::fingerprint::Fingerprint;

use super::lock::open as open_lock_file;
use super::Store;

/// A registered run; deregistered (file removed, lock released) on drop.
#[derive(Debug)]
pub struct ActiveRun {
    path: PathBuf,
    _file: File,
}

impl Drop for ActiveRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A live run found by [`Store::live_runs`].
#[derive(Debug, Clone)]
pub struct LiveRun {
    pub run_id: String,
    pub fingerprints: BTreeSet<Fingerprint>,
}

/// The store-wide lock `gc` takes exclusively and registration shares.
pub(super) struct GcLock {
    _file: File,
}

impl Store {
    fn active_dir(&self) -> PathBuf {
        self.root().join("active")
    }

    pub(super) fn gc_lock(&self, exclusive: bool) -> Result<GcLock> {
        let path = self.root().join("locks").join("gc.lock");
        let file = open_lock_file(&path)?;
        if exclusive {
            fs4::FileExt::lock(&file).ctx("lock", &path)?;
        } else {
            fs4::FileExt::lock_shared(&file).ctx("lock", &path)?;
        }
        Ok(GcLock { _file: file })
    }

    /// Registers run `run_id` as using `fingerprints` until the returned
    /// handle drops. Waits while a `gc` pass holds the store.
    pub fn register_run(&self, run_id: &str, fingerprints: &[Fingerprint]) -> Result<ActiveRun> {
        let dir = self.active_dir();
        std::fs::create_dir_all(&dir).ctx("create directory", &dir)?;
        let _shared = self.gc_lock(false)?;
        let path = dir.join(format!("{run_id}.json"));
        let mut file = open_lock_file(&path)?;
        fs4::FileExt::lock(&file).ctx("lock", &path)?;
        let fps: Vec<&str> = fingerprints.iter().map(Fingerprint::as_str).collect();
        let bytes = serde_json::to_vec(&serde_json::json!({
            "run_id": run_id,
            "pid": std::process::id(),
            "fingerprints": fps,
        }))
        .map_err(|e| Error::json(&path, e))?;
        file.set_len(0).ctx("truncate", &path)?;
        file.write_all(&bytes).ctx("write", &path)?;
        file.sync_all().ctx("fsync", &path)?;
        Ok(ActiveRun { path, _file: file })
    }

    /// Runs registered on this store whose process still holds its lock.
    /// With `remove_dead`, the files of dead runs are removed.
    pub(super) fn live_runs(&self, remove_dead: bool) -> Result<Vec<LiveRun>> {
        let dir = self.active_dir();
        let mut live = Vec::new();
        for entry in super::fsck::entries(&dir)? {
            let path = entry.path();
            let Some(run_id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_owned)
            else {
                continue;
            };
            let file = File::open(&path).ctx("open", &path)?;
            match fs4::FileExt::try_lock_shared(&file) {
                Ok(()) => {
                    // Nobody holds it: the run is gone.
                    drop(file);
                    if remove_dead {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                Err(fs4::TryLockError::WouldBlock) => {
                    let text = std::fs::read_to_string(&path).ctx("read", &path)?;
                    let value: serde_json::Value =
                        serde_json::from_str(&text).map_err(|e| Error::json(&path, e))?;
                    let fingerprints = value["fingerprints"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().and_then(Fingerprint::parse))
                        .collect();
                    live.push(LiveRun {
                        run_id,
                        fingerprints,
                    });
                }
                Err(fs4::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
            }
        }
        Ok(live)
    }
}
