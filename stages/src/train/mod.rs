//! Training stages: `teacher` and `student` (distilled or control).
//!
//! Both run [`fit::fit`] and write `model.safetensors`, `model.json`,
//! `history.csv` and `train.json`; the teacher also writes
//! `logits.safetensors` (its logits for the un-augmented train, val and test
//! images).
//!
//! # Cached teacher logits and augmentation
//! Students distil from the teacher's *cached* logits of the un-augmented
//! training images, even when `augment = true`. The augmentations are small
//! (a horizontal flip and a shift of at most 1/16 of the side), so the
//! teacher's output on the augmented image is close to that on the original;
//! reusing the cache is a documented approximation that lets every student of
//! a sweep share one teacher forward pass per image instead of one per batch
//! and epoch, and keeps a student independent of the teacher's weights
//! (only of its outputs). `[distill] source = "online"` runs the teacher on
//! every augmented batch instead (exact targets); FitNets and attention
//! transfer read the teacher's feature maps, so they always do
//! ([`objective`]). A FitNets student also writes
//! `hint_regressor.safetensors` (its regressor, trained with it);
//! `model.safetensors` holds the student alone.

pub mod augment;
pub mod class_weight;
pub mod distill;
pub mod fit;
pub mod losses;
pub mod objective;
pub mod schedule;
pub mod select;

use std::path::Path;

use engine::exec::{StageContext, StageFailure, StageReport};
use serde_json::json;
use study::contract::artifacts::train::{self, Throughput, Train};
use study::kd::params::{
    DistillParams, DistillSource, MethodParams, ModelParams, StudentParams, TeacherParams,
    TrainParams,
};
use tch::{nn, Tensor};

use crate::data::PreparedData;
use crate::device::{device_name, resolve_device, seed_everything};
use crate::error::{write_artifact, write_json, Result, StagesError};
use crate::models::{
    build_model, load_model, load_pretrained, param_count, save_weights_where, Classifier,
    ModelInfo,
};
use fit::{fit, predict_logits, Distill, FitResult, Teacher};
use objective::{hint_regressor, HINT_PATH};

/// The `teacher` stage.
pub fn run_teacher(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    let p: TeacherParams = ctx.params()?;
    let data = PreparedData::load(ctx.upstream_dir("data")?)?;
    let weights = p
        .model
        .weights
        .as_ref()
        .map(|w| match &ctx.spec.input_root {
            Some(root) if Path::new(w).is_relative() => root.join(w),
            _ => w.into(),
        });
    let out = train_model(&TrainJob {
        data: &data,
        model: &p.model,
        train: &p.train,
        distill: None,
        pretrained: weights.as_deref(),
        out_dir: ctx.out_dir,
        threads: ctx.threads,
        teacher_logits_out: true,
        progress: ctx.progress,
    })?;
    Ok(out)
}

/// The `student` stage: distilled (`distill = Some`, reads the `teacher`
/// upstream: its `logits.safetensors`, or the model itself when the teacher
/// runs online) or the alpha = 0 control.
pub fn run_student(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    let p: StudentParams = ctx.params()?;
    let data = PreparedData::load(ctx.upstream_dir("data")?)?;
    let teacher = match &p.distill {
        None => None,
        Some(d) if online(d) => {
            let device = resolve_device(&p.train.device)?;
            Some(TeacherData::Online(load_model(
                ctx.upstream_dir("teacher")?,
                device,
            )?))
        }
        Some(_) => Some(TeacherData::Cached(read_teacher_train_logits(
            ctx.upstream_dir("teacher")?,
        )?)),
    };
    let distill = match (&p.distill, &teacher) {
        (Some(d), Some(t)) => Some((d.clone(), t)),
        _ => None,
    };
    let out = train_model(&TrainJob {
        data: &data,
        model: &p.model,
        train: &p.train,
        distill,
        pretrained: None,
        out_dir: ctx.out_dir,
        threads: ctx.threads,
        teacher_logits_out: false,
        progress: ctx.progress,
    })?;
    Ok(out)
}

/// Whether a student runs its teacher on every batch: asked for, or needed
/// by a method that reads the teacher's feature maps.
fn online(d: &DistillParams) -> bool {
    d.source == DistillSource::Online || d.method.method().needs_features()
}

/// A distilled student's teacher: its cached train-split logits, or the
/// trained model (frozen) to run online.
pub enum TeacherData {
    Cached(Tensor),
    Online(Box<dyn Classifier>),
}

/// Teacher logits of the training split from a teacher artifact.
pub fn read_teacher_train_logits(dir: &Path) -> Result<Tensor> {
    let path = dir.join("logits.safetensors");
    let tensors = Tensor::read_safetensors(&path)
        .map_err(StagesError::torch(format!("reading {}", path.display())))?;
    tensors
        .into_iter()
        .find(|(n, _)| n == "train")
        .map(|(_, t)| t)
        .ok_or_else(|| StagesError::artifact(&path, "no tensor `train`"))
}

/// Everything one training run needs.
pub struct TrainJob<'a> {
    pub data: &'a PreparedData,
    pub model: &'a ModelParams,
    pub train: &'a TrainParams,
    /// Distillation settings and the teacher.
    pub distill: Option<(DistillParams, &'a TeacherData)>,
    /// Pretrained weights file to start from.
    pub pretrained: Option<&'a Path>,
    pub out_dir: &'a Path,
    pub threads: usize,
    /// Also write `logits.safetensors` (teachers).
    pub teacher_logits_out: bool,
    pub progress: &'a dyn Fn(engine::exec::Progress),
}

/// Builds, trains and saves one model into `job.out_dir`.
pub fn train_model(job: &TrainJob<'_>) -> Result<StageReport> {
    let device = resolve_device(&job.train.device)?;
    seed_everything(job.train.seed);
    let data = job.data;
    let vs = nn::VarStore::new(device);
    let built = build_model(
        job.model,
        data.channels,
        data.image_size,
        data.num_classes(),
        &vs.root(),
    )?;
    let pretrained = match job.pretrained {
        Some(path) => Some(load_pretrained(&vs, path)?),
        None => None,
    };
    let model = built.model;
    // The student's own size: counted before a FitNets regressor joins `vs`.
    let params_count = param_count(&vs);
    let regressor = match &job.distill {
        Some((p, TeacherData::Online(t))) if !data.train.is_empty() => {
            let sample = data.train.x.narrow(0, 0, 1).to_device(device);
            hint_regressor(&vs, model.as_ref(), t.as_ref(), &sample, p)?
        }
        _ => None,
    };
    let distill = job.distill.as_ref().map(|(p, t)| Distill {
        params: p.clone(),
        teacher: match t {
            TeacherData::Cached(logits) => Teacher::Cached(logits),
            TeacherData::Online(m) => Teacher::Online(m.as_ref()),
        },
        regressor: regressor.as_ref(),
    });
    let res: FitResult = fit(
        model.as_ref(),
        &vs,
        &data.train,
        &data.val,
        job.train,
        distill,
        job.progress,
    )?;

    let out = job.out_dir;
    let hint = format!("{HINT_PATH}.");
    save_weights_where(&vs, &out.join("model.safetensors"), |n| {
        !n.starts_with(&hint)
    })?;
    if regressor.is_some() {
        save_weights_where(&vs, &out.join("hint_regressor.safetensors"), |n| {
            n.starts_with(&hint)
        })?;
    }
    let info = ModelInfo {
        arch: job.model.arch,
        depth: job.model.depth,
        width: job.model.width,
        max_width: job.model.max_width,
        dropout: job.model.dropout,
        num_classes: data.num_classes(),
        channels: data.channels,
        image_size: data.image_size,
        params: params_count,
        macs: built.macs,
        classes: data.classes.clone(),
    };
    write_json(&out.join("model.json"), &info)?;
    write_history(&out.join("history.csv"), &res)?;
    let threads = tch::get_num_threads();
    let distilled = job.distill.as_ref().map(|(p, _)| train::Distill {
        alpha: p.alpha,
        temperature: p.temperature,
        method: (p.method != MethodParams::Hinton).then(|| p.method.method().name().to_owned()),
    });
    let distill_source = match &job.distill {
        Some((_, TeacherData::Cached(_))) => train::DISTILL_SOURCE_CACHED,
        Some((_, TeacherData::Online(_))) => train::DISTILL_SOURCE_ONLINE,
        None => train::DISTILL_SOURCE_NONE,
    };
    write_artifact(
        out,
        &Train {
            best_epoch: res.best_epoch,
            class_weight: job.train.class_weight.name().to_owned(),
            device: device_name(device),
            distill: distilled,
            distill_source: distill_source.to_owned(),
            epochs: job.train.epochs,
            macs: info.macs,
            params: info.params,
            pretrained: pretrained.map(|(loaded, skipped)| train::Pretrained { loaded, skipped }),
            seed: job.train.seed,
            select: job.train.select.name().to_owned(),
            threads,
            val_accuracy: res.selected.accuracy,
            val_balanced_accuracy: res.selected.balanced_accuracy,
            val_loss: res.selected.loss,
        },
    )?;
    // Wall-clock measurements live in their own file: everything else this
    // stage writes is bit-identical across reruns (see `kdpipe verify`).
    write_artifact(
        out,
        &Throughput {
            images_per_s: res.images_per_s,
            train_seconds: res.train_seconds,
            threads,
        },
    )?;
    if job.teacher_logits_out {
        let bs = job.train.batch_size as usize;
        let logits: Vec<(&str, Tensor)> = vec![
            (
                "test",
                predict_logits(model.as_ref(), &data.test.x, device, bs),
            ),
            (
                "train",
                predict_logits(model.as_ref(), &data.train.x, device, bs),
            ),
            (
                "val",
                predict_logits(model.as_ref(), &data.val.x, device, bs),
            ),
        ];
        let path = out.join("logits.safetensors");
        Tensor::write_safetensors(&logits, &path)
            .map_err(StagesError::torch(format!("writing {}", path.display())))?;
    }
    Ok(StageReport {
        device: device_name(device),
        summary: json!({
            "best_epoch": res.best_epoch,
            "val_loss": res.selected.loss,
            "val_accuracy": res.selected.accuracy,
            "images_per_s": res.images_per_s,
            "params": info.params,
            "macs": info.macs,
        }),
    })
}

fn write_history(path: &Path, res: &FitResult) -> Result<()> {
    let csv_err = |source| StagesError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    for row in &res.history {
        w.serialize(row).map_err(csv_err)?;
    }
    w.flush().map_err(|source| StagesError::Write {
        path: path.to_path_buf(),
        source,
    })
}
