//! Integrity on read: whether a published artifact's files are still the
//! bytes its manifest hashed. [`Store::check`] (plan, exec-stage, tables) is
//! cheap: an artifact whose files' stat tuples match its verification stamp
//! costs one `stat` per file; otherwise every output is hashed and, if all
//! match and the files have settled, stamped. [`Store::audit`] (`verify`,
//! `fsck`) always hashes everything and lists every problem.
//! [`Store::quarantine`] moves a corrupt object aside (one rename) so it can
//! be republished.

use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};
use crate::fingerprint::{Fingerprint, STORE_SCHEMA_VERSION};
use crate::hashing::{now_ns, sha256_file, FileStat};

use super::stamps::Stamps;
use super::{Manifest, Store, MANIFEST};

/// One way an artifact's files differ from its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corruption {
    /// The object folder exists but has no `manifest.json`.
    MissingManifest,
    /// `manifest.json` is not JSON, or not a manifest.
    UnreadableManifest {
        reason: String,
    },
    /// A manifest of another schema version or fingerprint than its folder.
    ForeignManifest {
        schema: u32,
        fingerprint: String,
    },
    MissingFile {
        file: String,
    },
    UnreadableFile {
        file: String,
        reason: String,
    },
    SizeMismatch {
        file: String,
        size: u64,
        expected: u64,
    },
    HashMismatch {
        file: String,
    },
}

impl Corruption {
    /// The file (relative to the artifact folder) the problem is in.
    pub fn file(&self) -> &str {
        match self {
            Corruption::MissingManifest
            | Corruption::UnreadableManifest { .. }
            | Corruption::ForeignManifest { .. } => MANIFEST,
            Corruption::MissingFile { file }
            | Corruption::UnreadableFile { file, .. }
            | Corruption::SizeMismatch { file, .. }
            | Corruption::HashMismatch { file } => file,
        }
    }
}

impl std::fmt::Display for Corruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Corruption::MissingManifest => write!(f, "missing file {MANIFEST}"),
            Corruption::UnreadableManifest { reason } => {
                write!(f, "unreadable manifest ({reason})")
            }
            Corruption::ForeignManifest {
                schema,
                fingerprint,
            } => write!(
                f,
                "unreadable manifest (schema {schema}, fingerprint {}; expected schema \
                 {STORE_SCHEMA_VERSION} and this object's fingerprint)",
                fingerprint.get(..12).unwrap_or(fingerprint)
            ),
            Corruption::MissingFile { file } => write!(f, "missing file {file}"),
            Corruption::UnreadableFile { file, reason } => {
                write!(f, "unreadable file {file} ({reason})")
            }
            Corruption::SizeMismatch {
                file,
                size,
                expected,
            } => write!(
                f,
                "{file} size mismatch ({size} bytes, the manifest says {expected})"
            ),
            Corruption::HashMismatch { file } => write!(f, "{file} hash mismatch"),
        }
    }
}

/// What [`Store::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// Published, and every output file matches the manifest.
    Intact,
    /// Not published (no object folder).
    Missing,
    /// Published, but (the first problem found) does not match.
    Corrupt(Corruption),
}

/// A full check of one object, every file hashed.
#[derive(Debug, Clone)]
pub struct Audit {
    /// `None` when unreadable (see `problems`).
    pub manifest: Option<Manifest>,
    /// Empty when intact.
    pub problems: Vec<Corruption>,
    /// How many files were hashed.
    pub hashed: usize,
    /// Stat tuples of `manifest.json` and each output, taken before reading.
    stats: Vec<(String, FileStat)>,
    /// When the check started (ns since the epoch).
    checked_at_ns: i128,
}

impl Audit {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads and checks the manifest at `dir` for fingerprint `fp`.
fn read_checked_manifest(dir: &Path, fp: &Fingerprint) -> Result<Manifest, Corruption> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Corruption::MissingManifest,
        _ => Corruption::UnreadableManifest {
            reason: e.to_string(),
        },
    })?;
    let m: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| Corruption::UnreadableManifest {
            reason: e.to_string(),
        })?;
    if m.schema != STORE_SCHEMA_VERSION || &m.fingerprint != fp {
        return Err(Corruption::ForeignManifest {
            schema: m.schema,
            fingerprint: m.fingerprint.to_string(),
        });
    }
    Ok(m)
}

/// Hashes every output of the object at `dir` against its manifest.
fn audit_dir(dir: &Path, fp: &Fingerprint) -> Audit {
    let checked_at_ns = now_ns();
    let mut audit = Audit {
        manifest: None,
        problems: Vec::new(),
        hashed: 0,
        stats: Vec::new(),
        checked_at_ns,
    };
    // The manifest's stat before its content: a later rewrite changes it.
    let mstat = FileStat::of(&dir.join(MANIFEST));
    let manifest = match read_checked_manifest(dir, fp) {
        Ok(m) => m,
        Err(c) => {
            audit.problems.push(c);
            return audit;
        }
    };
    if let Ok(s) = mstat {
        audit.stats.push((MANIFEST.to_owned(), s));
    }
    for (file, expected) in &manifest.outputs {
        let path = dir.join(file);
        let stat = match FileStat::of(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                audit
                    .problems
                    .push(Corruption::MissingFile { file: file.clone() });
                continue;
            }
            Err(e) => {
                audit.problems.push(Corruption::UnreadableFile {
                    file: file.clone(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if let Some(&want) = manifest.output_sizes.get(file) {
            if want != stat.size {
                audit.problems.push(Corruption::SizeMismatch {
                    file: file.clone(),
                    size: stat.size,
                    expected: want,
                });
                continue;
            }
        }
        audit.hashed += 1;
        match sha256_file(&path) {
            Ok(h) if &h == expected => audit.stats.push((file.clone(), stat)),
            Ok(_) => audit
                .problems
                .push(Corruption::HashMismatch { file: file.clone() }),
            Err(e) => audit.problems.push(Corruption::UnreadableFile {
                file: file.clone(),
                reason: e.to_string(),
            }),
        }
    }
    audit.manifest = Some(manifest);
    audit
}

impl Store {
    pub(super) fn stamps(&self) -> std::sync::MutexGuard<'_, Option<Stamps>> {
        let mut guard = self
            .stamps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            *guard = Some(Stamps::load(&self.stamps_path()));
        }
        guard
    }

    /// `verified.json`.
    pub fn stamps_path(&self) -> PathBuf {
        self.root.join("verified.json")
    }

    /// Whether `fp`'s published files still match its manifest. Cheap when
    /// nothing changed since the last check (see the module docs); never
    /// writes to the store (see [`Store::save_stamps`]).
    pub fn check(&self, fp: &Fingerprint) -> Integrity {
        let dir = self.artifact_dir(fp);
        let stamped = {
            let guard = self.stamps();
            let same = guard
                .as_ref()
                .and_then(|s| s.get(fp.as_str()))
                .map(|files| {
                    let mut files = files.peekable();
                    files.peek().is_some()
                        && files.all(|(name, st)| FileStat::of(&dir.join(name)).ok() == Some(st))
                });
            same == Some(true)
        };
        if stamped {
            return Integrity::Intact;
        }
        match self.audit(fp) {
            None => Integrity::Missing,
            Some(mut audit) if audit.is_intact() => {
                let settled = audit
                    .stats
                    .iter()
                    .all(|(_, s)| s.settled_at(audit.checked_at_ns));
                if let Some(stamps) = self.stamps().as_mut() {
                    if settled {
                        stamps.record(fp.as_str(), &std::mem::take(&mut audit.stats));
                    } else {
                        stamps.forget(fp.as_str());
                    }
                }
                Integrity::Intact
            }
            Some(mut audit) => {
                if let Some(stamps) = self.stamps().as_mut() {
                    stamps.forget(fp.as_str());
                }
                Integrity::Corrupt(audit.problems.swap_remove(0))
            }
        }
    }

    /// [`Store::check`] of each of `fps`, then the new stamps saved (best
    /// effort: a store this process may not write is checked all the same).
    pub fn check_all(&self, fps: &[Fingerprint]) -> Vec<Integrity> {
        let out = fps.iter().map(|fp| self.check(fp)).collect();
        if let Err(e) = self.save_stamps() {
            tracing::debug!("could not save the verification stamps: {e}");
        }
        out
    }

    /// Writes this handle's new verification stamps to `verified.json`.
    pub fn save_stamps(&self) -> Result<()> {
        match self.stamps().as_mut() {
            Some(s) => s.save(),
            None => Ok(()),
        }
    }

    /// Hashes every output of `fp` against its manifest, ignoring stamps;
    /// `None` when `fp` is not published.
    pub fn audit(&self, fp: &Fingerprint) -> Option<Audit> {
        let dir = self.artifact_dir(fp);
        if !dir.is_dir() {
            return None;
        }
        Some(audit_dir(&dir, fp))
    }

    /// Moves the object of `fp` into `quarantine/<fp>.<unix-seconds>.<nonce>`
    /// with one rename and returns where. Call with `fp`'s lock held.
    pub fn quarantine(&self, fp: &Fingerprint) -> Result<PathBuf> {
        let from = self.artifact_dir(fp);
        let to = self.quarantine_dir(fp.as_str());
        self.move_to_quarantine(&from, &to)?;
        if let Some(stamps) = self.stamps().as_mut() {
            stamps.forget(fp.as_str());
        }
        Ok(to)
    }

    /// A fresh `quarantine/<label>.<unix-seconds>.<nonce>` path.
    pub(crate) fn quarantine_dir(&self, label: &str) -> PathBuf {
        let secs = now_ns() / 1_000_000_000;
        self.root
            .join("quarantine")
            .join(format!("{label}.{secs}.{:08x}", rand::random::<u32>()))
    }

    pub(crate) fn move_to_quarantine(&self, from: &Path, to: &Path) -> Result<()> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).ctx("create directory", parent)?;
        }
        std::fs::rename(from, to).ctx("move into quarantine", from)
    }
}
