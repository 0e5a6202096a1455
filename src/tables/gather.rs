//! One row per model stage (teacher or student) with the numbers of its
//! evaluate, explain and timing stages, read from the published artifacts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use engine::{Fingerprint, StageSpec};
use polars::prelude::*;
use serde_json::Value;

use super::TablesError;

/// Explanation methods, in display order; time columns are `<method>_s`.
pub const METHODS: [&str; 3] = ["feature_maps", "gradcam", "expected_gradients"];
/// Methods with deletion / insertion curves (feature maps have none).
pub(crate) const FAITHFUL_METHODS: [&str; 2] = ["gradcam", "expected_gradients"];

/// The artifact directory of a fingerprint: `<store>/objects/<fp[0:2]>/<fp>/`.
pub fn artifact_dir(store_root: &Path, fp: &Fingerprint) -> PathBuf {
    let fp = fp.as_str();
    store_root.join("objects").join(&fp[..2]).join(fp)
}

/// A stage's output is published iff its `manifest.json` exists.
pub fn is_published(store_root: &Path, fp: &Fingerprint) -> bool {
    artifact_dir(store_root, fp).join("manifest.json").is_file()
}

/// Reads `file` of a published stage; `None` when the stage has not run.
fn read_artifact(
    store_root: &Path,
    fp: Option<&Fingerprint>,
    file: &str,
) -> Result<Option<Value>, TablesError> {
    let Some(fp) = fp else { return Ok(None) };
    if !is_published(store_root, fp) {
        return Ok(None);
    }
    let path = artifact_dir(store_root, fp).join(file);
    let text = std::fs::read_to_string(&path).map_err(|source| TablesError::Io {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| TablesError::Json { path, source })
}

fn num(v: Option<&Value>, pointer: &str) -> Option<f64> {
    v.and_then(|v| v.pointer(pointer)).and_then(Value::as_f64)
}

fn int(v: Option<&Value>, pointer: &str) -> Option<i64> {
    v.and_then(|v| v.pointer(pointer))
        .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f.round() as i64)))
}

/// Column builder: a name and a vector of optional values.
#[derive(Default)]
struct Columns {
    str_cols: Vec<(&'static str, Vec<Option<String>>)>,
    f64_cols: Vec<(String, Vec<Option<f64>>)>,
    i64_cols: Vec<(&'static str, Vec<Option<i64>>)>,
    order: Vec<String>,
}

impl Columns {
    fn s(&mut self, name: &'static str, v: Option<String>) {
        match self.str_cols.iter_mut().find(|(n, _)| *n == name) {
            Some((_, col)) => col.push(v),
            None => {
                self.order.push(name.to_owned());
                self.str_cols.push((name, vec![v]));
            }
        }
    }
    fn f(&mut self, name: String, v: Option<f64>) {
        match self.f64_cols.iter_mut().find(|(n, _)| *n == name) {
            Some((_, col)) => col.push(v),
            None => {
                self.order.push(name.clone());
                self.f64_cols.push((name, vec![v]));
            }
        }
    }
    fn i(&mut self, name: &'static str, v: Option<i64>) {
        match self.i64_cols.iter_mut().find(|(n, _)| *n == name) {
            Some((_, col)) => col.push(v),
            None => {
                self.order.push(name.to_owned());
                self.i64_cols.push((name, vec![v]));
            }
        }
    }
    fn into_frame(self, control: Vec<bool>) -> Result<DataFrame, TablesError> {
        let mut cols: HashMap<String, Column> = HashMap::new();
        for (n, v) in self.str_cols {
            cols.insert(n.to_owned(), Column::new(n.into(), v));
        }
        for (n, v) in self.f64_cols {
            cols.insert(n.clone(), Column::new(n.as_str().into(), v));
        }
        for (n, v) in self.i64_cols {
            cols.insert(n.to_owned(), Column::new(n.into(), v));
        }
        let height = control.len();
        let mut out = Vec::with_capacity(self.order.len() + 1);
        for name in &self.order {
            if let Some(c) = cols.remove(name) {
                out.push(c);
            }
            if name == "alpha" {
                out.push(Column::new("control".into(), control.clone()));
            }
        }
        Ok(DataFrame::new(height, out)?)
    }
}

fn params_err(stage: &str, reason: &str) -> TablesError {
    TablesError::Params {
        stage: stage.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Gathers one row per model stage (`teacher` / `student` kinds) of `specs`.
///
/// Columns: dataset, model (`teacher` | `student`), arch, depth, temperature
/// (null for teacher and control), alpha (0 for control, null for teacher),
/// control, seed, params, macs, accuracy, macro_f1, weighted_f1, roc_auc,
/// latency_ms, `<method>_s` (median explain time per image, from the timing
/// stage), `<method>_deletion_auc` / `_insertion_auc`, agreement_pearson,
/// agreement_iou_top10 (from the explain stage), model_stage (its name) and
/// the fingerprints model_fp, evaluate_fp, explain_fp, timing_fp. A number
/// whose stage has not been published is null.
pub fn gather(store_root: &Path, specs: &[StageSpec]) -> Result<DataFrame, TablesError> {
    let by_name: HashMap<&str, &StageSpec> = specs.iter().map(|s| (s.name.as_str(), s)).collect();
    let fp_of = |kind: &str, model: &str| -> Option<Fingerprint> {
        by_name
            .get(format!("{kind}/{model}").as_str())
            .map(|s| s.fingerprint())
    };
    // timing.json of each data set's timing stage, read once.
    let mut timings: HashMap<String, (Option<Fingerprint>, Option<Value>)> = HashMap::new();
    let mut c = Columns::default();
    let mut control = Vec::new();
    for spec in specs {
        let is_teacher = match spec.kind.as_str() {
            "teacher" => true,
            "student" => false,
            _ => continue,
        };
        let name = spec.name.as_str();
        let p = |key: &str| spec.params.get(key);
        let model_p = p("model").ok_or_else(|| params_err(name, "missing 'model'"))?;
        let train_p = p("train").ok_or_else(|| params_err(name, "missing 'train'"))?;
        let distill = p("distill").filter(|d| !d.is_null());
        let dataset = name.split('/').nth(1).unwrap_or_default().to_owned();
        c.s("dataset", Some(dataset.clone()));
        c.s(
            "model",
            Some(if is_teacher { "teacher" } else { "student" }.to_owned()),
        );
        c.s(
            "arch",
            model_p
                .get("arch")
                .and_then(Value::as_str)
                .map(str::to_owned),
        );
        c.i("depth", model_p.get("depth").and_then(Value::as_i64));
        c.f(
            "temperature".into(),
            distill
                .and_then(|d| d.get("temperature"))
                .and_then(Value::as_f64),
        );
        let alpha = match (is_teacher, distill) {
            (true, _) => None,
            (false, None) => Some(0.0),
            (false, Some(d)) => d.get("alpha").and_then(Value::as_f64),
        };
        c.f("alpha".into(), alpha);
        control.push(!is_teacher && distill.is_none());
        c.i("seed", train_p.get("seed").and_then(Value::as_i64));

        let model_fp = spec.fingerprint();
        let eval_fp = fp_of("evaluate", name);
        let explain_fp = fp_of("explain", name);
        // One timing stage per data set, `timing/<ds>`, times its models
        // side by side: each under its own stage name (`timing_scope =
        // "model"`) or one per architecture (`teacher`, `student-d<k>`).
        let (timing_fp, timing) = match timings.get(&dataset) {
            Some(t) => t.clone(),
            None => {
                let fp = fp_of("timing", &dataset);
                let t = (
                    fp.clone(),
                    read_artifact(store_root, fp.as_ref(), "timing.json")?,
                );
                timings.insert(dataset.clone(), t.clone());
                t
            }
        };
        let arch_label = if is_teacher {
            "teacher".to_owned()
        } else {
            format!(
                "student-d{}",
                model_p.get("depth").and_then(Value::as_i64).unwrap_or(0)
            )
        };
        let t = timing.as_ref().and_then(|t| {
            let models = t.get("models")?;
            models.get(name).or_else(|| models.get(&arch_label))
        });
        let metrics = read_artifact(store_root, eval_fp.as_ref(), "metrics.json")?;
        let latency = read_artifact(store_root, eval_fp.as_ref(), "latency.json")?;
        let explain = read_artifact(store_root, explain_fp.as_ref(), "explain.json")?;
        let (m, e) = (metrics.as_ref(), explain.as_ref());

        c.i("params", int(m, "/params"));
        c.i("macs", int(m, "/macs"));
        c.f("accuracy".into(), num(m, "/accuracy"));
        c.f("macro_f1".into(), num(m, "/macro_f1"));
        c.f("weighted_f1".into(), num(m, "/weighted_f1"));
        c.f("roc_auc".into(), num(m, "/roc_auc_macro_ovr"));
        c.f(
            "latency_ms".into(),
            num(latency.as_ref(), "/latency_ms_median"),
        );
        for method in METHODS {
            c.f(
                format!("{method}_s"),
                num(t, &format!("/methods/{method}/median_s")),
            );
        }
        for method in FAITHFUL_METHODS {
            for curve in ["deletion", "insertion"] {
                c.f(
                    format!("{method}_{curve}_auc"),
                    num(e, &format!("/methods/{method}/{curve}_auc")),
                );
            }
        }
        c.f(
            "agreement_pearson".into(),
            num(e, "/agreement/gradcam_pearson"),
        );
        c.f(
            "agreement_iou_top10".into(),
            num(e, "/agreement/gradcam_iou_top10"),
        );
        c.s("model_stage", Some(name.to_owned()));
        c.s("model_fp", Some(model_fp.to_string()));
        c.s("evaluate_fp", eval_fp.map(|f| f.to_string()));
        c.s("explain_fp", explain_fp.map(|f| f.to_string()));
        c.s(
            "timing_fp",
            timing_fp.filter(|_| t.is_some()).map(|f| f.to_string()),
        );
    }
    if control.is_empty() {
        return Ok(empty_frame());
    }
    c.into_frame(control)
}

/// The gathered schema with no rows (an experiment without model stages).
fn empty_frame() -> DataFrame {
    let mut cols = vec![
        Column::new_empty("dataset".into(), &DataType::String),
        Column::new_empty("model".into(), &DataType::String),
        Column::new_empty("arch".into(), &DataType::String),
        Column::new_empty("depth".into(), &DataType::Int64),
        Column::new_empty("temperature".into(), &DataType::Float64),
        Column::new_empty("alpha".into(), &DataType::Float64),
        Column::new_empty("control".into(), &DataType::Boolean),
        Column::new_empty("seed".into(), &DataType::Int64),
        Column::new_empty("params".into(), &DataType::Int64),
        Column::new_empty("macs".into(), &DataType::Int64),
    ];
    let floats = super::summarize::metric_columns();
    cols.extend(
        floats
            .iter()
            .map(|n| Column::new_empty(n.as_str().into(), &DataType::Float64)),
    );
    for n in [
        "model_stage",
        "model_fp",
        "evaluate_fp",
        "explain_fp",
        "timing_fp",
    ] {
        cols.push(Column::new_empty(n.into(), &DataType::String));
    }
    DataFrame::new(0, cols).unwrap_or_default()
}
