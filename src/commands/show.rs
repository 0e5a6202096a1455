//! `kdpipe show STAGE`: the last published run of a stage name in the
//! store, from its manifest: fingerprint, kind, when and where it ran, its
//! upstream stages and every output file with its size and hash, and the
//! artifact's folder.

use std::fmt::Write;

use anyhow::anyhow;

use super::ls::human_bytes;
use crate::cli::{GlobalArgs, ShowArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn show(args: ShowArgs, global: &GlobalArgs) -> CmdResult {
    let store = session::open_store(global)?;
    let fp = store.latest_for_name(&args.stage).ok_or_else(|| {
        Failure::bad_input(anyhow!(
            "no published stage named '{}' in the store {} (see `kdpipe ls EXP` for names)",
            args.stage,
            store.root().display()
        ))
    })?;
    let manifest = store
        .read_manifest(&fp)
        .map_err(|e| Failure::from(anyhow::Error::from(e)))?
        .ok_or_else(|| {
            Failure::bad_input(anyhow!(
                "stage '{}' ({}) is not in the store any more",
                args.stage,
                fp.short()
            ))
        })?;
    let dir = store.artifact_dir(&fp);
    let mut out = String::new();
    let _ = writeln!(out, "{}", manifest.name);
    let _ = writeln!(out, "  fingerprint  {}", manifest.fingerprint);
    let _ = writeln!(
        out,
        "  kind         {} (code version {})",
        manifest.kind, manifest.inputs.code_version
    );
    let _ = writeln!(
        out,
        "  ran          {} → {} ({:.1} s wall, {:.1} s CPU) on {}, {} thread(s), {}, {}",
        manifest.started_at,
        manifest.finished_at,
        manifest.wall_s,
        manifest.cpu_s,
        manifest.host,
        manifest.threads,
        manifest.device,
        manifest.executor
    );
    let _ = writeln!(out, "  kdpipe       {}", manifest.kdpipe_version);
    if !manifest.inputs.upstream.is_empty() {
        let _ = writeln!(out, "  upstream");
        for (role, up) in &manifest.inputs.upstream {
            let _ = writeln!(out, "    {role:14} {}", up.short());
        }
    }
    let _ = writeln!(out, "  outputs");
    for (file, hash) in &manifest.outputs {
        let size = std::fs::metadata(dir.join(file))
            .map_or_else(|_| "missing".to_owned(), |m| human_bytes(m.len()));
        let _ = writeln!(
            out,
            "    {file:32} {size:>9}  {}",
            &hash[..hash.len().min(12)]
        );
    }
    let _ = writeln!(out, "  path         {}", dir.display());
    print!("{out}");
    Ok(exit::OK)
}
