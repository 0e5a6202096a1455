//! The stage DAG: specs deduplicated by fingerprint, topologically ordered,
//! with dependency and dependents lookups. Edges are upstream fingerprints,
//! so the graph is known before anything runs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::spec::StageSpec;

/// Stages in topological order (upstream first; ties keep input order).
#[derive(Debug, Clone)]
pub struct Graph<'a> {
    pub(crate) specs: Vec<&'a StageSpec>,
    pub(crate) fps: Vec<Fingerprint>,
    /// Indices of in-graph upstream stages (each `< own index`).
    pub(crate) deps: Vec<Vec<usize>>,
    /// Upstream fingerprints that are not stages of this graph (must be
    /// published already): (stage index, role, fingerprint).
    pub(crate) external: Vec<(usize, String, Fingerprint)>,
    index: HashMap<Fingerprint, usize>,
}

impl<'a> Graph<'a> {
    /// Dedupes `specs` by fingerprint (the first name wins), checks names
    /// are unique per fingerprint and the graph acyclic, and orders it.
    pub fn build(specs: &'a [StageSpec]) -> Result<Graph<'a>> {
        let mut uniq: Vec<(&'a StageSpec, Fingerprint)> = Vec::with_capacity(specs.len());
        let mut seen: HashMap<Fingerprint, usize> = HashMap::with_capacity(specs.len());
        let mut names: HashMap<&str, &Fingerprint> = HashMap::with_capacity(specs.len());
        let fps: Vec<Fingerprint> = specs.iter().map(StageSpec::fingerprint).collect();
        for (spec, fp) in specs.iter().zip(&fps) {
            if let Some(other) = names.insert(spec.name.as_str(), fp) {
                if other != fp {
                    return Err(Error::DuplicateName(spec.name.clone()));
                }
            }
            if !seen.contains_key(fp) {
                seen.insert(fp.clone(), uniq.len());
                uniq.push((spec, fp.clone()));
            }
        }

        // Kahn's algorithm; a min-heap on input position keeps the order stable.
        let n = uniq.len();
        let mut indegree = vec![0usize; n];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, (spec, _)) in uniq.iter().enumerate() {
            for up in spec.upstream.values() {
                if let Some(&j) = seen.get(up) {
                    if j == i {
                        return Err(Error::Cycle(spec.name.clone()));
                    }
                    indegree[i] += 1;
                    children[j].push(i);
                }
            }
        }
        let mut heap: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(i)) = heap.pop() {
            order.push(i);
            for &c in &children[i] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    heap.push(Reverse(c));
                }
            }
        }
        if order.len() != n {
            let stuck = (0..n).find(|&i| indegree[i] > 0).unwrap_or(0);
            return Err(Error::Cycle(uniq[stuck].0.name.clone()));
        }

        let mut slots: Vec<Option<(&'a StageSpec, Fingerprint)>> =
            uniq.into_iter().map(Some).collect();
        let mut g = Graph {
            specs: Vec::with_capacity(n),
            fps: Vec::with_capacity(n),
            deps: Vec::with_capacity(n),
            external: Vec::new(),
            index: HashMap::with_capacity(n),
        };
        for i in order {
            let Some((spec, fp)) = slots[i].take() else {
                continue;
            };
            g.index.insert(fp.clone(), g.specs.len());
            g.specs.push(spec);
            g.fps.push(fp);
        }
        for (i, spec) in g.specs.iter().enumerate() {
            let mut deps = Vec::new();
            for (role, up) in &spec.upstream {
                match g.index.get(up) {
                    Some(&j) => deps.push(j),
                    None => g.external.push((i, role.clone(), up.clone())),
                }
            }
            deps.sort_unstable();
            deps.dedup();
            g.deps.push(deps);
        }
        Ok(g)
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn specs(&self) -> &[&'a StageSpec] {
        &self.specs
    }

    pub fn fingerprints(&self) -> &[Fingerprint] {
        &self.fps
    }

    /// Position of the stage with fingerprint `fp`.
    pub fn position(&self, fp: &Fingerprint) -> Option<usize> {
        self.index.get(fp).copied()
    }

    /// In-graph upstream stages of stage `i`.
    pub fn deps(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }

    /// Every stage downstream of stage `i` (transitively), in order.
    pub fn dependents(&self, i: usize) -> Vec<usize> {
        let mut marked = vec![false; self.len()];
        marked[i] = true;
        let mut out = Vec::new();
        for j in i + 1..self.len() {
            if self.deps[j].iter().any(|&d| marked[d]) {
                marked[j] = true;
                out.push(j);
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::spec::Resources;

    pub(crate) fn stage(name: &str, ups: &[(&str, &StageSpec)]) -> StageSpec {
        StageSpec {
            name: name.into(),
            kind: "toy.gen".into(),
            code_version: 1,
            params: BTreeMap::from([("id".to_string(), serde_json::json!(name))]),
            upstream: ups
                .iter()
                .map(|(r, s)| (r.to_string(), s.fingerprint()))
                .collect(),
            inputs: BTreeMap::new(),
            input_root: None,
            resources: Resources::default(),
        }
    }

    #[test]
    fn topo_order_dedupe_and_dependents() {
        let a = stage("a", &[]);
        let b = stage("b", &[("data", &a)]);
        let c = stage("c", &[("x", &b), ("y", &a)]);
        let d = stage("d", &[]);
        // Given downstream-first, with a duplicate of `a`.
        let input = [c.clone(), b.clone(), a.clone(), d.clone(), a.clone()];
        let g = Graph::build(&input).unwrap();
        let names: Vec<&str> = g.specs().iter().map(|s| s.name.as_str()).collect();
        // Ties go to the earlier input position: c's chain before d.
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(g.deps(2), &[0, 1]);
        assert_eq!(g.dependents(0), vec![1, 2]);
        assert_eq!(g.dependents(3), Vec::<usize>::new());
        assert!(g.external.is_empty());
        assert_eq!(g.position(&b.fingerprint()), Some(1));
    }

    #[test]
    fn external_upstream_is_recorded() {
        let a = stage("a", &[]);
        let b = stage("b", &[("data", &a)]);
        let input = [b];
        let g = Graph::build(&input).unwrap();
        assert_eq!(g.external, vec![(0, "data".to_string(), a.fingerprint())]);
    }

    #[test]
    fn duplicate_name_with_other_fingerprint_is_an_error() {
        let a = stage("a", &[]);
        let mut a2 = stage("a", &[]);
        a2.code_version = 2;
        let err = Graph::build(&[a, a2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stage name `a` is used by two different stages"
        );
    }
}
