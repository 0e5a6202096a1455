//! The validated KD study: every default filled in, every value checked and
//! typed; what expansion ([`super::expand`]) reads.

use std::path::PathBuf;

use crate::contract::CpuIsa;

use super::params::{
    ClassWeight, DatasetFormat, DatasetParams, DistillMethod, DistillSource, DkdParams,
    ExplainMethod, ModelParams, Schedule, Select,
};

/// The KD study of an experiment (`kind = "kd"`).
#[derive(Debug, Clone, PartialEq)]
pub struct KdStudy {
    pub datasets: Vec<DatasetConfig>,
    /// The teacher; `model.weights` is unset here (see `weights`).
    pub teacher: ModelConfig,
    /// The student template; `model.depth` is unused (the sweep sets it).
    pub student: ModelConfig,
    pub sweep: Sweep,
    /// `[distill]`: the source and each method's parameters.
    pub distill: DistillConfig,
    pub evaluate: EvaluateConfig,
    pub explain: ExplainConfig,
    pub device: Device,
    /// Read by the head only (tables, report); never part of a fingerprint.
    pub compare: CompareConfig,
    /// `[run].cpu_isa`: the kernel pin of every ML stage (a param of each).
    pub cpu_isa: CpuIsa,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetConfig {
    pub source: DatasetSource,
    /// The resolved `prepare` parameters (name, format, sizes, split...).
    pub params: DatasetParams,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DatasetSource {
    /// `source = "builtin:<name>"`: an ImageFolder under the CLI's builtin
    /// root, resolved at expansion.
    Builtin { name: String },
    /// `format` + `path`, the path resolved against the experiment's folder
    /// and checked to exist.
    Path {
        format: DatasetFormat,
        path: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// `weights` is always `None` here; expansion sets it to the weights
    /// file's name when `weights` below is set.
    pub model: ModelParams,
    /// The weights file, resolved against the experiment's folder and
    /// checked to exist.
    pub weights: Option<PathBuf>,
    pub train: TrainConfig,
}

/// The training keys of `[teacher]` / `[student]` (seed and device are
/// added per stage).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: u32,
    pub batch_size: u32,
    pub lr: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
    pub plateau_patience: u32,
    pub plateau_factor: f64,
    pub augment: bool,
    pub select: Select,
    pub class_weight: ClassWeight,
}

/// The student grid, each axis non-empty, distinct, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub depth: Vec<u32>,
    pub temperature: Vec<f64>,
    /// May hold 0.0; the control is trained either way.
    pub alpha: Vec<f64>,
    /// Distillation methods, default `[Hinton]`.
    pub method: Vec<DistillMethod>,
}

/// `[distill]`, validated. Blocks are 1-based CNN blocks, paired with the
/// teacher's block of the same index (the same resolution).
#[derive(Debug, Clone, PartialEq)]
pub struct DistillConfig {
    /// Of `hinton` and `dkd` students (`fitnets` / `at` always run online).
    pub source: DistillSource,
    /// FitNets: the block (`None` = each student's last) and hint weight.
    pub fitnets_block: Option<u32>,
    pub hint_weight: f64,
    /// Attention transfer: the blocks (`None` = all of each student), p, β.
    pub at_blocks: Option<Vec<u32>>,
    pub at_p: f64,
    pub at_beta: f64,
    pub dkd: DkdParams,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateConfig {
    pub latency_warmup: u32,
    pub latency_repeats: u32,
}

/// Which models the timing stage of a data set times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingScope {
    /// One per architecture (teacher, each student depth): the first seed's
    /// teacher and no-distillation controls.
    Architecture,
    /// Every trained model.
    Model,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExplainConfig {
    /// Sorted and distinct; empty = no explain / timing stages.
    pub methods: Vec<ExplainMethod>,
    /// `None` = every test image (`images = "all"`).
    pub images: Option<u32>,
    pub sample_seed: u64,
    pub gradcam_layer: GradcamLayer,
    pub eg_samples: u32,
    pub eg_background: u32,
    pub deletion_steps: u32,
    pub timing_images: u32,
    pub timing_warmup: u32,
    pub timing_repeats: u32,
    pub timing_threads: u32,
    pub timing_scope: TimingScope,
}

/// `[explain].gradcam_layer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradcamLayer {
    /// A conv layer index; negative counts from the last (-1 = last).
    Index(i32),
    /// `"common"`: the layer at the one resolution every model of the sweep
    /// has (expansion resolves it to a CNN block).
    Common,
}

/// `[run].device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Auto,
    Cpu,
    Cuda,
}

/// `[compare].select_on`: the validation score that selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectOn {
    /// Lowest mean validation loss.
    ValLoss,
    /// Highest mean validation accuracy.
    ValAccuracy,
    /// Highest mean validation balanced accuracy.
    ValBalancedAccuracy,
}

impl SelectOn {
    pub fn name(self) -> &'static str {
        match self {
            SelectOn::ValLoss => "val_loss",
            SelectOn::ValAccuracy => "val_accuracy",
            SelectOn::ValBalancedAccuracy => "val_balanced_accuracy",
        }
    }
}

/// `[compare]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareConfig {
    pub select_on: SelectOn,
    pub equivalence_margin: f64,
    pub confidence: f64,
    pub bootstrap_resamples: u32,
    pub bootstrap_seed: u64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            select_on: SelectOn::ValLoss,
            equivalence_margin: 0.02,
            confidence: 0.95,
            bootstrap_resamples: 2000,
            bootstrap_seed: 0,
        }
    }
}
