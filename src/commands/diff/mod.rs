//! `kdpipe diff EXP STAGE_A STAGE_B`: two stages of one experiment side by
//! side. First every input field that differs (params, upstream stages,
//! code version; as `why` shows them), then, for two models (or their
//! evaluate stages), their test metrics with the difference B − A and, when
//! both wrote per-image predictions, the paired-bootstrap interval of the
//! accuracy difference on the same test images.

use anyhow::anyhow;
use engine::plan::diff_inputs;
use engine::StageSpec;
use study::contract::artifacts::{Metrics, Predictions};

use super::why::field_value;
use crate::cli::{DiffArgs, GlobalArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session::{self, Study};
use crate::tables::{read_artifact, read_predictions_of, to_stats};

pub fn diff(args: DiffArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let find = |name: &str| -> Result<&StageSpec, Failure> {
        study.specs.iter().find(|s| s.name == name).ok_or_else(|| {
            Failure::bad_input(anyhow!(
                "{} has no stage '{name}' (`kdpipe status` lists them)",
                args.experiment.display()
            ))
        })
    };
    let (a, b) = (find(&args.a)?, find(&args.b)?);
    let changes = diff_inputs(&a.fingerprint_inputs(), &b.fingerprint_inputs());
    let mut out = String::new();
    out.push_str(&format!("{} (A) vs {} (B)\n", a.name, b.name));
    if changes.is_empty() {
        out.push_str("  inputs: identical (same fingerprint)\n");
    } else {
        out.push_str("  inputs that differ (A -> B):\n");
        for c in &changes {
            out.push_str(&format!(
                "    {}: {} -> {}\n",
                c.path,
                field_value(&c.old),
                field_value(&c.new)
            ));
        }
    }
    let (ea, eb) = (evaluate_of(&study, a), evaluate_of(&study, b));
    let metrics = |e: Option<&StageSpec>| -> Result<Option<Metrics>, Failure> {
        read_artifact(&study.store, e.map(StageSpec::fingerprint).as_ref())
            .map_err(|e| Failure::from(anyhow::Error::from(e)))
    };
    if let (Some(ma), Some(mb)) = (metrics(ea)?, metrics(eb)?) {
        out.push_str("  test metrics (A, B, B - A):\n");
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
        for (name, va, vb) in rows {
            if let (Some(va), Some(vb)) = (va, vb) {
                out.push_str(&format!(
                    "    {name:18} {va:>8.4} {vb:>8.4} {:>+9.4}\n",
                    vb - va
                ));
            }
        }
        let preds = |e: Option<&StageSpec>| -> Result<Option<Predictions>, Failure> {
            read_predictions_of(&study.store, e.map(StageSpec::fingerprint).as_ref())
                .map_err(|e| Failure::from(anyhow::Error::from(e)))
        };
        if let (Some(pa), Some(pb)) = (preds(ea)?, preds(eb)?) {
            if pa.test.hashes == pb.test.hashes {
                let (sa, sb) = (
                    to_stats(&pa.test).map_err(|e| Failure::from(anyhow::Error::from(e)))?,
                    to_stats(&pb.test).map_err(|e| Failure::from(anyhow::Error::from(e)))?,
                );
                let boot = stats::bootstrap_paired_difference(
                    &[sb],
                    &[sa],
                    stats::Metric::Accuracy,
                    stats::BootstrapConfig::default(),
                )
                .and_then(|d| d.interval(0.95).map(|i| (d.estimate, i)));
                if let Ok((est, i)) = boot {
                    out.push_str(&format!(
                        "  accuracy B - A on the same {} test images: {est:+.4} [{:+.4}, {:+.4}] \
                         (95 % paired bootstrap, {} resamples)\n",
                        pa.test.len(),
                        i.lower,
                        i.upper,
                        stats::DEFAULT_RESAMPLES
                    ));
                }
            } else {
                out.push_str("  (not scored on the same test images: no paired interval)\n");
            }
        }
    } else if ea.is_some() || eb.is_some() {
        out.push_str("  test metrics: not computed yet for both (run them first)\n");
    }
    print!("{out}");
    Ok(exit::OK)
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
