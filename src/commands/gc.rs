//! `kdpipe gc --keep EXP.toml... [--dry-run] [--keep-runs N] [--json]`:
//! everything in the store that the kept experiments do not plan today,
//! that is not pinned and that no live run uses, is removed (see
//! `engine/src/store/gc.rs` for what exactly and why it is safe next to a
//! running `kdpipe run`).

use std::collections::BTreeSet;
use std::fmt::Write;

use anyhow::Context;
use engine::store::{gc as gc_pass, GcOptions, GcReport};

use super::ls::human_bytes;
use crate::cli::{GcArgs, GlobalArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn gc(args: GcArgs, global: &GlobalArgs) -> CmdResult {
    // Every experiment loads (and so validates) before anything is removed.
    let mut planned = BTreeSet::new();
    let mut store = None;
    for exp in &args.keep {
        let study = session::load(exp, global)?;
        planned.extend(study.specs.iter().map(engine::StageSpec::fingerprint));
        store = Some(study.store);
    }
    let store = match store {
        Some(s) => s,
        None => session::open_store(global)?,
    };
    let opts = GcOptions {
        dry_run: args.dry_run,
        keep_runs: args.keep_runs,
    };
    let report = gc_pass(&store, &planned, &opts)
        .with_context(|| format!("gc of the store {} failed", store.root().display()))?;
    if args.json {
        println!("{}", to_json(&report)?);
    } else {
        print!("{}", text(&report, &args));
    }
    Ok(exit::OK)
}

fn text(r: &GcReport, args: &GcArgs) -> String {
    let verb = if r.dry_run { "would remove" } else { "removed" };
    let mut out = String::new();
    let kept_by: Vec<String> = args.keep.iter().map(|p| p.display().to_string()).collect();
    let _ = writeln!(
        out,
        "keeping {} stage(s) planned by {}, {} pinned, {} used by {} live run(s)",
        r.planned,
        if kept_by.is_empty() {
            "no experiment".to_owned()
        } else {
            kept_by.join(", ")
        },
        r.pinned,
        r.live_fingerprints,
        r.live_runs
    );
    let width = r
        .removed
        .iter()
        .filter_map(|i| i.name.as_ref().map(String::len))
        .max()
        .unwrap_or(0);
    for i in &r.removed {
        let what = if i.published {
            ""
        } else {
            "  (spec/logs only)"
        };
        let _ = writeln!(
            out,
            "{verb}  {}  {:width$}  {:>9}{what}",
            i.fingerprint.short(),
            i.name.as_deref().unwrap_or("?"),
            human_bytes(i.bytes)
        );
    }
    for i in &r.in_use {
        let _ = writeln!(
            out,
            "in use    {}  {}  (locked by a live process, left alone)",
            i.fingerprint.short(),
            i.name.as_deref().unwrap_or("?")
        );
    }
    for (p, b) in r.staging.iter().chain(&r.run_logs) {
        let _ = writeln!(out, "{verb}  {}  {:>9}", p.display(), human_bytes(*b));
    }
    let objects = r.removed.iter().filter(|i| i.published).count();
    let _ = writeln!(
        out,
        "{verb} {objects} object(s), {} unpublished spec/log set(s), {} staging folder(s), {} run log(s): {} {}; kept {} object(s) ({})",
        r.removed.len() - objects,
        r.staging.len(),
        r.run_logs.len(),
        human_bytes(r.bytes_freed()),
        if r.dry_run { "would be freed" } else { "freed" },
        r.kept_objects,
        human_bytes(r.kept_bytes)
    );
    out
}

fn to_json(r: &GcReport) -> Result<String, Failure> {
    let items = |v: &[engine::store::GcItem]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|i| {
                serde_json::json!({
                    "fingerprint": i.fingerprint,
                    "name": i.name,
                    "published": i.published,
                    "bytes": i.bytes,
                })
            })
            .collect()
    };
    let paths = |v: &[(std::path::PathBuf, u64)]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|(p, b)| serde_json::json!({"path": p, "bytes": b}))
            .collect()
    };
    let value = serde_json::json!({
        "dry_run": r.dry_run,
        "planned": r.planned,
        "pinned": r.pinned,
        "live_runs": r.live_runs,
        "live_fingerprints": r.live_fingerprints,
        "kept_objects": r.kept_objects,
        "kept_bytes": r.kept_bytes,
        "removed": items(&r.removed),
        "in_use": items(&r.in_use),
        "staging": paths(&r.staging),
        "run_logs": paths(&r.run_logs),
        "names": r.names,
        "bytes_freed": r.bytes_freed(),
    });
    Ok(serde_json::to_string_pretty(&value).context("failed to encode the gc report")?)
}
