//! The scheduler: runs a [`crate::plan::Plan`] with resource slots, through an
//! [`Executor`], emitting typed [`crate::events::Event`]s. It never prints.
//!
//! Executors: [`local`] (child processes running `kdpipe exec-stage`) and
//! `slurm` (one `sbatch` job per ready stage). The scheduler, fingerprints,
//! store and events are the same for both.

pub mod slurm;

use std::path::PathBuf;
use std::time::Duration;

use crate::fingerprint::Fingerprint;
use crate::spec::StageSpec;

/// An opaque handle to a launched stage (a pid, a Slurm job id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub String);

/// How a launched stage ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// `exec-stage` computed and published the artifact.
    Published,
    /// Another run (holding the stage's lock) published it first.
    PublishedElsewhere,
    /// Failed: exit status, signal, or the cluster's reason; the log path.
    Failed { reason: String, log: PathBuf },
    /// Failed on bad input data (exit [`crate::protocol::EXIT_BAD_INPUT`]):
    /// the stage's reason (file, problem); the log path.
    BadInput { reason: String, log: PathBuf },
}

/// A progress or completion notice from an executor.
#[derive(Debug, Clone, PartialEq)]
pub enum JobUpdate {
    Progress {
        job: JobId,
        progress: crate::exec::Progress,
    },
    Done {
        job: JobId,
        outcome: JobOutcome,
    },
}

/// What the scheduler asks of an executor.
pub trait Executor {
    /// Short name for logs and the manifest (`local`, `slurm`).
    fn name(&self) -> &'static str;
    /// Starts `kdpipe exec-stage <fingerprint>` for a stage whose upstream
    /// artifacts are all published, with `threads` libtorch threads.
    /// `log` is where the stage's stdout and stderr go.
    fn launch(
        &mut self,
        spec: &StageSpec,
        fingerprint: &Fingerprint,
        threads: usize,
        log: &std::path::Path,
    ) -> crate::Result<JobId>;
    /// Waits at most `timeout` for updates of launched jobs.
    fn poll(&mut self, timeout: Duration) -> crate::Result<Vec<JobUpdate>>;
    /// Cancels every job still running (Ctrl-C, or stop after a failure).
    fn cancel_all(&mut self);
}

pub mod local;
mod parent_death;
mod run;

pub use local::{KillSwitch, LocalExecutor};
pub use run::{run, RunOptions, RunSummary, StageFailed};
