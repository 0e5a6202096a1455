//! The scheduling loop: launches ready stages within CPU, GPU and
//! exclusivity limits, turns executor updates into events, and stops (or
//! keeps going) after a failure. It never prints.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Executor, JobId, JobOutcome, JobUpdate};
use crate::error::Result;
use crate::events::{Event, EventSink};
use crate::plan::Plan;
use crate::store::Store;

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Experiment name, for the `run_started` event.
    pub experiment: String,
    /// CPU slots.
    pub jobs: usize,
    /// GPU slots (0 where there is no CUDA).
    pub gpus: usize,
    /// Run everything not downstream of a failure.
    pub keep_going: bool,
    /// Set (e.g. by a Ctrl-C handler) to cancel every job and return.
    pub cancel: Arc<AtomicBool>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            experiment: String::new(),
            jobs: 1,
            gpus: 0,
            keep_going: false,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// One failed stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFailed {
    pub name: String,
    pub reason: String,
    pub log: PathBuf,
    /// Failed on bad input data ([`JobOutcome::BadInput`]).
    pub bad_input: bool,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunSummary {
    pub ok: bool,
    pub cancelled: bool,
    pub computed: usize,
    pub cached: usize,
    pub failed: usize,
    pub skipped: usize,
    pub wall_s: f64,
    pub failures: Vec<StageFailed>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
}

struct Need {
    cpu: usize,
    gpu: usize,
    exclusive: bool,
}

/// Runs `plan` to completion (or first failure, or cancellation).
pub fn run(
    plan: &Plan,
    store: &Store,
    executor: &mut dyn Executor,
    opts: &RunOptions,
    sink: &mut EventSink,
) -> Result<RunSummary> {
    let start = Instant::now();
    let jobs = opts.jobs.max(1);
    let n = plan.stages.len();
    let mut summary = RunSummary::default();
    if let Err(e) = store.clean_stale_tmp() {
        tracing::warn!("could not clean stale staging directories: {e}");
    }

    sink.emit(Event::RunStarted {
        experiment: opts.experiment.clone(),
        stages: n,
        to_run: plan.to_run(),
        cached: plan.cached(),
    });
    let mut state = vec![State::Pending; n];
    for (i, s) in plan.stages.iter().enumerate() {
        sink.emit(Event::Planned {
            name: s.spec.name.clone(),
            fingerprint: s.fingerprint.clone(),
            kind: s.spec.kind.clone(),
            will_run: s.will_run(),
            reasons: s.reasons().to_vec(),
        });
        if !s.will_run() {
            state[i] = State::Done;
            summary.cached += 1;
            sink.emit(Event::Cached {
                name: s.spec.name.clone(),
                fingerprint: s.fingerprint.clone(),
            });
        }
    }
    let needs: Vec<Need> = plan
        .stages
        .iter()
        .map(|s| Need {
            cpu: (s.spec.resources.cpu as usize).clamp(1, jobs),
            gpu: (s.spec.resources.gpu as usize).min(opts.gpus),
            exclusive: s.spec.resources.exclusive,
        })
        .collect();

    let (mut cpu_free, mut gpu_free) = (jobs, opts.gpus);
    let mut running: HashMap<JobId, (usize, Instant)> = HashMap::new();
    let mut exclusive_running = false;
    let mut stop_reason: Option<String> = None;

    loop {
        if opts.cancel.load(Ordering::SeqCst) {
            executor.cancel_all();
            summary.cancelled = true;
            break;
        }
        // Skip what can no longer run.
        for i in 0..n {
            if state[i] != State::Pending {
                continue;
            }
            let because = if let Some(d) = plan.stages[i]
                .deps
                .iter()
                .find(|&&d| matches!(state[d], State::Failed | State::Skipped))
            {
                Some(format!(
                    "upstream `{}` did not complete",
                    plan.stages[*d].spec.name
                ))
            } else {
                stop_reason.clone()
            };
            if let Some(because) = because {
                state[i] = State::Skipped;
                summary.skipped += 1;
                sink.emit(Event::Skipped {
                    name: plan.stages[i].spec.name.clone(),
                    fingerprint: plan.stages[i].fingerprint.clone(),
                    because,
                });
            }
        }
        // Launch what is ready and fits, in plan order.
        for i in 0..n {
            if exclusive_running {
                break;
            }
            let ready = state[i] == State::Pending
                && plan.stages[i].deps.iter().all(|&d| state[d] == State::Done);
            if !ready {
                continue;
            }
            let need = &needs[i];
            if need.exclusive {
                if running.is_empty() {
                    // Takes every slot until it ends.
                } else {
                    // Wait for the others to end; start nothing meanwhile.
                    break;
                }
            } else if need.cpu > cpu_free || need.gpu > gpu_free {
                continue;
            }
            let stage = &plan.stages[i];
            match launch(plan, i, store, executor, need.cpu, sink.run_id()) {
                Ok(job) => {
                    state[i] = State::Running;
                    cpu_free -= need.cpu;
                    gpu_free -= need.gpu;
                    exclusive_running = need.exclusive;
                    sink.emit(Event::Started {
                        name: stage.spec.name.clone(),
                        fingerprint: stage.fingerprint.clone(),
                        job: job.0.clone(),
                        threads: need.cpu,
                    });
                    running.insert(job, (i, Instant::now()));
                }
                Err(e) => {
                    let log = store.log_path(&stage.fingerprint, sink.run_id());
                    fail(
                        i,
                        (e.to_string(), false),
                        log,
                        plan,
                        &mut state,
                        &mut summary,
                        sink,
                    );
                    if !opts.keep_going && stop_reason.is_none() {
                        stop_reason = Some(format!("stopped after `{}` failed", stage.spec.name));
                    }
                }
            }
        }
        if running.is_empty() {
            if state.contains(&State::Pending) && stop_reason.is_none() {
                // Launch failures just freed the way; go round again.
                continue;
            }
            break;
        }

        for update in executor.poll(Duration::from_millis(100))? {
            match update {
                JobUpdate::Progress { job, progress } => {
                    if let Some(&(i, _)) = running.get(&job) {
                        let s = &plan.stages[i];
                        sink.emit(Event::Progress {
                            name: s.spec.name.clone(),
                            fingerprint: s.fingerprint.clone(),
                            done: progress.done,
                            total: progress.total,
                            metrics: progress.metrics,
                        });
                    }
                }
                JobUpdate::Done { job, outcome } => {
                    let Some((i, t0)) = running.remove(&job) else {
                        continue;
                    };
                    let need = &needs[i];
                    cpu_free += need.cpu;
                    gpu_free += need.gpu;
                    if need.exclusive {
                        exclusive_running = false;
                    }
                    let s = &plan.stages[i];
                    let outcome = match outcome {
                        JobOutcome::Published | JobOutcome::PublishedElsewhere
                            if !store.is_published(&s.fingerprint) =>
                        {
                            JobOutcome::Failed {
                                reason: "stage exited without publishing its artifact".into(),
                                log: store.log_path(&s.fingerprint, sink.run_id()),
                            }
                        }
                        o => o,
                    };
                    match outcome {
                        JobOutcome::Published | JobOutcome::PublishedElsewhere => {
                            let computed = outcome == JobOutcome::Published;
                            state[i] = State::Done;
                            if computed {
                                summary.computed += 1;
                            } else {
                                summary.cached += 1;
                            }
                            sink.emit(Event::Finished {
                                name: s.spec.name.clone(),
                                fingerprint: s.fingerprint.clone(),
                                wall_s: t0.elapsed().as_secs_f64(),
                                computed,
                            });
                        }
                        JobOutcome::Failed { reason, log } => {
                            fail(
                                i,
                                (reason, false),
                                log,
                                plan,
                                &mut state,
                                &mut summary,
                                sink,
                            );
                            if !opts.keep_going && stop_reason.is_none() {
                                stop_reason =
                                    Some(format!("stopped after `{}` failed", s.spec.name));
                            }
                        }
                        JobOutcome::BadInput { reason, log } => {
                            fail(i, (reason, true), log, plan, &mut state, &mut summary, sink);
                            if !opts.keep_going && stop_reason.is_none() {
                                stop_reason =
                                    Some(format!("stopped after `{}` failed", s.spec.name));
                            }
                        }
                    }
                }
            }
        }
    }

    summary.ok = summary.failed == 0 && summary.skipped == 0 && !summary.cancelled;
    summary.wall_s = start.elapsed().as_secs_f64();
    sink.emit(Event::RunFinished {
        ok: summary.ok,
        computed: summary.computed,
        cached: summary.cached,
        failed: summary.failed,
        skipped: summary.skipped,
        wall_s: summary.wall_s,
    });
    Ok(summary)
}

/// `reason`: the message and whether the input data is at fault.
fn fail(
    i: usize,
    (reason, bad_input): (String, bool),
    log: PathBuf,
    plan: &Plan,
    state: &mut [State],
    summary: &mut RunSummary,
    sink: &mut EventSink,
) {
    let s = &plan.stages[i];
    state[i] = State::Failed;
    summary.failed += 1;
    summary.failures.push(StageFailed {
        name: s.spec.name.clone(),
        reason: reason.clone(),
        log: log.clone(),
        bad_input,
    });
    sink.emit(Event::Failed {
        name: s.spec.name.clone(),
        fingerprint: s.fingerprint.clone(),
        reason,
        log,
        bad_input,
    });
}

/// Writes the spec, unpublishes a forced artifact, and launches stage `i`.
fn launch(
    plan: &Plan,
    i: usize,
    store: &Store,
    executor: &mut dyn Executor,
    threads: usize,
    run_id: &str,
) -> Result<JobId> {
    let s = &plan.stages[i];
    store.write_spec(&s.spec)?;
    if s.reasons().contains(&crate::plan::Reason::Forced) {
        store.unpublish(&s.fingerprint)?;
    }
    let log = store.log_path(&s.fingerprint, run_id);
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io("create directory", dir, e))?;
    }
    executor.launch(&s.spec, &s.fingerprint, threads, &log)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
