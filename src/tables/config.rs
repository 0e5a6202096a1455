//! Configurations: the models of the study that differ only by training
//! seed (one teacher per data set; one control per depth; one student per
//! depth, method, temperature and alpha), read from the study index. Intervals,
//! selection and paired comparisons work on configurations.

use study::index::{Distilled, ModelEntry, ModelRole, StudyIndex};
use study::kd::params::DistillMethod;

/// What a configuration is, without its seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ConfigRole {
    Teacher,
    Control {
        depth: u32,
    },
    Student {
        depth: u32,
        method: DistillMethod,
        temperature: f64,
        alpha: f64,
    },
}

impl ConfigRole {
    pub(crate) fn of(role: &ModelRole) -> ConfigRole {
        match role {
            ModelRole::Teacher => ConfigRole::Teacher,
            ModelRole::Student {
                depth,
                distill: None,
            } => ConfigRole::Control { depth: *depth },
            ModelRole::Student {
                depth,
                distill:
                    Some(Distilled {
                        method,
                        temperature,
                        alpha,
                    }),
            } => ConfigRole::Student {
                depth: *depth,
                method: *method,
                temperature: *temperature,
                alpha: *alpha,
            },
        }
    }
}

/// The key of a configuration in the gathered and summary frames (column
/// `config`), e.g. `brain-mri|d4|T4|a0.5` (Hinton) or
/// `brain-mri|d4|fitnets|T4|a0.5`. Built from typed fields.
pub(crate) fn key(dataset: &str, role: ConfigRole) -> String {
    match role {
        ConfigRole::Teacher => format!("{dataset}|teacher"),
        ConfigRole::Control { depth } => format!("{dataset}|d{depth}|control"),
        ConfigRole::Student {
            depth,
            method: DistillMethod::Hinton,
            temperature,
            alpha,
        } => format!("{dataset}|d{depth}|T{temperature}|a{alpha}"),
        ConfigRole::Student {
            depth,
            method,
            temperature,
            alpha,
        } => format!(
            "{dataset}|d{depth}|{}|T{temperature}|a{alpha}",
            method.name()
        ),
    }
}

/// The key of the majority-class baseline of a data set.
pub(crate) fn majority_key(dataset: &str) -> String {
    format!("{dataset}|majority")
}

/// One configuration and its models, one per seed, in index order.
pub(crate) struct Config<'a> {
    pub dataset: &'a str,
    pub role: ConfigRole,
    pub key: String,
    pub models: Vec<&'a ModelEntry>,
}

impl Config<'_> {
    /// Seeds in index order.
    pub(crate) fn seeds(&self) -> Vec<u64> {
        self.models.iter().map(|m| m.seed).collect()
    }

    /// The model of `seed`.
    pub(crate) fn seed(&self, seed: u64) -> Option<&ModelEntry> {
        self.models.iter().copied().find(|m| m.seed == seed)
    }
}

/// Every configuration of `index`, in order of first appearance; a model
/// listed twice (shared by several sweep points) counts once.
pub(crate) fn configs(index: &StudyIndex) -> Vec<Config<'_>> {
    let mut out: Vec<Config<'_>> = Vec::new();
    for entry in &index.models {
        let role = ConfigRole::of(&entry.role);
        let k = key(&entry.dataset, role);
        let config = match out.iter_mut().position(|c| c.key == k) {
            Some(i) => &mut out[i],
            None => {
                out.push(Config {
                    dataset: &entry.dataset,
                    role,
                    key: k,
                    models: Vec::new(),
                });
                out.last_mut().expect("just pushed")
            }
        };
        if !config
            .models
            .iter()
            .any(|m| m.model.fingerprint == entry.model.fingerprint)
        {
            config.models.push(entry);
        }
    }
    out
}
