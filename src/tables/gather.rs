//! One row per model stage (teacher or student) with the numbers of its
//! evaluate, explain and timing stages, read from the published artifacts.
//! What each row is (data set, seed, role, the stages that measure it) comes
//! from the study's index, never from a stage name.

use std::collections::{HashMap, HashSet};

use engine::store::Store;
use engine::{Fingerprint, StageSpec};
use polars::prelude::*;
use serde_json::Value;
use study::contract::artifacts::{Explain, Latency, Metrics, Timing, Train};
use study::index::{ModelRole, StudyIndex};

use super::columns::{metric_columns, FAITHFUL_METHODS, METHODS};
use super::config::{self, majority_key, ConfigRole};
use super::evidence::Evidence;
#[cfg(test)]
use super::majority::majority;
use super::majority::Majority;
use super::read::{read_artifact, read_optional_artifact};
use super::TablesError;

/// Confidence of the per-model Wilson interval of accuracy in the gathered
/// frame (the summary's intervals follow `[compare] confidence`).
const WILSON_CONFIDENCE: f64 = 0.95;

/// A number read back as NaN (written as `null`) is missing.
fn present(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

/// Column builder: a name and a vector of optional values.
#[derive(Default)]
struct Columns {
    str_cols: Vec<(&'static str, Vec<Option<String>>)>,
    f64_cols: Vec<(String, Vec<Option<f64>>)>,
    i64_cols: Vec<(&'static str, Vec<Option<i64>>)>,
    bool_cols: Vec<(&'static str, Vec<Option<bool>>)>,
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
    fn b(&mut self, name: &'static str, v: Option<bool>) {
        match self.bool_cols.iter_mut().find(|(n, _)| *n == name) {
            Some((_, col)) => col.push(v),
            None => {
                self.order.push(name.to_owned());
                self.bool_cols.push((name, vec![v]));
            }
        }
    }
    /// Rows so far (the length of the longest column).
    fn len(&self) -> usize {
        let s = self.str_cols.iter().map(|(_, c)| c.len());
        let f = self.f64_cols.iter().map(|(_, c)| c.len());
        let i = self.i64_cols.iter().map(|(_, c)| c.len());
        let b = self.bool_cols.iter().map(|(_, c)| c.len());
        s.chain(f).chain(i).chain(b).max().unwrap_or(0)
    }
    /// Pads every column shorter than `rows` with nulls.
    fn fill_nulls(&mut self, rows: usize) {
        for (_, c) in &mut self.str_cols {
            c.resize(rows, None);
        }
        for (_, c) in &mut self.f64_cols {
            c.resize(rows, None);
        }
        for (_, c) in &mut self.i64_cols {
            c.resize(rows, None);
        }
        for (_, c) in &mut self.bool_cols {
            c.resize(rows, None);
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
        for (n, v) in self.bool_cols {
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

/// Gathers one row per model (teacher or student) of `index`, reading the
/// artifacts of its stages from `store`; `specs` give each model's
/// architecture and depth.
///
/// Columns: dataset, model (`teacher` | `student`), arch, depth, method
/// (`hinton` | `fitnets` | `at` | `dkd`; null for teacher and control),
/// temperature (null for teacher and control), alpha (0 for control, null for teacher),
/// control, seed, params, macs, accuracy, macro_f1, weighted_f1, roc_auc,
/// latency_ms, `<method>_s` (median explain time per image, from the timing
/// stage), `<method>_deletion_auc` / `_insertion_auc` (raw) and
/// `<method>_deletion_norm` / `_insertion_norm` (against the random-order
/// baseline, 0 = chance), agreement_pearson, agreement_iou_top10 and
/// agreement_n_defined (images where both maps are non-constant; from the
/// explain stage), model_stage (its name) and
/// the fingerprints model_fp, evaluate_fp, explain_fp, timing_fp. A number
/// whose stage has not been published is null.
#[cfg(test)]
pub(crate) fn gather(
    store: &Store,
    specs: &[StageSpec],
    index: &StudyIndex,
) -> Result<DataFrame, TablesError> {
    let evidence = Evidence::load(store, index)?;
    let majority = majority(store, specs, index, &evidence)?;
    gather_with(store, specs, index, &evidence, &majority)
}

/// [`gather`] with the predictions already read, and one row per majority
/// baseline appended (`model` = `majority class`, only accuracy-type
/// columns set).
pub(crate) fn gather_with(
    store: &Store,
    specs: &[StageSpec],
    index: &StudyIndex,
    evidence: &Evidence,
    majority: &[Majority],
) -> Result<DataFrame, TablesError> {
    let by_name: HashMap<&str, &StageSpec> = specs.iter().map(|s| (s.name.as_str(), s)).collect();
    // timing.json of each data set's timing stage, read once.
    let mut timings: HashMap<Fingerprint, Option<Timing>> = HashMap::new();
    let mut seen: HashSet<&Fingerprint> = HashSet::new();
    let mut c = Columns::default();
    let mut control = Vec::new();
    for entry in &index.models {
        if !seen.insert(&entry.model.fingerprint) {
            continue;
        }
        let name = entry.model.name.as_str();
        let spec = by_name
            .get(name)
            .ok_or_else(|| params_err(name, "no stage spec"))?;
        let model_p = spec
            .params
            .get("model")
            .ok_or_else(|| params_err(name, "missing 'model'"))?;
        let (is_teacher, distill) = match entry.role {
            ModelRole::Teacher => (true, None),
            ModelRole::Student { distill, .. } => (false, distill),
        };
        c.s("dataset", Some(entry.dataset.clone()));
        c.s(
            "config",
            Some(config::key(&entry.dataset, ConfigRole::of(&entry.role))),
        );
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
        // The distillation method: null for the teacher and the control.
        c.s("method", distill.map(|d| d.method.name().to_owned()));
        c.f("temperature".into(), distill.map(|d| d.temperature));
        let alpha = match (is_teacher, distill) {
            (true, _) => None,
            (false, None) => Some(0.0),
            (false, Some(d)) => Some(d.alpha),
        };
        c.f("alpha".into(), alpha);
        control.push(!is_teacher && distill.is_none());
        c.i("seed", i64::try_from(entry.seed).ok());

        let eval_fp = Some(&entry.evaluate.fingerprint);
        let explain_fp = entry.explain.as_ref().map(|e| &e.fingerprint);
        // One timing stage per data set times its models side by side, each
        // under the label the index names (its stage name, or its
        // architecture's when one model per architecture is timed).
        let mut t = None;
        if let Some((stage, label)) = &entry.timing {
            let fp = &stage.fingerprint;
            if !timings.contains_key(fp) {
                timings.insert(fp.clone(), read_artifact(store, Some(fp))?);
            }
            t = timings[fp]
                .as_ref()
                .and_then(|timing| timing.models.get(label));
        }
        let metrics: Option<Metrics> = read_artifact(store, eval_fp)?;
        let latency: Option<Latency> = read_artifact(store, eval_fp)?;
        let explain: Option<Explain> = read_artifact(store, explain_fp)?;
        let (m, e) = (metrics.as_ref(), explain.as_ref());

        c.i("params", m.map(|m| m.params as i64));
        c.i("macs", m.map(|m| m.macs as i64));
        c.f("accuracy".into(), m.map(|m| m.accuracy));
        c.f("macro_f1".into(), m.map(|m| m.macro_f1));
        c.f("weighted_f1".into(), m.map(|m| m.weighted_f1));
        c.f("roc_auc".into(), m.and_then(|m| m.roc_auc_macro_ovr));
        let ev = evidence.get(&entry.model.fingerprint);
        per_image(&mut c, ev.map(|e| &e.test))?;
        let val = ev.and_then(|e| e.val_scores);
        c.f("val_loss".into(), val.map(|v| v.loss));
        c.f("val_accuracy".into(), val.map(|v| v.accuracy));
        c.f(
            "val_balanced_accuracy".into(),
            val.map(|v| v.balanced_accuracy),
        );
        let train: Option<Train> = read_optional_artifact(store, Some(&entry.model.fingerprint))?;
        c.f("best_epoch".into(), train.map(|t| f64::from(t.best_epoch)));
        c.f(
            "latency_ms".into(),
            latency.as_ref().map(|l| l.latency_ms_median),
        );
        for method in METHODS {
            c.f(
                format!("{method}_s"),
                t.and_then(|t| t.methods.get(method)).map(|s| s.median_s),
            );
        }
        for method in FAITHFUL_METHODS {
            let f = e.and_then(|e| e.methods.scores(method));
            for (key, v) in [
                ("deletion_auc", f.map(|f| f.deletion_auc)),
                ("insertion_auc", f.map(|f| f.insertion_auc)),
                ("deletion_norm", f.map(|f| f.deletion_norm)),
                ("insertion_norm", f.map(|f| f.insertion_norm)),
            ] {
                c.f(format!("{method}_{key}"), v.and_then(present));
            }
        }
        let agreement = e.and_then(|e| e.agreement.as_ref());
        c.f(
            "agreement_pearson".into(),
            agreement.and_then(|a| a.gradcam_pearson),
        );
        c.f(
            "agreement_iou_top10".into(),
            agreement.and_then(|a| a.gradcam_iou_top10),
        );
        c.f(
            "agreement_n_defined".into(),
            agreement.map(|a| a.n_defined as f64),
        );
        c.s(
            "timing_label",
            entry
                .timing
                .as_ref()
                .filter(|_| t.is_some())
                .map(|(_, label)| label.clone()),
        );
        c.s("model_stage", Some(name.to_owned()));
        c.s("model_fp", Some(entry.model.fingerprint.to_string()));
        c.s("evaluate_fp", eval_fp.map(|f| f.to_string()));
        c.s("explain_fp", explain_fp.map(|f| f.to_string()));
        c.s(
            "timing_fp",
            entry
                .timing
                .as_ref()
                .filter(|_| t.is_some())
                .map(|(stage, _)| stage.fingerprint.to_string()),
        );
    }
    if control.is_empty() {
        return Ok(empty_frame());
    }
    for m in majority {
        majority_row(&mut c, m)?;
        control.push(false);
    }
    c.into_frame(control)
}

/// The columns read from one model's test predictions: balanced accuracy,
/// the number of test images, the Wilson interval of its accuracy and
/// whether it predicts a single class.
fn per_image(c: &mut Columns, test: Option<&stats::Predictions>) -> Result<(), TablesError> {
    c.f(
        "balanced_accuracy".into(),
        test.map(stats::balanced_accuracy),
    );
    c.i("n_test", test.map(|p| p.len() as i64));
    let wilson = match test {
        Some(p) => {
            let right = p.correct().iter().filter(|&&r| r).count() as u64;
            Some(stats::wilson_interval(
                right,
                p.len() as u64,
                WILSON_CONFIDENCE,
            )?)
        }
        None => None,
    };
    c.f("accuracy_wilson_lo".into(), wilson.map(|w| w.lower));
    c.f("accuracy_wilson_hi".into(), wilson.map(|w| w.upper));
    c.b("collapsed", test.map(stats::is_collapsed));
    Ok(())
}

/// The majority baseline's row: every column the others have, most null.
fn majority_row(c: &mut Columns, m: &Majority) -> Result<(), TablesError> {
    let before = c.len();
    c.s("dataset", Some(m.dataset.clone()));
    c.s("config", Some(majority_key(&m.dataset)));
    c.s("model", Some(MAJORITY_LABEL.to_owned()));
    c.f("accuracy".into(), Some(stats::accuracy(&m.test)));
    c.f("macro_f1".into(), Some(stats::macro_f1(&m.test)));
    c.f("roc_auc".into(), stats::roc_auc_ovr(&m.test));
    per_image(c, Some(&m.test))?;
    c.fill_nulls(before + 1);
    Ok(())
}

/// How the majority-class baseline appears in the `model` column (which
/// class it predicts is in [`Majority::class`]).
pub const MAJORITY_LABEL: &str = "majority class";

/// The gathered schema with no rows (an experiment without model stages).
fn empty_frame() -> DataFrame {
    let mut cols = vec![
        Column::new_empty("dataset".into(), &DataType::String),
        Column::new_empty("config".into(), &DataType::String),
        Column::new_empty("model".into(), &DataType::String),
        Column::new_empty("arch".into(), &DataType::String),
        Column::new_empty("depth".into(), &DataType::Int64),
        Column::new_empty("method".into(), &DataType::String),
        Column::new_empty("temperature".into(), &DataType::Float64),
        Column::new_empty("alpha".into(), &DataType::Float64),
        Column::new_empty("control".into(), &DataType::Boolean),
        Column::new_empty("seed".into(), &DataType::Int64),
        Column::new_empty("params".into(), &DataType::Int64),
        Column::new_empty("macs".into(), &DataType::Int64),
    ];
    let floats = metric_columns();
    cols.extend(
        floats
            .iter()
            .map(|n| Column::new_empty(n.as_str().into(), &DataType::Float64)),
    );
    cols.push(Column::new_empty("n_test".into(), &DataType::Int64));
    for n in ["accuracy_wilson_lo", "accuracy_wilson_hi"] {
        cols.push(Column::new_empty(n.into(), &DataType::Float64));
    }
    cols.push(Column::new_empty("collapsed".into(), &DataType::Boolean));
    cols.push(Column::new_empty("timing_label".into(), &DataType::String));
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
