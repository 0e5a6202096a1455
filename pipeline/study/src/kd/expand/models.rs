//! The model stages of the KD study: per seed its teacher and its students
//! (the no-distillation control first, then every method × temperature ×
//! nonzero alpha per depth), each with optional initial weights as an input.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::downstream::{add_model, Downstream, NewModel, Timed};
use super::methods::distill_params;
use crate::contract::{names, Kind};
use crate::experiment::{ExpandContext, ExperimentError};
use crate::index::{Distilled, ModelRole, StudyIndex};
use crate::kd::inputs::absolute;
use crate::kd::params::{DistillParams, ModelParams, StudentParams, TeacherParams, TrainParams};
use crate::kd::resolved::{DatasetConfig, KdStudy, ModelConfig, TrainConfig};
use crate::specs::{spec, to_params, Specs, Versions};
use engine::fingerprint::Fingerprint;
use engine::spec::StageSpec;

/// What every model stage of a KD expansion shares.
pub(super) struct Models<'v> {
    pub(super) v: Versions<'v>,
    pub(super) device: &'static str,
    pub(super) gpu: u32,
    pub(super) down: Downstream<'v>,
    pub(super) teacher_weights: Option<Weights>,
    pub(super) student_weights: Option<Weights>,
}

impl Models<'_> {
    fn model_spec(&self, name: String, kind: Kind, params: BTreeMap<String, Value>) -> StageSpec {
        let w = match kind {
            Kind::Teacher => &self.teacher_weights,
            _ => &self.student_weights,
        };
        let mut s = spec(self.v, name, kind);
        s.params = params;
        s.resources.gpu = self.gpu;
        if let Some(w) = w {
            s.inputs.insert("weights".to_owned(), w.hash.clone());
            s.input_root = Some(w.root.clone());
        }
        s
    }

    fn with_weights(&self, m: &ModelParams, teacher: bool) -> ModelParams {
        let w = if teacher {
            &self.teacher_weights
        } else {
            &self.student_weights
        };
        ModelParams {
            weights: w.as_ref().map(|w| w.name.clone()),
            ..m.clone()
        }
    }
}

/// Optional weights of a model: the file name recorded in its params, its
/// folder as the stage's input root and its hash as input `weights`.
pub(super) struct Weights {
    name: String,
    root: PathBuf,
    hash: String,
}

/// The weights file of `m`, if any, content-hashed.
pub(super) fn weights(
    m: &ModelConfig,
    ctx: &mut ExpandContext<'_>,
) -> Result<Option<Weights>, ExperimentError> {
    let Some(path) = &m.weights else {
        return Ok(None);
    };
    let hash = (ctx.hash_file)(path).map_err(|message| ExperimentError::Input {
        dataset: "(model weights)".into(),
        path: path.clone(),
        message,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(Some(Weights {
        name,
        root: absolute(root),
        hash,
    }))
}

/// The teacher of one seed, its students (control first, then every
/// method × temperature × nonzero alpha per depth), and their downstream stages.
#[allow(clippy::too_many_arguments)]
pub(super) fn expand_seed(
    m: &Models<'_>,
    kd: &KdStudy,
    ds: &DatasetConfig,
    seed: u64,
    first_seed: bool,
    data: &Fingerprint,
    out: &mut Specs,
    index: &mut StudyIndex,
    timed: &mut Timed,
) {
    let dsn = &ds.params.name;
    let train = |t: &TrainConfig| TrainParams {
        epochs: t.epochs,
        batch_size: t.batch_size,
        lr: t.lr,
        weight_decay: t.weight_decay,
        schedule: t.schedule,
        plateau_patience: t.plateau_patience,
        plateau_factor: t.plateau_factor,
        augment: t.augment,
        select: t.select,
        class_weight: t.class_weight,
        seed,
        device: m.device.to_owned(),
    };
    let tname = names::teacher(dsn, seed);
    let params = to_params(&TeacherParams {
        model: m.with_weights(&kd.teacher.model, true),
        train: train(&kd.teacher.train),
    });
    let mut t = m.model_spec(tname.clone(), Kind::Teacher, params);
    t.upstream.insert(names::ROLE_DATA.into(), data.clone());
    let teacher = out.push(t);
    let teacher_explain = add_model(
        out,
        index,
        timed,
        &m.down,
        NewModel {
            dataset: dsn,
            seed,
            role: ModelRole::Teacher,
            name: tname,
            fp: teacher.clone(),
            representative: first_seed,
        },
        data,
        None,
    );

    let student_train = train(&kd.student.train);
    for &depth in &kd.sweep.depth {
        let mut model = m.with_weights(&kd.student.model, false);
        model.depth = depth;
        let mut student = |distill: Option<DistillParams>| {
            let point = distill.as_ref().map(|d| Distilled {
                method: d.method.method(),
                temperature: d.temperature,
                alpha: d.alpha,
            });
            let name = names::student(
                dsn,
                seed,
                depth,
                point.map(|p| (p.method.name(), p.temperature, p.alpha)),
            );
            let role = ModelRole::Student {
                depth,
                distill: point,
            };
            let with_teacher = distill.is_some();
            let params = to_params(&StudentParams {
                model: model.clone(),
                train: student_train.clone(),
                distill,
            });
            let mut s = m.model_spec(name.clone(), Kind::Student, params);
            s.upstream.insert(names::ROLE_DATA.into(), data.clone());
            if with_teacher {
                s.upstream
                    .insert(names::ROLE_TEACHER.into(), teacher.clone());
            }
            let fp = out.push(s);
            add_model(
                out,
                index,
                timed,
                &m.down,
                NewModel {
                    dataset: dsn,
                    seed,
                    role,
                    name,
                    fp,
                    // per architecture: timed on the first seed's control
                    representative: first_seed && !with_teacher,
                },
                data,
                teacher_explain.as_ref(),
            );
        };
        student(None);
        for &method in &kd.sweep.method {
            for &temperature in &kd.sweep.temperature {
                for &alpha in kd.sweep.alpha.iter().filter(|&&a| a != 0.0) {
                    student(Some(distill_params(
                        &kd.distill,
                        method,
                        depth,
                        &kd.teacher.model,
                        temperature,
                        alpha,
                    )));
                }
            }
        }
    }
}
