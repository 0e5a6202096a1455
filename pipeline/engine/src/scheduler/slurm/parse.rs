//! Reading what Slurm's commands print: `sbatch --parsable`, `squeue -h -o
//! "%i|%T|%r"`, `scontrol show job`, and the stage's own progress lines; and
//! the mapping from a job's final state to a [`JobOutcome`].

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::exec::Progress;
use crate::protocol::{
    bad_input_reason_in, EXIT_BAD_INPUT, EXIT_PUBLISHED_ELSEWHERE, PROGRESS_PREFIX,
};
use crate::scheduler::JobOutcome;

/// A job state as `squeue`/`scontrol` print it (`RUNNING`, `CANCELLED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState(pub String);

impl JobState {
    /// Whether the job has ended: no longer pending, running, completing,
    /// suspended or being requeued.
    pub fn is_final(&self) -> bool {
        !matches!(
            self.0.as_str(),
            "PENDING"
                | "RUNNING"
                | "CONFIGURING"
                | "COMPLETING"
                | "SUSPENDED"
                | "REQUEUED"
                | "REQUEUE_FED"
                | "REQUEUE_HOLD"
                | "RESIZING"
                | "RESV_DEL_HOLD"
                | "REVOKED"
                | "SIGNALING"
                | "SPECIAL_EXIT"
                | "STAGE_OUT"
                | "STOPPED"
                | "POWER_UP_NODE"
                | "UPDATE_DB"
        )
    }
}

/// One line of `squeue -h -o "%i|%T|%r"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedJob {
    pub state: JobState,
    pub reason: String,
}

/// Parses `squeue -h -o "%i|%T|%r"` output: job id → state and reason.
pub fn parse_squeue(text: &str) -> BTreeMap<String, QueuedJob> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.trim().splitn(3, '|');
            let id = parts.next()?.trim();
            let state = parts.next()?.trim();
            let reason = parts.next().unwrap_or("").trim();
            (!id.is_empty() && !state.is_empty()).then(|| {
                (
                    id.to_owned(),
                    QueuedJob {
                        state: JobState(state.to_owned()),
                        reason: reason.to_owned(),
                    },
                )
            })
        })
        .collect()
}

/// What `scontrol show job` says of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub state: JobState,
    /// The job script's exit status (first half of `ExitCode=a:b`).
    pub exit_code: i32,
    /// The signal that ended it, 0 if none (second half of `ExitCode`).
    pub signal: i32,
    /// `Reason=` (`None` when Slurm gives none).
    pub reason: String,
}

/// Parses the output of `scontrol show job <id>` (multi-line or `-o`).
/// `None` when it has no `JobState`.
pub fn parse_scontrol(text: &str) -> Option<JobInfo> {
    let state = scontrol_field(text, "JobState")?;
    let (exit_code, signal) = scontrol_field(text, "ExitCode")
        .and_then(parse_exit_code)
        .unwrap_or((0, 0));
    let reason = scontrol_field(text, "Reason").unwrap_or("None");
    Some(JobInfo {
        state: JobState(state.to_owned()),
        exit_code,
        signal,
        reason: reason.to_owned(),
    })
}

/// The value of `Key=value` in scontrol's output (up to the next blank).
fn scontrol_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.split_whitespace()
        .find_map(|token| token.strip_prefix(key)?.strip_prefix('='))
}

/// Parses `ExitCode=a:b` (exit status : signal).
pub fn parse_exit_code(value: &str) -> Option<(i32, i32)> {
    let (code, signal) = value.split_once(':')?;
    Some((code.parse().ok()?, signal.parse().ok()?))
}

/// The job id in `sbatch --parsable` output (`123` or `123;cluster`).
pub fn parse_sbatch(stdout: &str) -> Option<String> {
    let line = stdout.lines().map(str::trim).find(|l| !l.is_empty())?;
    let id = line.split(';').next()?.trim();
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit() || b == b'_')).then(|| id.to_owned())
}

/// How the stage ended, from the final state of its job.
pub fn outcome_of(id: &str, info: &JobInfo, log: &Path) -> JobOutcome {
    match (info.state.0.as_str(), info.exit_code, info.signal) {
        ("COMPLETED", 0, 0) => JobOutcome::Published,
        (_, EXIT_PUBLISHED_ELSEWHERE, 0) => JobOutcome::PublishedElsewhere,
        (_, EXIT_BAD_INPUT, 0) => JobOutcome::BadInput {
            reason: std::fs::read_to_string(log)
                .ok()
                .and_then(|t| bad_input_reason_in(&t))
                .unwrap_or_else(|| format!("slurm job {id}: bad input (exit code 2)")),
            log: log.to_owned(),
        },
        _ => {
            let mut details = Vec::new();
            if info.exit_code != 0 {
                details.push(format!("exit code {}", info.exit_code));
            }
            if info.signal != 0 {
                details.push(format!("signal {}", info.signal));
            }
            if !matches!(info.reason.as_str(), "None" | "(null)" | "") {
                details.push(format!("reason {}", info.reason));
            }
            let mut reason = format!("slurm job {id} {}", info.state.0);
            if !details.is_empty() {
                reason.push_str(&format!(" ({})", details.join(", ")));
            }
            if let Some(last) = last_log_line(log) {
                reason.push_str(": ");
                reason.push_str(&last);
            }
            JobOutcome::Failed {
                reason,
                log: log.to_owned(),
            }
        }
    }
}

/// The last line of a log that is not a progress line: where `exec-stage`
/// and `slurmstepd` write why a job failed.
fn last_log_line(log: &Path) -> Option<String> {
    let mut file = std::fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    String::from_utf8_lossy(&tail)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(PROGRESS_PREFIX.trim_end()))
        .map(|l| l.chars().take(300).collect())
}

/// A progress line `@kdpipe {json}` of a stage's stdout.
pub fn parse_progress_line(line: &str) -> Option<Progress> {
    serde_json::from_str(line.strip_prefix(PROGRESS_PREFIX)?).ok()
}
