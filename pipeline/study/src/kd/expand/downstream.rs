//! What every KD model stage gets downstream: its evaluate and explain
//! stages and its index entry ([`add_model`]), and per dataset the one
//! timing stage that times the models side by side ([`timing_stage`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::contract::{names, Kind};
use crate::index::{ModelEntry, ModelRole, StageRef, StudyIndex};
use crate::kd::params::Arch;
use crate::kd::params::{EvalParams, ExplainParams, TimingParams};
use crate::kd::resolved::{GradcamLayer, KdStudy, TimingScope};
use crate::specs::{spec, to_params, Specs, Versions};
use engine::fingerprint::Fingerprint;

/// What every evaluate / explain / timing stage shares: the code versions,
/// the GPU need and the parameters.
pub(super) struct Downstream<'v> {
    v: Versions<'v>,
    gpu: u32,
    eval: BTreeMap<String, Value>,
    explain: Option<(BTreeMap<String, Value>, BTreeMap<String, Value>)>,
    timing_threads: u32,
    timing_scope: TimingScope,
}

impl<'v> Downstream<'v> {
    /// The evaluate / explain / timing parameters, shared by every model.
    pub(super) fn new(v: Versions<'v>, gpu: u32, kd: &KdStudy, device: &str) -> Self {
        let e = &kd.explain;
        let (gradcam_layer, gradcam_common_block) = match e.gradcam_layer {
            GradcamLayer::Index(i) => (i, None),
            GradcamLayer::Common => {
                let block = common_block(kd);
                (block as i32 - 1, Some(block))
            }
        };
        Downstream {
            v,
            gpu,
            eval: to_params(&EvalParams {
                latency_warmup: kd.evaluate.latency_warmup,
                latency_repeats: kd.evaluate.latency_repeats,
                device: device.to_owned(),
            }),
            explain: (!e.methods.is_empty()).then(|| {
                (
                    to_params(&ExplainParams {
                        methods: e.methods.clone(),
                        images: e.images,
                        sample_seed: e.sample_seed,
                        gradcam_layer,
                        gradcam_common_block,
                        eg_samples: e.eg_samples,
                        eg_background: e.eg_background,
                        deletion_steps: e.deletion_steps,
                        device: device.to_owned(),
                    }),
                    to_params(&TimingParams {
                        methods: e.methods.clone(),
                        images: e.timing_images,
                        sample_seed: e.sample_seed,
                        gradcam_layer,
                        gradcam_common_block,
                        eg_samples: e.eg_samples,
                        eg_background: e.eg_background,
                        warmup: e.timing_warmup,
                        repeats: e.timing_repeats,
                        threads: e.timing_threads,
                        device: device.to_owned(),
                    }),
                )
            }),
            timing_threads: e.timing_threads,
            timing_scope: e.timing_scope,
        }
    }
}

/// The CNN block of `gradcam_layer = "common"`: the shallowest depth of the
/// sweep (and of the teacher when it is a CNN). Block k's output has the same
/// resolution in a CNN of any depth ≥ k, so every CNN of the study has it.
fn common_block(kd: &KdStudy) -> u32 {
    let teacher = (kd.teacher.model.arch == Arch::Cnn).then_some(kd.teacher.model.depth);
    kd.sweep
        .depth
        .iter()
        .copied()
        .chain(teacher)
        .min()
        .unwrap_or(1)
        .max(1)
}

/// The models the timing stage of one data set times: label (its key in
/// timing.json) → model stage fingerprint, and which index entries read
/// which label.
#[derive(Default)]
pub(super) struct Timed {
    pub(super) upstream: BTreeMap<String, Fingerprint>,
    /// (index of the model in `StudyIndex::models`, label)
    pub(super) readers: Vec<(usize, String)>,
}

/// A model stage just pushed.
pub(super) struct NewModel<'a> {
    pub(super) dataset: &'a str,
    pub(super) seed: u64,
    pub(super) role: ModelRole,
    pub(super) name: String,
    pub(super) fp: Fingerprint,
    /// Whether it is the one model timed for its architecture.
    pub(super) representative: bool,
}

/// Adds the evaluate and explain stages of a model, its index entry and (if
/// it is timed) its timing label; returns its explain stage's fingerprint.
#[allow(clippy::too_many_arguments)]
pub(super) fn add_model(
    out: &mut Specs,
    index: &mut StudyIndex,
    timed: &mut Timed,
    d: &Downstream<'_>,
    model: NewModel<'_>,
    data: &Fingerprint,
    teacher_explain: Option<&Fingerprint>,
) -> Option<Fingerprint> {
    let label = match d.timing_scope {
        TimingScope::Model => Some(model.name.clone()),
        TimingScope::Architecture => model.representative.then(|| {
            names::timing_arch_label(match model.role {
                ModelRole::Teacher => None,
                ModelRole::Student { depth, .. } => Some(depth),
            })
        }),
    };
    let (evaluate, explain) = downstream(out, d, &model.name, data, &model.fp, teacher_explain);
    if let Some(label) = label {
        timed.upstream.insert(label, model.fp.clone());
    }
    let i = index.models.len();
    // Every model reads the timing of its architecture (or its own).
    let read_label = match d.timing_scope {
        TimingScope::Model => model.name.clone(),
        TimingScope::Architecture => names::timing_arch_label(match model.role {
            ModelRole::Teacher => None,
            ModelRole::Student { depth, .. } => Some(depth),
        }),
    };
    timed.readers.push((i, read_label));
    let explain_fp = explain.as_ref().map(|e| e.fingerprint.clone());
    index.models.push(ModelEntry {
        dataset: model.dataset.to_owned(),
        seed: model.seed,
        role: model.role,
        model: StageRef {
            name: model.name,
            fingerprint: model.fp,
        },
        evaluate,
        explain,
        timing: None,
    });
    explain_fp
}

/// Adds `timing/<dataset>`: one exclusive stage that times every model of
/// `timed` side by side (the ratios between them are what it is for).
pub(super) fn timing_stage(
    out: &mut Specs,
    d: &Downstream<'_>,
    dataset: &str,
    data: &Fingerprint,
    timed: BTreeMap<String, Fingerprint>,
) -> Option<StageRef> {
    let (_, params) = d.explain.as_ref()?;
    if timed.is_empty() {
        return None;
    }
    let name = names::timing(dataset);
    let mut t = spec(d.v, name.clone(), Kind::Timing);
    t.params = params.clone();
    t.upstream = timed;
    t.upstream.insert(names::ROLE_DATA.into(), data.clone());
    t.resources.gpu = d.gpu;
    t.resources.exclusive = true;
    t.resources.cpu = d.timing_threads;
    Some(StageRef {
        name,
        fingerprint: out.push(t),
    })
}

/// Adds the evaluate and explain stages of model stage `model_name`.
fn downstream(
    out: &mut Specs,
    d: &Downstream<'_>,
    model_name: &str,
    data: &Fingerprint,
    model: &Fingerprint,
    teacher_explain: Option<&Fingerprint>,
) -> (StageRef, Option<StageRef>) {
    let base = |name: String, kind: Kind, params: &BTreeMap<String, Value>| {
        let mut s = spec(d.v, name, kind);
        s.params = params.clone();
        s.upstream.insert(names::ROLE_DATA.into(), data.clone());
        s.upstream.insert(names::ROLE_MODEL.into(), model.clone());
        s.resources.gpu = d.gpu;
        s
    };
    let name = names::evaluate(model_name);
    let evaluate = StageRef {
        fingerprint: out.push(base(name.clone(), Kind::Evaluate, &d.eval)),
        name,
    };
    let Some((explain, _)) = d.explain.as_ref() else {
        return (evaluate, None);
    };
    let name = names::explain(model_name);
    let mut e = base(name.clone(), Kind::Explain, explain);
    if let Some(te) = teacher_explain {
        e.upstream
            .insert(names::ROLE_TEACHER_EXPLAIN.into(), te.clone());
    }
    let explain = StageRef {
        fingerprint: out.push(e),
        name,
    };
    (evaluate, Some(explain))
}
