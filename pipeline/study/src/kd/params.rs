//! Resolved stage parameters: the typed form of `StageSpec::params` for each
//! ML stage kind. The experiment expansion serializes these into the spec
//! (and so into the fingerprint); the `stages` crate deserializes them back.
//! Every default is filled in here, so an explicit default and an omitted key
//! give the same fingerprint.

use serde::{Deserialize, Serialize};

/// On-disk format of a dataset source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetFormat {
    /// One folder per class (the built-in brain MRI set resolves to this).
    Imagefolder,
    /// MedMNIST `.npz` (`train_images`, `train_labels`, `val_*`, `test_*`).
    Medmnist,
    /// IDX files (`*-images-idx3-ubyte.gz`, `*-labels-idx1-ubyte.gz`).
    Idx,
}

/// `prepare` stage parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetParams {
    pub name: String,
    pub format: DatasetFormat,
    /// Side of the square images after resizing.
    pub image_size: u32,
    /// 1 = grayscale, 3 = RGB.
    pub channels: u32,
    /// Fractions of the deduplicated pool held out for validation and test
    /// (ignored for the parts a source already splits).
    pub val_fraction: f64,
    pub test_fraction: f64,
    /// Seed of the stratified split (fixed across model seeds).
    pub split_seed: u64,
    /// ImageFolder only: sub-folders holding a pre-made train / test split
    /// (e.g. `Training` / `Testing`); `None` = one pool, split here.
    pub train_dir: Option<String>,
    pub test_dir: Option<String>,
    /// ImageFolder only, with `train_dir` and `test_dir`: a sub-folder
    /// holding the validation split; `None` = validation drawn from train.
    pub val_dir: Option<String>,
    /// How a non-square image becomes `image_size` × `image_size`.
    pub resize: ResizeMode,
    /// Skip unreadable images (counted in the manifest) instead of failing.
    pub skip_corrupt: bool,
    /// Keep at most this many images per class and split (stratified, seeded).
    pub max_per_class: Option<u32>,
    /// Group near-duplicates on decoded pixels and keep each group in one
    /// split (`stages/src/data/near_dup/`).
    pub near_duplicates: bool,
    /// Largest Hamming distance of two near-duplicates' 64-bit pHashes.
    pub near_dup_hamming: u32,
    /// Smallest Pearson correlation of two near-duplicates (32×32 crop).
    pub near_dup_min_corr: f64,
    /// Near-duplicates under two labels: fail, or drop them all.
    pub label_conflicts: OnLabelConflict,
}

/// How `prepare` makes a non-square image square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeMode {
    /// Scale the longer side to the target, centre, fill the rest with 0
    /// (black, after the colour conversion). Keeps the aspect and all pixels.
    Pad,
    /// Scale the shorter side to the target and cut the centre square.
    Crop,
    /// Scale each side to the target (distorts the aspect).
    Stretch,
}

/// What to do with near-duplicate images under two or more labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnLabelConflict {
    /// Fail, naming two similar files with different labels.
    Error,
    /// Drop every image of the group and count them.
    Drop,
}

/// Model architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// VGG-style: `depth` blocks of conv3x3-BN-ReLU(-maxpool), GAP, linear.
    Cnn,
    Resnet18,
    Densenet121,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelParams {
    pub arch: Arch,
    /// Conv blocks (CNN only; the student sweep axis).
    pub depth: u32,
    /// Channels of the first block; doubled every block up to `max_width`.
    pub width: u32,
    pub max_width: u32,
    pub dropout: f64,
    /// Optional pretrained weights (its content hash is an input of the stage).
    pub weights: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    None,
    Plateau,
    Cosine,
}

/// Which epoch's weights a training stage keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// Lowest validation loss (ties: higher accuracy, then the earlier epoch).
    ValLoss,
    /// Highest validation accuracy (ties: lower loss, then the earlier epoch).
    ValAccuracy,
    /// Highest validation balanced accuracy (mean per-class recall; ties:
    /// lower loss, then the earlier epoch).
    ValBalancedAccuracy,
    /// The last epoch.
    Last,
}

impl Select {
    pub fn name(self) -> &'static str {
        match self {
            Select::ValLoss => "val_loss",
            Select::ValAccuracy => "val_accuracy",
            Select::ValBalancedAccuracy => "val_balanced_accuracy",
            Select::Last => "last",
        }
    }
}

/// Class weights of the hard-label cross-entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every image weighs 1.
    None,
    /// Class c weighs n / (k · n_c) (n training images, k classes, n_c of
    /// class c in the training split).
    Balanced,
}

impl ClassWeight {
    pub fn name(self) -> &'static str {
        match self {
            ClassWeight::None => "none",
            ClassWeight::Balanced => "balanced",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainParams {
    pub epochs: u32,
    pub batch_size: u32,
    pub lr: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
    /// Reduce-on-plateau: epochs without validation improvement, and factor.
    pub plateau_patience: u32,
    pub plateau_factor: f64,
    /// Random flips and small shifts on training batches.
    pub augment: bool,
    /// Which epoch's weights are kept.
    pub select: Select,
    /// Weights of the hard-label cross-entropy.
    pub class_weight: ClassWeight,
    pub seed: u64,
    /// `auto` | `cpu` | `cuda`.
    pub device: String,
}

/// `teacher` stage parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeacherParams {
    pub model: ModelParams,
    pub train: TrainParams,
}

/// Distillation settings; absent for the no-distillation control.
///
/// `method` and `source` are serialized only when they differ from Hinton
/// with cached logits, so the params (and fingerprints) of every Hinton
/// student stay those published before the method axis existed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillParams {
    pub temperature: f64,
    /// Weight of the soft (KL, or DKD) term; `1 - alpha` weighs the
    /// hard-label CE.
    pub alpha: f64,
    /// The method and its own parameters (default Hinton).
    #[serde(default = "hinton", skip_serializing_if = "is_hinton")]
    pub method: MethodParams,
    /// Where the teacher's targets come from (default cached logits).
    #[serde(default = "cached", skip_serializing_if = "is_cached")]
    pub source: DistillSource,
}

impl DistillParams {
    /// Hinton KD from cached logits (the only kind before `method`).
    pub fn hinton(temperature: f64, alpha: f64) -> DistillParams {
        DistillParams {
            temperature,
            alpha,
            method: MethodParams::Hinton,
            source: DistillSource::Cached,
        }
    }
}

fn hinton() -> MethodParams {
    MethodParams::Hinton
}
fn is_hinton(m: &MethodParams) -> bool {
    *m == MethodParams::Hinton
}
fn cached() -> DistillSource {
    DistillSource::Cached
}
fn is_cached(s: &DistillSource) -> bool {
    *s == DistillSource::Cached
}

/// Distillation method of a student: the `[sweep] method` axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistillMethod {
    /// Hinton et al. (2015): soft-logit KD only (`stages/src/train/distill.rs`).
    Hinton,
    /// Romero et al. (2015): soft-logit KD plus a FitNets hint on one block pair.
    Fitnets,
    /// Zagoruyko & Komodakis (2017): soft-logit KD plus attention transfer.
    At,
    /// Zhao et al. (2022): decoupled KD (target / non-target terms) instead of
    /// the soft-logit KL.
    Dkd,
}

impl DistillMethod {
    pub const ALL: [DistillMethod; 4] = [
        DistillMethod::Hinton,
        DistillMethod::Fitnets,
        DistillMethod::At,
        DistillMethod::Dkd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DistillMethod::Hinton => "hinton",
            DistillMethod::Fitnets => "fitnets",
            DistillMethod::At => "at",
            DistillMethod::Dkd => "dkd",
        }
    }

    /// Whether the method reads the teacher's feature maps, so the teacher
    /// must run online (its features are not cached).
    pub fn needs_features(self) -> bool {
        match self {
            DistillMethod::Hinton | DistillMethod::Dkd => false,
            DistillMethod::Fitnets | DistillMethod::At => true,
        }
    }
}

/// Where a student's teacher targets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistillSource {
    /// The teacher stage's cached logits of the un-augmented training images.
    Cached,
    /// The teacher runs on every (augmented) batch, in eval mode, detached.
    Online,
}

impl DistillSource {
    pub fn name(self) -> &'static str {
        match self {
            DistillSource::Cached => "cached",
            DistillSource::Online => "online",
        }
    }
}

/// FitNets hint: student block `student_block` → 1×1-conv regressor → MSE
/// against teacher block `teacher_block` (1-based CNN blocks of equal
/// spatial size), weighted by `hint_weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitnetsParams {
    pub student_block: u32,
    pub teacher_block: u32,
    pub hint_weight: f64,
}

/// Attention transfer over (student block, teacher block) pairs (1-based),
/// attention maps `mean_c |f|^p`, weighted by `beta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtParams {
    pub pairs: Vec<(u32, u32)>,
    pub p: f64,
    pub beta: f64,
}

/// DKD weights of the target-class (`alpha`) and non-target-class (`beta`)
/// terms, and the epochs over which the term ramps in linearly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkdParams {
    pub alpha: f64,
    pub beta: f64,
    pub warmup_epochs: u32,
}

/// A method with its own resolved parameters (internally tagged by `name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum MethodParams {
    Hinton,
    Fitnets(FitnetsParams),
    At(AtParams),
    Dkd(DkdParams),
}

impl MethodParams {
    pub fn method(&self) -> DistillMethod {
        match self {
            MethodParams::Hinton => DistillMethod::Hinton,
            MethodParams::Fitnets(_) => DistillMethod::Fitnets,
            MethodParams::At(_) => DistillMethod::At,
            MethodParams::Dkd(_) => DistillMethod::Dkd,
        }
    }
}

/// `student` stage parameters. `distill = None` is the alpha = 0 control: it
/// has neither a temperature nor a teacher upstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentParams {
    pub model: ModelParams,
    pub train: TrainParams,
    pub distill: Option<DistillParams>,
}

/// `evaluate` stage parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalParams {
    pub latency_warmup: u32,
    pub latency_repeats: u32,
    pub device: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplainMethod {
    FeatureMaps,
    Gradcam,
    ExpectedGradients,
}

/// `explain` stage parameters: overlays, faithfulness and agreement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainParams {
    pub methods: Vec<ExplainMethod>,
    /// Test images explained (a seeded sample, the same for every model);
    /// `None` = every test image.
    pub images: Option<u32>,
    pub sample_seed: u64,
    /// Grad-CAM layer index (negative counts from the last conv layer);
    /// ignored when `gradcam_common_block` is set.
    pub gradcam_layer: i32,
    /// `gradcam_layer = "common"`: the 1-based CNN block whose output
    /// resolution every model of the sweep has (the shallowest depth in the
    /// sweep); each model explains its tapped layer of that resolution.
    pub gradcam_common_block: Option<u32>,
    pub eg_samples: u32,
    pub eg_background: u32,
    /// Steps of the deletion / insertion curves.
    pub deletion_steps: u32,
    pub device: String,
}

/// `timing` stage parameters: explanation cost per image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingParams {
    pub methods: Vec<ExplainMethod>,
    pub images: u32,
    pub sample_seed: u64,
    pub gradcam_layer: i32,
    /// As [`ExplainParams::gradcam_common_block`].
    pub gradcam_common_block: Option<u32>,
    pub eg_samples: u32,
    pub eg_background: u32,
    pub warmup: u32,
    pub repeats: u32,
    /// libtorch threads while timing (recorded with the numbers).
    pub threads: u32,
    pub device: String,
}
