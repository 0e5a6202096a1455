//! Validation of the top-level keys every study shares: `seeds` and
//! `[executor]` (`name` is [`Checker::name`]).

use super::check::Checker;
use super::locate::KeyPath;
use super::resolved::{ExecutorConfig, ExecutorKind};
use super::schema::ExecutorTable;

/// `seeds`: non-empty, each at least 0, distinct (kept in file order).
pub(crate) fn seeds(c: &mut Checker<'_>, seeds: &[i64]) -> Vec<u64> {
    let path = KeyPath::default().key("seeds");
    if seeds.is_empty() {
        c.report(&path, None, "must hold at least one seed");
    }
    let mut out = Vec::new();
    for (i, &s) in seeds.iter().enumerate() {
        let p = path.index(i);
        let s = c.u64(&p, s);
        if out.contains(&s) {
            c.report(&p, None, format!("duplicate seed {s}"));
        } else {
            out.push(s);
        }
    }
    out
}

/// `[executor]`: a known kind, and values safe to pass to `sbatch`.
pub(crate) fn executor(c: &mut Checker<'_>, e: &ExecutorTable) -> ExecutorConfig {
    let base = KeyPath::default().key("executor");
    let kind = c
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
                c.report(&base.key(key), None, must.to_owned());
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
