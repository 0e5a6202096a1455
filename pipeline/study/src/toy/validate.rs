//! Validation of the toy study: the file as written ([`super::schema`]) into
//! [`super::ToyStudy`], every problem collected.

use std::collections::BTreeSet;
use std::path::Path;

use super::resolved::ToyStudy;
use super::schema::ToyFile;
use crate::experiment::check::Checker;
use crate::experiment::locate::{Doc, KeyPath};
use crate::experiment::validate;
use crate::experiment::{Experiment, Problem, Study};

/// The largest |toy value| whose square (plus the < 100 picked value) fits
/// in an i64: floor(sqrt(i64::MAX - 99)).
pub(crate) const MAX_TOY_VALUE: i64 = 3_037_000_499;

/// The toy file as written into a validated experiment, or every problem.
pub(crate) fn validate_toy(
    path: &Path,
    doc: &Doc<'_>,
    f: ToyFile,
) -> Result<Experiment, Vec<Problem>> {
    let mut c = Checker::new(doc);
    let root = KeyPath::default();
    let name = c.name(&root.key("name"), f.name.as_deref());
    let seeds = validate::seeds(&mut c, &f.seeds);
    let executor = validate::executor(&mut c, &f.executor);
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
    // `toy.square` computes x * x + pick (pick < 100) and `toy.sum` adds
    // them up, in i64: refuse values whose results would overflow rather
    // than let them wrap silently.
    let mut total: i128 = 0;
    for (i, &v) in values.iter().enumerate() {
        let sq = i128::from(v) * i128::from(v) + 99;
        total += sq;
        if sq > i128::from(i64::MAX) {
            c.report(
                &p.key("values").index(i),
                None,
                format!(
                    "{v}: its square overflows a 64-bit integer (|value| must be at most {MAX_TOY_VALUE})"
                ),
            );
        } else if total > i128::from(i64::MAX) {
            c.report(
                &p.key("values").index(i),
                None,
                format!("{v}: the sum of the squares up to here overflows a 64-bit integer"),
            );
            break;
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
