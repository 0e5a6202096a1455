//! Grouping near-duplicates: every pair of [`Fingerprint`]s compared (a
//! popcount of the pHash XOR, then the Pearson correlation for the few
//! that pass), similar pairs joined transitively (union-find) into
//! clusters, and clusters under two labels refused or dropped.
//!
//! Two images are near-duplicates when the Hamming distance of their hashes
//! is at most `max_hamming` AND their Pearson correlation is at least
//! `min_pearson`; the hash is a cheap filter, the correlation rejects
//! different scans whose coarse layout agrees, which is common in MRI (dark
//! background, bright skull).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use study::contract::artifacts::{HashKind, NearDupCounts, NearDupReport};
use study::kd::params::OnLabelConflict;

use super::fingerprint::{fingerprint, pearson, Fingerprint};
use crate::data::grouping_error::GroupingError;
use crate::data::sources::RawItem;

/// Default side of the canonical grayscale image hashed and correlated.
pub const DEFAULT_CANONICAL_SIZE: u32 = 32;
/// Default largest Hamming distance between the pHashes of near-duplicates.
/// On the built-in brain MRI set the 32 similar pairs (checked by eye) are
/// at 0 to 8, every other pair correlating above 0.8 at 14 or more.
pub const DEFAULT_MAX_HAMMING: u32 = 10;
/// Default smallest Pearson correlation (at the canonical size) of
/// near-duplicates. On the built-in set the same-scan pairs correlate
/// 0.986 to 1.0 and the most similar different scans 0.878; the default sits
/// in that gap, away from both ends.
pub const DEFAULT_MIN_PEARSON: f64 = 0.95;

/// Parameters of the near-duplicate pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearDupCfg {
    /// Side of the canonical grayscale image, 16 to 256.
    pub canonical_size: u32,
    /// Largest Hamming distance of the two 64-bit hashes, 0 to 64.
    pub max_hamming: u32,
    /// Smallest Pearson correlation at the canonical size, in (0, 1].
    pub min_pearson: f64,
    pub on_label_conflict: OnLabelConflict,
}

impl Default for NearDupCfg {
    fn default() -> Self {
        NearDupCfg {
            canonical_size: DEFAULT_CANONICAL_SIZE,
            max_hamming: DEFAULT_MAX_HAMMING,
            min_pearson: DEFAULT_MIN_PEARSON,
            on_label_conflict: OnLabelConflict::Error,
        }
    }
}

impl NearDupCfg {
    /// Checks the ranges documented on the fields.
    pub fn validate(&self) -> Result<(), GroupingError> {
        let param = |key, value: String, reason| GroupingError::Param { key, value, reason };
        if !(16..=256).contains(&self.canonical_size) {
            return Err(param(
                "canonical_size",
                self.canonical_size.to_string(),
                "must be in 16..=256",
            ));
        }
        if self.max_hamming > 64 {
            return Err(param(
                "max_hamming",
                self.max_hamming.to_string(),
                "must be in 0..=64",
            ));
        }
        if !(self.min_pearson > 0.0 && self.min_pearson <= 1.0) {
            return Err(param(
                "min_pearson",
                self.min_pearson.to_string(),
                "must be in (0, 1]",
            ));
        }
        Ok(())
    }
}

/// Kept items with their group ids, and the report.
pub(crate) struct NearDupOutcome {
    /// The kept items, sorted by key.
    pub items: Vec<RawItem>,
    /// `groups[i]`: group of `items[i]`, the index in `items` of the group's
    /// first member (so an ungrouped image is its own group).
    pub groups: Vec<usize>,
    pub report: NearDupReport,
}

/// A similar pair: indices `i < j`, Hamming distance and correlation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Edge {
    pub i: usize,
    pub j: usize,
    pub hamming: u32,
    pub pearson: f64,
}

/// All similar pairs among `fps` (`None` = not decodable), sorted by (i, j).
/// Every pair is checked: one popcount, then a `size`²-term dot product for the
/// few that pass it.
pub(crate) fn similar_pairs(fps: &[Option<Fingerprint>], cfg: &NearDupCfg) -> Vec<Edge> {
    (0..fps.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let a = fps[i].as_ref();
            (i + 1..fps.len()).filter_map(move |j| {
                let (a, b) = (a?, fps[j].as_ref()?);
                let hamming = (a.phash ^ b.phash).count_ones();
                if hamming > cfg.max_hamming {
                    return None;
                }
                let pearson = pearson(a, b);
                (pearson >= cfg.min_pearson).then_some(Edge {
                    i,
                    j,
                    hamming,
                    pearson,
                })
            })
        })
        .collect()
}

/// Connected components of `n` nodes under `edges`, each sorted, ordered by
/// their smallest member.
pub(crate) fn components(n: usize, edges: &[Edge]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for e in edges {
        let (a, b) = (root(&mut parent, e.i), root(&mut parent, e.j));
        // The smaller index becomes the root, so roots are group minima.
        parent[a.max(b)] = a.min(b);
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for x in 0..n {
        let r = root(&mut parent, x);
        groups.entry(r).or_default().push(x);
    }
    groups.into_values().collect()
}

/// Groups near-duplicates among `items` (labels index `classes`), applies
/// `cfg.on_label_conflict`, and returns the kept items sorted by key with
/// their group ids. Decodes in the current rayon pool.
pub(crate) fn group_near_duplicates(
    mut items: Vec<RawItem>,
    classes: &[String],
    cfg: &NearDupCfg,
) -> Result<NearDupOutcome, GroupingError> {
    cfg.validate()?;
    items.sort_by(|a, b| a.key.cmp(&b.key));
    let fps: Vec<Option<Fingerprint>> = items
        .par_iter()
        .map(|it| fingerprint(&it.content, cfg.canonical_size).ok())
        .collect();
    let undecodable = fps.iter().filter(|f| f.is_none()).count();
    let edges = similar_pairs(&fps, cfg);
    let class_name = |label: usize| {
        classes
            .get(label)
            .cloned()
            .unwrap_or_else(|| label.to_string())
    };

    let mut drop = vec![false; items.len()];
    let mut label_conflicts = Vec::new();
    let comps = components(items.len(), &edges);
    for comp in &comps {
        let label = items[comp[0]].label;
        if comp.iter().all(|&i| items[i].label == label) {
            continue;
        }
        match cfg.on_label_conflict {
            OnLabelConflict::Error => {
                // Name a directly similar pair; a connected group with two
                // labels always holds one. Edges are sorted, so it is the
                // first such pair by key.
                let e = edges
                    .iter()
                    .find(|e| comp.contains(&e.i) && items[e.i].label != items[e.j].label)
                    .copied()
                    .unwrap_or(Edge {
                        i: comp[0],
                        j: comp[comp.len() - 1],
                        hamming: 0,
                        pearson: 0.0,
                    });
                let (a, b) = (&items[e.i], &items[e.j]);
                return Err(GroupingError::LabelConflict {
                    first: a.key.clone(),
                    first_label: class_name(a.label),
                    second: b.key.clone(),
                    second_label: class_name(b.label),
                    hamming: e.hamming,
                    pearson: e.pearson,
                });
            }
            OnLabelConflict::Drop => {
                for &i in comp {
                    drop[i] = true;
                }
                label_conflicts.push(comp.iter().map(|&i| items[i].key.clone()).collect());
            }
        }
    }

    // New index of every kept item (items stay sorted by key).
    let mut new_index = vec![usize::MAX; items.len()];
    let mut next = 0;
    for (i, d) in drop.iter().enumerate() {
        if !d {
            new_index[i] = next;
            next += 1;
        }
    }
    let mut groups = vec![0; next];
    let mut clusters = Vec::new();
    for comp in comps.iter().filter(|c| !drop[c[0]]) {
        for &i in comp {
            groups[new_index[i]] = new_index[comp[0]];
        }
        if comp.len() >= 2 {
            clusters.push(
                comp.iter()
                    .map(|&i| items[i].key.clone())
                    .collect::<Vec<_>>(),
            );
        }
    }
    let counts = NearDupCounts {
        clusters: clusters.len(),
        images_in_clusters: clusters.iter().map(Vec::len).sum(),
        dropped_label_conflict: drop.iter().filter(|&&d| d).count(),
        undecodable,
    };
    let kept: Vec<RawItem> = items
        .into_iter()
        .zip(&drop)
        .filter(|&(_, &d)| !d)
        .map(|(it, _)| it)
        .collect();
    Ok(NearDupOutcome {
        items: kept,
        groups,
        report: NearDupReport {
            hash: HashKind::DctPhash64,
            canonical_size: cfg.canonical_size,
            max_hamming: cfg.max_hamming,
            min_pearson: cfg.min_pearson,
            on_label_conflict: cfg.on_label_conflict,
            exif_orientation: true,
            clusters,
            label_conflicts,
            counts,
        },
    })
}
