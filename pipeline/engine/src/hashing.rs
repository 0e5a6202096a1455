//! Content hashing: streaming SHA-256 of files and directory trees, and the
//! stat cache that keeps an unchanged multi-GB input from being re-hashed on
//! every `status` (DVC's and git's trick: trust (size, mtime, inode)).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
use crate::fingerprint::hex;

/// Read buffer: large enough that syscalls do not dominate the hash.
const BUF_SIZE: usize = 1 << 20;

/// SHA-256 (lowercase hex) of a file's content, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).ctx("open", path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("read", path, e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 (lowercase hex) of a byte string.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Every regular file under `dir`, recursively: relative path (with `/`
/// separators) → SHA-256. Symlinks are followed for files; directories named
/// in `skip` (top level only) are left out.
pub fn hash_dir(dir: &Path, skip: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for rel in list_files(dir, skip)? {
        let hash = sha256_file(&dir.join(&rel))?;
        out.insert(rel, hash);
    }
    Ok(out)
}

/// Relative paths of every file under `dir`, sorted.
pub fn list_files(dir: &Path, skip: &[&str]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<(PathBuf, String)> = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = stack.pop() {
        for entry in std::fs::read_dir(&abs).ctx("read directory", &abs)? {
            let entry = entry.ctx("read directory", &abs)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if rel.is_empty() && skip.contains(&name.as_str()) {
                continue;
            }
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = entry.path();
            let meta = std::fs::metadata(&path).ctx("stat", &path)?;
            if meta.is_dir() {
                stack.push((path, child_rel));
            } else {
                out.push(child_rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What the stat cache trusts about a file: if none of these changed, its
/// content is taken as unchanged (the artifact store's verification stamps
/// use the same rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    pub size: u64,
    pub mtime_ns: i128,
    pub inode: u64,
}

impl FileStat {
    /// The stat tuple of `path` (symlinks followed).
    pub fn of(path: &Path) -> std::io::Result<FileStat> {
        std::fs::metadata(path).map(|m| FileStat::from_meta(&m))
    }

    pub fn from_meta(meta: &std::fs::Metadata) -> FileStat {
        FileStat {
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            inode: meta.ino(),
        }
    }

    /// Whether a content check done at `checked_at_ns` (wall clock, ns since
    /// the epoch) may be trusted for this stat later. A write in the same
    /// mtime tick as the check would leave the stat unchanged ("racy git"),
    /// so a file modified less than [`SETTLE_NS`] before the check is not.
    pub fn settled_at(&self, checked_at_ns: i128) -> bool {
        self.mtime_ns + SETTLE_NS < checked_at_ns
    }
}

/// How long after its last modification a file's stat is trusted: larger
/// than any Linux file system's mtime granularity (1 s on some NFS setups).
pub const SETTLE_NS: i128 = 1_000_000_000;

/// Now, in nanoseconds since the Unix epoch.
pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StatEntry {
    size: u64,
    mtime_ns: i128,
    inode: u64,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StatFile {
    version: u32,
    entries: BTreeMap<PathBuf, StatEntry>,
}

const STAT_CACHE_VERSION: u32 = 1;

/// (path, size, mtime, inode) → SHA-256, persisted as JSON.
#[derive(Debug)]
pub struct StatCache {
    path: PathBuf,
    entries: BTreeMap<PathBuf, StatEntry>,
    dirty: bool,
    hashed: usize,
}

impl StatCache {
    /// Loads the cache at `path` (usually `<store>/statcache.json`). A missing
    /// or unreadable cache is an empty one (with a warning if corrupt).
    pub fn load(path: &Path) -> StatCache {
        let entries = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<StatFile>(&bytes) {
                Ok(f) if f.version == STAT_CACHE_VERSION => f.entries,
                Ok(_) => BTreeMap::new(),
                Err(e) => {
                    tracing::warn!("ignoring corrupt stat cache `{}`: {e}", path.display());
                    BTreeMap::new()
                }
            },
            Err(_) => BTreeMap::new(),
        };
        StatCache {
            path: path.to_path_buf(),
            entries,
            dirty: false,
            hashed: 0,
        }
    }

    /// The SHA-256 of `path`, from the cache when its size, mtime and inode
    /// are unchanged, else hashed (and remembered).
    pub fn hash(&mut self, path: &Path) -> Result<String> {
        let meta = std::fs::metadata(path).ctx("stat", path)?;
        let FileStat {
            size,
            mtime_ns,
            inode,
        } = FileStat::from_meta(&meta);
        let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(e) = self.entries.get(&key) {
            if e.size == size && e.mtime_ns == mtime_ns && e.inode == inode {
                return Ok(e.sha256.clone());
            }
        }
        let sha256 = sha256_file(path)?;
        self.hashed += 1;
        self.entries.insert(
            key,
            StatEntry {
                size,
                mtime_ns,
                inode,
                sha256: sha256.clone(),
            },
        );
        self.dirty = true;
        Ok(sha256)
    }

    /// How many files this cache actually hashed since it was loaded.
    pub fn hashed_count(&self) -> usize {
        self.hashed
    }

    /// Writes the cache back (temp file + rename) if anything changed.
    pub fn save(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let file = StatFile {
            version: STAT_CACHE_VERSION,
            entries: std::mem::take(&mut self.entries),
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| Error::json(&self.path, e));
        self.entries = file.entries;
        write_atomic(&self.path, &bytes?)?;
        self.dirty = false;
        Ok(())
    }
}

/// Writes `bytes` to `path` through a sibling temp file and a rename, so a
/// reader sees the old content or the new one, never a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx("create directory", dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&tmp, bytes).ctx("write", &tmp)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("rename into", path, e));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_bytes(b"abc"), sha256_file(&p).unwrap());
    }

    #[test]
    fn missing_file_error_names_it() {
        let err = sha256_file(Path::new("/nonexistent/kdpipe.bin")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/kdpipe.bin"), "{err}");
    }

    #[test]
    fn hash_dir_is_recursive_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub/deeper")).unwrap();
        std::fs::write(dir.path().join("a"), b"1").unwrap();
        std::fs::write(dir.path().join("sub/deeper/b"), b"2").unwrap();
        std::fs::write(dir.path().join("manifest.json"), b"{}").unwrap();
        let h = hash_dir(dir.path(), &["manifest.json"]).unwrap();
        assert_eq!(
            h.keys().collect::<Vec<_>>(),
            vec!["a", "sub/deeper/b"],
            "{h:?}"
        );
    }

    #[test]
    fn stat_cache_rehashes_only_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache_path = dir.path().join("statcache.json");
        let a = dir.path().join("a.bin");
        let b = dir.path().join("b.bin");
        std::fs::write(&a, b"hello").unwrap();
        std::fs::write(&b, b"world").unwrap();

        let mut cache = StatCache::load(&cache_path);
        let ha = cache.hash(&a).unwrap();
        cache.hash(&b).unwrap();
        assert_eq!(cache.hashed_count(), 2);
        cache.save().unwrap();

        // Unchanged: served from the saved cache.
        let mut cache = StatCache::load(&cache_path);
        assert_eq!(cache.hash(&a).unwrap(), ha);
        cache.hash(&b).unwrap();
        assert_eq!(cache.hashed_count(), 0);

        // Size change.
        std::fs::write(&a, b"hello!").unwrap();
        let ha2 = cache.hash(&a).unwrap();
        assert_ne!(ha2, ha);
        assert_eq!(cache.hashed_count(), 1);

        // Same size, different mtime.
        let f = std::fs::File::options().write(true).open(&b).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000))
            .unwrap();
        drop(f);
        cache.hash(&b).unwrap();
        assert_eq!(cache.hashed_count(), 2);
    }

    #[test]
    fn corrupt_stat_cache_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let cache_path = dir.path().join("statcache.json");
        std::fs::write(&cache_path, b"{not json").unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"x").unwrap();
        let mut cache = StatCache::load(&cache_path);
        cache.hash(&a).unwrap();
        assert_eq!(cache.hashed_count(), 1);
        cache.save().unwrap();
        let cache = StatCache::load(&cache_path);
        assert_eq!(cache.entries.len(), 1);
    }
}
