//! Expansion: a validated experiment into fingerprinted stage specs, deduped
//! by fingerprint, in a topological order (every spec after its upstream).
//!
//! Stage names, kinds and upstream roles (per dataset `ds` and seed `s`):
//! `prepare/<ds>` {}; `teacher/<ds>/s<s>` {data};
//! `student/<ds>/s<s>/d<k>-T<t>-a<a>` {data, teacher};
//! `student/<ds>/s<s>/d<k>-control` {data} (alpha = 0: no temperature, no
//! teacher, so one per depth and seed); then for every model stage `m`:
//! `evaluate/<m>` {data, model}, `explain/<m>` {data, model} plus
//! {teacher_explain} for students, and `timing/<m>` {data, model}
//! (exclusive).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::builtin::builtin_path;
use super::error::ExperimentError;
use super::inputs;
use super::params::*;
use super::resolved::*;
use sha2::{Digest, Sha256};

use crate::contract::{names, Kind};
use crate::index::{ModelEntry, ModelRole, StageRef, StudyIndex};
use engine::fingerprint::{Fingerprint, STORE_SCHEMA_VERSION};
use engine::spec::{Resources, StageSpec};

/// What expansion needs from its caller.
pub struct ExpandContext<'a> {
    /// Code version of every stage kind: [`Kind::code_version`], or another
    /// table in tests.
    pub code_version: &'a dyn Fn(Kind) -> u32,
    /// Content hash (SHA-256 hex) of an input file, through the engine's stat
    /// cache; `Err` carries a message naming the problem.
    pub hash_file: &'a mut dyn FnMut(&Path) -> Result<String, String>,
    /// Where built-in datasets live (`<builtin_root>/brain-mri/{no,yes}/...`).
    pub builtin_root: PathBuf,
    /// Whether CUDA is usable: `device = "auto"` resolves to it, and the
    /// resolved device is part of the fingerprint.
    pub cuda_available: bool,
}

/// An expanded study: its stage specs and the index of its models.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    /// Deduped by fingerprint, upstream first.
    pub specs: Vec<StageSpec>,
    /// Every model stage with its evaluate / explain / timing stages (empty
    /// for the toy study).
    pub index: StudyIndex,
}

/// Expands `exp` into stage specs: deduped by fingerprint, upstream first.
pub fn expand(exp: &Experiment, ctx: &mut ExpandContext<'_>) -> Result<Expansion, ExperimentError> {
    match &exp.study {
        Study::Kd(kd) => expand_kd(exp, kd, ctx),
        Study::Toy(toy) => Ok(Expansion {
            specs: super::toy::expand_toy(exp, toy, ctx)?,
            index: StudyIndex::default(),
        }),
    }
}

/// Specs in insertion order, deduped by fingerprint.
pub(crate) struct Specs {
    pub(crate) specs: Vec<StageSpec>,
    seen: HashSet<Fingerprint>,
}

impl Specs {
    pub(crate) fn new() -> Self {
        Specs {
            specs: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Adds `spec` unless a spec with its fingerprint is already in; returns
    /// the fingerprint either way.
    pub(crate) fn push(&mut self, spec: StageSpec) -> Fingerprint {
        let fp = fingerprint(&spec);
        if self.seen.insert(fp.clone()) {
            self.specs.push(spec);
        }
        fp
    }
}

/// `spec.fingerprint()` without cloning the spec's maps: the same canonical
/// encoding of [`engine::fingerprint::FingerprintInputs`], field for field,
/// from borrowed data (a test checks both agree on every spec).
pub(crate) fn fingerprint(spec: &StageSpec) -> Fingerprint {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        schema: u32,
        kind: &'a str,
        code_version: u32,
        params: &'a BTreeMap<String, Value>,
        upstream: &'a BTreeMap<String, Fingerprint>,
        inputs: &'a BTreeMap<String, String>,
    }
    let bytes = serde_json::to_vec(&Borrowed {
        schema: STORE_SCHEMA_VERSION,
        kind: &spec.kind,
        code_version: spec.code_version,
        params: &spec.params,
        upstream: &spec.upstream,
        inputs: &spec.inputs,
    })
    .unwrap_or_default();
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 15)]));
    }
    Fingerprint::parse(&hex).unwrap_or_else(|| spec.fingerprint())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A params struct as the spec's key-sorted map.
pub(crate) fn to_params<T: Serialize>(value: &T) -> BTreeMap<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        // Every params type is a struct of plain fields.
        _ => unreachable!("stage params serialize to a json object"),
    }
}

/// The code-version table of an expansion (copied out of the context so
/// that spec builders need no borrow of it).
pub(crate) type Versions<'a> = &'a dyn Fn(Kind) -> u32;

pub(crate) fn spec(v: Versions<'_>, name: String, kind: Kind) -> StageSpec {
    StageSpec {
        name,
        kind: kind.name().to_owned(),
        code_version: v(kind),
        params: BTreeMap::new(),
        upstream: BTreeMap::new(),
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Resources::default(),
    }
}

/// The parameters shared by every evaluate / explain / timing stage.
struct Downstream {
    eval: BTreeMap<String, Value>,
    explain: Option<(BTreeMap<String, Value>, BTreeMap<String, Value>)>,
    timing_threads: u32,
    timing_scope: TimingScope,
}

/// The models the timing stage of one data set times: label (its key in
/// timing.json) → model stage fingerprint, and which index entries read
/// which label.
#[derive(Default)]
struct Timed {
    upstream: BTreeMap<String, Fingerprint>,
    /// (index of the model in `StudyIndex::models`, label)
    readers: Vec<(usize, String)>,
}

/// Optional weights of a model: the file name recorded in its params, its
/// folder as the stage's input root and its hash as input `weights`.
struct Weights {
    name: String,
    root: PathBuf,
    hash: String,
}

/// What every model stage of a KD expansion shares.
struct Models<'v> {
    v: Versions<'v>,
    device: &'static str,
    gpu: u32,
    down: Downstream,
    teacher_weights: Option<Weights>,
    student_weights: Option<Weights>,
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

fn expand_kd(
    exp: &Experiment,
    kd: &KdStudy,
    ctx: &mut ExpandContext<'_>,
) -> Result<Expansion, ExperimentError> {
    let device = match (kd.device, ctx.cuda_available) {
        (Device::Auto | Device::Cuda, true) => "cuda",
        (Device::Auto | Device::Cpu, _) => "cpu",
        (Device::Cuda, false) => {
            return Err(ExperimentError::CudaUnavailable {
                path: exp.path.clone(),
            })
        }
    };
    let gpu = u32::from(device == "cuda");
    let m = Models {
        v: ctx.code_version,
        device,
        gpu,
        down: downstream_params(kd, device),
        teacher_weights: weights(&kd.teacher, ctx)?,
        student_weights: weights(&kd.student, ctx)?,
    };
    let mut out = Specs::new();
    let mut index = StudyIndex::default();
    let mut hashes: HashMap<PathBuf, String> = HashMap::new();
    for ds in &kd.datasets {
        let data = out.push(prepare_spec(m.v, ds, ctx, &mut hashes)?);
        let mut timed = Timed::default();
        for &seed in &exp.seeds {
            let first_seed = Some(&seed) == exp.seeds.first();
            expand_seed(
                &m, kd, ds, seed, first_seed, &data, &mut out, &mut index, &mut timed,
            );
        }
        if let Some(timing) = timing_stage(&mut out, &m, &ds.params.name, &data, timed.upstream) {
            for (i, label) in timed.readers {
                index.models[i].timing = Some((timing.clone(), label));
            }
        }
    }
    Ok(Expansion {
        specs: out.specs,
        index,
    })
}

/// The evaluate / explain / timing parameters, shared by every model.
fn downstream_params(kd: &KdStudy, device: &str) -> Downstream {
    let e = &kd.explain;
    Downstream {
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
                    gradcam_layer: e.gradcam_layer,
                    eg_samples: e.eg_samples,
                    eg_background: e.eg_background,
                    deletion_steps: e.deletion_steps,
                    device: device.to_owned(),
                }),
                to_params(&TimingParams {
                    methods: e.methods.clone(),
                    images: e.timing_images,
                    sample_seed: e.sample_seed,
                    gradcam_layer: e.gradcam_layer,
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

/// `prepare/<ds>`: its params, and every input file content-hashed.
fn prepare_spec(
    v: Versions<'_>,
    ds: &DatasetConfig,
    ctx: &mut ExpandContext<'_>,
    hashes: &mut HashMap<PathBuf, String>,
) -> Result<StageSpec, ExperimentError> {
    let dsn = &ds.params.name;
    let mut s = spec(v, names::prepare(dsn), Kind::Prepare);
    s.params = to_params(&ds.params);
    let (root, format) = match &ds.source {
        DatasetSource::Builtin { name } => {
            let p = builtin_path(&ctx.builtin_root, name);
            if !p.is_dir() {
                return Err(ExperimentError::BuiltinMissing {
                    name: name.clone(),
                    path: p,
                });
            }
            (p, DatasetFormat::Imagefolder)
        }
        DatasetSource::Path { format, path } => (path.clone(), *format),
    };
    let subdirs = ds
        .params
        .train_dir
        .as_deref()
        .zip(ds.params.test_dir.as_deref());
    let files =
        inputs::list(format, &root, subdirs).map_err(|(path, message)| ExperimentError::Input {
            dataset: dsn.clone(),
            path,
            message,
        })?;
    for key in files.keys {
        let path = files.root.join(&key);
        let hash = match hashes.get(&path) {
            Some(h) => h.clone(),
            None => {
                let h = (ctx.hash_file)(&path).map_err(|message| ExperimentError::Input {
                    dataset: dsn.clone(),
                    path: path.clone(),
                    message,
                })?;
                hashes.insert(path, h.clone());
                h
            }
        };
        s.inputs.insert(key, hash);
    }
    // Absolute: a stage process (or a Slurm job) may run elsewhere.
    s.input_root = Some(absolute(files.root));
    Ok(s)
}

/// The teacher of one seed, its students (control first, then every
/// temperature × nonzero alpha per depth), and their downstream stages.
#[allow(clippy::too_many_arguments)]
fn expand_seed(
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
        m,
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
            let name = names::student(
                dsn,
                seed,
                depth,
                distill.as_ref().map(|d| (d.temperature, d.alpha)),
            );
            let role = ModelRole::Student {
                depth,
                distill: distill.as_ref().map(|d| (d.temperature, d.alpha)),
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
                m,
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
        for &temperature in &kd.sweep.temperature {
            for &alpha in kd.sweep.alpha.iter().filter(|&&a| a != 0.0) {
                student(Some(DistillParams { temperature, alpha }));
            }
        }
    }
}

/// A model stage just pushed.
struct NewModel<'a> {
    dataset: &'a str,
    seed: u64,
    role: ModelRole,
    name: String,
    fp: Fingerprint,
    /// Whether it is the one model timed for its architecture.
    representative: bool,
}

/// Adds the evaluate and explain stages of a model, its index entry and (if
/// it is timed) its timing label; returns its explain stage's fingerprint.
#[allow(clippy::too_many_arguments)]
fn add_model(
    out: &mut Specs,
    index: &mut StudyIndex,
    timed: &mut Timed,
    m: &Models<'_>,
    model: NewModel<'_>,
    data: &Fingerprint,
    teacher_explain: Option<&Fingerprint>,
) -> Option<Fingerprint> {
    let label = match m.down.timing_scope {
        TimingScope::Model => Some(model.name.clone()),
        TimingScope::Architecture => model.representative.then(|| {
            names::timing_arch_label(match model.role {
                ModelRole::Teacher => None,
                ModelRole::Student { depth, .. } => Some(depth),
            })
        }),
    };
    let (evaluate, explain) = downstream(out, m, &model.name, data, &model.fp, teacher_explain);
    if let Some(label) = label {
        timed.upstream.insert(label, model.fp.clone());
    }
    let i = index.models.len();
    // Every model reads the timing of its architecture (or its own).
    let read_label = match m.down.timing_scope {
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

fn weights(
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

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// Adds `timing/<dataset>`: one exclusive stage that times every model of
/// `timed` side by side (the ratios between them are what it is for).
fn timing_stage(
    out: &mut Specs,
    m: &Models<'_>,
    dataset: &str,
    data: &Fingerprint,
    timed: BTreeMap<String, Fingerprint>,
) -> Option<StageRef> {
    let (_, params) = m.down.explain.as_ref()?;
    if timed.is_empty() {
        return None;
    }
    let name = names::timing(dataset);
    let mut t = spec(m.v, name.clone(), Kind::Timing);
    t.params = params.clone();
    t.upstream = timed;
    t.upstream.insert(names::ROLE_DATA.into(), data.clone());
    t.resources.gpu = m.gpu;
    t.resources.exclusive = true;
    t.resources.cpu = m.down.timing_threads;
    Some(StageRef {
        name,
        fingerprint: out.push(t),
    })
}

/// Adds the evaluate and explain stages of model stage `model_name`.
fn downstream(
    out: &mut Specs,
    m: &Models<'_>,
    model_name: &str,
    data: &Fingerprint,
    model: &Fingerprint,
    teacher_explain: Option<&Fingerprint>,
) -> (StageRef, Option<StageRef>) {
    let base = |name: String, kind: Kind, params: &BTreeMap<String, Value>| {
        let mut s = spec(m.v, name, kind);
        s.params = params.clone();
        s.upstream.insert(names::ROLE_DATA.into(), data.clone());
        s.upstream.insert(names::ROLE_MODEL.into(), model.clone());
        s.resources.gpu = m.gpu;
        s
    };
    let name = names::evaluate(model_name);
    let evaluate = StageRef {
        fingerprint: out.push(base(name.clone(), Kind::Evaluate, &m.down.eval)),
        name,
    };
    let Some((explain, _)) = m.down.explain.as_ref() else {
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
