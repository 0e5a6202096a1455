//! `kdpipe why EXP STAGE`: the field-by-field difference between a stage's
//! fingerprint inputs now and the last manifest published under its name.

use anyhow::anyhow;
use engine::plan::{diff_inputs, previous_manifest};
use engine::store::Integrity;

use crate::cli::{GlobalArgs, WhyArgs};
use crate::exit::{self, CmdResult, Failure};
use crate::session;

pub fn why(args: WhyArgs, global: &GlobalArgs) -> CmdResult {
    let study = session::load(&args.experiment, global)?;
    let Some(spec) = study.specs.iter().find(|s| s.name == args.stage) else {
        return Err(Failure::bad_input(anyhow!(
            "no stage named `{}` in {}{}",
            args.stage,
            args.experiment.display(),
            suggestions(&args.stage, study.specs.iter().map(|s| s.name.as_str()))
        )));
    };
    let now = spec.fingerprint_inputs();
    let fp = now.fingerprint();
    let integrity = study.store.check(&fp);
    if let Integrity::Corrupt(c) = &integrity {
        println!("{}: will run (corrupt: {c})", spec.name);
        println!("  fingerprint {fp}");
        return Ok(exit::OK);
    }
    let published = integrity == Integrity::Intact;
    let Some(prev) = previous_manifest(&study.store, &spec.name) else {
        println!(
            "{}: new: no artifact was ever published under this name",
            spec.name
        );
        println!("  fingerprint {fp}");
        return Ok(exit::OK);
    };
    if prev.fingerprint == fp {
        let state = if published {
            "cached"
        } else {
            "will run (artifact missing)"
        };
        println!(
            "{}: {state}: inputs unchanged since {}",
            spec.name, prev.finished_at
        );
        println!("  fingerprint {fp}");
        return Ok(exit::OK);
    }
    let state = if published {
        "cached (an identical artifact exists)"
    } else {
        "will run"
    };
    println!("{}: {state}", spec.name);
    println!(
        "  last published {} ({})",
        prev.fingerprint.short(),
        prev.finished_at
    );
    println!("  now            {}", fp.short());
    for change in diff_inputs(&prev.inputs, &now) {
        println!(
            "  {}: {} -> {}",
            change.path,
            field_value(&change.old),
            field_value(&change.new)
        );
    }
    Ok(exit::OK)
}

/// A changed field's value as `why` and `diff` print it: upstream
/// fingerprints and input hashes as 12 hex digits, as everywhere else in the
/// output; `(absent)` for a field one side lacks.
pub(super) fn field_value(v: &Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(h))
            if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            h[..12].to_owned()
        }
        Some(v) => v.to_string(),
        None => "(absent)".to_owned(),
    }
}

/// ", did you mean: a, b" for names containing the query's last component.
fn suggestions<'a>(query: &str, names: impl Iterator<Item = &'a str>) -> String {
    let needle = query.rsplit('/').next().unwrap_or(query);
    let close: Vec<&str> = names.filter(|n| n.contains(needle)).take(5).collect();
    if close.is_empty() {
        "; `kdpipe status` lists the stages".to_owned()
    } else {
        format!("; did you mean: {}", close.join(", "))
    }
}
