//! The KD study's file as written (`kind = "kd"`, the default): serde
//! structs mirroring the TOML, every table `deny_unknown_fields`, every key
//! optional with its default here. Values are kept loose (integers as
//! `i64`, choices as strings) so that validation (`kd/validate.rs`) can
//! check all of them and report every problem with its key, instead of serde
//! stopping at the first. The rest of the code only sees the resolved types
//! ([`super::KdStudy`]).
//!
//! These doc comments are the schema reference of the README.

use serde::Deserialize;

pub use super::schema_compare::CompareTable;
pub use super::schema_distill::{AtTable, DistillTable, DkdTable, FitnetsTable};
use crate::experiment::schema::{default_from_empty_table, default_seeds, ExecutorTable};

/// A knowledge-distillation study (`kind = "kd"`, the default): datasets ×
/// teacher × student depth × temperature × alpha × seed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdFile {
    /// Experiment kind: `"kd"` (this schema, the default) or `"toy"` (the
    /// engine's test stages, see [`crate::toy::schema::ToyFile`]).
    pub kind: Option<String>,
    /// Required. Names the report folder (`reports/<name>/`): letters,
    /// digits, `.`, `_` and `-`.
    pub name: Option<String>,
    /// Free text, shown in reports.
    pub description: Option<String>,
    /// Seeds of model initialisation, batch order and augmentation; every
    /// teacher and student is trained once per seed, and tables give the mean
    /// ± std over them. Default `[0]`; must not be empty.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<i64>,
    /// One `[[dataset]]` table per dataset (at least one).
    #[serde(default)]
    pub dataset: Vec<DatasetTable>,
    /// The teacher model and its training.
    #[serde(default)]
    pub teacher: TeacherTable,
    /// The students: model and training; their depth comes from `[sweep]`.
    #[serde(default)]
    pub student: StudentTable,
    /// The student sweep.
    #[serde(default)]
    pub sweep: SweepTable,
    /// Where distilled students' teacher targets come from, and each
    /// method's parameters ([`DistillTable`]).
    #[serde(default)]
    pub distill: DistillTable,
    /// Test-set evaluation of every model.
    #[serde(default)]
    pub evaluate: EvaluateTable,
    /// Explanations of every model and their timing.
    #[serde(default)]
    pub explain: ExplainTable,
    /// Where the stages compute.
    #[serde(default)]
    pub run: RunTable,
    /// Where the stage processes run (read by the CLI).
    #[serde(default)]
    pub executor: ExecutorTable,
    /// How `kdpipe compare` and the report select, test and bound (read
    /// by the head only: editing it never reruns a stage).
    #[serde(default)]
    pub compare: CompareTable,
}

/// `[[dataset]]`: a dataset to prepare once and train every model on.
/// Either `source = "builtin:<name>"` or `format` + `path`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetTable {
    /// Required, unique. Used in stage names (`prepare/<name>`): letters,
    /// digits, `.`, `_` and `-`.
    pub name: Option<String>,
    /// A built-in dataset: `"builtin:brain-mri"` (Brain MRI Images for Brain
    /// Tumor Detection, 2 classes `no` / `yes`; fetched by `kdpipe` on first
    /// use). Not together with `format` / `path`.
    pub source: Option<String>,
    /// Format of `path`: `"imagefolder"` (one folder per class),
    /// `"medmnist"` (a MedMNIST `.npz` file) or `"idx"` (a folder holding
    /// `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
    /// `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`).
    pub format: Option<String>,
    /// The dataset folder or file, relative to the experiment file's folder
    /// (or absolute). Only the content of its files is hashed, not the path.
    pub path: Option<String>,
    /// ImageFolder only: sub-folders of `path` holding a pre-made split
    /// (e.g. `"Training"` / `"Testing"`); give both or neither. Without them
    /// the whole folder is one pool, split here.
    pub train_dir: Option<String>,
    /// See `train_dir`.
    pub test_dir: Option<String>,
    /// ImageFolder with `train_dir` / `test_dir` only: a sub-folder of
    /// `path` holding a pre-made validation split (e.g. `"val"`). Without it
    /// validation is drawn from `train_dir` (`val_fraction` of it).
    pub val_dir: Option<String>,
    /// How non-square images become square: `"pad"` (default: scale the
    /// longer side to `image_size`, centre, fill with 0, i.e. black after
    /// the grayscale/RGB conversion), `"crop"` (scale the shorter side, cut
    /// the centre square) or `"stretch"` (scale each side; distorts). The
    /// EXIF orientation of JPEG/PNG/TIFF files is applied first.
    #[serde(default = "d_resize")]
    pub resize: String,
    /// Side of the square images after resizing, 8 to 1024. Default 48.
    #[serde(default = "d_image_size")]
    pub image_size: i64,
    /// 1 (grayscale) or 3 (RGB). Default 1.
    #[serde(default = "d_channels")]
    pub channels: i64,
    /// Fraction of each class's deduplicated pool held out for validation
    /// (model selection), in (0, 1): of the whole pool, not of what the
    /// test split leaves (0.15 of 100 images is 15). With `train_dir`, a
    /// fraction of the training folder; ignored with `val_dir` or a source
    /// that ships a validation split. Default 0.15.
    #[serde(default = "d_val_fraction")]
    pub val_fraction: f64,
    /// Fraction of each class's pool held out for the test set, in (0, 1);
    /// `val_fraction + test_fraction` < 1. Ignored where the source is
    /// already split. Default 0.2.
    #[serde(default = "d_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the stratified split; fixed across model seeds. Default 0.
    #[serde(default)]
    pub split_seed: i64,
    /// Skip unreadable images (counted in the manifest) instead of failing.
    /// Default false.
    #[serde(default)]
    pub skip_corrupt: bool,
    /// Keep at most this many images per class and split (seeded). Default:
    /// no limit.
    pub max_per_class: Option<i64>,
    /// Find near-duplicates on decoded pixels (the same scan re-encoded,
    /// resized or re-cropped, which survive the byte-hash dedupe) and keep
    /// each cluster inside one split, so no copy of a test image is trained
    /// on. Two images are near-duplicates when their 64-bit DCT perceptual
    /// hashes (32×32 grayscale, cropped to the object) differ in at most
    /// `near_dup_hamming` bits AND their pixels correlate at least
    /// `near_dup_min_corr`; clusters are recorded in `dataset.json`.
    /// Default true.
    #[serde(default = "d_true")]
    pub near_duplicates: bool,
    /// See `near_duplicates`: 0 to 64. Default 10.
    #[serde(default = "d_near_dup_hamming")]
    pub near_dup_hamming: i64,
    /// See `near_duplicates`: in (0, 1]. Default 0.95.
    #[serde(default = "d_near_dup_min_corr")]
    pub near_dup_min_corr: f64,
    /// Near-duplicates under two different labels: `"error"` (default; the
    /// run fails naming both files) or `"drop"` (every image of such a
    /// cluster is left out and counted in `dataset.json`).
    #[serde(default = "d_label_conflicts")]
    pub label_conflicts: String,
}

/// `[teacher]`: the model distilled from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeacherTable {
    /// `"cnn"` (VGG-style, default), `"resnet18"` or `"densenet121"`.
    #[serde(default = "d_arch")]
    pub arch: String,
    /// Conv blocks of the CNN, ≥ 1. Default 5.
    #[serde(default = "d_teacher_depth")]
    pub depth: i64,
    /// Channels of the first block, ≥ 1; doubled every block up to
    /// `max_width`. Default 16.
    #[serde(default = "d_width")]
    pub width: i64,
    /// Channel cap, ≥ `width`. Default 128.
    #[serde(default = "d_max_width")]
    pub max_width: i64,
    /// Dropout before the classifier, in [0, 1). Default 0.3.
    #[serde(default = "d_teacher_dropout")]
    pub dropout: f64,
    /// Optional pretrained weights file (safetensors), relative to the
    /// experiment file's folder; its content hash is an input of the stage.
    pub weights: Option<String>,
    /// Training epochs, ≥ 1 (the epoch `select` picks is kept). Default 20.
    #[serde(default = "d_epochs")]
    pub epochs: i64,
    /// Mini-batch size, ≥ 1. Default 32.
    #[serde(default = "d_batch_size")]
    pub batch_size: i64,
    /// Adam learning rate, > 0. Default 0.001.
    #[serde(default = "d_lr")]
    pub lr: f64,
    /// Adam (decoupled) weight decay, ≥ 0. Default 0.0001.
    #[serde(default = "d_weight_decay")]
    pub weight_decay: f64,
    /// Learning-rate schedule: `"plateau"` (reduce on validation-loss
    /// plateau, default), `"cosine"` or `"none"`.
    #[serde(default = "d_schedule")]
    pub schedule: String,
    /// Plateau schedule: epochs without improvement before reducing, ≥ 0.
    /// Default 3.
    #[serde(default = "d_plateau_patience")]
    pub plateau_patience: i64,
    /// Plateau schedule: factor applied to the learning rate, in (0, 1).
    /// Default 0.5.
    #[serde(default = "d_plateau_factor")]
    pub plateau_factor: f64,
    /// Random flips and small shifts on training batches. Default true.
    #[serde(default = "d_true")]
    pub augment: bool,
    /// Which epoch's weights are kept: `"val_loss"` (lowest validation
    /// loss, default), `"val_accuracy"`, `"val_balanced_accuracy"` (mean
    /// per-class recall; both highest, ties broken by lower loss) or
    /// `"last"`. Validation accuracy on a small split moves in coarse steps
    /// and favours collapsing to the majority class; the loss does not.
    #[serde(default = "d_select")]
    pub select: String,
    /// Weights of the hard-label cross-entropy: `"none"` (default) or
    /// `"balanced"` (class c weighs n / (k · n_c), counted on the training
    /// split; PyTorch's weighted mean over the batch). The distillation
    /// (soft) term is not weighted.
    #[serde(default = "d_class_weight")]
    pub class_weight: String,
}

/// `[student]`: the distilled models. Same keys as `[teacher]` except
/// `depth`, which is the `[sweep]` axis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentTable {
    /// Must be `"cnn"` (default): the depth sweep applies to the CNN.
    #[serde(default = "d_arch")]
    pub arch: String,
    /// Channels of the first block, ≥ 1. Default 16.
    #[serde(default = "d_width")]
    pub width: i64,
    /// Channel cap, ≥ `width`. Default 128.
    #[serde(default = "d_max_width")]
    pub max_width: i64,
    /// Dropout before the classifier, in [0, 1). Default 0.2.
    #[serde(default = "d_student_dropout")]
    pub dropout: f64,
    /// Optional initial weights file, as for the teacher.
    pub weights: Option<String>,
    /// Training epochs, ≥ 1. Default 20.
    #[serde(default = "d_epochs")]
    pub epochs: i64,
    /// Mini-batch size, ≥ 1. Default 32.
    #[serde(default = "d_batch_size")]
    pub batch_size: i64,
    /// Adam learning rate, > 0. Default 0.001.
    #[serde(default = "d_lr")]
    pub lr: f64,
    /// Weight decay, ≥ 0. Default 0.0001.
    #[serde(default = "d_weight_decay")]
    pub weight_decay: f64,
    /// `"plateau"` (default), `"cosine"` or `"none"`.
    #[serde(default = "d_schedule")]
    pub schedule: String,
    /// Default 3.
    #[serde(default = "d_plateau_patience")]
    pub plateau_patience: i64,
    /// Default 0.5.
    #[serde(default = "d_plateau_factor")]
    pub plateau_factor: f64,
    /// Default true.
    #[serde(default = "d_true")]
    pub augment: bool,
    /// As for the teacher. Default `"val_loss"`.
    #[serde(default = "d_select")]
    pub select: String,
    /// As for the teacher. Default `"none"`.
    #[serde(default = "d_class_weight")]
    pub class_weight: String,
}

/// `[sweep]`: the student grid. Every axis non-empty, without duplicates.
/// Per dataset and seed, one student per depth × temperature × (alpha > 0),
/// plus one no-distillation control per depth (alpha = 0: no temperature,
/// no teacher), which is always trained whether or not 0 is listed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepTable {
    /// Student conv blocks, each ≥ 1. Default `[1, 2, 3, 4]`.
    #[serde(default = "d_sweep_depth")]
    pub depth: Vec<i64>,
    /// Distillation temperatures T, each > 0. Default `[4.0]`.
    #[serde(default = "d_sweep_temperature")]
    pub temperature: Vec<f64>,
    /// Weight of the soft (KL · T²) term, each in [0, 1]; `1 - alpha` weighs
    /// the hard-label cross-entropy. Default `[0.0, 0.5]`.
    #[serde(default = "d_sweep_alpha")]
    pub alpha: Vec<f64>,
    /// Distillation methods of the students with alpha > 0: `"hinton"`
    /// (soft-logit KD), `"fitnets"` (plus a hint on one block),
    /// `"at"` (plus attention transfer), `"dkd"` (decoupled KD instead of
    /// the KL); parameters in `[distill.<method>]`. Default `["hinton"]`.
    /// The control is shared by every method.
    #[serde(default = "d_sweep_method")]
    pub method: Vec<String>,
}

/// `[evaluate]`: test-set metrics and inference latency.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateTable {
    /// Untimed forward passes before latency is measured, ≥ 0. Default 5.
    #[serde(default = "d_latency_warmup")]
    pub latency_warmup: i64,
    /// Timed single-image forward passes (median and p95 reported), ≥ 1.
    /// Default 20.
    #[serde(default = "d_latency_repeats")]
    pub latency_repeats: i64,
}

/// `[explain]`: explanations of every model (`explain` stages) and their
/// cost (`timing` stages). Only these two stage kinds read this table, so
/// editing it never retrains a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainTable {
    /// Any of `"feature_maps"`, `"gradcam"`, `"expected_gradients"`, without
    /// duplicates (order does not matter). Default: all three. `[]` turns
    /// the explain and timing stages off.
    #[serde(default = "d_methods")]
    pub methods: Vec<String>,
    /// Test images explained per model: `"all"` (default: every test
    /// image, cheap at 48 px), or a number ≥ 1 for a seeded sample (the
    /// same images for every model).
    #[serde(default = "d_images")]
    pub images: toml::Value,
    /// Seed of that sample, of expected gradients' draws and of the
    /// deletion / insertion curves' tie-breaking and random-order baseline.
    /// Default 0.
    #[serde(default)]
    pub sample_seed: i64,
    /// Grad-CAM conv layer: a 0-based index, negative to count from the
    /// last (-1 = last, default), or `"common"`: the layer at the one
    /// resolution every model of the sweep has. A CNN block's output has
    /// the same resolution at every depth, so `"common"` is block k of
    /// every model, k the shallowest depth of the sweep and of a CNN
    /// teacher (block 1, the input resolution, when depth 1 is swept); a
    /// ResNet / DenseNet teacher uses its layer nearest that resolution.
    /// The last layer of a depth-1 student is an edge map at the input
    /// resolution, the teacher's last is 16× coarser: `"common"` makes
    /// their maps comparable. Agreement is measured at the input
    /// resolution whichever layer is chosen.
    #[serde(default = "d_gradcam_layer")]
    pub gradcam_layer: toml::Value,
    /// Expected gradients: samples per image, ≥ 1. Default 32.
    #[serde(default = "d_eg_samples")]
    pub eg_samples: i64,
    /// Expected gradients: background training images, ≥ 1. Default 16.
    #[serde(default = "d_eg_background")]
    pub eg_background: i64,
    /// Steps of the deletion / insertion curves, ≥ 2. Default 20.
    #[serde(default = "d_deletion_steps")]
    pub deletion_steps: i64,
    /// Images timed per model and method, ≥ 1. Default 4.
    #[serde(default = "d_timing_images")]
    pub timing_images: i64,
    /// Untimed runs before timing, ≥ 0. Default 1.
    #[serde(default = "d_timing_warmup")]
    pub timing_warmup: i64,
    /// Timed runs per image (median and p95 reported), ≥ 1. Default 5.
    #[serde(default = "d_timing_repeats")]
    pub timing_repeats: i64,
    /// libtorch threads of a timing stage (it runs alone on the machine),
    /// ≥ 1. Default 1.
    #[serde(default = "d_timing_threads")]
    pub timing_threads: i64,
    /// Which models the data set's one timing stage times, side by side:
    /// `"architecture"` (default): each architecture once (the teacher, and
    /// each student depth), on the first seed's teacher and control
    /// student: a CNN's explanation cost depends on its layers and the
    /// input size, not on its trained weights. `"model"`: every trained
    /// model (mean ± std over seeds in `compare`; about 20× longer in the
    /// default study).
    #[serde(default = "d_timing_scope")]
    pub timing_scope: String,
}

/// `[run]`: where stages compute.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunTable {
    /// `"auto"` (CUDA where present, default), `"cpu"` or `"cuda"`. The
    /// device actually used is part of the fingerprint.
    #[serde(default = "d_device")]
    pub device: String,
    /// CPU kernel set of every ML stage: `"avx2"` (default), `"avx512"` or
    /// `"native"`. libtorch picks its CPU kernels (ATen, oneDNN, MKL) by the
    /// host's instruction set, so float results differ between an AVX2 and
    /// an AVX-512 CPU; `"avx2"` pins all three to AVX2, so one fingerprint
    /// gives the same bytes on every x86-64 CPU with AVX2. `"avx512"` pins
    /// to AVX-512 (hosts with AVX-512 F/BW/DQ/VL only); `"native"` pins
    /// nothing (fastest, not portable). A host that lacks the pinned
    /// instructions fails the stage with an error naming the pin. Part of
    /// the fingerprint of every ML stage.
    #[serde(default = "d_cpu_isa")]
    pub cpu_isa: String,
}

// Defaults. One function per key so that `Default` impls and serde agree.
fn d_image_size() -> i64 {
    48
}
fn d_channels() -> i64 {
    1
}
fn d_val_fraction() -> f64 {
    0.15
}
fn d_test_fraction() -> f64 {
    0.2
}
fn d_resize() -> String {
    "pad".into()
}
fn d_near_dup_hamming() -> i64 {
    10
}
fn d_near_dup_min_corr() -> f64 {
    0.95
}
fn d_label_conflicts() -> String {
    "error".into()
}
fn d_arch() -> String {
    "cnn".into()
}
fn d_teacher_depth() -> i64 {
    5
}
fn d_width() -> i64 {
    16
}
fn d_max_width() -> i64 {
    128
}
fn d_teacher_dropout() -> f64 {
    0.3
}
fn d_student_dropout() -> f64 {
    0.2
}
fn d_epochs() -> i64 {
    20
}
fn d_batch_size() -> i64 {
    32
}
fn d_lr() -> f64 {
    1e-3
}
fn d_weight_decay() -> f64 {
    1e-4
}
fn d_schedule() -> String {
    "plateau".into()
}
fn d_plateau_patience() -> i64 {
    3
}
fn d_plateau_factor() -> f64 {
    0.5
}
fn d_true() -> bool {
    true
}
fn d_select() -> String {
    "val_loss".into()
}
fn d_class_weight() -> String {
    "none".into()
}
fn d_sweep_depth() -> Vec<i64> {
    vec![1, 2, 3, 4]
}
fn d_sweep_temperature() -> Vec<f64> {
    vec![4.0]
}
fn d_sweep_alpha() -> Vec<f64> {
    vec![0.0, 0.5]
}
fn d_sweep_method() -> Vec<String> {
    vec!["hinton".into()]
}
fn d_latency_warmup() -> i64 {
    5
}
fn d_latency_repeats() -> i64 {
    20
}
fn d_methods() -> Vec<String> {
    vec![
        "feature_maps".into(),
        "gradcam".into(),
        "expected_gradients".into(),
    ]
}
fn d_images() -> toml::Value {
    toml::Value::String("all".into())
}
fn d_gradcam_layer() -> toml::Value {
    toml::Value::Integer(-1)
}
fn d_eg_samples() -> i64 {
    32
}
fn d_eg_background() -> i64 {
    16
}
fn d_deletion_steps() -> i64 {
    20
}
fn d_timing_images() -> i64 {
    4
}
fn d_timing_warmup() -> i64 {
    1
}
fn d_timing_repeats() -> i64 {
    5
}
fn d_timing_scope() -> String {
    "architecture".to_owned()
}
fn d_timing_threads() -> i64 {
    1
}
fn d_device() -> String {
    "auto".into()
}
fn d_cpu_isa() -> String {
    "avx2".into()
}

default_from_empty_table!(
    TeacherTable,
    StudentTable,
    SweepTable,
    EvaluateTable,
    ExplainTable,
    RunTable
);
