//! The [`DiffReport`] of two stages or two experiments.

use std::collections::BTreeMap;

use anyhow::anyhow;
use engine::plan::diff_inputs;
use engine::StageSpec;
use serde::Serialize;
use study::contract::artifacts::{Metrics, Predictions};

use crate::exit::Failure;
use crate::session::Study;
use crate::tables::{read_artifact, read_predictions_of, to_stats};

/// Everything `diff` prints, in every format.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    /// `"stages"` or `"experiments"`.
    pub compares: &'static str,
    pub a: String,
    pub b: String,
    /// Input fields that differ, each with the stages it differs in.
    pub inputs: Vec<InputDiff>,
    /// Stage pairs with the same fingerprint.
    pub identical: usize,
    /// Stages (by name) whose own inputs are the same but whose upstream
    /// differs (experiments only).
    pub upstream_only: Vec<String>,
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    pub metrics: Vec<MetricDiff>,
    pub paired: Vec<PairedDiff>,
    /// Models whose evaluate stage has not run on one side or both.
    pub not_computed: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct InputDiff {
    pub field: String,
    pub a: Option<serde_json::Value>,
    pub b: Option<serde_json::Value>,
    pub stages: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MetricDiff {
    pub model: String,
    pub metric: &'static str,
    pub a: f64,
    pub b: f64,
    pub b_minus_a: f64,
}

/// Accuracy B − A on the same test images, paired bootstrap.
#[derive(Debug, Serialize)]
pub struct PairedDiff {
    pub model: String,
    pub images: usize,
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    pub level: f64,
    pub resamples: usize,
}

fn err(e: impl Into<anyhow::Error>) -> Failure {
    Failure::from(e.into())
}

fn empty(compares: &'static str, a: &str, b: &str) -> DiffReport {
    DiffReport {
        compares,
        a: a.to_owned(),
        b: b.to_owned(),
        inputs: Vec::new(),
        identical: 0,
        upstream_only: Vec::new(),
        only_a: Vec::new(),
        only_b: Vec::new(),
        metrics: Vec::new(),
        paired: Vec::new(),
        not_computed: Vec::new(),
    }
}

/// Two stages of one experiment.
pub fn stages(study: &Study, exp: &str, a: &str, b: &str) -> Result<DiffReport, Failure> {
    let find = |name: &str| -> Result<&StageSpec, Failure> {
        study.specs.iter().find(|s| s.name == name).ok_or_else(|| {
            Failure::bad_input(anyhow!(
                "{exp} has no stage '{name}' (`kdpipe status` lists them)"
            ))
        })
    };
    let (sa, sb) = (find(a)?, find(b)?);
    let mut report = empty("stages", a, b);
    let changes = diff_inputs(&sa.fingerprint_inputs(), &sb.fingerprint_inputs());
    if changes.is_empty() {
        report.identical = 1;
    }
    for c in changes {
        report.inputs.push(InputDiff {
            field: c.path,
            a: c.old,
            b: c.new,
            stages: vec![format!("{a} / {b}")],
        });
    }
    let label = format!("{a} / {b}");
    models(study, sa, study, sb, &label, &mut report)?;
    Ok(report)
}

/// Two whole experiments, stages matched by name.
pub fn experiments(ea: &Study, eb: &Study, a: &str, b: &str) -> Result<DiffReport, Failure> {
    let mut report = empty("experiments", a, b);
    let by_name = |s: &Study| -> BTreeMap<String, StageSpec> {
        s.specs
            .iter()
            .map(|x| (x.name.clone(), x.clone()))
            .collect()
    };
    let (na, nb) = (by_name(ea), by_name(eb));
    report.only_a = na
        .keys()
        .filter(|n| !nb.contains_key(*n))
        .cloned()
        .collect();
    report.only_b = nb
        .keys()
        .filter(|n| !na.contains_key(*n))
        .cloned()
        .collect();
    // (field, A value, B value) → stages, in the order first seen
    let mut groups: Vec<InputDiff> = Vec::new();
    for (name, sa) in &na {
        let Some(sb) = nb.get(name) else { continue };
        if sa.fingerprint() == sb.fingerprint() {
            report.identical += 1;
            continue;
        }
        let own: Vec<_> = diff_inputs(&sa.fingerprint_inputs(), &sb.fingerprint_inputs())
            .into_iter()
            .filter(|c| !c.path.starts_with("upstream."))
            .collect();
        if own.is_empty() {
            report.upstream_only.push(name.clone());
        }
        for c in own {
            match groups
                .iter_mut()
                .find(|g| g.field == c.path && g.a == c.old && g.b == c.new)
            {
                Some(g) => g.stages.push(name.clone()),
                None => groups.push(InputDiff {
                    field: c.path,
                    a: c.old,
                    b: c.new,
                    stages: vec![name.clone()],
                }),
            }
        }
    }
    report.inputs = groups;
    for entry in &ea.index.models {
        let name = &entry.model.name;
        let (Some(sa), Some(sb)) = (na.get(name), nb.get(name)) else {
            continue;
        };
        let same_eval = evaluate_of(ea, sa).map(StageSpec::fingerprint)
            == evaluate_of(eb, sb).map(StageSpec::fingerprint);
        if !same_eval {
            models(ea, sa, eb, sb, name, &mut report)?;
        }
    }
    Ok(report)
}

/// Metrics (and the paired interval) of two model or evaluate stages.
fn models(
    ea: &Study,
    sa: &StageSpec,
    eb: &Study,
    sb: &StageSpec,
    label: &str,
    report: &mut DiffReport,
) -> Result<(), Failure> {
    let (va, vb) = (evaluate_of(ea, sa), evaluate_of(eb, sb));
    if va.is_none() && vb.is_none() {
        return Ok(());
    }
    let metrics = |st: &Study, e: Option<&StageSpec>| -> Result<Option<Metrics>, Failure> {
        read_artifact(&st.store, e.map(StageSpec::fingerprint).as_ref()).map_err(err)
    };
    let (Some(ma), Some(mb)) = (metrics(ea, va)?, metrics(eb, vb)?) else {
        report.not_computed.push(label.to_owned());
        return Ok(());
    };
    let rows = [
        ("accuracy", Some(ma.accuracy), Some(mb.accuracy)),
        ("macro_f1", Some(ma.macro_f1), Some(mb.macro_f1)),
        (
            "balanced_accuracy",
            ma.balanced_accuracy,
            mb.balanced_accuracy,
        ),
        ("roc_auc", ma.roc_auc_macro_ovr, mb.roc_auc_macro_ovr),
        ("val_loss", ma.val_loss, mb.val_loss),
        ("val_accuracy", ma.val_accuracy, mb.val_accuracy),
    ];
    for (metric, x, y) in rows {
        if let (Some(x), Some(y)) = (x, y) {
            report.metrics.push(MetricDiff {
                model: label.to_owned(),
                metric,
                a: x,
                b: y,
                b_minus_a: y - x,
            });
        }
    }
    let preds = |st: &Study, e: Option<&StageSpec>| -> Result<Option<Predictions>, Failure> {
        read_predictions_of(&st.store, e.map(StageSpec::fingerprint).as_ref()).map_err(err)
    };
    let (Some(pa), Some(pb)) = (preds(ea, va)?, preds(eb, vb)?) else {
        return Ok(());
    };
    if pa.test.hashes != pb.test.hashes {
        return Ok(());
    }
    let (xa, xb) = (
        to_stats(&pa.test).map_err(err)?,
        to_stats(&pb.test).map_err(err)?,
    );
    let level = 0.95;
    let boot = stats::bootstrap_paired_difference(
        &[xb],
        &[xa],
        stats::Metric::Accuracy,
        stats::BootstrapConfig::default(),
    )
    .and_then(|d| d.interval(level).map(|i| (d.estimate, i)));
    if let Ok((estimate, i)) = boot {
        report.paired.push(PairedDiff {
            model: label.to_owned(),
            images: pa.test.len(),
            estimate,
            lower: i.lower,
            upper: i.upper,
            level,
            resamples: stats::DEFAULT_RESAMPLES,
        });
    }
    Ok(())
}

/// The evaluate stage of a model stage (or the stage itself if it is one).
fn evaluate_of<'a>(study: &'a Study, spec: &'a StageSpec) -> Option<&'a StageSpec> {
    if spec.kind == "evaluate" {
        return Some(spec);
    }
    let entry = study
        .index
        .models
        .iter()
        .find(|m| m.model.name == spec.name)?;
    study.specs.iter().find(|s| s.name == entry.evaluate.name)
}
