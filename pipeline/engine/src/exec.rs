//! The contract between the engine and a stage implementation, and the
//! `kdpipe exec-stage <fingerprint>` entry point that runs one stage in its
//! own process (locally or on a Slurm node).
//!
//! A stage implementation is a function `fn(&StageContext) -> Result<StageReport, StageFailure>`.
//! It writes its outputs into `ctx.out_dir` (a staging directory inside the
//! store); the engine hashes them, writes the manifest and publishes the
//! directory with one atomic rename.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fingerprint::Fingerprint;
use crate::spec::StageSpec;

/// What a running stage sees.
pub struct StageContext<'a> {
    pub spec: &'a StageSpec,
    pub fingerprint: &'a Fingerprint,
    /// Staging directory: write every output here.
    pub out_dir: &'a Path,
    /// Published artifact directory of each upstream role.
    pub upstream: BTreeMap<String, PathBuf>,
    /// Threads this stage may use (its CPU slots).
    pub threads: usize,
    /// Reports progress to the head process (a JSON line on stdout).
    pub progress: &'a dyn Fn(Progress),
}

impl StageContext<'_> {
    /// The published directory of upstream `role`.
    pub fn upstream_dir(&self, role: &str) -> Result<&Path, StageFailure> {
        self.upstream
            .get(role)
            .map(PathBuf::as_path)
            .ok_or_else(|| StageFailure::new(format!("stage has no upstream `{role}`")))
    }

    /// The typed parameters of the stage.
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T, StageFailure> {
        let value = serde_json::Value::Object(self.spec.params.clone().into_iter().collect());
        serde_json::from_value(value).map_err(|e| {
            StageFailure::new(format!(
                "invalid parameters for stage `{}` ({}): {e}",
                self.spec.name, self.spec.kind
            ))
        })
    }
}

/// One progress report, e.g. an epoch of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Units done and total (e.g. epochs).
    pub done: u64,
    pub total: u64,
    /// Metrics of this step, e.g. `train_loss`, `val_acc`.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

/// What a stage tells the engine when it succeeds (goes into the manifest).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    /// Device it ran on (`cpu`, `cuda:0`).
    pub device: String,
    /// Small stage-specific summary (e.g. headline metrics).
    #[serde(default)]
    pub summary: serde_json::Value,
}

/// A stage's failure: a message that names what went wrong, and whether
/// the stage's input data is at fault (exit
/// [`crate::protocol::EXIT_BAD_INPUT`]) rather than the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFailure {
    pub message: String,
    pub bad_input: bool,
}

impl StageFailure {
    pub fn new(message: impl Into<String>) -> Self {
        StageFailure {
            message: message.into(),
            bad_input: false,
        }
    }

    /// A failure caused by bad input data (a corrupt file, one class).
    pub fn bad_input(message: impl Into<String>) -> Self {
        StageFailure {
            message: message.into(),
            bad_input: true,
        }
    }
}

impl std::fmt::Display for StageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StageFailure {}

/// A stage implementation.
pub type StageFn = fn(&StageContext<'_>) -> Result<StageReport, StageFailure>;
