//! Targets: the part of a study a command works on. A target is a stage
//! name or a glob (`*`, `?`, as `--force`); the selection is every matching
//! stage and everything upstream of it, in the specs' order, so
//! `kdpipe run EXP 'model/*'` builds those stages and what they need
//! (DVC's `repro STAGE`, Snakemake's targets).

use std::collections::{HashMap, HashSet};

use crate::plan::glob_match;
use crate::{Fingerprint, StageSpec};

/// A target that names no stage of the study.
#[derive(Debug, thiserror::Error)]
#[error("target '{pattern}' matches no stage of this study (see `kdpipe status` for the names)")]
pub struct NoSuchTarget {
    pub pattern: String,
}

/// The stages `patterns` select with their upstream closure; all of
/// `specs` when `patterns` is empty. Each pattern must match at least one
/// stage.
pub fn select_targets(
    specs: Vec<StageSpec>,
    patterns: &[String],
) -> Result<Vec<StageSpec>, NoSuchTarget> {
    if patterns.is_empty() {
        return Ok(specs);
    }
    for p in patterns {
        if !specs.iter().any(|s| glob_match(p, &s.name)) {
            return Err(NoSuchTarget { pattern: p.clone() });
        }
    }
    let fps: Vec<Fingerprint> = specs.iter().map(StageSpec::fingerprint).collect();
    let by_fp: HashMap<&Fingerprint, usize> = fps.iter().enumerate().map(|(i, f)| (f, i)).collect();
    let mut keep: HashSet<usize> = HashSet::new();
    let mut todo: Vec<usize> = specs
        .iter()
        .enumerate()
        .filter(|(_, s)| patterns.iter().any(|p| glob_match(p, &s.name)))
        .map(|(i, _)| i)
        .collect();
    while let Some(i) = todo.pop() {
        if !keep.insert(i) {
            continue;
        }
        // An upstream fingerprint outside the specs is the planner's
        // problem (it reports it); here it just adds nothing.
        todo.extend(
            specs[i]
                .upstream
                .values()
                .filter_map(|f| by_fp.get(f).copied()),
        );
    }
    Ok(specs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, s)| s)
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec(name: &str, upstream: &[&StageSpec]) -> StageSpec {
        StageSpec {
            name: name.to_owned(),
            kind: "k".to_owned(),
            code_version: 1,
            // Names are not hashed: distinct params keep fingerprints apart.
            params: BTreeMap::from([("id".to_owned(), serde_json::json!(name))]),
            upstream: upstream
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("u{i}"), s.fingerprint()))
                .collect(),
            inputs: BTreeMap::new(),
            input_root: None,
            resources: Default::default(),
        }
    }

    fn names(specs: &[StageSpec]) -> Vec<&str> {
        specs.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn a_target_brings_its_upstream_and_nothing_else() {
        let data = spec("prepare/d", &[]);
        let t0 = spec("model/d/s0", &[&data]);
        let t1 = spec("model/d/s1", &[&data]);
        let s0 = spec("derived/d/s0/x", &[&data, &t0]);
        let e0 = spec("score/derived/d/s0/x", &[&data, &s0]);
        let all = vec![data, t0, t1, s0, e0];
        let got = select_targets(all.clone(), &["model/*".into()]).unwrap();
        assert_eq!(names(&got), ["prepare/d", "model/d/s0", "model/d/s1"]);
        let got = select_targets(all.clone(), &["score/derived/d/s0/x".into()]).unwrap();
        assert_eq!(
            names(&got),
            [
                "prepare/d",
                "model/d/s0",
                "derived/d/s0/x",
                "score/derived/d/s0/x"
            ]
        );
        assert_eq!(select_targets(all.clone(), &[]).unwrap().len(), 5);
        let err = select_targets(all, &["model/*".into(), "modl/*".into()]).unwrap_err();
        assert_eq!(err.pattern, "modl/*");
        assert!(
            err.to_string().contains("'modl/*' matches no stage"),
            "{err}"
        );
    }
}
