//! Validation of the KD study: the file as written ([`super::schema`]) into
//! resolved types ([`super::resolved`]), every problem collected by the
//! experiment's [`Checker`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::params::{Arch, ClassWeight, ExplainMethod, ModelParams, Schedule, Select};
use super::resolved::*;
use super::schema::*;
use super::validate_compare::compare;
use super::validate_dataset::dataset;
use super::validate_distill::{distill, methods};
use crate::contract::CpuIsa;
use crate::experiment::check::Checker;
use crate::experiment::locate::{Doc, KeyPath};
use crate::experiment::validate;
use crate::experiment::{Experiment, Problem, Study};

/// The KD file as written into a validated experiment, or every problem.
pub(crate) fn validate_kd(
    path: &Path,
    doc: &Doc<'_>,
    f: KdFile,
) -> Result<Experiment, Vec<Problem>> {
    let mut c = Checker::new(doc);
    let root = KeyPath::default();
    let base = base_dir(path);
    let name = c.name(&root.key("name"), f.name.as_deref());
    let seeds = validate::seeds(&mut c, &f.seeds);
    let executor = validate::executor(&mut c, &f.executor);

    // Datasets.
    let mut datasets = Vec::new();
    if f.dataset.is_empty() {
        c.report(
            &root.key("dataset"),
            None,
            "no [[dataset]] table: add at least one (e.g. source = \"builtin:brain-mri\")",
        );
    }
    let mut names = BTreeSet::new();
    for (i, d) in f.dataset.iter().enumerate() {
        let p = root.key("dataset").index(i);
        let ds_name = c.name(&p.key("name"), d.name.as_deref());
        if !ds_name.is_empty() && !names.insert(ds_name.clone()) {
            c.report(
                &p.key("name"),
                None,
                format!("duplicate dataset name `{ds_name}`"),
            );
        }
        if let Some(ds) = dataset(&mut c, &p, &base, ds_name, d) {
            datasets.push(ds);
        }
    }

    let teacher = model(
        &mut c,
        &root.key("teacher"),
        &base,
        ModelKeys {
            arch: &f.teacher.arch,
            depth: Some(f.teacher.depth),
            width: f.teacher.width,
            max_width: f.teacher.max_width,
            dropout: f.teacher.dropout,
            weights: f.teacher.weights.as_deref(),
            epochs: f.teacher.epochs,
            batch_size: f.teacher.batch_size,
            lr: f.teacher.lr,
            weight_decay: f.teacher.weight_decay,
            schedule: &f.teacher.schedule,
            plateau_patience: f.teacher.plateau_patience,
            plateau_factor: f.teacher.plateau_factor,
            augment: f.teacher.augment,
            select: &f.teacher.select,
            class_weight: &f.teacher.class_weight,
        },
    );
    let s = &f.student;
    let student = model(
        &mut c,
        &root.key("student"),
        &base,
        ModelKeys {
            arch: &s.arch,
            depth: None,
            width: s.width,
            max_width: s.max_width,
            dropout: s.dropout,
            weights: s.weights.as_deref(),
            epochs: s.epochs,
            batch_size: s.batch_size,
            lr: s.lr,
            weight_decay: s.weight_decay,
            schedule: &s.schedule,
            plateau_patience: s.plateau_patience,
            plateau_factor: s.plateau_factor,
            augment: s.augment,
            select: &s.select,
            class_weight: &s.class_weight,
        },
    );
    if student.model.arch != Arch::Cnn {
        c.report(
            &root.key("student").key("arch"),
            None,
            "students must be \"cnn\": the depth sweep applies to the cnn",
        );
    }

    let sweep = sweep(&mut c, &f.sweep);
    let distill = distill(&mut c, &f.distill, &sweep.method, &sweep.depth, &teacher);

    let ev = root.key("evaluate");
    let evaluate = EvaluateConfig {
        latency_warmup: c.u32(&ev.key("latency_warmup"), f.evaluate.latency_warmup, 0),
        latency_repeats: c.u32(&ev.key("latency_repeats"), f.evaluate.latency_repeats, 1),
    };

    let explain = explain(&mut c, &f.explain);

    let device = c
        .choice(
            &root.key("run").key("device"),
            &f.run.device,
            &[
                ("auto", Device::Auto),
                ("cpu", Device::Cpu),
                ("cuda", Device::Cuda),
            ],
        )
        .unwrap_or(Device::Auto);
    let cpu_isa = c
        .choice(
            &root.key("run").key("cpu_isa"),
            &f.run.cpu_isa,
            &CpuIsa::ALL.map(|i| (i.name(), i)),
        )
        .unwrap_or(CpuIsa::Avx2);

    let compare = compare(&mut c, &f.compare);

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Experiment {
        path: path.to_path_buf(),
        name,
        description: f.description,
        seeds,
        executor,
        study: Study::Kd(Box::new(KdStudy {
            datasets,
            teacher,
            student,
            sweep,
            distill,
            evaluate,
            explain,
            device,
            compare,
            cpu_isa,
        })),
    })
}

/// The keys `[teacher]` and `[student]` share.
struct ModelKeys<'a> {
    arch: &'a str,
    depth: Option<i64>,
    width: i64,
    max_width: i64,
    dropout: f64,
    weights: Option<&'a str>,
    epochs: i64,
    batch_size: i64,
    lr: f64,
    weight_decay: f64,
    schedule: &'a str,
    plateau_patience: i64,
    plateau_factor: f64,
    augment: bool,
    select: &'a str,
    class_weight: &'a str,
}

fn model(c: &mut Checker<'_>, p: &KeyPath, base: &Path, k: ModelKeys<'_>) -> ModelConfig {
    let arch = c
        .choice(
            &p.key("arch"),
            k.arch,
            &[
                ("cnn", Arch::Cnn),
                ("resnet18", Arch::Resnet18),
                ("densenet121", Arch::Densenet121),
            ],
        )
        .unwrap_or(Arch::Cnn);
    let depth = k
        .depth
        .map_or(0, |d| c.int::<u32>(&p.key("depth"), d, 1, 64));
    let width = c.int::<u32>(&p.key("width"), k.width, 1, 4096);
    let max_width = c.int::<u32>(&p.key("max_width"), k.max_width, 1, 4096);
    if max_width < width {
        c.report(
            &p.key("max_width"),
            Some(max_width.to_string()),
            format!("must be at least width ({width})"),
        );
    }
    let dropout = c.float(
        &p.key("dropout"),
        k.dropout,
        (0.0..1.0).contains(&k.dropout),
        "in [0, 1)",
    );
    let weights = k.weights.and_then(|w| {
        let path = base.join(w);
        if path.is_file() {
            Some(path)
        } else {
            c.report(
                &p.key("weights"),
                None,
                format!("weights file {} does not exist", path.display()),
            );
            None
        }
    });
    let schedule = c
        .choice(
            &p.key("schedule"),
            k.schedule,
            &[
                ("plateau", Schedule::Plateau),
                ("cosine", Schedule::Cosine),
                ("none", Schedule::None),
            ],
        )
        .unwrap_or(Schedule::None);
    let select = c
        .choice(
            &p.key("select"),
            k.select,
            &[
                Select::ValLoss,
                Select::ValAccuracy,
                Select::ValBalancedAccuracy,
                Select::Last,
            ]
            .map(|s| (s.name(), s)),
        )
        .unwrap_or(Select::ValLoss);
    let class_weight = c
        .choice(
            &p.key("class_weight"),
            k.class_weight,
            &[ClassWeight::None, ClassWeight::Balanced].map(|w| (w.name(), w)),
        )
        .unwrap_or(ClassWeight::None);
    ModelConfig {
        model: ModelParams {
            arch,
            depth,
            width,
            max_width,
            dropout,
            weights: None,
        },
        weights,
        train: TrainConfig {
            epochs: c.u32(&p.key("epochs"), k.epochs, 1),
            batch_size: c.u32(&p.key("batch_size"), k.batch_size, 1),
            lr: c.float(&p.key("lr"), k.lr, k.lr > 0.0, "greater than 0"),
            weight_decay: c.float(
                &p.key("weight_decay"),
                k.weight_decay,
                k.weight_decay >= 0.0,
                "at least 0",
            ),
            schedule,
            plateau_patience: c.u32(&p.key("plateau_patience"), k.plateau_patience, 0),
            plateau_factor: c.float(
                &p.key("plateau_factor"),
                k.plateau_factor,
                k.plateau_factor > 0.0 && k.plateau_factor < 1.0,
                "between 0 and 1 (exclusive)",
            ),
            augment: k.augment,
            select,
            class_weight,
        },
    }
}

fn sweep(c: &mut Checker<'_>, s: &SweepTable) -> Sweep {
    let p = KeyPath::default().key("sweep");
    for (key, len) in [
        ("depth", s.depth.len()),
        ("temperature", s.temperature.len()),
        ("alpha", s.alpha.len()),
    ] {
        if len == 0 {
            c.report(
                &p.key(key),
                None,
                "empty sweep axis: give at least one value",
            );
        }
    }
    let mut depth = Vec::new();
    for (i, &d) in s.depth.iter().enumerate() {
        let k = p.key("depth").index(i);
        let d = c.int::<u32>(&k, d, 1, 64);
        if depth.contains(&d) {
            c.report(&k, None, format!("duplicate value {d}"));
        } else {
            depth.push(d);
        }
    }
    let mut floats = |key: &str, values: &[f64], ok: fn(f64) -> bool, must: &str| {
        let mut out: Vec<f64> = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            let k = p.key(key).index(i);
            let v = c.float(&k, v, ok(v), must);
            if out.contains(&v) {
                c.report(&k, None, format!("duplicate value {v}"));
            } else {
                out.push(v);
            }
        }
        out
    };
    Sweep {
        depth,
        temperature: floats("temperature", &s.temperature, |t| t > 0.0, "greater than 0"),
        alpha: floats("alpha", &s.alpha, |a| (0.0..=1.0).contains(&a), "in [0, 1]"),
        method: methods(c, &s.method),
    }
}

fn explain(c: &mut Checker<'_>, e: &ExplainTable) -> ExplainConfig {
    let p = KeyPath::default().key("explain");
    let mut methods = Vec::new();
    for (i, m) in e.methods.iter().enumerate() {
        let k = p.key("methods").index(i);
        let found = c.choice(
            &k,
            m,
            &[
                ("feature_maps", ExplainMethod::FeatureMaps),
                ("gradcam", ExplainMethod::Gradcam),
                ("expected_gradients", ExplainMethod::ExpectedGradients),
            ],
        );
        if let Some(m) = found {
            if methods.contains(&m) {
                c.report(&k, None, "duplicate method");
            } else {
                methods.push(m);
            }
        }
    }
    methods.sort();
    ExplainConfig {
        methods,
        images: match int_or_word(c, &p.key("images"), &e.images, "all", 1, u32::MAX as i64) {
            IntOrWord::Int(n) => Some(n as u32),
            IntOrWord::Word | IntOrWord::Invalid => None,
        },
        sample_seed: c.u64(&p.key("sample_seed"), e.sample_seed),
        gradcam_layer: match int_or_word(
            c,
            &p.key("gradcam_layer"),
            &e.gradcam_layer,
            "common",
            i32::MIN as i64,
            i32::MAX as i64,
        ) {
            IntOrWord::Int(i) => GradcamLayer::Index(i as i32),
            IntOrWord::Word => GradcamLayer::Common,
            IntOrWord::Invalid => GradcamLayer::Index(-1),
        },
        eg_samples: c.u32(&p.key("eg_samples"), e.eg_samples, 1),
        eg_background: c.u32(&p.key("eg_background"), e.eg_background, 1),
        deletion_steps: c.u32(&p.key("deletion_steps"), e.deletion_steps, 2),
        timing_images: c.u32(&p.key("timing_images"), e.timing_images, 1),
        timing_warmup: c.u32(&p.key("timing_warmup"), e.timing_warmup, 0),
        timing_repeats: c.u32(&p.key("timing_repeats"), e.timing_repeats, 1),
        timing_threads: c.u32(&p.key("timing_threads"), e.timing_threads, 1),
        timing_scope: c
            .choice(
                &p.key("timing_scope"),
                &e.timing_scope,
                &[
                    ("architecture", TimingScope::Architecture),
                    ("model", TimingScope::Model),
                ],
            )
            .unwrap_or(TimingScope::Architecture),
    }
}

/// A key that is an integer or one word.
enum IntOrWord {
    Int(i64),
    Word,
    /// Reported; the caller substitutes its default.
    Invalid,
}

/// `v` as an integer in `[min, max]` or the string `word`; anything else is
/// a problem naming both forms.
fn int_or_word(
    c: &mut Checker<'_>,
    path: &KeyPath,
    v: &toml::Value,
    word: &str,
    min: i64,
    max: i64,
) -> IntOrWord {
    match v {
        toml::Value::Integer(i) if (min..=max).contains(i) => IntOrWord::Int(*i),
        toml::Value::String(s) if s == word => IntOrWord::Word,
        other => {
            let range = if max >= u32::MAX as i64 && min >= 0 {
                format!("an integer of at least {min}")
            } else {
                format!("an integer between {min} and {max}")
            };
            c.report(
                path,
                Some(other.to_string()),
                format!("must be {range} or \"{word}\""),
            );
            IntOrWord::Invalid
        }
    }
}

/// The folder relative paths in the file are resolved against.
fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
