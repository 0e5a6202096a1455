//! The finding at the top of the report: per data set the teacher and the
//! student of each depth selected on validation (`Tables::headline`'s
//! `selected` rows), with their accuracy and macro-F1 intervals, their paired
//! comparisons with the teacher and the control, explain-time ratios and
//! Grad-CAM agreement with the teacher; and one sentence per data set that
//! says no more than the comparisons' verdicts do.

use polars::prelude::*;

use super::format::{interval, plain, times};
use super::frame::{bools, floats, strs};
use crate::tables::Tables;

/// A paired comparison of a selected student: accuracy difference (student
/// minus reference) with its interval, and the verdict.
#[derive(Debug, Clone)]
pub(crate) struct Paired {
    pub diff: Option<f64>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    pub verdict: String,
}

/// One model of the finding.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub dataset: String,
    pub config: String,
    /// `None` for the teacher; else (depth, temperature, alpha).
    pub student: Option<(i64, f64, f64)>,
    /// The distillation method (`[sweep] method`); `None` for the teacher.
    pub method: Option<String>,
    pub n_seeds: Option<f64>,
    /// Seeds on which the model predicts a single class for every image.
    pub n_collapsed: Option<f64>,
    pub accuracy: [Option<f64>; 3],
    pub macro_f1: [Option<f64>; 3],
    pub gradcam_s: Option<f64>,
    pub ratio_gradcam: Option<f64>,
    pub ratio_eg: Option<f64>,
    pub pearson: Option<f64>,
    pub iou: Option<f64>,
    pub vs_teacher: Option<Paired>,
    pub vs_control: Option<Paired>,
}

impl Row {
    /// ` (it predicts one class for every test image on 2 of 3 seeds)`,
    /// or nothing: an accuracy from a collapsed model means little.
    fn collapse_note(&self) -> String {
        match (self.n_collapsed, self.n_seeds) {
            (Some(k), Some(n)) if k > 0.0 => format!(
                " (it predicts one class for every test image on {k} of {n} seed{})",
                if n == 1.0 { "" } else { "s" }
            ),
            _ => String::new(),
        }
    }

    /// `teacher`, `depth-1 student (T=4, α=0.5)`, `depth-1 fitnets student
    /// (T=4, α=0.5)` (the method named unless it is Hinton's).
    pub(crate) fn label(&self) -> String {
        match self.student {
            None => "teacher".to_owned(),
            Some((d, t, a)) => format!(
                "depth-{d} {}student (T={}, α={})",
                self.method_prefix(),
                plain(t),
                plain(a)
            ),
        }
    }

    /// `"FitNets "`, `"AT "`, `"DKD "`, or nothing for Hinton's method (the
    /// default, unnamed as in the stage names).
    pub(crate) fn method_prefix(&self) -> String {
        match self.method.as_deref() {
            None | Some("hinton") => String::new(),
            Some("fitnets") => "FitNets ".to_owned(),
            Some("at") => "AT ".to_owned(),
            Some("dkd") => "DKD ".to_owned(),
            Some(m) => format!("{m} "),
        }
    }
}

/// The comparison of the selected student of (`dataset`, `depth`) against
/// `versus` (`teacher` | `control`).
fn paired(
    cmp: &DataFrame,
    dataset: &str,
    depth: i64,
    method: Option<&str>,
    versus: &str,
) -> PolarsResult<Option<Paired>> {
    let ds = strs(cmp, "dataset")?;
    let methods = strs(cmp, "method")?;
    let depths = floats(cmp, "depth")?;
    let vs = strs(cmp, "versus")?;
    let selected = bools(cmp, "selected")?;
    let (d, lo, hi) = (
        floats(cmp, "d_accuracy_mean")?,
        floats(cmp, "d_accuracy_lo")?,
        floats(cmp, "d_accuracy_hi")?,
    );
    let verdicts = strs(cmp, "verdict")?;
    Ok((0..cmp.height())
        .find(|&i| {
            selected[i]
                && ds[i].as_deref() == Some(dataset)
                && depths[i] == Some(depth as f64)
                && (method.is_none() || methods[i].as_deref() == method)
                && vs[i].as_deref() == Some(versus)
        })
        .map(|i| Paired {
            diff: d[i],
            lo: lo[i],
            hi: hi[i],
            verdict: verdicts[i].clone().unwrap_or_default(),
        }))
}

/// The finding's rows, in summary order (data set, teacher, depth).
pub(crate) fn rows(t: &Tables) -> PolarsResult<Vec<Row>> {
    let s = &t.summary;
    let models = strs(s, "model")?;
    let selected = bools(s, "selected")?;
    let ds = strs(s, "dataset")?;
    let configs = strs(s, "config")?;
    let depth = floats(s, "depth")?;
    let temp = floats(s, "temperature")?;
    let alpha = floats(s, "alpha")?;
    let methods = strs(s, "method")?;
    let n_seeds = floats(s, "n_seeds")?;
    let n_collapsed = floats(s, "n_collapsed")?;
    let col3 = |m: &str| -> PolarsResult<[Vec<Option<f64>>; 3]> {
        Ok([
            floats(s, &format!("{m}_mean"))?,
            floats(s, &format!("{m}_lo"))?,
            floats(s, &format!("{m}_hi"))?,
        ])
    };
    let (acc, f1) = (col3("accuracy")?, col3("macro_f1")?);
    let gradcam = floats(s, "gradcam_s_mean")?;
    let ratio_gradcam = floats(s, "ratio_gradcam")?;
    let ratio_eg = floats(s, "ratio_expected_gradients")?;
    let pearson = floats(s, "agreement_pearson_mean")?;
    let iou = floats(s, "agreement_iou_top10_mean")?;
    let mut out = Vec::new();
    for i in 0..s.height() {
        let teacher = models[i].as_deref() == Some("teacher");
        if !teacher && !selected[i] {
            continue;
        }
        let dataset = ds[i].clone().unwrap_or_default();
        let student = match (teacher, depth[i], temp[i], alpha[i]) {
            (false, Some(d), Some(t), Some(a)) => Some((d as i64, t, a)),
            _ => None,
        };
        let method = methods[i].clone().filter(|_| !teacher);
        let (vs_teacher, vs_control) = match student {
            Some((d, _, _)) => (
                paired(&t.comparisons, &dataset, d, method.as_deref(), "teacher")?,
                paired(&t.comparisons, &dataset, d, method.as_deref(), "control")?,
            ),
            None => (None, None),
        };
        out.push(Row {
            config: configs[i].clone().unwrap_or_default(),
            student,
            method,
            n_seeds: n_seeds[i],
            n_collapsed: n_collapsed[i],
            accuracy: [acc[0][i], acc[1][i], acc[2][i]],
            macro_f1: [f1[0][i], f1[1][i], f1[2][i]],
            gradcam_s: gradcam[i],
            ratio_gradcam: ratio_gradcam[i].filter(|_| !teacher),
            ratio_eg: ratio_eg[i].filter(|_| !teacher),
            pearson: pearson[i],
            iou: iou[i],
            vs_teacher,
            vs_control,
            dataset,
        });
    }
    Ok(out)
}

/// What a verdict on accuracy against `reference` lets the page say.
pub(crate) fn verdict_phrase(verdict: &str, reference: &str, margin: f64) -> String {
    let m = plain(margin);
    match verdict {
        "equivalent" => format!("is equivalent to the {reference} in accuracy within ±{m}"),
        "better" => format!("is more accurate than the {reference}"),
        "worse" => format!("is less accurate than the {reference}"),
        _ => format!(
            "is neither shown equivalent to the {reference} within ±{m} nor shown different from it"
        ),
    }
}

/// One sentence on `dataset`: the teacher's accuracy, then per selected
/// student its verdict against the teacher (with the paired difference) and
/// its Grad-CAM time relative to the teacher's.
pub(crate) fn sentence(rows: &[Row], dataset: &str, margin: f64) -> String {
    let of_ds: Vec<&Row> = rows.iter().filter(|r| r.dataset == dataset).collect();
    let teacher = of_ds.iter().find(|r| r.student.is_none());
    let head = match teacher.filter(|t| t.accuracy[0].is_some()) {
        Some(t) => format!(
            "On {dataset}, the teacher's test accuracy is {}{}",
            interval(t.accuracy[0], t.accuracy[1], t.accuracy[2]),
            t.collapse_note()
        ),
        None => format!("On {dataset}, the teacher has not been evaluated yet"),
    };
    let clauses: Vec<String> = of_ds
        .iter()
        .filter(|r| r.student.is_some())
        .map(|r| {
            let against = match &r.vs_teacher {
                Some(p) => format!(
                    "{} (accuracy difference {})",
                    verdict_phrase(&p.verdict, "teacher", margin),
                    interval(p.diff, p.lo, p.hi)
                ),
                None => format!(
                    "has accuracy {} (no paired comparison with the teacher yet)",
                    interval(r.accuracy[0], r.accuracy[1], r.accuracy[2])
                ),
            };
            let cost = match r.ratio_gradcam {
                Some(x) => format!(", at {} the teacher's Grad-CAM time", times(Some(x))),
                None => String::new(),
            };
            format!("the {}{} {against}{cost}", r.label(), r.collapse_note())
        })
        .collect();
    if clauses.is_empty() {
        return format!(
            "{head}; no distilled student has validation scores yet, so none is selected."
        );
    }
    format!("{head}; {}.", clauses.join("; "))
}
