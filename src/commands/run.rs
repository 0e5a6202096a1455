//! `kdpipe run EXP`: plan, then execute every stage that is not cached.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use engine::events::{new_run_id, EventSink, JsonlLog};
use engine::plan::{plan, Plan};
use engine::scheduler::local::{KillSwitch, LocalExecutor};
use engine::scheduler::slurm::{SlurmConfig, SlurmExecutor};
use engine::scheduler::Executor;
use engine::scheduler::{run as run_plan, RunOptions};
use engine::targets::select_targets;
use study::experiment::ExecutorKind as ExpExecutor;

use crate::cli::{ExecutorKind, GlobalArgs, RunArgs};
use crate::display::Display;
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn run(args: RunArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let specs = select_targets(study.specs.clone(), &args.targets)
        .map_err(|e| Failure::bad_input(anyhow::Error::from(e)))?;
    // Registered before planning, so a `gc` running meanwhile keeps every
    // stage this run may read or write (see engine/src/store/active.rs).
    let run_id = new_run_id();
    let registration = if args.dry_run {
        None
    } else {
        let fps: Vec<_> = specs.iter().map(engine::StageSpec::fingerprint).collect();
        Some(study.store.register_run(&run_id, &fps))
    };
    let plan = plan(&specs, &study.store, &args.force).map_err(Failure::bad_input)?;
    if args.dry_run {
        print_plan(&plan, args.json)?;
        return Ok(exit::OK);
    }
    let _active = match registration {
        Some(Ok(active)) => Some(active),
        // A store this process may only read: fine while nothing is to run.
        Some(Err(e)) if plan.to_run() == 0 => {
            tracing::warn!("{e}; every stage is cached, so the run goes on unregistered");
            None
        }
        Some(Err(e)) => {
            return Err(anyhow::Error::from(e)
                .context(format!(
                    "cannot register this run in the store {} (so that `kdpipe gc` leaves its stages alone)",
                    study.store.root().display()
                ))
                .into())
        }
        None => None,
    };

    let exe = std::env::current_exe().context("cannot locate the kdpipe binary")?;
    let store_root =
        std::path::absolute(study.store.root()).context("cannot resolve the store path")?;
    let cfg = &study.experiment.executor;
    let use_slurm = match args.executor {
        Some(k) => k == ExecutorKind::Slurm,
        None => cfg.kind == ExpExecutor::Slurm,
    };
    let (mut executor, kill_switch): (Box<dyn Executor>, Option<KillSwitch>) = if use_slurm {
        let mut sc = SlurmConfig::new(exe, store_root);
        sc.partition = args.partition.clone().or_else(|| cfg.partition.clone());
        sc.account = args.account.clone().or_else(|| cfg.account.clone());
        sc.time = args.time.clone().or_else(|| cfg.time.clone());
        sc.gres = args.gres.clone().or_else(|| cfg.gres.clone());
        (Box::new(SlurmExecutor::new(sc)), None)
    } else {
        let local = LocalExecutor::new(exe, store_root, Vec::new());
        let kill_switch = local.kill_switch();
        (Box::new(local), Some(kill_switch))
    };

    let log_path = study
        .store
        .root()
        .join("runs")
        .join(format!("{run_id}.jsonl"));
    let mut sink = EventSink::new(run_id.clone());
    let log = match JsonlLog::create(&log_path) {
        Ok(log) => Some(log),
        // A fully cached run writes nothing else, so it works on a store it
        // may only read (a shared, read-only copy of the results).
        Err(e) if plan.to_run() == 0 => {
            tracing::warn!("{e}; every stage is cached, so the run goes on without a run log");
            None
        }
        Err(e) => return Err(anyhow::Error::from(e).into()),
    };
    let log_path = log.is_some().then_some(log_path);
    if let Some(log) = log {
        sink.subscribe(Box::new(log));
    }
    sink.subscribe(Box::new(Display::new(args.plain)));

    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        // The first Ctrl-C cancels: the scheduler kills the running stages
        // and returns. A second one (the scheduler may be stuck) kills them
        // here and exits at once.
        let _ = ctrlc::set_handler(move || {
            if cancel.swap(true, Ordering::SeqCst) {
                // Kill before printing: stderr may block.
                match kill_switch.as_ref().map(KillSwitch::kill_all) {
                    Some(n) => eprintln!("interrupted again: killed {n} running stage(s)"),
                    None => eprintln!("interrupted again: submitted Slurm jobs may still run"),
                }
                std::process::exit(exit::INTERRUPTED as i32);
            }
        });
    }
    let opts = RunOptions {
        experiment: study.experiment.name.clone(),
        jobs: args.jobs.unwrap_or_else(default_jobs),
        gpus: session::gpu_slots(),
        keep_going: args.keep_going,
        cancel: cancel.clone(),
    };
    let summary = run_plan(&plan, &study.store, executor.as_mut(), &opts, &mut sink)
        .map_err(|e| Failure::stage_failed(anyhow::Error::from(e)))?;
    if let Some(log_path) = &log_path {
        eprintln!("run log: {}", log_path.display());
    }
    if summary.cancelled || cancel.load(Ordering::SeqCst) {
        return Ok(exit::INTERRUPTED);
    }
    // Bad input data found while running (a corrupt image, one class) is
    // the user's to fix, like a bad experiment file: exit 2 when every
    // failure is of that kind.
    let bad_input = !summary.failures.is_empty() && summary.failures.iter().all(|f| f.bad_input);
    Ok(if summary.ok {
        exit::OK
    } else if bad_input {
        exit::BAD_INPUT
    } else {
        exit::STAGE_FAILED
    })
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn print_plan(plan: &Plan, json: bool) -> Result<(), Failure> {
    if json {
        let stages: Vec<_> = plan
            .stages
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.spec.name,
                    "kind": s.spec.kind,
                    "fingerprint": s.fingerprint,
                    "will_run": s.will_run(),
                    "reasons": s.reasons(),
                })
            })
            .collect();
        let out = serde_json::json!({
            "stages": stages,
            "to_run": plan.to_run(),
            "cached": plan.cached(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).context("failed to encode the plan")?
        );
    } else {
        let mut out = String::new();
        for s in plan.stages.iter().filter(|s| s.will_run()) {
            out.push_str(&format!(
                "would run  {}  ({})\n",
                s.spec.name,
                super::status::reasons_text(s)
            ));
        }
        out.push_str(&format!(
            "{} to run, {} cached\n",
            plan.to_run(),
            plan.cached()
        ));
        print!("{out}");
    }
    Ok(())
}
