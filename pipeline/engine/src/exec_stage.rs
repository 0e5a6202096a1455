//! The `kdpipe exec-stage <fp>` protocol, shared by every executor: take the
//! fingerprint's lock, stop if already published, run the stage into a
//! staging directory, hash its outputs, write the manifest and publish with
//! one rename. A failure removes the staging directory and publishes nothing.
//!
//! Integrity: every upstream artifact is checked against its manifest before
//! the stage starts (a corrupt one is refused, naming the stage and file), and
//! a corrupt object of this fingerprint is quarantined before recomputing.

use std::io::Write;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::exec::{Progress, StageContext, StageFailure, StageReport};
use crate::fingerprint::Fingerprint;
use crate::hashing::hash_dir;
use crate::protocol::{
    EXECUTOR_ENV, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_PUBLISHED, EXIT_PUBLISHED_ELSEWHERE,
    PROGRESS_PREFIX,
};
use crate::store::{cpu_seconds, hostname, now_rfc3339, Integrity, Manifest, Store, MANIFEST};

/// How `exec_stage` ended; the binary maps it to exit codes 0 / 10 / 1 / 2.
#[derive(Debug)]
pub enum ExecOutcome {
    Published(Box<Manifest>),
    PublishedElsewhere,
    Failed(StageFailure),
}

impl ExecOutcome {
    /// 0 published, 10 published elsewhere, 1 failed, 2 bad input.
    pub fn exit_code(&self) -> i32 {
        match self {
            ExecOutcome::Published(_) => EXIT_PUBLISHED,
            ExecOutcome::PublishedElsewhere => EXIT_PUBLISHED_ELSEWHERE,
            ExecOutcome::Failed(f) if f.bad_input => EXIT_BAD_INPUT,
            ExecOutcome::Failed(_) => EXIT_FAILED,
        }
    }
}

/// A stage implementation as `exec_stage` calls it.
pub type RunFn<'a> = &'a dyn Fn(&StageContext<'_>) -> Result<StageReport, StageFailure>;

/// Runs stage `fp` (its spec read from `specs/<fp>.json`) with `threads`
/// threads, calling `run` to compute it.
pub fn exec_stage(
    store: &Store,
    fp: &Fingerprint,
    threads: usize,
    run: RunFn<'_>,
) -> Result<ExecOutcome> {
    let spec = store.read_spec(fp)?;
    let _lock = store.lock(fp)?;
    let own = store.check(fp);
    if own == Integrity::Intact {
        return Ok(ExecOutcome::PublishedElsewhere);
    }
    let mut upstream = std::collections::BTreeMap::new();
    for (role, up) in &spec.upstream {
        match store.check(up) {
            Integrity::Intact => {}
            Integrity::Missing => {
                return Err(Error::UpstreamMissing {
                    name: spec.name.clone(),
                    role: role.clone(),
                    fingerprint: up.to_string(),
                })
            }
            Integrity::Corrupt(c) => {
                return Err(Error::UpstreamCorrupt {
                    name: spec.name.clone(),
                    role: role.clone(),
                    upstream: store
                        .read_spec(up)
                        .map_or_else(|_| up.to_string(), |s| s.name),
                    fingerprint: up.to_string(),
                    detail: c.to_string(),
                })
            }
        }
        upstream.insert(role.clone(), store.artifact_dir(up));
    }
    if let Integrity::Corrupt(c) = own {
        let aside = store.quarantine(fp)?;
        eprintln!(
            "kdpipe: the artifact of {} was corrupt ({c}); moved to {}, recomputing",
            spec.name,
            aside.display()
        );
    }

    let staging = store.create_staging(fp)?;
    let progress = |p: Progress| {
        if let Ok(json) = serde_json::to_string(&p) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{PROGRESS_PREFIX}{json}");
            let _ = out.flush();
        }
    };
    let ctx = StageContext {
        spec: &spec,
        fingerprint: fp,
        out_dir: &staging,
        upstream,
        threads,
        progress: &progress,
    };
    let started_at = now_rfc3339();
    let t0 = Instant::now();
    let cpu0 = cpu_seconds();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&ctx)))
        .unwrap_or_else(|_| Err(StageFailure::new("stage panicked")));
    let report = match result {
        Ok(r) => r,
        Err(failure) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Ok(ExecOutcome::Failed(failure));
        }
    };
    let finish = || -> Result<Manifest> {
        let outputs = hash_dir(&staging, &[MANIFEST])?;
        let mut output_sizes = std::collections::BTreeMap::new();
        for file in outputs.keys() {
            let path = staging.join(file);
            let meta = std::fs::metadata(&path).map_err(|e| Error::io("stat", &path, e))?;
            output_sizes.insert(file.clone(), meta.len());
        }
        let manifest = Manifest {
            schema: crate::STORE_SCHEMA_VERSION,
            name: spec.name.clone(),
            kind: spec.kind.clone(),
            fingerprint: fp.clone(),
            inputs: spec.fingerprint_inputs(),
            outputs,
            output_sizes,
            started_at,
            finished_at: now_rfc3339(),
            wall_s: t0.elapsed().as_secs_f64(),
            cpu_s: cpu_seconds() - cpu0,
            host: hostname(),
            kdpipe_version: env!("CARGO_PKG_VERSION").to_string(),
            threads,
            device: report.device.clone(),
            executor: std::env::var(EXECUTOR_ENV).unwrap_or_else(|_| "local".into()),
            summary: report.summary.clone(),
        };
        store.publish(&staging, &manifest)?;
        Ok(manifest)
    };
    match finish() {
        Ok(m) => Ok(ExecOutcome::Published(Box::new(m))),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::tests::spec;

    fn ok_stage(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
        std::fs::create_dir_all(ctx.out_dir.join("sub")).unwrap();
        std::fs::write(ctx.out_dir.join("sub/out.txt"), b"abc").unwrap();
        (ctx.progress)(Progress {
            done: 1,
            total: 1,
            metrics: Default::default(),
        });
        Ok(StageReport {
            device: "cpu".into(),
            summary: serde_json::json!({"x": 1}),
        })
    }

    #[test]
    fn publishes_with_hashed_outputs_then_reports_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let s = spec("sq/1", 1);
        let fp = store.write_spec(&s).unwrap();
        let out = exec_stage(&store, &fp, 2, &ok_stage).unwrap();
        let ExecOutcome::Published(m) = &out else {
            panic!("{out:?}")
        };
        assert_eq!(out.exit_code(), 0);
        assert_eq!(
            m.outputs["sub/out.txt"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(m.threads, 2);
        assert_eq!(m.inputs, s.fingerprint_inputs());
        let on_disk = store.read_manifest(&fp).unwrap().unwrap();
        assert_eq!((&on_disk.outputs, &on_disk.inputs), (&m.outputs, &m.inputs));
        assert_eq!(store.latest_for_name("sq/1"), Some(fp.clone()));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );

        let again = exec_stage(&store, &fp, 2, &ok_stage).unwrap();
        assert!(matches!(again, ExecOutcome::PublishedElsewhere));
        assert_eq!(again.exit_code(), 10);
    }

    #[test]
    fn a_corrupt_object_is_quarantined_and_recomputed_a_corrupt_upstream_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let up = spec("gen", 0);
        let up_fp = store.write_spec(&up).unwrap();
        exec_stage(&store, &up_fp, 1, &ok_stage).unwrap();
        let out = store.artifact_dir(&up_fp).join("sub/out.txt");
        std::fs::write(&out, b"abd").unwrap();

        let mut s = spec("sq/1", 1);
        s.upstream.insert("gen".into(), up_fp.clone());
        let fp = store.write_spec(&s).unwrap();
        let err = exec_stage(&store, &fp, 1, &ok_stage).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("upstream `gen` of stage `sq/1` (gen, fingerprint"),
            "{msg}"
        );
        assert!(msg.contains("sub/out.txt hash mismatch"), "{msg}");
        assert!(!store.is_published(&fp));

        // The corrupt upstream itself is recomputed: moved aside, republished.
        let again = exec_stage(&store, &up_fp, 1, &ok_stage).unwrap();
        assert!(matches!(again, ExecOutcome::Published(_)), "{again:?}");
        assert_eq!(std::fs::read(&out).unwrap(), b"abc");
        assert_eq!(
            std::fs::read_dir(dir.path().join("quarantine"))
                .unwrap()
                .count(),
            1
        );
        let m = store.read_manifest(&up_fp).unwrap().unwrap();
        assert_eq!(m.output_sizes["sub/out.txt"], 3);
        assert!(matches!(
            exec_stage(&store, &fp, 1, &ok_stage).unwrap(),
            ExecOutcome::Published(_)
        ));
    }

    #[test]
    fn failure_and_panic_publish_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let fp = store.write_spec(&spec("sq/1", 1)).unwrap();
        let failing = |ctx: &StageContext<'_>| -> Result<StageReport, StageFailure> {
            std::fs::write(ctx.out_dir.join("half"), b"x").unwrap();
            Err(StageFailure::new("boom"))
        };
        let out = exec_stage(&store, &fp, 1, &failing).unwrap();
        assert!(matches!(&out, ExecOutcome::Failed(f) if f.message == "boom"));
        assert_eq!(out.exit_code(), 1);
        let panicking =
            |_: &StageContext<'_>| -> Result<StageReport, StageFailure> { panic!("kaboom") };
        let out = exec_stage(&store, &fp, 1, &panicking).unwrap();
        assert!(matches!(&out, ExecOutcome::Failed(f) if f.message == "stage panicked"));
        assert!(!store.is_published(&fp));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[test]
    fn missing_spec_and_missing_upstream_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let up = spec("gen", 0);
        let err = exec_stage(&store, &up.fingerprint(), 1, &ok_stage).unwrap_err();
        assert!(err.to_string().contains("no stage spec"), "{err}");
        let mut s = spec("sq/1", 1);
        s.upstream.insert("gen".into(), up.fingerprint());
        let fp = store.write_spec(&s).unwrap();
        let err = exec_stage(&store, &fp, 1, &ok_stage).unwrap_err();
        assert!(err.to_string().contains("upstream `gen`"), "{err}");
    }
}
