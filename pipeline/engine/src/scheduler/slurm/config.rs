//! What the Slurm executor is told: the kdpipe binary and store paths as
//! the nodes see them, sbatch options, and the Slurm commands to call.

use std::path::PathBuf;

/// How to submit stages to Slurm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmConfig {
    /// `--partition`; the cluster's default when `None`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--time` limit of each job, in Slurm's syntax (`1:00:00`).
    pub time: Option<String>,
    /// `--gres` (`gpu:1`). When `None`, a stage that asks for GPUs gets
    /// `--gres=gpu:<n>`.
    pub gres: Option<String>,
    /// More `sbatch` arguments, each one argument (`--qos=long`).
    pub extra_args: Vec<String>,
    /// The `kdpipe` executable, as the compute nodes see it.
    pub exe: PathBuf,
    /// The artifact store, on a file system shared with the nodes.
    pub store: PathBuf,
    /// The Slurm commands, for a cluster whose tools are not on `PATH`.
    pub commands: SlurmCommands,
}

impl SlurmConfig {
    /// A configuration with the cluster's defaults for everything but the
    /// executable and the store.
    pub fn new(exe: impl Into<PathBuf>, store: impl Into<PathBuf>) -> SlurmConfig {
        SlurmConfig {
            partition: None,
            account: None,
            time: None,
            gres: None,
            extra_args: Vec::new(),
            exe: exe.into(),
            store: store.into(),
            commands: SlurmCommands::default(),
        }
    }
}

/// The Slurm client programs the executor runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmCommands {
    pub sbatch: PathBuf,
    pub squeue: PathBuf,
    pub scontrol: PathBuf,
    pub scancel: PathBuf,
}

impl Default for SlurmCommands {
    fn default() -> Self {
        SlurmCommands {
            sbatch: "sbatch".into(),
            squeue: "squeue".into(),
            scontrol: "scontrol".into(),
            scancel: "scancel".into(),
        }
    }
}
