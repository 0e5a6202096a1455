//! Verification stamps (`<store>/verified.json`): for each artifact whose
//! files were last found to match its manifest, the stat tuples (size,
//! mtime, inode) of `manifest.json` and of every output file at that time.
//! While none of them changed, [`super::Store::check`] trusts the artifact
//! without reading or hashing anything: one `stat` per file.
//!
//! The stamps are a cache, never a source of truth: a missing, unreadable or
//! unwritable `verified.json` only means files get hashed again (a read-only
//! store works, it just rehashes). Concurrent writers merge on save; a lost
//! update costs one rehash later.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hashing::{write_atomic, FileStat};

const STAMPS_VERSION: u32 = 1;

/// One file of a stamp: name relative to the artifact dir, size, mtime (ns),
/// inode. A tuple keeps the file small (two entries per toy stage).
type FileEntry = (String, u64, i128, u64);

#[derive(Debug, Default, Serialize, Deserialize)]
struct StampFile {
    version: u32,
    /// Fingerprint → files (manifest.json first).
    objects: BTreeMap<String, Vec<FileEntry>>,
}

/// The in-memory stamp table of one store handle, loaded on first use.
#[derive(Debug)]
pub(crate) struct Stamps {
    path: PathBuf,
    objects: BTreeMap<String, Vec<FileEntry>>,
    /// What this process changed since loading: `None` = forgotten.
    changed: BTreeMap<String, Option<Vec<FileEntry>>>,
}

impl Stamps {
    pub(crate) fn load(path: &Path) -> Stamps {
        Stamps {
            path: path.to_path_buf(),
            objects: read(path),
            changed: BTreeMap::new(),
        }
    }

    /// The stamped files of `fp`.
    pub(crate) fn get(&self, fp: &str) -> Option<impl Iterator<Item = (&str, FileStat)>> {
        self.objects.get(fp).map(|files| {
            files.iter().map(|(name, size, mtime_ns, inode)| {
                (
                    name.as_str(),
                    FileStat {
                        size: *size,
                        mtime_ns: *mtime_ns,
                        inode: *inode,
                    },
                )
            })
        })
    }

    pub(crate) fn record(&mut self, fp: &str, files: &[(String, FileStat)]) {
        let entry: Vec<FileEntry> = files
            .iter()
            .map(|(n, s)| (n.clone(), s.size, s.mtime_ns, s.inode))
            .collect();
        if self.objects.get(fp) == Some(&entry) {
            return;
        }
        self.objects.insert(fp.to_owned(), entry.clone());
        self.changed.insert(fp.to_owned(), Some(entry));
    }

    pub(crate) fn forget(&mut self, fp: &str) {
        if self.objects.remove(fp).is_some() {
            self.changed.insert(fp.to_owned(), None);
        }
    }

    /// Writes this process's changes over the file's current content (re-read
    /// so that concurrent writers lose as little as possible). A no-op when
    /// nothing changed.
    pub(crate) fn save(&mut self) -> Result<()> {
        if self.changed.is_empty() {
            return Ok(());
        }
        let mut objects = read(&self.path);
        for (fp, entry) in &self.changed {
            match entry {
                Some(e) => objects.insert(fp.clone(), e.clone()),
                None => objects.remove(fp),
            };
        }
        let file = StampFile {
            version: STAMPS_VERSION,
            objects,
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| Error::json(&self.path, e))?;
        write_atomic(&self.path, &bytes)?;
        self.objects = file.objects;
        self.changed.clear();
        Ok(())
    }
}

fn read(path: &Path) -> BTreeMap<String, Vec<FileEntry>> {
    let Ok(bytes) = std::fs::read(path) else {
        return BTreeMap::new();
    };
    match serde_json::from_slice::<StampFile>(&bytes) {
        Ok(f) if f.version == STAMPS_VERSION => f.objects,
        Ok(_) => BTreeMap::new(),
        Err(e) => {
            tracing::debug!("ignoring unreadable stamps `{}`: {e}", path.display());
            BTreeMap::new()
        }
    }
}
