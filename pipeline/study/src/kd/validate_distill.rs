//! Validation of the `[sweep] method` axis and of `[distill]`
//! ([`super::schema_distill`]): every value checked, every problem named by
//! its key and value.

use super::params::{Arch, DistillMethod, DistillSource, DkdParams};
use super::resolved::{DistillConfig, ModelConfig};
use super::schema_distill::DistillTable;
use crate::experiment::check::Checker;
use crate::experiment::locate::KeyPath;

/// `[sweep] method`: known names, no duplicates, in file order.
pub(crate) fn methods(c: &mut Checker<'_>, values: &[String]) -> Vec<DistillMethod> {
    let p = KeyPath::default().key("sweep").key("method");
    if values.is_empty() {
        c.report(&p, None, "empty sweep axis: give at least one value");
    }
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let k = p.index(i);
        let allowed = DistillMethod::ALL.map(|m| (m.name(), m));
        if let Some(m) = c.choice(&k, v, &allowed) {
            if out.contains(&m) {
                c.report(&k, None, format!("duplicate value \"{v}\""));
            } else {
                out.push(m);
            }
        }
    }
    out
}

/// `[distill]` for the swept `methods`, student `depths` and `teacher`.
/// Block numbers are checked against the shallowest student and the
/// teacher only for the methods the sweep lists.
pub(crate) fn distill(
    c: &mut Checker<'_>,
    t: &DistillTable,
    methods: &[DistillMethod],
    depths: &[u32],
    teacher: &ModelConfig,
) -> DistillConfig {
    let p = KeyPath::default().key("distill");
    let source = c
        .choice(
            &p.key("source"),
            &t.source,
            &[DistillSource::Cached, DistillSource::Online].map(|s| (s.name(), s)),
        )
        .unwrap_or(DistillSource::Cached);

    // Feature methods pair block k of student and teacher: both CNNs.
    let method_key = KeyPath::default().key("sweep").key("method");
    for (i, m) in methods.iter().enumerate() {
        if m.needs_features() && teacher.model.arch != Arch::Cnn {
            c.report(
                &method_key.index(i),
                Some(format!("\"{}\"", m.name())),
                format!(
                    "needs a \"cnn\" teacher (it pairs block k of student and teacher, \
                     which have the same resolution only in the cnn); teacher.arch is {}",
                    serde_json::to_string(&teacher.model.arch).unwrap_or_default()
                ),
            );
        }
    }
    // The largest block every student and a CNN teacher have.
    let shallowest = depths.iter().copied().min().unwrap_or(1);
    let max_block = match teacher.model.arch {
        Arch::Cnn => shallowest.min(teacher.model.depth.max(1)),
        _ => shallowest,
    };
    let block = |c: &mut Checker<'_>, key: &KeyPath, v: i64, checked: bool| -> u32 {
        if v < 1 || (checked && v > i64::from(max_block)) {
            c.report(
                key,
                Some(v.to_string()),
                format!(
                    "must be between 1 and {max_block} (the shallowest swept depth, \
                     and the teacher's depth)"
                ),
            );
            return 1;
        }
        u32::try_from(v).unwrap_or(1)
    };

    let fp = p.key("fitnets");
    let fitnets = methods.contains(&DistillMethod::Fitnets);
    let fitnets_block = match &t.fitnets.block {
        toml::Value::String(s) if s == "last" => None,
        toml::Value::Integer(i) => Some(block(c, &fp.key("block"), *i, fitnets)),
        other => {
            c.report(
                &fp.key("block"),
                Some(other.to_string()),
                "must be an integer of at least 1 or \"last\"",
            );
            None
        }
    };
    let hint_weight = non_negative(c, &fp.key("hint_weight"), t.fitnets.hint_weight);

    let ap = p.key("at");
    let at = methods.contains(&DistillMethod::At);
    let at_blocks = match &t.at.blocks {
        toml::Value::String(s) if s == "all" => None,
        toml::Value::Array(items) if !items.is_empty() => {
            let mut out: Vec<u32> = Vec::new();
            for (i, v) in items.iter().enumerate() {
                let k = ap.key("blocks").index(i);
                match v {
                    toml::Value::Integer(n) => {
                        let b = block(c, &k, *n, at);
                        if out.contains(&b) {
                            c.report(&k, None, format!("duplicate block {b}"));
                        } else {
                            out.push(b);
                        }
                    }
                    other => c.report(
                        &k,
                        Some(other.to_string()),
                        "must be an integer of at least 1",
                    ),
                }
            }
            out.sort_unstable();
            Some(out)
        }
        other => {
            c.report(
                &ap.key("blocks"),
                Some(other.to_string()),
                "must be \"all\" or a non-empty list of blocks (integers of at least 1)",
            );
            None
        }
    };
    let at_p = c.float(&ap.key("p"), t.at.p, t.at.p >= 1.0, "at least 1");
    let at_beta = non_negative(c, &ap.key("beta"), t.at.beta);

    let dp = p.key("dkd");
    let dkd = DkdParams {
        alpha: non_negative(c, &dp.key("alpha"), t.dkd.alpha),
        beta: non_negative(c, &dp.key("beta"), t.dkd.beta),
        warmup_epochs: c.u32(&dp.key("warmup_epochs"), t.dkd.warmup_epochs, 0),
    };
    DistillConfig {
        source,
        fitnets_block,
        hint_weight,
        at_blocks,
        at_p,
        at_beta,
        dkd,
    }
}

fn non_negative(c: &mut Checker<'_>, key: &KeyPath, v: f64) -> f64 {
    c.float(key, v, v >= 0.0, "at least 0")
}
