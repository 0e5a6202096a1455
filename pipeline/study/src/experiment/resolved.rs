//! The validated experiment: every default filled in, every value checked and
//! typed. This is all the rest of kdpipe sees of an experiment file; each
//! study's own resolved types are in its module ([`crate::kd`],
//! [`crate::toy`]).

use std::path::PathBuf;

use crate::kd::KdStudy;
use crate::toy::ToyStudy;

/// A loaded, validated experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// The experiment file, as given to [`super::load()`].
    pub path: PathBuf,
    pub name: String,
    pub description: Option<String>,
    /// Distinct seeds, in file order.
    pub seeds: Vec<u64>,
    /// The `[executor]` table (the CLI's flags may override it).
    pub executor: ExecutorConfig,
    pub study: Study,
}

/// What the experiment expands into.
#[derive(Debug, Clone, PartialEq)]
pub enum Study {
    /// The knowledge-distillation study (`kind = "kd"`).
    Kd(Box<KdStudy>),
    /// The engine's test stages (`kind = "toy"`).
    Toy(ToyStudy),
}

impl Experiment {
    /// The study, if this is a KD experiment.
    pub fn kd(&self) -> Option<&KdStudy> {
        match &self.study {
            Study::Kd(kd) => Some(kd),
            Study::Toy(_) => None,
        }
    }

    /// `"kd"` or `"toy"`.
    pub fn kind(&self) -> &'static str {
        match self.study {
            Study::Kd(_) => "kd",
            Study::Toy(_) => "toy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorKind {
    Local,
    Slurm,
}

/// `[executor]`, parsed and checked (no control characters in any value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorConfig {
    pub kind: ExecutorKind,
    pub partition: Option<String>,
    pub account: Option<String>,
    pub time: Option<String>,
    pub gres: Option<String>,
}
