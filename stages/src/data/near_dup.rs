//! Near-duplicate grouping: the second dedupe pass, on decoded pixels.
//!
//! [`super::split::dedupe`] drops byte-identical files only; the same scan
//! saved as JPEG and PNG, at another resolution or with other margins
//! survives it. This pass decodes every image upright (EXIF orientation
//! applied), converts it to grayscale, crops it to the box around its main
//! object ([`content_box`]; copies of a scan often differ in margins, which
//! drops their correlation from > 0.99 to 0.94), averages that box down to
//! `canonical_size` × `canonical_size` (32 by default, exact area weights)
//! and computes
//! - a 64-bit DCT perceptual hash (pHash: the 8×8 lowest non-zero
//!   frequencies of the 2-D DCT-II, one bit per coefficient, set when it is
//!   above their median), and
//! - the zero-mean, unit-norm pixel vector, whose dot product with another
//!   is their Pearson correlation.
//!
//! Two images are near-duplicates when the Hamming distance of their hashes
//! is at most `max_hamming` AND their Pearson correlation is at least
//! `min_pearson`; the hash is a cheap filter (all pairs, one popcount each),
//! the correlation rejects different scans whose coarse layout agrees, which
//! is common in MRI (dark background, bright skull). Near-duplicates are
//! grouped transitively (union-find). A group whose images carry two labels
//! is an error, or is dropped whole with `on_label_conflict = drop`.
//!
//! Images that cannot be decoded here are left ungrouped: the decode step of
//! `prepare` reports or skips them as before.

use std::collections::BTreeMap;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::decode;
use super::grouping_error::GroupingError;
use super::sources::{Content, RawItem};

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

/// What to do with a group of near-duplicates under two or more labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnLabelConflict {
    /// Fail, naming two similar files with different labels.
    Error,
    /// Drop every image of the group and count them.
    Drop,
}

/// The perceptual hash used as the first filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashKind {
    /// 64-bit DCT pHash of the canonical image (see the module docs).
    #[serde(rename = "dct-phash-64")]
    DctPhash64,
}

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

/// Counts of [`NearDupReport`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearDupCounts {
    /// Groups of two or more images that were kept.
    pub clusters: usize,
    /// Images in those groups.
    pub images_in_clusters: usize,
    /// Images dropped because their group held two labels.
    pub dropped_label_conflict: usize,
    /// Images this pass could not decode (left ungrouped).
    pub undecodable: usize,
}

/// The outcome of the pass, for `dataset.json`. Deterministic: groups are
/// sorted by their first key, keys within a group sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearDupReport {
    pub hash: HashKind,
    pub canonical_size: u32,
    pub max_hamming: u32,
    pub min_pearson: f64,
    pub on_label_conflict: OnLabelConflict,
    /// Always true: the EXIF orientation is applied before hashing.
    pub exif_orientation: bool,
    /// Kept groups of two or more images (keys).
    pub clusters: Vec<Vec<String>>,
    /// Groups dropped for holding two labels (keys), with `drop`.
    pub label_conflicts: Vec<Vec<String>>,
    pub counts: NearDupCounts,
}

/// Kept items with their group ids, and the report.
#[cfg_attr(not(test), expect(dead_code, reason = "not yet wired into `prepare`"))]
pub(crate) struct NearDupOutcome {
    /// The kept items, sorted by key.
    pub items: Vec<RawItem>,
    /// `groups[i]`: group of `items[i]`, the index in `items` of the group's
    /// first member (so an ungrouped image is its own group).
    pub groups: Vec<usize>,
    pub report: NearDupReport,
}

/// What the pairwise test looks at for one image.
#[derive(Debug, Clone)]
pub(crate) struct Fingerprint {
    pub phash: u64,
    /// Zero-mean, unit-norm canonical pixels; `None` for a constant image.
    unit: Option<Vec<f32>>,
    /// Mean intensity in [0, 1] (compares constant images).
    mean: f32,
}

/// Decodes `content` and fingerprints it at `size` × `size`, after cropping
/// it to its [`content_box`].
pub(crate) fn fingerprint(content: &Content, size: u32) -> Result<Fingerprint, String> {
    let img = to_gray(decode::to_upright_image(content)?);
    let px = canonical_pixels(&img, content_box(&img), size);
    Ok(fingerprint_pixels(&px, size as usize))
}

/// Grayscale with the Rec. 709 weights of `to_luma8`, in integers for the
/// common 8-bit layouts (the generic conversion is several times slower);
/// alpha is ignored.
fn to_gray(img: DynamicImage) -> GrayImage {
    let luma = |raw: &[u8], step: usize, w: u32, h: u32| {
        let px = raw
            .chunks_exact(step)
            .map(|p| {
                let y = 2126 * u32::from(p[0]) + 7152 * u32::from(p[1]) + 722 * u32::from(p[2]);
                ((y + 5000) / 10000) as u8
            })
            .collect();
        GrayImage::from_raw(w, h, px)
    };
    let fast = match &img {
        DynamicImage::ImageLuma8(_) => None,
        DynamicImage::ImageRgb8(i) => luma(i.as_raw(), 3, i.width(), i.height()),
        DynamicImage::ImageRgba8(i) => luma(i.as_raw(), 4, i.width(), i.height()),
        _ => None,
    };
    match (fast, img) {
        (Some(g), _) => g,
        (None, DynamicImage::ImageLuma8(g)) => g,
        (None, other) => other.to_luma8(),
    }
}

/// The box `(x, y, w, h)` of `img` as `size` × `size` pixels in [0, 1]:
/// exact area averaging (every source pixel weighs by its overlap with each
/// cell, so the result barely depends on the source resolution) when the
/// box is at least `size` on both sides, a triangle-filter resize otherwise.
fn canonical_pixels(img: &GrayImage, (x0, y0, w, h): (u32, u32, u32, u32), size: u32) -> Vec<f32> {
    if w < size || h < size {
        let crop = image::imageops::crop_imm(img, x0, y0, w, h).to_image();
        let small = image::imageops::resize(&crop, size, size, FilterType::Triangle);
        return small
            .as_raw()
            .iter()
            .map(|&v| f32::from(v) / 255.0)
            .collect();
    }
    let s = size as usize;
    let (wx, wy) = (area_weights(w as usize, s), area_weights(h as usize, s));
    let stride = img.width() as usize;
    let raw = img.as_raw();
    // Rows first: [h, s].
    let mut rows = vec![0f32; h as usize * s];
    for (y, out) in rows.chunks_exact_mut(s).enumerate() {
        let start = (y0 as usize + y) * stride + x0 as usize;
        for (&v, &(cell, a, b)) in raw[start..start + w as usize].iter().zip(&wx) {
            let v = f32::from(v);
            out[cell] += v * a;
            if b > 0.0 {
                out[cell + 1] += v * b;
            }
        }
    }
    let mut px = vec![0f32; s * s];
    for (row, &(cell, a, b)) in rows.chunks_exact(s).zip(&wy) {
        for (x, &v) in row.iter().enumerate() {
            px[cell * s + x] += v * a;
            if b > 0.0 {
                px[(cell + 1) * s + x] += v * b;
            }
        }
    }
    let norm = (w as f32 / s as f32) * (h as f32 / s as f32) * 255.0;
    px.iter().map(|v| v / norm).collect()
}

/// For each of `n` source pixels (n >= s), the output cell its span
/// `[i, i + 1) * s / n` starts in and the shares of it in that cell and the
/// next (the span is at most one cell wide).
fn area_weights(n: usize, s: usize) -> Vec<(usize, f32, f32)> {
    (0..n)
        .map(|i| {
            let (start, end) = (i * s, (i + 1) * s);
            let cell = start / n;
            let boundary = (cell + 1) * n;
            if end <= boundary {
                (cell, 1.0, 0.0)
            } else {
                let first = (boundary - start) as f32 / s as f32;
                (cell, first, 1.0 - first)
            }
        })
        .collect()
}

/// The box `(x, y, width, height)` around the main object of `img`, so that
/// copies of a scan saved with different margins or crops line up. A pixel
/// is bright above a tenth of the way from the 1st to the 99th intensity
/// percentile; a row (column) belongs to the object when its bright-pixel
/// count is at least 5 % of the largest row (column) count, and the box
/// spans the longest run of such rows (columns), which leaves out burnt-in
/// text separated from the object. Both thresholds are relative to the
/// object itself, so the box does not depend on the margin or resolution.
/// An image without such structure keeps its whole frame.
pub(crate) fn content_box(img: &GrayImage) -> (u32, u32, u32, u32) {
    let (w, h) = img.dimensions();
    let whole = (0, 0, w, h);
    let mut hist = [0usize; 256];
    for &v in img.as_raw() {
        hist[v as usize] += 1;
    }
    let n = img.as_raw().len();
    let percentile = |q: f64| {
        let target = (n as f64 * q) as usize;
        let mut seen = 0;
        for (v, &c) in hist.iter().enumerate() {
            seen += c;
            if seen > target {
                return v as u8;
            }
        }
        255
    };
    let (lo, hi) = (percentile(0.01), percentile(0.99));
    if hi <= lo {
        return whole;
    }
    let t = lo + (hi - lo) / 10;
    let (mut rows, mut cols) = (vec![0usize; h as usize], vec![0usize; w as usize]);
    for (yy, row) in img.as_raw().chunks_exact(w as usize).enumerate() {
        for (xx, &v) in row.iter().enumerate() {
            if v > t {
                rows[yy] += 1;
                cols[xx] += 1;
            }
        }
    }
    let run = |counts: &[usize]| -> Option<(u32, u32)> {
        let limit = (counts.iter().max().copied().unwrap_or(0) as f64 * 0.05).max(1.0);
        let (mut best, mut start) = (None::<(usize, usize)>, None);
        for (i, &c) in counts.iter().chain(std::iter::once(&0)).enumerate() {
            match (c as f64 >= limit, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if best.is_none_or(|(bs, be)| i - s > be - bs) {
                        best = Some((s, i));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        best.map(|(s, e)| (s as u32, (e - s) as u32))
    };
    match (run(&cols), run(&rows)) {
        // A box of a few pixels is noise, not an object.
        (Some((x, bw)), Some((y, bh))) if bw >= 8 && bh >= 8 => (x, y, bw, bh),
        _ => whole,
    }
}

/// Fingerprint of a canonical grayscale image, `px`: [size * size] in [0, 1].
fn fingerprint_pixels(px: &[f32], size: usize) -> Fingerprint {
    let n = px.len() as f64;
    let mean = px.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let centred: Vec<f64> = px.iter().map(|&v| f64::from(v) - mean).collect();
    let norm = centred.iter().map(|v| v * v).sum::<f64>().sqrt();
    // Below half a grey level of spread per pixel the image is flat.
    let unit = (norm > 0.5 / 255.0 * n.sqrt())
        .then(|| centred.iter().map(|v| (v / norm) as f32).collect());
    Fingerprint {
        phash: dct_phash(px, size),
        unit,
        mean: mean as f32,
    }
}

/// 64-bit DCT pHash of `px` ([size * size]): DCT-II coefficients (u, v) for
/// u, v in 1..=8 (the DC row and column carry brightness, not structure), bit
/// `8 (u - 1) + (v - 1)` set when the coefficient is above their median.
fn dct_phash(px: &[f32], size: usize) -> u64 {
    const K: usize = 8;
    // basis[u][x] = cos(pi (2x + 1) u / 2N); normalisation does not change
    // which coefficients are above the median, so it is left out.
    let basis: Vec<Vec<f64>> = (1..=K)
        .map(|u| {
            (0..size)
                .map(|x| {
                    (std::f64::consts::PI * (2 * x + 1) as f64 * u as f64 / (2 * size) as f64).cos()
                })
                .collect()
        })
        .collect();
    // rows[y][u] = sum_x px[y][x] basis[u][x]
    let rows: Vec<[f64; K]> = (0..size)
        .map(|y| {
            let row = &px[y * size..(y + 1) * size];
            let mut out = [0.0; K];
            for (o, b) in out.iter_mut().zip(&basis) {
                *o = row.iter().zip(b).map(|(&p, &c)| f64::from(p) * c).sum();
            }
            out
        })
        .collect();
    let mut coeffs = [0.0f64; K * K];
    for (v, bv) in basis.iter().enumerate() {
        for u in 0..K {
            coeffs[v * K + u] = rows.iter().zip(bv).map(|(r, &c)| r[u] * c).sum();
        }
    }
    let mut sorted = coeffs;
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[K * K / 2 - 1] + sorted[K * K / 2]) / 2.0;
    coeffs
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > median)
        .fold(0u64, |h, (i, _)| h | (1 << i))
}

/// Pearson correlation of two fingerprints. Constant images correlate 1 with
/// a constant image of (nearly) the same mean and 0 with anything else.
fn pearson(a: &Fingerprint, b: &Fingerprint) -> f64 {
    match (&a.unit, &b.unit) {
        (Some(x), Some(y)) => x
            .iter()
            .zip(y)
            .map(|(&p, &q)| f64::from(p) * f64::from(q))
            .sum(),
        (None, None) if (a.mean - b.mean).abs() < 2.0 / 255.0 => 1.0,
        _ => 0.0,
    }
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
#[cfg_attr(not(test), expect(dead_code, reason = "not yet wired into `prepare`"))]
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

#[cfg(test)]
#[path = "near_dup_tests.rs"]
mod tests;
