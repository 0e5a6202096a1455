//! The stage spec: one node of the DAG, fully resolved. Everything that makes
//! a stage's output what it is sits in [`StageSpec`] and is hashed by
//! [`crate::fingerprint`]; `name` and `resources` are not hashed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fingerprint::{Fingerprint, FingerprintInputs, STORE_SCHEMA_VERSION};

/// A resolved stage: what to run, with which parameters, on which upstream
/// artifacts and external files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSpec {
    /// Human-readable, stable identity of the stage within an experiment, e.g.
    /// `toy/square/s0/x3`. Not hashed: `why` uses it to find the previous
    /// version of "the same" stage.
    pub name: String,
    /// Stage kind, e.g. `toy.square`: opaque to the engine, which only hashes
    /// it; the study that made the spec knows what it means.
    pub kind: String,
    /// The kind's code version: bumped by hand when the kind's logic changes.
    pub code_version: u32,
    /// Resolved parameters (every default filled in). A `BTreeMap` so that
    /// the canonical encoding does not depend on TOML key order.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Upstream artifacts by role (e.g. `data`, `model`): opaque names.
    pub upstream: BTreeMap<String, Fingerprint>,
    /// External input files: key (e.g. `data/yes/Y1.jpg`) → SHA-256 hex of the
    /// file's content. Paths on disk are not hashed, only content.
    pub inputs: BTreeMap<String, String>,
    /// Where the external inputs live on disk (key prefix root), for the stage
    /// to read them. Not hashed.
    #[serde(default)]
    pub input_root: Option<std::path::PathBuf>,
    /// What the stage needs from the scheduler. Not hashed.
    #[serde(default)]
    pub resources: Resources,
}

/// Scheduler resources a stage asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// CPU slots (each slot is one libtorch thread in the stage process).
    pub cpu: u32,
    /// GPU slots; 0 for CPU-only stages.
    pub gpu: u32,
    /// Run alone: no other stage runs while this one does (timing stages).
    pub exclusive: bool,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            cpu: 1,
            gpu: 0,
            exclusive: false,
        }
    }
}

impl StageSpec {
    /// The hashed part of the spec.
    pub fn fingerprint_inputs(&self) -> FingerprintInputs {
        FingerprintInputs {
            schema: STORE_SCHEMA_VERSION,
            kind: self.kind.clone(),
            code_version: self.code_version,
            params: self.params.clone(),
            upstream: self.upstream.clone(),
            inputs: self.inputs.clone(),
        }
    }

    /// SHA-256 of the canonical encoding of [`Self::fingerprint_inputs`].
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint_inputs().fingerprint()
    }
}
