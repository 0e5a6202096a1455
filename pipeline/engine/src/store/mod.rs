//! The content-addressed artifact store.
//!
//! ```text
//! objects/<fp[0:2]>/<fp>/   outputs + manifest.json, published by one rename
//! tmp/<fp>.<pid>.<nonce>/   staging
//! specs/<fp>.json           resolved StageSpec, written before launch
//! names/<sha256(name)[0:32]> last published fp of a stage name
//! locks/<fp>.lock           per-fingerprint flock
//! logs/<fp>/<run-id>.log    each attempt's output
//! runs/<run-id>.jsonl       event log
//! statcache.json            input hash cache
//! verified.json             verification stamps (stat tuples of intact objects)
//! quarantine/<fp>.<t>.<n>/  corrupt objects moved aside (created when needed)
//! pins/<fp>                 pinned by `kdpipe pin` (content: the stage name)
//! active/<run-id>.json      a live run's fingerprints, flocked while it lives
//! locks/gc.lock             exclusive for a `gc` pass, shared to register a run
//! ```
//!
//! Integrity on read (`check`, `audit`, `quarantine`) is in `integrity.rs`,
//! the whole-store check in `fsck.rs`, garbage collection in `gc.rs` (with
//! `pins.rs` and the live-run registry `active.rs`).

mod active;
mod fsck;
mod gc;
mod integrity;
mod lock;
mod manifest;
mod pins;
mod stamps;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use active::{ActiveRun, LiveRun};
pub use fsck::{fsck, Finding, FsckReport, Repair};
pub use gc::{gc, tree_bytes, GcItem, GcOptions, GcReport};
pub use integrity::{Audit, Corruption, Integrity};
pub use lock::StageLock;
pub use manifest::{cpu_seconds, hostname, now_rfc3339, Manifest};

use crate::error::{Error, IoContext, Result};
use crate::fingerprint::{Fingerprint, STORE_SCHEMA_VERSION};
use crate::hashing::{sha256_bytes, write_atomic};
use crate::spec::StageSpec;

/// The manifest's file name in every object folder.
pub const MANIFEST: &str = "manifest.json";
const DIRS: [&str; 7] = ["objects", "tmp", "specs", "names", "locks", "logs", "runs"];

/// A handle on a store root. Clones share one in-memory table of
/// verification stamps, loaded on the first [`Store::check`].
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    stamps: Arc<Mutex<Option<stamps::Stamps>>>,
}

impl Store {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: &Path) -> Result<Store> {
        for d in DIRS {
            let p = root.join(d);
            std::fs::create_dir_all(&p).ctx("create directory", &p)?;
        }
        Ok(Store::at(root))
    }

    /// A handle that creates nothing: for read-only views (`status`) of a
    /// store that may not exist yet.
    pub fn at(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
            stamps: Arc::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the artifact of `fp` is (or would be) published.
    pub fn artifact_dir(&self, fp: &Fingerprint) -> PathBuf {
        let s = fp.as_str();
        self.root.join("objects").join(&s[..2]).join(s)
    }

    /// Whether `fp` is published (one `stat`).
    pub fn is_published(&self, fp: &Fingerprint) -> bool {
        self.artifact_dir(fp).join(MANIFEST).is_file()
    }

    /// The manifest of `fp`; `None` if unpublished, and also (with a
    /// warning naming the file) if corrupt or of another schema version.
    pub fn read_manifest(&self, fp: &Fingerprint) -> Result<Option<Manifest>> {
        let path = self.artifact_dir(fp).join(MANIFEST);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) if m.schema == STORE_SCHEMA_VERSION && &m.fingerprint == fp => Ok(Some(m)),
            Ok(m) => {
                tracing::warn!(
                    "treating `{}` as missing: schema {} fingerprint {} (expected schema {STORE_SCHEMA_VERSION})",
                    path.display(),
                    m.schema,
                    m.fingerprint
                );
                Ok(None)
            }
            Err(e) => {
                tracing::warn!(
                    "treating corrupt manifest `{}` as missing: {e}",
                    path.display()
                );
                Ok(None)
            }
        }
    }

    pub fn spec_path(&self, fp: &Fingerprint) -> PathBuf {
        self.root.join("specs").join(format!("{fp}.json"))
    }

    /// Writes `specs/<fp>.json` (atomically) and returns the fingerprint.
    pub fn write_spec(&self, spec: &StageSpec) -> Result<Fingerprint> {
        let fp = spec.fingerprint();
        let path = self.spec_path(&fp);
        let bytes = serde_json::to_vec_pretty(spec).map_err(|e| Error::json(&path, e))?;
        write_atomic(&path, &bytes)?;
        Ok(fp)
    }

    /// Reads `specs/<fp>.json`, checking that it hashes to `fp`.
    pub fn read_spec(&self, fp: &Fingerprint) -> Result<StageSpec> {
        let path = self.spec_path(fp);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingSpec(fp.to_string()))
            }
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let spec: StageSpec = serde_json::from_slice(&bytes).map_err(|e| Error::json(&path, e))?;
        let actual = spec.fingerprint();
        if &actual != fp {
            return Err(Error::Other(format!(
                "stage spec `{}` hashes to {actual}, not {fp}",
                path.display()
            )));
        }
        Ok(spec)
    }

    /// Creates a fresh staging dir `tmp/<fp>.<pid>.<nonce>`.
    pub fn create_staging(&self, fp: &Fingerprint) -> Result<PathBuf> {
        let path = self.root.join("tmp").join(format!(
            "{fp}.{}.{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&path).ctx("create staging directory", &path)?;
        Ok(path)
    }

    /// Writes the manifest into `staging`, fsyncs, and publishes it as
    /// `objects/<fp[0:2]>/<fp>` with one rename; then points the name
    /// index at it. Call with the fingerprint's lock held.
    pub fn publish(&self, staging: &Path, manifest: &Manifest) -> Result<PathBuf> {
        let fp = &manifest.fingerprint;
        let mpath = staging.join(MANIFEST);
        let bytes = serde_json::to_vec_pretty(manifest).map_err(|e| Error::json(&mpath, e))?;
        std::fs::write(&mpath, &bytes).ctx("write", &mpath)?;
        sync_tree(staging)?;

        let target = self.artifact_dir(fp);
        let parent = target.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(parent).ctx("create directory", parent)?;
        if target.exists() {
            if self.check(fp) == Integrity::Intact {
                // Published by someone else meanwhile (only without the lock).
                let _ = std::fs::remove_dir_all(staging);
                return Ok(target);
            }
            // A corrupt leftover: moved aside, then replaced.
            let aside = self.quarantine(fp)?;
            tracing::warn!(
                "moved the corrupt artifact of {} to {}",
                fp.short(),
                aside.display()
            );
        }
        std::fs::rename(staging, &target).ctx("publish into", &target)?;
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
        self.set_latest_for_name(&manifest.name, fp)?;
        Ok(target)
    }

    /// Removes the published artifact of `fp` (for `--force`), under its
    /// lock: moved into `tmp/` with one rename, then deleted.
    pub fn unpublish(&self, fp: &Fingerprint) -> Result<()> {
        let _held = self.lock(fp)?;
        self.remove_object(fp)
    }

    /// Removes the object of `fp` if there is one: moved out of `objects/`
    /// into `tmp/` with one rename (a reader sees it whole or not at all),
    /// then deleted. Call with the fingerprint's lock held.
    pub(super) fn remove_object(&self, fp: &Fingerprint) -> Result<()> {
        let target = self.artifact_dir(fp);
        if !target.exists() {
            return Ok(());
        }
        let aside = self.root.join("tmp").join(format!(
            "{fp}.{}.{:08x}.old",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::rename(&target, &aside).ctx("move aside", &target)?;
        std::fs::remove_dir_all(&aside).ctx("remove", &aside)?;
        Ok(())
    }

    fn name_path(&self, name: &str) -> PathBuf {
        let h = sha256_bytes(name.as_bytes());
        self.root.join("names").join(&h[..32])
    }

    /// Records `fp` as the last published fingerprint of stage `name`.
    pub fn set_latest_for_name(&self, name: &str, fp: &Fingerprint) -> Result<()> {
        write_atomic(&self.name_path(name), fp.as_str().as_bytes())
    }

    /// The last published fingerprint of stage `name`, if any.
    pub fn latest_for_name(&self, name: &str) -> Option<Fingerprint> {
        let s = std::fs::read_to_string(self.name_path(name)).ok()?;
        Fingerprint::parse(s.trim())
    }

    fn lock_path(&self, fp: &Fingerprint) -> PathBuf {
        self.root.join("locks").join(format!("{fp}.lock"))
    }

    /// Blocks until this process holds `fp`'s lock.
    pub fn lock(&self, fp: &Fingerprint) -> Result<StageLock> {
        lock::lock(&self.lock_path(fp))
    }

    /// Takes `fp`'s lock if free.
    pub fn try_lock(&self, fp: &Fingerprint) -> Result<Option<StageLock>> {
        lock::try_lock(&self.lock_path(fp))
    }

    /// Removes staging dirs whose fingerprint lock nobody holds (left by
    /// killed runs). Returns how many were removed.
    pub fn clean_stale_tmp(&self) -> Result<usize> {
        let tmp = self.root.join("tmp");
        let entries = match std::fs::read_dir(&tmp) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::io("read directory", tmp, e)),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry.ctx("read directory", &tmp)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(fp) = name.split('.').next().and_then(Fingerprint::parse) else {
                continue;
            };
            if let Some(_held) = self.try_lock(&fp)? {
                let p = entry.path();
                std::fs::remove_dir_all(&p).ctx("remove stale staging directory", &p)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// `logs/<fp>/<run-id>.log`.
    pub fn log_path(&self, fp: &Fingerprint, run_id: &str) -> PathBuf {
        self.root
            .join("logs")
            .join(fp.as_str())
            .join(format!("{run_id}.log"))
    }

    /// `runs/<run-id>.jsonl`.
    pub fn run_log_path(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(format!("{run_id}.jsonl"))
    }

    /// `statcache.json`.
    pub fn statcache_path(&self) -> PathBuf {
        self.root.join("statcache.json")
    }
}

/// fsyncs every file under `dir` and the directory itself.
fn sync_tree(dir: &Path) -> Result<()> {
    for rel in crate::hashing::list_files(dir, &[])? {
        let p = dir.join(rel);
        let f = std::fs::File::open(&p).ctx("open", &p)?;
        f.sync_all().ctx("fsync", &p)?;
    }
    let d = std::fs::File::open(dir).ctx("open", dir)?;
    d.sync_all().ctx("fsync", dir)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod gc_tests;
