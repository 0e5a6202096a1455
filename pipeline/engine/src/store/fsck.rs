//! `fsck`: every object of a store hashed against its manifest, the
//! manifest's schema checked, stray staging folders under `tmp/` and name
//! links under `names/` that point at no object found. With `repair`, a
//! broken object is moved into `quarantine/`, a stray staging folder and a
//! dangling name link are removed (a link to a quarantined object is not
//! dangling: it tells the plan the artifact is missing); anything whose fingerprint lock a live
//! run holds is left alone (it is being written right now).

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::fingerprint::Fingerprint;

use super::{Corruption, Store};

/// One problem `fsck` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// A published object whose files or manifest do not check out.
    Corrupt {
        fingerprint: Fingerprint,
        /// From its manifest or spec, when either is readable.
        name: Option<String>,
        problems: Vec<Corruption>,
    },
    /// Something under `objects/` that is not `<fp[0:2]>/<fp>/`.
    Stray { path: PathBuf },
    /// A staging folder under `tmp/` that no live run holds.
    Staging { path: PathBuf },
    /// A name link whose content is no fingerprint, or names no object.
    Dangling { path: PathBuf, target: String },
}

/// What `repair` did about a finding.
#[derive(Debug, Clone, PartialEq)]
pub enum Repair {
    /// Not asked to repair.
    No,
    /// Quarantined to this path, or removed (`None`).
    Done(Option<PathBuf>),
    /// Left alone, and why.
    Skipped(String),
}

/// The result of [`fsck`].
#[derive(Debug, Default)]
pub struct FsckReport {
    pub objects: usize,
    pub hashed: usize,
    /// Staging folders (and `verify` scratch stores) of live runs: no problem.
    pub in_use: usize,
    pub findings: Vec<(Finding, Repair)>,
}

impl FsckReport {
    pub fn repaired(&self) -> usize {
        self.findings
            .iter()
            .filter(|(_, r)| matches!(r, Repair::Done(_)))
            .count()
    }
}

pub(super) fn entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.ctx("read directory", dir))
            .collect::<Result<Vec<_>>>()
            .map(|mut v| {
                v.sort_by_key(std::fs::DirEntry::file_name);
                v
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read directory", dir, e)),
    }
}

pub(super) fn remove(path: &Path) -> Result<()> {
    if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(path).ctx("remove", path)
    } else {
        std::fs::remove_file(path).ctx("remove", path)
    }
}

/// Checks (and with `repair`, repairs) every object, staging folder and
/// name link of `store`.
pub fn fsck(store: &Store, repair: bool) -> Result<FsckReport> {
    let mut report = FsckReport::default();
    check_objects(store, repair, &mut report)?;
    check_staging(store, repair, &mut report)?;
    check_names(store, repair, &mut report)?;
    Ok(report)
}

fn check_objects(store: &Store, repair: bool, report: &mut FsckReport) -> Result<()> {
    let objects = store.root().join("objects");
    for shard in entries(&objects)? {
        let shard_name = shard.file_name().to_string_lossy().into_owned();
        let shard_ok = shard.path().is_dir()
            && shard_name.len() == 2
            && shard_name.bytes().all(|b| b.is_ascii_hexdigit());
        let inner = if shard_ok {
            entries(&shard.path())?
        } else {
            Vec::new()
        };
        if !shard_ok {
            stray(store, &shard.path(), &shard_name, repair, report)?;
            continue;
        }
        for obj in inner {
            let name = obj.file_name().to_string_lossy().into_owned();
            let fp = Fingerprint::parse(&name).filter(|fp| fp.as_str().starts_with(&shard_name));
            let Some(fp) = fp.filter(|_| obj.path().is_dir()) else {
                stray(store, &obj.path(), &name, repair, report)?;
                continue;
            };
            report.objects += 1;
            let Some(audit) = store.audit(&fp) else {
                continue;
            };
            report.hashed += audit.hashed;
            if audit.is_intact() {
                continue;
            }
            let name = audit
                .manifest
                .as_ref()
                .map(|m| m.name.clone())
                .or_else(|| store.read_spec(&fp).ok().map(|s| s.name));
            let action = if !repair {
                Repair::No
            } else {
                match store.try_lock(&fp)? {
                    None => Repair::Skipped("locked by a live run".into()),
                    // Republished meanwhile?
                    Some(_held) if store.audit(&fp).is_none_or(|a| a.is_intact()) => {
                        Repair::Skipped("repaired meanwhile by a run".into())
                    }
                    Some(_held) => Repair::Done(Some(store.quarantine(&fp)?)),
                }
            };
            report.findings.push((
                Finding::Corrupt {
                    fingerprint: fp,
                    name,
                    problems: audit.problems,
                },
                action,
            ));
        }
    }
    Ok(())
}

fn stray(
    store: &Store,
    path: &Path,
    label: &str,
    repair: bool,
    report: &mut FsckReport,
) -> Result<()> {
    let action = if repair {
        let to = store.quarantine_dir(&format!("stray-{label}"));
        store.move_to_quarantine(path, &to)?;
        Repair::Done(Some(to))
    } else {
        Repair::No
    };
    report.findings.push((
        Finding::Stray {
            path: path.to_path_buf(),
        },
        action,
    ));
    Ok(())
}

/// Whether process `pid` is alive (its `/proc` entry exists).
pub(super) fn alive(pid: &str) -> bool {
    pid.parse::<u32>().is_ok() && Path::new("/proc").join(pid).exists()
}

fn check_staging(store: &Store, repair: bool, report: &mut FsckReport) -> Result<()> {
    let tmp = store.root().join("tmp");
    for entry in entries(&tmp)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        // `verify-<fp12>-<pid>`: a scratch store of a `kdpipe verify`.
        if let Some(rest) = name.strip_prefix("verify-") {
            if rest.rsplit('-').next().is_some_and(alive) {
                report.in_use += 1;
                continue;
            }
        } else if let Some(fp) = name.split('.').next().and_then(Fingerprint::parse) {
            // `<fp>.<pid>.<nonce>[.old]`: staging under the fp's lock.
            match store.try_lock(&fp)? {
                None => {
                    report.in_use += 1;
                    continue;
                }
                Some(_held) if repair => {
                    remove(&path)?;
                    report
                        .findings
                        .push((Finding::Staging { path }, Repair::Done(None)));
                    continue;
                }
                Some(_) => {}
            }
        }
        let action = if repair {
            remove(&path)?;
            Repair::Done(None)
        } else {
            Repair::No
        };
        report.findings.push((Finding::Staging { path }, action));
    }
    Ok(())
}

fn check_names(store: &Store, repair: bool, report: &mut FsckReport) -> Result<()> {
    let names = store.root().join("names");
    // Links to a quarantined object are kept: the plan then says "artifact
    // missing" and recomputes it.
    let quarantined: std::collections::HashSet<String> = entries(&store.root().join("quarantine"))?
        .iter()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.split('.').next().map(str::to_owned)
        })
        .collect();
    for entry in entries(&names)? {
        let file = entry.file_name().to_string_lossy().into_owned();
        // `.<name>.<pid>.<nonce>.tmp`: a link being written right now.
        if file.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let content = std::fs::read_to_string(&path).unwrap_or_default();
        let target = content.trim().to_owned();
        let fp = Fingerprint::parse(&target);
        if let Some(fp) = &fp {
            if store.artifact_dir(fp).is_dir() || quarantined.contains(fp.as_str()) {
                continue;
            }
        }
        let action = match (&fp, repair) {
            (_, false) => Repair::No,
            (Some(fp), true) => match store.try_lock(fp)? {
                // A forced rerun between unpublish and publish.
                None => Repair::Skipped("locked by a live run".into()),
                Some(_held) => {
                    remove(&path)?;
                    Repair::Done(None)
                }
            },
            (None, true) => {
                remove(&path)?;
                Repair::Done(None)
            }
        };
        report
            .findings
            .push((Finding::Dangling { path, target }, action));
    }
    Ok(())
}
