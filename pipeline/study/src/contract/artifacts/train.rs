//! `train.json` and `throughput.json` of a `teacher` or `student` stage: how
//! the kept weights were selected (bit-identical across reruns), and the
//! training speed (wall-clock, so in a file of its own).

use serde::{Deserialize, Serialize};

use super::{nullable, ArtifactFile};

/// [`Train::distill_source`] of a distilled student.
pub const DISTILL_SOURCE_CACHED: &str = "cached teacher logits of the un-augmented training images";
/// [`Train::distill_source`] of a student whose teacher ran online.
pub const DISTILL_SOURCE_ONLINE: &str =
    "online teacher on every (augmented) training batch, eval mode, no gradient";
/// [`Train::distill_source`] without distillation.
pub const DISTILL_SOURCE_NONE: &str = "none";

/// `train.json` (keys sorted, as the file has always had them). Until
/// teacher/student code version 2 it held `best_val_acc` / `best_val_loss`,
/// the scores of the epoch with the best validation accuracy; since the
/// kept epoch is chosen by `select`, its scores are `val_*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Train {
    /// 1-based epoch whose weights were kept (the one `select` picked).
    pub best_epoch: u32,
    /// `none` or `balanced`: weights of the hard-label cross-entropy.
    pub class_weight: String,
    pub device: String,
    /// `null` for a teacher and the no-distillation control.
    pub distill: Option<Distill>,
    pub distill_source: String,
    pub epochs: u32,
    pub macs: u64,
    pub params: u64,
    /// `null` without pretrained weights.
    pub pretrained: Option<Pretrained>,
    pub seed: u64,
    /// How the kept epoch was chosen: `val_loss`, `val_accuracy`,
    /// `val_balanced_accuracy` or `last`.
    pub select: String,
    /// libtorch threads while training.
    pub threads: i32,
    /// Validation accuracy of the kept epoch.
    #[serde(deserialize_with = "nullable::f64")]
    pub val_accuracy: f64,
    /// Validation balanced accuracy (mean per-class recall) of the kept
    /// epoch.
    #[serde(deserialize_with = "nullable::f64")]
    pub val_balanced_accuracy: f64,
    /// Validation loss (unweighted mean cross-entropy) of the kept epoch.
    #[serde(deserialize_with = "nullable::f64")]
    pub val_loss: f64,
}

impl ArtifactFile for Train {
    const FILE: &'static str = "train.json";
}

/// The distillation a student was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distill {
    pub alpha: f64,
    /// `fitnets`, `at` or `dkd`; absent for Hinton (the files written
    /// before the method axis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub temperature: f64,
}

/// Tensors taken from (and left out of) the pretrained weights file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pretrained {
    pub loaded: usize,
    pub skipped: usize,
}

/// `throughput.json` (keys sorted, as the file has always had them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Training images per second (forward, backward, step).
    #[serde(deserialize_with = "nullable::f64")]
    pub images_per_s: f64,
    /// libtorch threads while training.
    pub threads: i32,
    #[serde(deserialize_with = "nullable::f64")]
    pub train_seconds: f64,
}

impl ArtifactFile for Throughput {
    const FILE: &'static str = "throughput.json";
}
