//! [`SlurmExecutor`]: submission (`sbatch`), batched polling (`squeue`,
//! then `scontrol show job` for jobs that left the queue), progress from the
//! jobs' logs, and cancel (`scancel`).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::command::{
    absolute, escape_output_pattern, is_invalid_job_id, is_transient, os_concat, run,
    set_executable, stderr_text,
};
use super::config::SlurmConfig;
use super::parse::{outcome_of, parse_progress_line, parse_sbatch, parse_scontrol, parse_squeue};
use crate::error::Error;
use crate::fingerprint::Fingerprint;
use crate::protocol;
use crate::scheduler::{Executor, JobId, JobOutcome, JobUpdate};
use crate::spec::StageSpec;
use crate::store::Store;

/// The job script: it runs its arguments, nothing else. Fixed text, so that
/// no experiment value is ever parsed by a shell.
pub(super) const JOB_SCRIPT: &str = "#!/bin/sh\n# Written by kdpipe: runs `kdpipe exec-stage ...` given as arguments.\nexec \"$@\"\n";

/// First and longest wait between two `squeue` calls.
const POLL_MIN: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(2);

/// Tries of one `sbatch` that fails for a transient reason (a busy
/// controller), waiting 1, 2, 4, ... s in between.
const SBATCH_TRIES: u32 = 5;

/// Growth of the wait between two `squeue` calls while nothing finishes.
const POLL_GROWTH: f64 = 1.5;

/// `squeue` failures in a row (a busy or restarting controller) before
/// `poll` gives up with an error.
const MAX_QUERY_FAILURES: u32 = 30;

/// A submitted job the head has not yet seen finish.
#[derive(Debug)]
struct Tracked {
    name: String,
    fingerprint: Fingerprint,
    log: PathBuf,
    /// Bytes of the log already scanned for progress lines.
    log_offset: u64,
}

/// Runs each stage as one Slurm batch job.
#[derive(Debug)]
pub struct SlurmExecutor {
    config: SlurmConfig,
    jobs: BTreeMap<JobId, Tracked>,
    job_script: Option<PathBuf>,
    /// Current wait between two `squeue` calls, and when the next is due.
    interval: Duration,
    next_query: Instant,
    query_failures: u32,
}

impl SlurmExecutor {
    pub fn new(config: SlurmConfig) -> SlurmExecutor {
        SlurmExecutor {
            config,
            jobs: BTreeMap::new(),
            job_script: None,
            interval: POLL_MIN,
            next_query: Instant::now(),
            query_failures: 0,
        }
    }

    pub fn config(&self) -> &SlurmConfig {
        &self.config
    }

    /// Ids of the jobs submitted and not yet reported done.
    pub fn active_jobs(&self) -> Vec<JobId> {
        self.jobs.keys().cloned().collect()
    }

    /// Writes `<store>/slurm/job.sh` once (atomically, by rename) and
    /// returns its absolute path.
    pub(super) fn job_script(&mut self) -> crate::Result<PathBuf> {
        if let Some(path) = &self.job_script {
            return Ok(path.clone());
        }
        let dir = absolute(&self.config.store)?.join("slurm");
        let path = dir.join("job.sh");
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(JOB_SCRIPT) {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
            let tmp = dir.join(format!("job.sh.{}.tmp", std::process::id()));
            std::fs::write(&tmp, JOB_SCRIPT).map_err(|e| Error::io("write", &tmp, e))?;
            set_executable(&tmp)?;
            std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &tmp, e))?;
        }
        self.job_script = Some(path.clone());
        Ok(path)
    }

    /// The `sbatch` argument vector for one stage (without the program).
    pub(super) fn sbatch_args(
        &self,
        spec: &StageSpec,
        fingerprint: &Fingerprint,
        threads: usize,
        log: &Path,
        script: &Path,
        store: &Path,
    ) -> Vec<std::ffi::OsString> {
        let c = &self.config;
        let mut args: Vec<std::ffi::OsString> = vec![
            "--parsable".into(),
            format!("--job-name=kdpipe-{}", fingerprint.short()).into(),
            // `--output` expands `%j` and friends; `%%` is a literal `%`.
            os_concat("--output=", &escape_output_pattern(log)),
            os_concat("--chdir=", store.as_os_str()),
            format!("--cpus-per-task={}", threads.max(1)).into(),
        ];
        if let Some(p) = &c.partition {
            args.push(format!("--partition={p}").into());
        }
        if let Some(a) = &c.account {
            args.push(format!("--account={a}").into());
        }
        if let Some(t) = &c.time {
            args.push(format!("--time={t}").into());
        }
        match (&c.gres, spec.resources.gpu) {
            (Some(g), _) => args.push(format!("--gres={g}").into()),
            (None, 0) => {}
            (None, n) => args.push(format!("--gres=gpu:{n}").into()),
        }
        if spec.resources.exclusive {
            args.push("--exclusive".into());
        }
        args.extend(c.extra_args.iter().map(Into::into));
        // The job script, then its arguments: the stage's command line.
        args.push(script.as_os_str().to_owned());
        args.push(c.exe.as_os_str().to_owned());
        args.extend(protocol::exec_stage_args(
            fingerprint,
            store,
            threads.max(1),
        ));
        args
    }

    /// One `squeue` round: which tracked jobs left the queue, and how they
    /// ended. Also reads new progress lines from the logs.
    fn query(&mut self) -> crate::Result<Vec<JobUpdate>> {
        let mut updates = self.read_progress();
        let ids: Vec<&str> = self.jobs.keys().map(|j| j.0.as_str()).collect();
        let out = run(Command::new(&self.config.commands.squeue)
            .args(["-h", "-o", "%i|%T|%r", "-j"])
            .arg(ids.join(",")));
        let queued = match out {
            Ok(o) if o.status.success() => parse_squeue(&String::from_utf8_lossy(&o.stdout)),
            // Every listed job already purged from the controller.
            Ok(o) if is_invalid_job_id(&o) => BTreeMap::new(),
            Ok(o) => return self.query_failed(&format!("squeue failed: {}", stderr_text(&o))),
            Err(e) => return self.query_failed(&format!("cannot run squeue: {e}")),
        };
        self.query_failures = 0;
        let gone: Vec<JobId> = self
            .jobs
            .keys()
            .filter(|id| queued.get(&id.0).is_none_or(|s| s.state.is_final()))
            .cloned()
            .collect();
        for id in gone {
            let Some(outcome) = self.final_outcome(&id)? else {
                continue;
            };
            // A last look at the log for progress written just before exit.
            updates.extend(self.read_progress_of(&id));
            self.jobs.remove(&id);
            updates.push(JobUpdate::Done { job: id, outcome });
        }
        Ok(updates)
    }

    fn query_failed(&mut self, message: &str) -> crate::Result<Vec<JobUpdate>> {
        self.query_failures += 1;
        if self.query_failures >= MAX_QUERY_FAILURES {
            return Err(Error::Other(format!(
                "{message} ({} times in a row)",
                self.query_failures
            )));
        }
        tracing::warn!("{message}; will retry");
        Ok(Vec::new())
    }

    /// How a job that left the queue ended, from `scontrol show job`.
    /// `None` when Slurm still reports it active (it raced with `squeue`).
    fn final_outcome(&self, id: &JobId) -> crate::Result<Option<JobOutcome>> {
        let Some(job) = self.jobs.get(id) else {
            return Ok(None);
        };
        let out = run(Command::new(&self.config.commands.scontrol)
            .args(["show", "job", "-o"])
            .arg(&id.0))
        .map_err(|e| Error::Other(format!("cannot run scontrol: {e}")))?;
        if !out.status.success() {
            if is_invalid_job_id(&out) {
                return Ok(Some(self.vanished_outcome(id, job)));
            }
            return Err(Error::Other(format!(
                "scontrol show job {} failed: {}",
                id.0,
                stderr_text(&out)
            )));
        }
        let info = parse_scontrol(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| {
            Error::Other(format!(
                "cannot read the state of slurm job {} from scontrol's output",
                id.0
            ))
        })?;
        if !info.state.is_final() {
            return Ok(None);
        }
        Ok(Some(outcome_of(&id.0, &info, &job.log)))
    }

    /// A job Slurm no longer knows (purged after `MinJobAge`): the store says
    /// whether it published.
    fn vanished_outcome(&self, id: &JobId, job: &Tracked) -> JobOutcome {
        if Store::at(&self.config.store).is_published(&job.fingerprint) {
            JobOutcome::Published
        } else {
            JobOutcome::Failed {
                reason: format!(
                    "slurm job {} of stage `{}` is no longer known to slurm and published nothing",
                    id.0, job.name
                ),
                log: job.log.clone(),
            }
        }
    }

    /// New `@kdpipe {json}` lines in the logs of every tracked job.
    fn read_progress(&mut self) -> Vec<JobUpdate> {
        let ids: Vec<JobId> = self.jobs.keys().cloned().collect();
        ids.iter()
            .flat_map(|id| self.read_progress_of(id))
            .collect()
    }

    fn read_progress_of(&mut self, id: &JobId) -> Vec<JobUpdate> {
        let Some(job) = self.jobs.get_mut(id) else {
            return Vec::new();
        };
        let Ok(mut file) = std::fs::File::open(&job.log) else {
            return Vec::new(); // not started yet
        };
        let mut text = Vec::new();
        if file.seek(SeekFrom::Start(job.log_offset)).is_err()
            || file.read_to_end(&mut text).is_err()
        {
            return Vec::new();
        }
        // Only whole lines; a partial last line is read next time.
        let Some(end) = text.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        job.log_offset += end as u64 + 1;
        String::from_utf8_lossy(&text[..end])
            .lines()
            .filter_map(parse_progress_line)
            .map(|progress| JobUpdate::Progress {
                job: id.clone(),
                progress,
            })
            .collect()
    }
}

impl Executor for SlurmExecutor {
    fn name(&self) -> &'static str {
        "slurm"
    }

    fn launch(
        &mut self,
        spec: &StageSpec,
        fingerprint: &Fingerprint,
        threads: usize,
        log: &Path,
    ) -> crate::Result<JobId> {
        let script = self.job_script()?;
        let store = absolute(&self.config.store)?;
        let log = absolute(log)?;
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        }
        let args = self.sbatch_args(spec, fingerprint, threads, &log, &script, &store);
        let launch_error = |reason: String| Error::Launch {
            name: spec.name.clone(),
            reason,
        };
        let mut tries = 0;
        let out = loop {
            let out = run(Command::new(&self.config.commands.sbatch).args(&args)).map_err(|e| {
                launch_error(format!(
                    "cannot run `{}`: {e}",
                    self.config.commands.sbatch.display()
                ))
            })?;
            tries += 1;
            if out.status.success() || tries >= SBATCH_TRIES || !is_transient(&out) {
                break out;
            }
            let wait = Duration::from_secs(1 << (tries - 1));
            tracing::warn!(
                "sbatch for stage `{}` failed ({}); retrying in {wait:?}",
                spec.name,
                stderr_text(&out)
            );
            std::thread::sleep(wait);
        };
        if !out.status.success() {
            return Err(launch_error(format!(
                "sbatch failed ({}): {}",
                out.status,
                stderr_text(&out)
            )));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let id = parse_sbatch(&stdout).ok_or_else(|| {
            launch_error(format!("sbatch printed no job id: {:?}", stdout.trim_end()))
        })?;
        let job = JobId(id);
        self.jobs.insert(
            job.clone(),
            Tracked {
                name: spec.name.clone(),
                fingerprint: fingerprint.clone(),
                log,
                log_offset: 0,
            },
        );
        self.interval = POLL_MIN;
        self.next_query = Instant::now() + POLL_MIN;
        Ok(job)
    }

    fn poll(&mut self, timeout: Duration) -> crate::Result<Vec<JobUpdate>> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.jobs.is_empty() {
                return Ok(Vec::new());
            }
            let now = Instant::now();
            if now >= self.next_query {
                let updates = self.query()?;
                let finished = updates.iter().any(|u| matches!(u, JobUpdate::Done { .. }));
                // Back off while nothing finishes; look again soon after a
                // job ended, since its dependents are about to be launched.
                self.interval = if finished {
                    POLL_MIN
                } else {
                    self.interval.mul_f64(POLL_GROWTH).min(POLL_MAX)
                };
                self.next_query = Instant::now() + self.interval;
                if !updates.is_empty() {
                    return Ok(updates);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            std::thread::sleep(self.next_query.min(deadline) - now);
        }
    }

    fn cancel_all(&mut self) {
        if self.jobs.is_empty() {
            return;
        }
        let ids: Vec<&str> = self.jobs.keys().map(|j| j.0.as_str()).collect();
        match run(Command::new(&self.config.commands.scancel).args(&ids)) {
            Ok(o) if o.status.success() => {}
            Ok(o) => tracing::warn!("scancel {} failed: {}", ids.join(" "), stderr_text(&o)),
            Err(e) => tracing::warn!("cannot run scancel: {e}"),
        }
        // The jobs stay tracked: a later poll reports them cancelled.
        self.next_query = Instant::now();
    }
}
