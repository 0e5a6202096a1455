//! The per-batch objective of [`super::fit::fit`]: the hard-label
//! cross-entropy, and for a distilled student its method's terms.
//!
//! With `alpha` and `T` from the sweep, CE weighted per class, KL the
//! soft-logit term of [`super::distill::soft_loss`]:
//! - hinton: `alpha · T² · KL + (1 − alpha) · CE` ([`weighted_distillation_loss`],
//!   exactly as before the method axis, so Hinton students are unchanged);
//! - fitnets: hinton `+ hint_weight · MSE(r(f_s^k), f_t^k)` ([`hint`]);
//! - at: hinton `+ β/2 · Σ_k mean_b ‖Q_s^k − Q_t^k‖₂` ([`attention`]);
//! - dkd: `alpha · ramp · (α_dkd · TCKD + β_dkd · NCKD) + (1 − alpha) · CE`
//!   ([`dkd`]), `ramp = min((epoch + 1) / warmup_epochs, 1)`.
//!
//! The teacher's targets are its cached logits of the un-augmented training
//! images ([`Teacher::Cached`]) or the teacher itself run on every augmented
//! batch ([`Teacher::Online`]) in eval mode under `no_grad`: its outputs
//! carry no graph, so no gradient reaches it. Feature methods always run
//! online. The FitNets regressor lives in the student's var store (under
//! `hint.`), so the optimiser trains it with the student.
//!
//! [`hint`]: super::losses::hint
//! [`attention`]: super::losses::attention
//! [`dkd`]: super::losses::dkd

use study::kd::params::{DistillParams, MethodParams};
use tch::{nn, Kind, Tensor};

use super::distill::weighted_distillation_loss;
use super::losses::{attention_transfer_loss, dkd_loss, HintRegressor};
use crate::error::{Result, StagesError};
use crate::models::Classifier;

/// Variable path of the FitNets regressor in the student's var store.
pub const HINT_PATH: &str = "hint";

/// Where a distilled student's teacher targets come from.
pub enum Teacher<'a> {
    /// Logits of the training split, [n_train, classes], in `train.x` order.
    Cached(&'a Tensor),
    /// The trained teacher (frozen), run on every batch in eval mode.
    Online(&'a dyn Classifier),
}

/// A distilled student's settings, its teacher and (FitNets) its regressor.
pub struct Distill<'a> {
    pub params: DistillParams,
    pub teacher: Teacher<'a>,
    /// FitNets only: see [`hint_regressor`].
    pub regressor: Option<&'a HintRegressor>,
}

/// Checks the blocks `params` pairs against the two models (one forward
/// pass of `sample`, [1, C, H, W]) and builds the FitNets regressor (None
/// for every other method) under `vs / "hint"`, from the student's to the
/// teacher's channel count at the paired blocks.
pub fn hint_regressor(
    vs: &nn::VarStore,
    student: &dyn Classifier,
    teacher: &dyn Classifier,
    sample: &Tensor,
    params: &DistillParams,
) -> Result<Option<HintRegressor>> {
    let pairs: Vec<(u32, u32)> = match &params.method {
        MethodParams::Fitnets(f) => vec![(f.student_block, f.teacher_block)],
        MethodParams::At(a) => a.pairs.clone(),
        MethodParams::Hinton | MethodParams::Dkd(_) => return Ok(None),
    };
    let (s_taps, t_taps) = tch::no_grad(|| {
        (
            student.forward_taps(sample, false).0,
            teacher.forward_taps(sample, false).0,
        )
    });
    let mut channels = (0, 0);
    for (sb, tb) in pairs {
        let s = block(&s_taps, sb, "student")?;
        let t = block(&t_taps, tb, "teacher")?;
        if s.size()[2..] != t.size()[2..] && matches!(params.method, MethodParams::Fitnets(_)) {
            return Err(StagesError::param(
                "distill.method",
                format!("fitnets blocks {sb}/{tb}"),
                format!(
                    "student map {:?} and teacher map {:?} differ in size",
                    s.size(),
                    t.size()
                ),
            ));
        }
        channels = (s.size()[1], t.size()[1]);
    }
    Ok(match params.method {
        MethodParams::Fitnets(_) => Some(HintRegressor::new(
            &(vs.root() / HINT_PATH),
            channels.0,
            channels.1,
        )),
        _ => None,
    })
}

/// Block `k` (1-based) of a model's taps.
fn block<'t>(taps: &'t [Tensor], k: u32, whose: &str) -> Result<&'t Tensor> {
    (k as usize)
        .checked_sub(1)
        .and_then(|i| taps.get(i))
        .ok_or_else(|| {
            StagesError::param(
                "distill.method",
                format!("block {k}"),
                format!("the {whose} has {} blocks", taps.len()),
            )
        })
}

/// A distilled objective's teacher, on the training device.
enum Source<'a> {
    Cached(Tensor),
    Online(&'a dyn Classifier),
}

/// The objective of one training run.
pub(crate) struct Objective<'a> {
    distill: Option<(DistillParams, Source<'a>, Option<&'a HintRegressor>)>,
    class_weights: Option<Tensor>,
}

impl<'a> Objective<'a> {
    /// `n` training images, `classes` logits; cached logits are checked and
    /// moved to `device`.
    pub(crate) fn new(
        distill: Option<Distill<'a>>,
        class_weights: Option<Tensor>,
        n: i64,
        classes: i64,
        device: tch::Device,
    ) -> Result<Self> {
        let distill = match distill {
            None => None,
            Some(d) => {
                let features = matches!(
                    d.params.method,
                    MethodParams::Fitnets(_) | MethodParams::At(_)
                );
                let source = match d.teacher {
                    Teacher::Cached(_) if features => {
                        return Err(StagesError::param(
                            "distill.method",
                            d.params.method.method().name(),
                            "reads the teacher's feature maps: needs an online teacher",
                        ));
                    }
                    Teacher::Cached(t) => {
                        if t.size() != [n, classes] {
                            return Err(StagesError::param(
                                "teacher logits",
                                format!("{:?}", t.size()),
                                format!("expected [{n}, {classes}]"),
                            ));
                        }
                        Source::Cached(t.to_kind(Kind::Float).to_device(device))
                    }
                    Teacher::Online(m) => Source::Online(m),
                };
                if matches!(d.params.method, MethodParams::Fitnets(_)) && d.regressor.is_none() {
                    return Err(StagesError::param(
                        "distill.method",
                        "fitnets",
                        "needs its hint regressor",
                    ));
                }
                Some((d.params, source, d.regressor))
            }
        };
        Ok(Objective {
            distill,
            class_weights,
        })
    }

    /// The loss of one batch and the student's logits. xb: [B, C, H, W]
    /// (augmented); idx: i64 [B] rows of the training split; yb: i64 [B];
    /// `epoch` 0-based.
    pub(crate) fn batch(
        &self,
        model: &dyn Classifier,
        xb: &Tensor,
        idx: &Tensor,
        yb: &Tensor,
        epoch: u32,
    ) -> (Tensor, Tensor) {
        let cw = self.class_weights.as_ref();
        let Some((p, source, regressor)) = &self.distill else {
            let logits = model.logits(xb, true);
            let loss = weighted_distillation_loss(&logits, None, yb, 1.0, 0.0, cw);
            return (loss, logits);
        };
        let features = matches!(p.method, MethodParams::Fitnets(_) | MethodParams::At(_));
        let (taps, logits) = if features {
            model.forward_taps(xb, true)
        } else {
            (Vec::new(), model.logits(xb, true))
        };
        let (t_taps, t_logits) = match source {
            Source::Cached(t) => (Vec::new(), t.index_select(0, idx)),
            Source::Online(m) => tch::no_grad(|| {
                if features {
                    m.forward_taps(xb, false)
                } else {
                    (Vec::new(), m.logits(xb, false))
                }
            }),
        };
        let (t, alpha) = (p.temperature, p.alpha);
        let loss = match &p.method {
            MethodParams::Dkd(d) => {
                let ramp = if d.warmup_epochs == 0 {
                    1.0
                } else {
                    (f64::from(epoch + 1) / f64::from(d.warmup_epochs)).min(1.0)
                };
                let ce = super::class_weight::weighted_cross_entropy(&logits, yb, cw);
                dkd_loss(&logits, &t_logits, yb, t, d.alpha, d.beta) * (alpha * ramp)
                    + ce * (1.0 - alpha)
            }
            _ => weighted_distillation_loss(&logits, Some(&t_logits), yb, t, alpha, cw),
        };
        let loss = match (&p.method, regressor) {
            (MethodParams::Fitnets(f), Some(r)) => {
                let s = &taps[f.student_block as usize - 1];
                let tt = &t_taps[f.teacher_block as usize - 1];
                loss + r.loss(s, tt) * f.hint_weight
            }
            (MethodParams::At(a), _) => {
                let pairs: Vec<(&Tensor, &Tensor)> = a
                    .pairs
                    .iter()
                    .map(|&(s, tb)| (&taps[s as usize - 1], &t_taps[tb as usize - 1]))
                    .collect();
                loss + attention_transfer_loss(&pairs, a.p, a.beta).to_device(logits.device())
            }
            _ => loss,
        };
        (loss, logits)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use study::kd::params::{Arch, AtParams, DistillSource, DkdParams, FitnetsParams, ModelParams};
    use tch::Device;

    use crate::models::build_model;

    fn cnn(vs: &nn::VarStore, depth: u32, width: u32) -> Box<dyn Classifier> {
        let p = ModelParams {
            arch: Arch::Cnn,
            depth,
            width,
            max_width: 16,
            dropout: 0.0,
            weights: None,
        };
        build_model(&p, 1, 8, 3, &vs.root()).unwrap().model
    }

    fn params(method: MethodParams) -> DistillParams {
        DistillParams {
            temperature: 2.0,
            alpha: 0.5,
            method,
            source: DistillSource::Online,
        }
    }

    fn at() -> MethodParams {
        MethodParams::At(AtParams {
            pairs: vec![(1, 1), (2, 2)],
            p: 2.0,
            beta: 1.0,
        })
    }

    /// Hinton from a teacher's logits is exactly the loss of before the
    /// method axis, cached or online; AT and FitNets add a positive term;
    /// the teacher gets no gradient.
    #[test]
    fn terms_add_to_the_hinton_loss_and_spare_the_teacher() {
        tch::manual_seed(0);
        let (svs, tvs) = (
            nn::VarStore::new(Device::Cpu),
            nn::VarStore::new(Device::Cpu),
        );
        let (s, t) = (cnn(&svs, 2, 4), cnn(&tvs, 3, 8));
        let x = Tensor::randn([4, 1, 8, 8], tch::kind::FLOAT_CPU);
        let y = Tensor::from_slice(&[0i64, 1, 2, 1]);
        let idx = Tensor::arange(4, tch::kind::INT64_CPU);
        let t_logits = tch::no_grad(|| t.logits(&x, false));
        let loss = |method: MethodParams, teacher: Teacher<'_>, r: Option<&HintRegressor>| {
            let d = Distill {
                params: params(method),
                teacher,
                regressor: r,
            };
            let o = Objective::new(Some(d), None, 4, 3, Device::Cpu).unwrap();
            o.batch(s.as_ref(), &x, &idx, &y, 0).0
        };
        let reference =
            weighted_distillation_loss(&s.logits(&x, true), Some(&t_logits), &y, 2.0, 0.5, None)
                .double_value(&[]);
        let cached = loss(MethodParams::Hinton, Teacher::Cached(&t_logits), None);
        let online = loss(MethodParams::Hinton, Teacher::Online(t.as_ref()), None);
        assert_eq!(cached.double_value(&[]), reference);
        assert_eq!(online.double_value(&[]), reference);
        let with_at = loss(at(), Teacher::Online(t.as_ref()), None).double_value(&[]);
        assert!(with_at > reference, "{with_at} vs {reference}");
        let fitnets = params(MethodParams::Fitnets(FitnetsParams {
            student_block: 2,
            teacher_block: 2,
            hint_weight: 1.0,
        }));
        let sample = x.narrow(0, 0, 1);
        let r = hint_regressor(&svs, s.as_ref(), t.as_ref(), &sample, &fitnets)
            .unwrap()
            .unwrap();
        let l = loss(
            fitnets.method.clone(),
            Teacher::Online(t.as_ref()),
            Some(&r),
        );
        assert!(l.double_value(&[]) > reference);
        l.backward();
        // The student and the regressor get gradients; the teacher none.
        let grad = |vs: &nn::VarStore, name: &str| {
            let v = &vs.variables()[name];
            v.grad()
                .defined()
                .then(|| v.grad().abs().sum(Kind::Float).double_value(&[]))
        };
        assert!(grad(&svs, "block1.conv.weight").unwrap() > 0.0);
        assert!(grad(&svs, "hint.conv.weight").unwrap() > 0.0);
        assert_eq!(grad(&tvs, "block2.conv.weight").unwrap_or(0.0), 0.0);
        // DKD ramps in: epoch 0 of a 2-epoch warm-up weighs it by 1/2.
        let dkd = |epoch: u32| {
            let d = Distill {
                params: params(MethodParams::Dkd(DkdParams {
                    alpha: 1.0,
                    beta: 8.0,
                    warmup_epochs: 2,
                })),
                teacher: Teacher::Cached(&t_logits),
                regressor: None,
            };
            let o = Objective::new(Some(d), None, 4, 3, Device::Cpu).unwrap();
            o.batch(s.as_ref(), &x, &idx, &y, epoch).0.double_value(&[])
        };
        let ce = crate::train::class_weight::weighted_cross_entropy(&s.logits(&x, true), &y, None)
            .double_value(&[]);
        let full = dkd(1) - 0.5 * ce;
        let half = dkd(0) - 0.5 * ce;
        assert!((half - full / 2.0).abs() < 1e-5, "{half} vs {full}");
    }

    #[test]
    fn feature_methods_refuse_cached_logits_and_missing_blocks() {
        let (svs, tvs) = (
            nn::VarStore::new(Device::Cpu),
            nn::VarStore::new(Device::Cpu),
        );
        let (s, t) = (cnn(&svs, 2, 4), cnn(&tvs, 1, 8));
        let logits = Tensor::zeros([4, 3], tch::kind::FLOAT_CPU);
        let d = Distill {
            params: params(at()),
            teacher: Teacher::Cached(&logits),
            regressor: None,
        };
        let err = Objective::new(Some(d), None, 4, 3, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("online teacher"), "{err}");
        // The teacher has one block; AT pairs block 2.
        let sample = Tensor::zeros([1, 1, 8, 8], tch::kind::FLOAT_CPU);
        let err = hint_regressor(&svs, s.as_ref(), t.as_ref(), &sample, &params(at()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("block 2") && err.contains("teacher has 1 blocks"),
            "{err}"
        );
    }
}
