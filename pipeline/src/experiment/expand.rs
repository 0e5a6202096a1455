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

use crate::fingerprint::{Fingerprint, STORE_SCHEMA_VERSION};
use crate::spec::{Resources, StageSpec};

/// Stage kinds of a KD study (each needs a code version).
pub const KD_KINDS: &[&str] = &[
    "prepare", "teacher", "student", "evaluate", "explain", "timing",
];
/// Stage kinds of a toy experiment.
pub const TOY_KINDS: &[&str] = &["toy.gen", "toy.square", "toy.sum"];

/// What expansion needs from its caller.
pub struct ExpandContext<'a> {
    /// Code version of every stage kind (supplied by the binary).
    pub code_versions: &'a BTreeMap<&'a str, u32>,
    /// Content hash (SHA-256 hex) of an input file, through the engine's stat
    /// cache; `Err` carries a message naming the problem.
    pub hash_file: &'a mut dyn FnMut(&Path) -> Result<String, String>,
    /// Where built-in datasets live (`<builtin_root>/brain-mri/{no,yes}/...`).
    pub builtin_root: PathBuf,
    /// Whether CUDA is usable: `device = "auto"` resolves to it, and the
    /// resolved device is part of the fingerprint.
    pub cuda_available: bool,
}

/// Expands `exp` into stage specs: deduped by fingerprint, upstream first.
pub fn expand(
    exp: &Experiment,
    ctx: &mut ExpandContext<'_>,
) -> Result<Vec<StageSpec>, ExperimentError> {
    match &exp.study {
        Study::Kd(kd) => expand_kd(exp, kd, ctx),
        Study::Toy(toy) => super::toy::expand_toy(exp, toy, ctx),
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
/// encoding of [`crate::fingerprint::FingerprintInputs`], field for field,
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

pub(crate) fn code_version(ctx: &ExpandContext<'_>, kind: &str) -> Result<u32, ExperimentError> {
    ctx.code_versions
        .get(kind)
        .copied()
        .ok_or_else(|| ExperimentError::CodeVersionMissing {
            kind: kind.to_owned(),
        })
}

/// A params struct as the spec's key-sorted map.
pub(crate) fn to_params<T: Serialize>(value: &T) -> BTreeMap<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        // Every params type is a struct of plain fields.
        _ => unreachable!("stage params serialize to a json object"),
    }
}

pub(crate) fn spec(name: String, kind: &str, code_version: u32) -> StageSpec {
    StageSpec {
        name,
        kind: kind.to_owned(),
        code_version,
        params: BTreeMap::new(),
        upstream: BTreeMap::new(),
        inputs: BTreeMap::new(),
        input_root: None,
        resources: Resources::default(),
    }
}

struct Versions {
    prepare: u32,
    teacher: u32,
    student: u32,
    evaluate: u32,
    explain: u32,
    timing: u32,
}

/// The parameters shared by every evaluate / explain / timing stage.
struct Downstream {
    eval: BTreeMap<String, Value>,
    explain: Option<(BTreeMap<String, Value>, BTreeMap<String, Value>)>,
    gpu: u32,
    timing_threads: u32,
    timing_scope: TimingScope,
}

/// The models the timing stage of one data set times: role (its label in
/// timing.json) → model stage fingerprint.
type Timed = BTreeMap<String, Fingerprint>;

/// Optional weights of a model: the file name recorded in its params, its
/// folder as the stage's input root and its hash as input `weights`.
struct Weights {
    name: String,
    root: PathBuf,
    hash: String,
}

fn expand_kd(
    exp: &Experiment,
    kd: &KdStudy,
    ctx: &mut ExpandContext<'_>,
) -> Result<Vec<StageSpec>, ExperimentError> {
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
    let v = Versions {
        prepare: code_version(ctx, "prepare")?,
        teacher: code_version(ctx, "teacher")?,
        student: code_version(ctx, "student")?,
        evaluate: code_version(ctx, "evaluate")?,
        explain: code_version(ctx, "explain")?,
        timing: code_version(ctx, "timing")?,
    };
    let e = &kd.explain;
    let down = Downstream {
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
        gpu,
        timing_threads: e.timing_threads,
        timing_scope: e.timing_scope,
    };
    let teacher_weights = weights(&kd.teacher, ctx)?;
    let student_weights = weights(&kd.student, ctx)?;
    let model_spec = |name: String, kind: &str, version: u32, params, w: &Option<Weights>| {
        let mut s = spec(name, kind, version);
        s.params = params;
        s.resources.gpu = gpu;
        if let Some(w) = w {
            s.inputs.insert("weights".to_owned(), w.hash.clone());
            s.input_root = Some(w.root.clone());
        }
        s
    };
    let with_weights = |m: &ModelParams, w: &Option<Weights>| ModelParams {
        weights: w.as_ref().map(|w| w.name.clone()),
        ..m.clone()
    };
    let teacher_model = with_weights(&kd.teacher.model, &teacher_weights);

    let mut out = Specs::new();
    let mut hashes: HashMap<PathBuf, String> = HashMap::new();
    for ds in &kd.datasets {
        let dsn = &ds.params.name;
        let data = {
            let mut s = spec(format!("prepare/{dsn}"), "prepare", v.prepare);
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
            let files = inputs::list(format, &root, subdirs).map_err(|(path, message)| {
                ExperimentError::Input {
                    dataset: dsn.clone(),
                    path,
                    message,
                }
            })?;
            for key in files.keys {
                let path = files.root.join(&key);
                let hash = match hashes.get(&path) {
                    Some(h) => h.clone(),
                    None => {
                        let h =
                            (ctx.hash_file)(&path).map_err(|message| ExperimentError::Input {
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
            out.push(s)
        };

        let mut timed = Timed::new();
        for &seed in &exp.seeds {
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
                device: device.to_owned(),
            };
            let tname = format!("teacher/{dsn}/s{seed}");
            let params = to_params(&TeacherParams {
                model: teacher_model.clone(),
                train: train(&kd.teacher.train),
            });
            let mut t = model_spec(
                tname.clone(),
                "teacher",
                v.teacher,
                params,
                &teacher_weights,
            );
            t.upstream.insert("data".into(), data.clone());
            let teacher = out.push(t);
            let first_seed = Some(&seed) == exp.seeds.first();
            if let Some(role) = timing_role(&down, first_seed, &tname, || "teacher".into()) {
                timed.insert(role, teacher.clone());
            }
            let teacher_explain = downstream(&mut out, &v, &down, &tname, &data, &teacher, None);

            let student_train = train(&kd.student.train);
            for &depth in &kd.sweep.depth {
                let mut model = with_weights(&kd.student.model, &student_weights);
                model.depth = depth;
                let mut student = |suffix: String, distill: Option<DistillParams>| {
                    let name = format!("student/{dsn}/s{seed}/d{depth}-{suffix}");
                    let with_teacher = distill.is_some();
                    // per architecture: timed on the first seed's control
                    let representative = first_seed && !with_teacher;
                    let timing_role =
                        timing_role(&down, representative, &name, || format!("student-d{depth}"));
                    let params = to_params(&StudentParams {
                        model: model.clone(),
                        train: student_train.clone(),
                        distill,
                    });
                    let mut s =
                        model_spec(name.clone(), "student", v.student, params, &student_weights);
                    s.upstream.insert("data".into(), data.clone());
                    if with_teacher {
                        s.upstream.insert("teacher".into(), teacher.clone());
                    }
                    let fp = out.push(s);
                    downstream(
                        &mut out,
                        &v,
                        &down,
                        &name,
                        &data,
                        &fp,
                        teacher_explain.as_ref(),
                    );
                    if let Some(role) = timing_role {
                        timed.insert(role, fp);
                    }
                };
                student("control".into(), None);
                for &temperature in &kd.sweep.temperature {
                    for &alpha in kd.sweep.alpha.iter().filter(|&&a| a != 0.0) {
                        student(
                            format!("T{temperature}-a{alpha}"),
                            Some(DistillParams { temperature, alpha }),
                        );
                    }
                }
            }
        }
        timing_stage(&mut out, &v, &down, dsn, &data, timed);
    }
    Ok(out.specs)
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

/// The role under which model stage `model_name` is timed, if it is: every
/// model in `model` scope, under its stage name; in `architecture` scope
/// only the representative model of its architecture, under the
/// architecture's name (`teacher`, `student-d<k>`).
fn timing_role(
    d: &Downstream,
    representative: bool,
    model_name: &str,
    arch_name: impl FnOnce() -> String,
) -> Option<String> {
    match d.timing_scope {
        TimingScope::Model => Some(model_name.to_owned()),
        TimingScope::Architecture => representative.then(arch_name),
    }
}

/// Adds `timing/<dataset>`: one exclusive stage that times every model of
/// `timed` side by side (the ratios between them are what it is for).
fn timing_stage(
    out: &mut Specs,
    v: &Versions,
    d: &Downstream,
    dataset: &str,
    data: &Fingerprint,
    timed: Timed,
) {
    let Some((_, params)) = d.explain.as_ref() else {
        return;
    };
    if timed.is_empty() {
        return;
    }
    let mut t = spec(format!("timing/{dataset}"), "timing", v.timing);
    t.params = params.clone();
    t.upstream = timed;
    t.upstream.insert("data".into(), data.clone());
    t.resources.gpu = d.gpu;
    t.resources.exclusive = true;
    t.resources.cpu = d.timing_threads;
    out.push(t);
}

/// Adds the evaluate and explain stages of model stage `model_name`;
/// returns the explain stage's fingerprint (if explanations are on).
fn downstream(
    out: &mut Specs,
    v: &Versions,
    d: &Downstream,
    model_name: &str,
    data: &Fingerprint,
    model: &Fingerprint,
    teacher_explain: Option<&Fingerprint>,
) -> Option<Fingerprint> {
    let base = |name: String, kind: &str, version: u32, params: &BTreeMap<String, Value>| {
        let mut s = spec(name, kind, version);
        s.params = params.clone();
        s.upstream.insert("data".into(), data.clone());
        s.upstream.insert("model".into(), model.clone());
        s.resources.gpu = d.gpu;
        s
    };
    out.push(base(
        format!("evaluate/{model_name}"),
        "evaluate",
        v.evaluate,
        &d.eval,
    ));
    let (explain, _) = d.explain.as_ref()?;
    let mut e = base(
        format!("explain/{model_name}"),
        "explain",
        v.explain,
        explain,
    );
    if let Some(te) = teacher_explain {
        e.upstream.insert("teacher_explain".into(), te.clone());
    }
    Some(out.push(e))
}
