//! `kdpipe verify EXP STAGE`: compares three things and says which differs:
//! the files on disk with the manifest (every file hashed, no stamp trusted),
//! and a rerun of the stage with the manifest. The rerun goes into a
//! scratch store (its upstream artifacts linked, not copied) with the thread
//! count of the original run.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{anyhow, Context};
use engine::store::{Manifest, Store};
use engine::StageSpec;
use study::contract::artifacts::{ArtifactFile, Environment, Latency, Throughput, Timing};

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn verify(args: VerifyArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let spec = study
        .specs
        .iter()
        .find(|s| s.name == args.stage)
        .ok_or_else(|| {
            Failure::bad_input(anyhow!(
                "no stage named `{}` in {}",
                args.stage,
                args.experiment.display()
            ))
        })?;
    let fp = spec.fingerprint();
    let audit = study.store.audit(&fp).ok_or_else(|| {
        Failure::bad_input(anyhow!(
            "stage `{}` is not cached yet: run it first",
            spec.name
        ))
    })?;

    // 1. Files on disk vs the manifest.
    let disk_ok = audit.is_intact();
    if disk_ok {
        println!(
            "{}: files on disk vs manifest: intact ({} file(s) hashed)",
            spec.name, audit.hashed
        );
    } else {
        println!(
            "{}: files on disk vs manifest: {} problem(s)",
            spec.name,
            audit.problems.len()
        );
        for p in &audit.problems {
            println!("  corrupt  {p}");
        }
    }
    let Some(original) = audit.manifest else {
        println!(
            "{}: rerun vs manifest: not compared (the manifest is unreadable)",
            spec.name
        );
        println!(
            "{}: CORRUPT: its manifest is unreadable (`kdpipe run` recomputes it)",
            spec.name
        );
        return Ok(exit::STAGE_FAILED);
    };

    // 2. A rerun vs the manifest.
    let rerun_ok = rerun_matches(&study.store, spec, &original)?;
    let compared = original
        .outputs
        .keys()
        .filter(|f| !is_measurement(f))
        .count();
    match (disk_ok, rerun_ok) {
        (true, true) => {
            println!(
                "{}: identical: {compared} output file(s) hash the same as the cached artifact",
                spec.name
            );
            Ok(exit::OK)
        }
        (false, true) => {
            println!(
                "{}: CORRUPT: the files on disk differ from the manifest, which a rerun \
                 reproduces (`kdpipe run` recomputes it)",
                spec.name
            );
            Ok(exit::STAGE_FAILED)
        }
        (true, false) => {
            println!(
                "{}: NOT identical to the cached artifact: the rerun differs from the \
                 manifest and the files on disk (not reproducible here)",
                spec.name
            );
            Ok(exit::STAGE_FAILED)
        }
        (false, false) => {
            println!(
                "{}: CORRUPT and NOT identical: the files on disk and a rerun both differ \
                 from the manifest",
                spec.name
            );
            Ok(exit::STAGE_FAILED)
        }
    }
}

/// Reruns `spec` into a scratch store and prints how its outputs compare
/// with `original`'s hashes; whether every (non-measurement) file matches.
fn rerun_matches(store: &Store, spec: &StageSpec, original: &Manifest) -> Result<bool, Failure> {
    let fp = spec.fingerprint();
    let scratch_root =
        store
            .root()
            .join("tmp")
            .join(format!("verify-{}-{}", fp.short(), std::process::id()));
    let scratch = Store::open(&scratch_root).map_err(anyhow::Error::from)?;
    let result = (|| -> anyhow::Result<BTreeMap<String, String>> {
        for up in spec.upstream.values() {
            let link = scratch.artifact_dir(up);
            if let Some(parent) = link.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let target = std::path::absolute(store.artifact_dir(up))?;
            std::os::unix::fs::symlink(&target, &link)
                .with_context(|| format!("failed to link {}", link.display()))?;
        }
        scratch.write_spec(spec)?;
        let exe = std::env::current_exe()?;
        eprintln!(
            "verify: rerunning {} with {} thread(s)",
            spec.name, original.threads
        );
        let status = Command::new(exe)
            .args(engine::protocol::exec_stage_args(
                &fp,
                &scratch_root,
                original.threads,
            ))
            .status()
            .context("failed to start exec-stage")?;
        if !status.success() {
            anyhow::bail!("the rerun of {} failed ({status})", spec.name);
        }
        let rerun = scratch
            .read_manifest(&fp)?
            .ok_or_else(|| anyhow!("the rerun published no manifest"))?;
        Ok(rerun.outputs)
    })();
    let _ = std::fs::remove_dir_all(&scratch_root);
    let rerun = result?;
    let mut same = true;
    let mut lines = Vec::new();
    for (file, hash) in &original.outputs {
        if is_measurement(file) {
            let again = rerun.get(file).is_some_and(|h| h == hash);
            lines.push(format!(
                "  measured {file} (wall-clock; {})",
                if again {
                    "same"
                } else {
                    "differs, as expected"
                }
            ));
            continue;
        }
        match rerun.get(file) {
            Some(h) if h == hash => {}
            Some(h) => {
                same = false;
                lines.push(format!(
                    "  differs  {file}  {} != {}",
                    &hash[..12.min(hash.len())],
                    &h[..12.min(h.len())]
                ));
            }
            None => {
                same = false;
                lines.push(format!("  missing  {file} (not written by the rerun)"));
            }
        }
    }
    for file in rerun
        .keys()
        .filter(|f| !original.outputs.contains_key(*f) && !is_measurement(f))
    {
        same = false;
        lines.push(format!("  extra    {file} (only in the rerun)"));
    }
    println!(
        "{}: rerun vs manifest: {}",
        spec.name,
        if same { "identical" } else { "differs" }
    );
    for l in lines {
        println!("{l}");
    }
    Ok(same)
}

/// Output files that hold wall-clock measurements (latency, throughput,
/// explanation timing) or describe the host (environment): reported, never
/// expected to be bit-identical.
pub const MEASUREMENT_FILES: &[&str] = &[
    Latency::FILE,
    Throughput::FILE,
    Timing::FILE,
    Environment::FILE,
];

fn is_measurement(file: &str) -> bool {
    MEASUREMENT_FILES.contains(&file.rsplit('/').next().unwrap_or(file))
}
