//! `kdpipe verify EXP STAGE`: reruns a cached stage into a scratch store
//! (its upstream artifacts linked, not copied) with the thread count of the
//! original run, and compares the hashes of every output file.

use std::process::Command;

use anyhow::{anyhow, Context};
use engine::store::Store;
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
    let original = study
        .store
        .read_manifest(&fp)
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| {
            Failure::bad_input(anyhow!(
                "stage `{}` is not cached yet: run it first",
                spec.name
            ))
        })?;

    let scratch_root = study.store.root().join("tmp").join(format!(
        "verify-{}-{}",
        fp.short(),
        std::process::id()
    ));
    let scratch = Store::open(&scratch_root).map_err(anyhow::Error::from)?;
    let result = (|| -> anyhow::Result<bool> {
        for up in spec.upstream.values() {
            let link = scratch.artifact_dir(up);
            if let Some(parent) = link.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let target = std::path::absolute(study.store.artifact_dir(up))?;
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
        let mut same = true;
        for (file, hash) in &original.outputs {
            if is_measurement(file) {
                let again = rerun.outputs.get(file).is_some_and(|h| h == hash);
                println!(
                    "  measured {file} (wall-clock; {})",
                    if again {
                        "same"
                    } else {
                        "differs, as expected"
                    }
                );
                continue;
            }
            match rerun.outputs.get(file) {
                Some(h) if h == hash => {}
                Some(h) => {
                    same = false;
                    println!("  differs  {file}  {} != {}", &hash[..12], &h[..12]);
                }
                None => {
                    same = false;
                    println!("  missing  {file} (not written by the rerun)");
                }
            }
        }
        for file in rerun
            .outputs
            .keys()
            .filter(|f| !original.outputs.contains_key(*f) && !is_measurement(f))
        {
            same = false;
            println!("  extra    {file} (only in the rerun)");
        }
        Ok(same)
    })();
    let _ = std::fs::remove_dir_all(&scratch_root);
    let same = result?;
    if same {
        let compared = original
            .outputs
            .keys()
            .filter(|f| !is_measurement(f))
            .count();
        println!(
            "{}: identical: {compared} output file(s) hash the same as the cached artifact",
            spec.name,
        );
        Ok(exit::OK)
    } else {
        println!("{}: NOT identical to the cached artifact", spec.name);
        Ok(exit::STAGE_FAILED)
    }
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
