//! Validation: the file as written ([`super::schema`]) into resolved types
//! ([`super::resolved`]). Every problem is collected, with the key path, its
//! position and value, so that one run of `kdpipe` shows all of them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::builtin;
use super::error::Problem;
use super::locate::{Doc, KeyPath};
use super::params::{Arch, DatasetFormat, DatasetParams, ExplainMethod, ModelParams, Schedule};
use super::resolved::*;
use super::schema::*;

/// Collects problems, each pointed at its place in the file.
pub(crate) struct Checker<'d> {
    doc: &'d Doc<'d>,
    pub(crate) problems: Vec<Problem>,
}

impl<'d> Checker<'d> {
    pub(crate) fn new(doc: &'d Doc<'d>) -> Self {
        Checker {
            doc,
            problems: Vec::new(),
        }
    }

    /// Records a problem at `path`; `value` is shown when the file does not
    /// set the key (a default), else the text as written is shown.
    fn report(&mut self, path: &KeyPath, value: Option<String>, message: impl Into<String>) {
        let (line, column) = match self.doc.span_of(path) {
            Some(span) => {
                let (l, c) = self.doc.line_col(span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let value = match self.doc.text_of(path) {
            Some(t) => Some(t.to_owned()),
            None if line.is_none() => value.map(|v| format!("{v} (default)")),
            None => None,
        };
        self.problems.push(Problem {
            line,
            column,
            key: path.to_string(),
            value,
            message: message.into(),
        });
    }

    /// An integer in `[min, max]`, as `T`; out of range → a problem and `min`.
    fn int<T: TryFrom<i64> + Default>(&mut self, path: &KeyPath, v: i64, min: i64, max: i64) -> T {
        if v < min || v > max {
            let msg = if max == i64::MAX || (max == u32::MAX as i64 && min >= 0) {
                format!("must be at least {min}")
            } else {
                format!("must be between {min} and {max}")
            };
            self.report(path, Some(v.to_string()), msg);
            return T::try_from(min).unwrap_or_default();
        }
        T::try_from(v).unwrap_or_default()
    }

    fn u32(&mut self, path: &KeyPath, v: i64, min: i64) -> u32 {
        self.int(path, v, min, u32::MAX as i64)
    }

    fn u64(&mut self, path: &KeyPath, v: i64) -> u64 {
        self.int(path, v, 0, i64::MAX)
    }

    /// A finite float satisfying `ok`, else a problem saying `must`.
    fn float(&mut self, path: &KeyPath, v: f64, ok: bool, must: &str) -> f64 {
        if !v.is_finite() || !ok {
            self.report(path, Some(v.to_string()), format!("must be {must}"));
        }
        v
    }

    /// One of `allowed`, else a problem listing them.
    fn choice<T: Copy>(&mut self, path: &KeyPath, v: &str, allowed: &[(&str, T)]) -> Option<T> {
        let found = allowed.iter().find(|(name, _)| *name == v).map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<String> = allowed.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            self.report(
                path,
                Some(format!("\"{v}\"")),
                format!("unknown value; expected one of {}", names.join(", ")),
            );
        }
        found
    }

    /// A name used in stage names and folders.
    fn name(&mut self, path: &KeyPath, v: Option<&str>) -> String {
        match v {
            None => {
                self.report(path, None, "missing: this key is required");
                String::new()
            }
            Some("") => {
                self.report(path, None, "must not be empty");
                String::new()
            }
            Some(s)
                if !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                    || s.starts_with('.') =>
            {
                self.report(
                    path,
                    None,
                    "may only hold letters, digits, `.`, `_` and `-` (and not start with `.`)",
                );
                s.to_owned()
            }
            Some(s) => s.to_owned(),
        }
    }

    fn seeds(&mut self, seeds: &[i64]) -> Vec<u64> {
        let path = KeyPath::default().key("seeds");
        if seeds.is_empty() {
            self.report(&path, None, "must hold at least one seed");
        }
        let mut out = Vec::new();
        for (i, &s) in seeds.iter().enumerate() {
            let p = path.index(i);
            let s = self.u64(&p, s);
            if out.contains(&s) {
                self.report(&p, None, format!("duplicate seed {s}"));
            } else {
                out.push(s);
            }
        }
        out
    }

    fn executor(&mut self, e: &ExecutorTable) -> ExecutorConfig {
        let base = KeyPath::default().key("executor");
        let kind = self
            .choice(
                &base.key("kind"),
                &e.kind,
                &[
                    ("local", ExecutorKind::Local),
                    ("slurm", ExecutorKind::Slurm),
                ],
            )
            .unwrap_or(ExecutorKind::Local);
        let mut text = |key: &str, v: &Option<String>, extra: fn(&str) -> bool, must: &str| {
            if let Some(s) = v {
                if s.is_empty() || s.chars().any(char::is_control) || !extra(s) {
                    self.report(&base.key(key), None, must.to_owned());
                }
            }
            v.clone()
        };
        let any = |_: &str| true;
        let plain = "must be non-empty, without control characters";
        ExecutorConfig {
            kind,
            partition: text("partition", &e.partition, any, plain),
            account: text("account", &e.account, any, plain),
            time: text(
                "time",
                &e.time,
                |s| {
                    s.chars()
                        .all(|c| c.is_ascii_digit() || c == ':' || c == '-')
                },
                "must be a slurm time limit such as \"30\", \"1:00:00\" or \"1-00:00:00\"",
            ),
            gres: text("gres", &e.gres, any, plain),
        }
    }
}

/// The folder relative paths in the file are resolved against.
pub(crate) fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(crate) fn validate_kd(
    path: &Path,
    doc: &Doc<'_>,
    f: KdFile,
) -> Result<Experiment, Vec<Problem>> {
    let mut c = Checker::new(doc);
    let root = KeyPath::default();
    let base = base_dir(path);
    let name = c.name(&root.key("name"), f.name.as_deref());
    let seeds = c.seeds(&f.seeds);
    let executor = c.executor(&f.executor);

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
            evaluate,
            explain,
            device,
        })),
    })
}

fn dataset(
    c: &mut Checker<'_>,
    p: &KeyPath,
    base: &Path,
    name: String,
    d: &DatasetTable,
) -> Option<DatasetConfig> {
    let formats = [
        ("imagefolder", DatasetFormat::Imagefolder),
        ("medmnist", DatasetFormat::Medmnist),
        ("idx", DatasetFormat::Idx),
    ];
    let source = match (&d.source, &d.format, &d.path) {
        (Some(src), None, None) => match src.strip_prefix("builtin:") {
            Some(b) if builtin::KNOWN.contains(&b) => {
                Some(DatasetSource::Builtin { name: b.to_owned() })
            }
            _ => {
                c.report(
                    &p.key("source"),
                    None,
                    format!(
                        "unknown source; expected one of {}",
                        builtin::KNOWN
                            .iter()
                            .map(|b| format!("\"builtin:{b}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        },
        (Some(_), _, _) => {
            let key = if d.format.is_some() { "format" } else { "path" };
            c.report(&p.key(key), None, "not allowed together with `source`");
            None
        }
        (None, Some(fmt), Some(rel)) => {
            let format = c.choice(&p.key("format"), fmt, &formats);
            let path = base.join(rel);
            match (format, std::fs::metadata(&path)) {
                (_, Err(e)) => {
                    c.report(
                        &p.key("path"),
                        None,
                        format!("dataset path {} does not exist ({e})", path.display()),
                    );
                    None
                }
                (Some(DatasetFormat::Medmnist), Ok(m)) if !m.is_file() => {
                    c.report(
                        &p.key("path"),
                        None,
                        "a medmnist dataset must be an .npz file",
                    );
                    None
                }
                (Some(f @ (DatasetFormat::Imagefolder | DatasetFormat::Idx)), Ok(m))
                    if !m.is_dir() =>
                {
                    c.report(
                        &p.key("path"),
                        None,
                        format!(
                            "an {} dataset must be a folder",
                            if f == DatasetFormat::Idx {
                                "idx"
                            } else {
                                "imagefolder"
                            }
                        ),
                    );
                    None
                }
                (Some(format), Ok(_)) => Some(DatasetSource::Path { format, path }),
                (None, Ok(_)) => None,
            }
        }
        (None, None, _) => {
            c.report(
                &p.key("source"),
                None,
                "missing: set `source = \"builtin:brain-mri\"` or `format` and `path`",
            );
            None
        }
        (None, Some(_), None) => {
            c.report(&p.key("path"), None, "missing: `format` needs a `path`");
            None
        }
    };

    let format = match &source {
        Some(DatasetSource::Builtin { .. }) => Some(DatasetFormat::Imagefolder),
        Some(DatasetSource::Path { format, .. }) => Some(*format),
        None => None,
    };
    match (&d.train_dir, &d.test_dir) {
        (None, None) => {}
        (Some(_), None) => c.report(
            &p.key("test_dir"),
            None,
            "missing: `train_dir` needs a `test_dir`",
        ),
        (None, Some(_)) => c.report(
            &p.key("train_dir"),
            None,
            "missing: `test_dir` needs a `train_dir`",
        ),
        (Some(tr), Some(te)) => match &source {
            Some(DatasetSource::Path {
                format: DatasetFormat::Imagefolder,
                path,
            }) => {
                for (key, sub) in [("train_dir", tr), ("test_dir", te)] {
                    let dir = path.join(sub);
                    if !dir.is_dir() {
                        c.report(
                            &p.key(key),
                            None,
                            format!("folder {} does not exist", dir.display()),
                        );
                    }
                }
            }
            Some(_) => c.report(
                &p.key("train_dir"),
                None,
                "only an imagefolder `path` can be pre-split",
            ),
            None => {}
        },
    }

    let image_size = c.int::<u32>(&p.key("image_size"), d.image_size, 8, 1024);
    if d.channels != 1 && d.channels != 3 {
        c.report(
            &p.key("channels"),
            Some(d.channels.to_string()),
            "must be 1 (grayscale) or 3 (rgb)",
        );
    }
    let val = c.float(
        &p.key("val_fraction"),
        d.val_fraction,
        d.val_fraction > 0.0 && d.val_fraction < 1.0,
        "between 0 and 1 (exclusive)",
    );
    let test = c.float(
        &p.key("test_fraction"),
        d.test_fraction,
        d.test_fraction > 0.0 && d.test_fraction < 1.0,
        "between 0 and 1 (exclusive)",
    );
    if val > 0.0 && test > 0.0 && val < 1.0 && test < 1.0 && val + test >= 1.0 {
        c.report(
            &p.key("test_fraction"),
            Some(test.to_string()),
            format!(
                "val_fraction + test_fraction = {} must be below 1",
                val + test
            ),
        );
    }
    let split_seed = c.u64(&p.key("split_seed"), d.split_seed);
    let max_per_class = d
        .max_per_class
        .map(|m| c.u32(&p.key("max_per_class"), m, 1));

    Some(DatasetConfig {
        source: source?,
        params: DatasetParams {
            name,
            format: format?,
            image_size,
            channels: d.channels.clamp(1, 3) as u32,
            val_fraction: val,
            test_fraction: test,
            split_seed,
            train_dir: d.train_dir.clone(),
            test_dir: d.test_dir.clone(),
            skip_corrupt: d.skip_corrupt,
            max_per_class,
        },
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
        images: c.u32(&p.key("images"), e.images, 1),
        sample_seed: c.u64(&p.key("sample_seed"), e.sample_seed),
        gradcam_layer: c.int::<i32>(
            &p.key("gradcam_layer"),
            e.gradcam_layer,
            i32::MIN as i64,
            i32::MAX as i64,
        ),
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

pub(crate) fn validate_toy(
    path: &Path,
    doc: &Doc<'_>,
    f: ToyFile,
) -> Result<Experiment, Vec<Problem>> {
    let mut c = Checker::new(doc);
    let root = KeyPath::default();
    let name = c.name(&root.key("name"), f.name.as_deref());
    let seeds = c.seeds(&f.seeds);
    let executor = c.executor(&f.executor);
    let p = root.key("toy");
    if f.toy.values.is_empty() {
        c.report(&p.key("values"), None, "must hold at least one value");
    }
    let mut values = Vec::new();
    for (i, &v) in f.toy.values.iter().enumerate() {
        if values.contains(&v) {
            c.report(
                &p.key("values").index(i),
                None,
                format!("duplicate value {v}"),
            );
        } else {
            values.push(v);
        }
    }
    let mut fail = BTreeSet::new();
    for (i, &v) in f.toy.fail.iter().enumerate() {
        if !values.contains(&v) {
            c.report(
                &p.key("fail").index(i),
                None,
                format!("{v} is not one of toy.values"),
            );
        }
        fail.insert(v);
    }
    let toy = ToyStudy {
        values,
        n: c.u64(&p.key("n"), f.toy.n),
        sleep_ms: c.u64(&p.key("sleep_ms"), f.toy.sleep_ms),
        slow_write_ms: c.u64(&p.key("slow_write_ms"), f.toy.slow_write_ms),
        fail,
    };
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Experiment {
        path: path.to_path_buf(),
        name,
        description: f.description,
        seeds,
        executor,
        study: Study::Toy(toy),
    })
}
