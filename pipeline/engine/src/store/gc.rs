//! `gc`: remove what no experiment needs any more.
//!
//! Roots are the fingerprints the caller passes (every stage the kept
//! experiments plan today), the pinned ones (`pins.rs`) and those of every
//! live run (`active.rs`). Every other fingerprint loses its object under
//! `objects/`, its spec under `specs/`, its attempt logs under `logs/` and
//! the name links that point at it. Stale staging folders (their
//! fingerprint's lock is free) go too, and with `keep_runs`, all but the
//! newest run logs (never a live run's).
//!
//! Safety against a concurrent run: the whole pass holds `locks/gc.lock`
//! exclusively, so a run registers before it (and its stages are roots) or
//! after it; and each object is removed under its own fingerprint lock, so
//! an object some process is publishing or reading under its lock is left
//! alone and reported as in use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fingerprint::Fingerprint;

use super::fsck::{alive, entries, remove};
use super::Store;

/// What to do besides the objects.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    /// List, remove nothing.
    pub dry_run: bool,
    /// Keep only the newest `n` run logs (`runs/*.jsonl`); `None` keeps all.
    pub keep_runs: Option<usize>,
}

/// One fingerprint `gc` removes (or would remove).
#[derive(Debug, Clone, PartialEq)]
pub struct GcItem {
    pub fingerprint: Fingerprint,
    /// From its manifest or spec.
    pub name: Option<String>,
    /// Whether it had a published object (else only a spec or logs).
    pub published: bool,
    /// Bytes of its object, spec and logs.
    pub bytes: u64,
}

/// The result of [`gc`].
#[derive(Debug, Default)]
pub struct GcReport {
    pub dry_run: bool,
    /// Fingerprints kept because the experiments plan them.
    pub planned: usize,
    /// Pinned fingerprints.
    pub pinned: usize,
    /// Live runs on the store and the fingerprints they use.
    pub live_runs: usize,
    pub live_fingerprints: usize,
    /// Published objects kept.
    pub kept_objects: usize,
    pub kept_bytes: u64,
    pub removed: Vec<GcItem>,
    /// Unrooted, but locked by a live process right now: left alone.
    pub in_use: Vec<GcItem>,
    /// Stale staging folders with their bytes.
    pub staging: Vec<(PathBuf, u64)>,
    /// Run logs beyond `keep_runs`, with their bytes.
    pub run_logs: Vec<(PathBuf, u64)>,
    /// Name links removed with their objects.
    pub names: usize,
}

impl GcReport {
    /// Bytes removed (or that would be).
    pub fn bytes_freed(&self) -> u64 {
        self.removed.iter().map(|i| i.bytes).sum::<u64>()
            + self.staging.iter().map(|s| s.1).sum::<u64>()
            + self.run_logs.iter().map(|s| s.1).sum::<u64>()
    }
}

/// Bytes of the regular files under `path` (a file or a folder; 0 if absent).
pub fn tree_bytes(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    if !meta.is_dir() {
        return 0;
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| tree_bytes(&e.path()))
        .sum()
}

/// Fingerprints named by the entries of `dir` (`<fp>` or `<fp>.json`).
fn fps_in(dir: &Path) -> Result<Vec<Fingerprint>> {
    Ok(entries(dir)?
        .iter()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            Fingerprint::parse(n.strip_suffix(".json").unwrap_or(&n))
        })
        .collect())
}

/// Runs one `gc` pass over `store`, keeping `planned` (see the module docs).
pub fn gc(store: &Store, planned: &BTreeSet<Fingerprint>, opts: &GcOptions) -> Result<GcReport> {
    let _exclusive = store.gc_lock(true)?;
    let live = store.live_runs(!opts.dry_run)?;
    let pins = store.pins()?;
    let mut roots: BTreeSet<Fingerprint> = planned.clone();
    roots.extend(pins.keys().cloned());
    let live_fps: BTreeSet<Fingerprint> = live
        .iter()
        .flat_map(|r| r.fingerprints.iter().cloned())
        .collect();
    roots.extend(live_fps.iter().cloned());
    let mut report = GcReport {
        dry_run: opts.dry_run,
        planned: planned.len(),
        pinned: pins.len(),
        live_runs: live.len(),
        live_fingerprints: live_fps.len(),
        ..GcReport::default()
    };

    let objects = store.root().join("objects");
    let mut all: BTreeSet<Fingerprint> = BTreeSet::new();
    for shard in entries(&objects)? {
        all.extend(fps_in(&shard.path())?.into_iter().filter(|fp| {
            fp.as_str()
                .starts_with(&*shard.file_name().to_string_lossy())
        }));
    }
    all.extend(fps_in(&store.root().join("specs"))?);
    all.extend(fps_in(&store.root().join("logs"))?);

    let mut removed_fps = BTreeSet::new();
    for fp in &all {
        let dir = store.artifact_dir(fp);
        if roots.contains(fp) {
            if dir.is_dir() {
                report.kept_objects += 1;
                report.kept_bytes += tree_bytes(&dir);
            }
            continue;
        }
        let spec = store.spec_path(fp);
        let logs = store.root().join("logs").join(fp.as_str());
        let item = GcItem {
            fingerprint: fp.clone(),
            name: store
                .read_manifest(fp)
                .ok()
                .flatten()
                .map(|m| m.name)
                .or_else(|| store.read_spec(fp).ok().map(|s| s.name)),
            published: dir.is_dir(),
            bytes: tree_bytes(&dir) + tree_bytes(&spec) + tree_bytes(&logs),
        };
        if opts.dry_run {
            report.removed.push(item);
            continue;
        }
        let Some(_held) = store.try_lock(fp)? else {
            report.in_use.push(item);
            continue;
        };
        store.remove_object(fp)?;
        for p in [&spec, &logs] {
            if p.exists() {
                remove(p)?;
            }
        }
        if let Some(stamps) = store.stamps().as_mut() {
            stamps.forget(fp.as_str());
        }
        removed_fps.insert(fp.clone());
        report.removed.push(item);
    }
    if !opts.dry_run && !removed_fps.is_empty() {
        store.save_stamps()?;
        report.names = remove_names_of(store, &removed_fps)?;
    }
    report.staging = stale_staging(store, opts.dry_run)?;
    report.run_logs = old_run_logs(store, &live, opts)?;
    Ok(report)
}

fn remove_names_of(store: &Store, removed: &BTreeSet<Fingerprint>) -> Result<usize> {
    let mut n = 0;
    for entry in entries(&store.root().join("names"))? {
        let path = entry.path();
        let target = std::fs::read_to_string(&path).unwrap_or_default();
        if Fingerprint::parse(target.trim()).is_some_and(|fp| removed.contains(&fp)) {
            remove(&path)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Staging folders nobody holds: `<fp>.<pid>.<nonce>[.old]` whose lock is
/// free, `verify-<fp12>-<pid>` whose process is gone.
fn stale_staging(store: &Store, dry_run: bool) -> Result<Vec<(PathBuf, u64)>> {
    let mut out = Vec::new();
    for entry in entries(&store.root().join("tmp"))? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        // Held while we look at it, so nobody starts writing it meanwhile.
        let mut _held = None;
        let stale = if let Some(rest) = name.strip_prefix("verify-") {
            !rest.rsplit('-').next().is_some_and(alive)
        } else if let Some(fp) = name.split('.').next().and_then(Fingerprint::parse) {
            _held = store.try_lock(&fp)?;
            _held.is_some()
        } else {
            false
        };
        if stale {
            let bytes = tree_bytes(&path);
            if !dry_run {
                remove(&path)?;
            }
            out.push((path, bytes));
        }
    }
    Ok(out)
}

fn old_run_logs(
    store: &Store,
    live: &[super::active::LiveRun],
    opts: &GcOptions,
) -> Result<Vec<(PathBuf, u64)>> {
    let Some(keep) = opts.keep_runs else {
        return Ok(Vec::new());
    };
    // Run ids start with their UTC start time, so names sort by age.
    let mut logs: Vec<PathBuf> = entries(&store.root().join("runs"))?
        .iter()
        .map(std::fs::DirEntry::path)
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    logs.sort();
    let old = logs.len().saturating_sub(keep);
    let mut out = Vec::new();
    for path in logs.into_iter().take(old) {
        let run_id = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if live.iter().any(|r| Some(&r.run_id) == run_id.as_ref()) {
            continue;
        }
        let bytes = tree_bytes(&path);
        if !opts.dry_run {
            remove(&path)?;
        }
        out.push((path, bytes));
    }
    Ok(out)
}
