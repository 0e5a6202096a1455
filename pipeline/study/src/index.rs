//! The study index: what expansion knows about each model stage and the
//! stages that measure it, so the tables never parse stage names back.

use engine::Fingerprint;

use crate::kd::params::DistillMethod;

/// What a model stage is in the study.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelRole {
    Teacher,
    /// A student of `depth` blocks; `distill` is `None` for the
    /// no-distillation control (alpha = 0), shared by every method.
    Student {
        depth: u32,
        distill: Option<Distilled>,
    },
}

/// How a distilled student was trained: a point of the sweep's method ×
/// temperature × alpha grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distilled {
    pub method: DistillMethod,
    pub temperature: f64,
    pub alpha: f64,
}

/// A stage of the study: its name and fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRef {
    pub name: String,
    pub fingerprint: Fingerprint,
}

/// One trained model and the stages that evaluate, explain and time it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    pub dataset: String,
    pub seed: u64,
    pub role: ModelRole,
    /// The teacher or student stage.
    pub model: StageRef,
    pub evaluate: StageRef,
    /// `None` when explanations are off.
    pub explain: Option<StageRef>,
    /// The data set's timing stage and the label this model's numbers are
    /// under in its `timing.json` (its own stage name, or its
    /// architecture's label when only one model per architecture is timed).
    pub timing: Option<(StageRef, String)>,
}

/// Every model of an expanded study, in expansion order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StudyIndex {
    pub models: Vec<ModelEntry>,
}
