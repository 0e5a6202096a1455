//! The Slurm executor: each ready stage is one `sbatch --parsable` job whose
//! script runs `kdpipe exec-stage <fingerprint> --store <store>` on a compute
//! node. The head keeps the DAG, the plan and the cache; it submits a stage
//! only once its upstream artifacts are published, so no job carries a
//! `--dependency` (those would break "rerun only what changed" and make a
//! resumed run depend on stale job ids).
//!
//! Job states come from batched `squeue` calls with back-off, and the final
//! state and exit code of a job that left the queue from `scontrol show job`
//! (`sacct` needs accounting, which many clusters and our test cluster lack).
//! The store must be a path that the head and the nodes share: the stage
//! publishes its artifact with the same atomic rename as locally, so a job
//! that Slurm kills (`scancel`, time limit, node failure) never publishes.
//!
//! Every value that reaches Slurm goes through an argument vector, never a
//! shell string: the job script is a fixed `exec "$@"`, and the stage's
//! command line is given to `sbatch` as the script's arguments.
//!
//! Job arrays are not used: the head submits a stage when its inputs become
//! ready, which for a sweep is a trickle of a few stages at a time rather than
//! one large batch, and one job per stage keeps cancel, failure and log per
//! stage. See ARCHITECTURE.md.

mod command;
mod config;
mod executor;
mod parse;

pub use config::{SlurmCommands, SlurmConfig};
pub use executor::SlurmExecutor;
pub use parse::{
    outcome_of, parse_exit_code, parse_progress_line, parse_sbatch, parse_scontrol, parse_squeue,
    JobInfo, JobState, QueuedJob,
};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
