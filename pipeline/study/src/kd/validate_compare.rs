//! Validation of `[compare]` (the head's statistics; no stage reads it).

use super::resolved::{CompareConfig, SelectOn};
use super::schema::CompareTable;
use crate::experiment::check::Checker;
use crate::experiment::locate::KeyPath;

pub(crate) fn compare(c: &mut Checker<'_>, t: &CompareTable) -> CompareConfig {
    let p = KeyPath::default().key("compare");
    let defaults = CompareConfig::default();
    CompareConfig {
        select_on: c
            .choice(
                &p.key("select_on"),
                &t.select_on,
                &[
                    ("val_loss", SelectOn::ValLoss),
                    ("val_accuracy", SelectOn::ValAccuracy),
                    ("val_balanced_accuracy", SelectOn::ValBalancedAccuracy),
                ],
            )
            .unwrap_or(defaults.select_on),
        equivalence_margin: c.float(
            &p.key("equivalence_margin"),
            t.equivalence_margin,
            t.equivalence_margin > 0.0 && t.equivalence_margin < 1.0,
            "in (0, 1)",
        ),
        confidence: c.float(
            &p.key("confidence"),
            t.confidence,
            t.confidence > 0.5 && t.confidence < 1.0,
            "in (0.5, 1)",
        ),
        bootstrap_resamples: c.u32(&p.key("bootstrap_resamples"), t.bootstrap_resamples, 100),
        bootstrap_seed: c.u64(&p.key("bootstrap_seed"), t.bootstrap_seed),
    }
}
