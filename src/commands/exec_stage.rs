//! `kdpipe exec-stage FP`: runs one stage in this process (the engine's toy
//! stages) or execs `kdpipe-stage` (ML stages, which need libtorch) with the
//! spec's CPU kernel pin (`cpu_isa`, [`study::contract::cpu_isa`]) in its
//! environment: libtorch reads those variables when it first uses each
//! library, so they must be there before the process starts. This runs on
//! the compute host under every executor (a Slurm job runs exec-stage too).

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::{anyhow, Context};
use engine::exec_stage::{exec_stage as run_stage, ExecOutcome};
use engine::{protocol, Fingerprint};
use study::contract::{CpuIsa, Kind};

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
        let mut cmd = Command::new(&worker);
        cmd.args(protocol::exec_stage_args(&fp, store.root(), args.threads));
        match CpuIsa::of_params(&spec.params) {
            Some(Ok(CpuIsa::Native)) => {
                // libtorch's own choice: no pin inherited from the shell.
                for (k, _) in CpuIsa::Avx2.env() {
                    cmd.env_remove(k);
                }
            }
            Some(Ok(isa)) => {
                cmd.envs(isa.env().iter().copied());
            }
            Some(Err(e)) => {
                return Err(Failure::bad_input(anyhow!("stage {}: {e}", spec.name)));
            }
            None => {}
        }
        let err = cmd.exec();
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
