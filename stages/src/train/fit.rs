//! The training loop, generic over [`Classifier`]: Adam with weight decay,
//! a learning-rate schedule, optional augmentation, optional class weights
//! and optional distillation ([`super::objective`]: the method's loss, from
//! cached teacher logits or an online teacher). The epoch that
//! `select` picks from the validation scores ([`super::select`]) is
//! restored at the end.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use engine::exec::Progress;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use study::kd::params::{Schedule, TrainParams};
use tch::nn::OptimizerConfig;
use tch::{nn, Device, Kind, Tensor};

use super::augment::augment_batch;
use super::class_weight::class_weights;
use super::objective::Objective;
pub use super::objective::{Distill, Teacher};
use super::schedule::{cosine_lr, plateau_step, Plateau};
use super::select::{replaces, ValScores};
use crate::data::Split;
use crate::error::{Result, StagesError};
use crate::models::Classifier;

/// One row of `history.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochRow {
    pub epoch: u32,
    pub train_loss: f64,
    pub train_acc: f64,
    pub val_loss: f64,
    pub val_acc: f64,
    pub val_balanced_acc: f64,
    pub lr: f64,
}

/// What training produced besides the weights left in the var store.
#[derive(Debug, Clone)]
pub struct FitResult {
    pub history: Vec<EpochRow>,
    /// 1-based epoch whose weights were kept (by `select`).
    pub best_epoch: u32,
    /// Validation scores of that epoch.
    pub selected: ValScores,
    /// Training images processed per second (forward + backward + step,
    /// excluding validation).
    pub images_per_s: f64,
    pub train_seconds: f64,
}

/// Trains `model` (whose variables live in `vs`) on `train`, selecting on
/// `val`. Calls `progress` after every epoch.
pub fn fit(
    model: &dyn Classifier,
    vs: &nn::VarStore,
    train: &Split,
    val: &Split,
    params: &TrainParams,
    distill: Option<Distill<'_>>,
    progress: &dyn Fn(Progress),
) -> Result<FitResult> {
    let device = vs.device();
    let n = train.len();
    if n < 2 {
        return Err(StagesError::param(
            "train split",
            n,
            "need at least 2 images",
        ));
    }
    if params.batch_size == 0 || params.epochs == 0 {
        return Err(StagesError::param(
            "epochs/batch_size",
            format!("{}/{}", params.epochs, params.batch_size),
            "must be positive",
        ));
    }
    let x = train.x.to_device(device);
    let y = train.y.to_device(device);
    let class_weights = class_weights(
        params.class_weight,
        &Vec::<i64>::try_from(&train.y.to_kind(Kind::Int64))
            .map_err(StagesError::torch("reading the training labels"))?,
        model.num_classes() as usize,
    )
    .map(|w| {
        let w: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        Tensor::from_slice(&w).to_device(device)
    });
    let objective = Objective::new(distill, class_weights, n, model.num_classes(), device)?;

    let mut opt = nn::Adam {
        wd: params.weight_decay,
        ..Default::default()
    }
    .build(vs, params.lr)
    .map_err(StagesError::torch("building the optimizer"))?;

    let bs = params.batch_size as usize;
    let mut plateau = Plateau::new(params.lr);
    let mut history = Vec::new();
    let mut best: Option<(ValScores, u32, HashMap<String, Tensor>)> = None;
    let mut train_seconds = 0.0;
    let mut images = 0usize;
    for epoch in 0..params.epochs {
        let lr = match params.schedule {
            Schedule::None => params.lr,
            Schedule::Cosine => cosine_lr(params.lr, epoch, params.epochs),
            Schedule::Plateau => plateau.lr,
        };
        opt.set_lr(lr);
        let mut rng = ChaCha8Rng::seed_from_u64(
            params
                .seed
                .wrapping_mul(0x9E37_79B9)
                .wrapping_add(epoch as u64),
        );
        let mut order: Vec<i64> = (0..n).collect();
        order.shuffle(&mut rng);
        let start = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0i64, 0usize);
        for chunk in order.chunks(bs) {
            // A batch of one breaks batch norm on 1×1 maps; drop it.
            if chunk.len() < 2 {
                continue;
            }
            let idx = Tensor::from_slice(chunk).to_device(device);
            let mut xb = x.index_select(0, &idx);
            if params.augment {
                xb = augment_batch(&xb, &mut rng);
            }
            let yb = y.index_select(0, &idx);
            let (loss, logits) = objective.batch(model, &xb, &idx, &yb, epoch);
            opt.backward_step(&loss);
            let b = chunk.len();
            loss_sum += loss.double_value(&[]) * b as f64;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&yb)
                .sum(Kind::Int64)
                .int64_value(&[]);
            seen += b;
        }
        train_seconds += start.elapsed().as_secs_f64();
        images += seen;
        let scores = evaluate_split(model, val, device, bs)?;
        let (val_loss, val_acc) = (scores.loss, scores.accuracy);
        let row = EpochRow {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_acc: correct as f64 / seen.max(1) as f64,
            val_loss,
            val_acc,
            val_balanced_acc: scores.balanced_accuracy,
            lr,
        };
        if params.schedule == Schedule::Plateau {
            plateau = plateau_step(
                plateau,
                val_loss,
                params.plateau_patience,
                params.plateau_factor,
            );
        }
        let better = match &best {
            None => true,
            Some((b, _, _)) => replaces(params.select, &scores, b),
        };
        if better {
            best = Some((scores, epoch + 1, snapshot(vs)));
        }
        let mut metrics = BTreeMap::new();
        metrics.insert("train_loss".into(), row.train_loss);
        metrics.insert("train_acc".into(), row.train_acc);
        metrics.insert("val_loss".into(), row.val_loss);
        metrics.insert("val_acc".into(), row.val_acc);
        metrics.insert("lr".into(), row.lr);
        progress(Progress {
            done: (epoch + 1) as u64,
            total: params.epochs as u64,
            metrics,
        });
        history.push(row);
    }
    let (selected, best_epoch, weights) =
        best.ok_or_else(|| StagesError::param("epochs", params.epochs, "no epoch ran"))?;
    restore(vs, &weights);
    Ok(FitResult {
        history,
        best_epoch,
        selected,
        images_per_s: images as f64 / train_seconds.max(1e-9),
        train_seconds,
    })
}

fn snapshot(vs: &nn::VarStore) -> HashMap<String, Tensor> {
    vs.variables()
        .into_iter()
        .map(|(k, v)| (k, v.detach().copy()))
        .collect()
}

fn restore(vs: &nn::VarStore, weights: &HashMap<String, Tensor>) {
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            if let Some(w) = weights.get(&name) {
                var.copy_(w);
            }
        }
    });
}

/// Mean (unweighted) cross-entropy, accuracy and balanced accuracy of
/// `model` (eval mode) on a split. An empty split gives (NaN, 0, 0).
pub fn evaluate_split(
    model: &dyn Classifier,
    split: &Split,
    device: Device,
    batch: usize,
) -> Result<ValScores> {
    let n = split.len();
    if n == 0 {
        return Ok(ValScores {
            loss: f64::NAN,
            accuracy: 0.0,
            balanced_accuracy: 0.0,
        });
    }
    let logits = predict_logits(model, &split.x, device, batch);
    let y = split.y.to_device(Device::Cpu);
    let loss = logits.cross_entropy_for_logits(&y).double_value(&[]);
    let acc = logits
        .argmax(-1, false)
        .eq_tensor(&y)
        .to_kind(Kind::Float)
        .mean(Kind::Float)
        .double_value(&[]);
    let pred = Vec::<i64>::try_from(&logits.argmax(-1, false))
        .map_err(StagesError::torch("reading predictions"))?;
    let truth = Vec::<i64>::try_from(&y.to_kind(Kind::Int64))
        .map_err(StagesError::torch("reading labels"))?;
    Ok(ValScores {
        loss,
        accuracy: acc,
        balanced_accuracy: balanced_accuracy(&truth, &pred),
    })
}

/// Mean per-class recall over the classes present in `truth`.
fn balanced_accuracy(truth: &[i64], pred: &[i64]) -> f64 {
    let mut per: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for (&t, &p) in truth.iter().zip(pred) {
        let e = per.entry(t).or_default();
        e.0 += u64::from(t == p);
        e.1 += 1;
    }
    if per.is_empty() {
        return 0.0;
    }
    per.values().map(|&(c, n)| c as f64 / n as f64).sum::<f64>() / per.len() as f64
}

/// Logits of `model` in eval mode for every image of `x` (CPU, f32).
pub fn predict_logits(model: &dyn Classifier, x: &Tensor, device: Device, batch: usize) -> Tensor {
    let n = x.size()[0];
    if n == 0 {
        return Tensor::zeros([0, model.num_classes()], tch::kind::FLOAT_CPU);
    }
    tch::no_grad(|| {
        let mut outs = Vec::new();
        let mut i = 0;
        while i < n {
            let len = (batch as i64).min(n - i);
            let xb = x.narrow(0, i, len).to_device(device);
            outs.push(model.logits(&xb, false).to_device(Device::Cpu));
            i += len;
        }
        Tensor::cat(&outs, 0).to_kind(Kind::Float)
    })
}
