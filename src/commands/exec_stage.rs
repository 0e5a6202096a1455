//! `kdpipe exec-stage FP`: runs one stage in this process (the engine's toy
//! stages) or execs `kdpipe-stage` (ML stages, which need libtorch).

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::{anyhow, Context};
use engine::exec_stage::{exec_stage as run_stage, ExecOutcome};
use engine::{protocol, Fingerprint};
use study::contract::Kind;

use crate::cli::{ExecStageArgs, GlobalArgs};
use crate::exit::{CmdResult, Failure};
use crate::session;

pub fn exec_stage(args: ExecStageArgs, global: &GlobalArgs) -> CmdResult {
    let fp = Fingerprint::parse(&args.fingerprint).ok_or_else(|| {
        Failure::bad_input(anyhow!(
            "`{}` is not a fingerprint (64 hex digits)",
            args.fingerprint
        ))
    })?;
    let store = session::open_store(global)?;
    let spec = store
        .read_spec(&fp)
        .map_err(|e| Failure::bad_input(anyhow::Error::from(e)))?;
    let toy = Kind::from_name(&spec.kind).is_some_and(Kind::is_toy);
    if !toy {
        let exe = std::env::current_exe().context("cannot locate the kdpipe binary")?;
        let worker = exe.with_file_name("kdpipe-stage");
        let err = Command::new(&worker)
            .args(protocol::exec_stage_args(&fp, store.root(), args.threads))
            .exec();
        return Err(anyhow!(
            "failed to run {}: {err} (build it with `make build`)",
            worker.display()
        )
        .into());
    }
    let outcome =
        run_stage(&store, &fp, args.threads, &study::toy::run_toy).map_err(anyhow::Error::from)?;
    if let ExecOutcome::Failed(f) = &outcome {
        eprintln!("stage {} failed: {f}", spec.name);
        if f.bad_input {
            println!("{}", protocol::bad_input_line(&f.message));
        }
    }
    Ok(outcome.exit_code() as u8)
}
