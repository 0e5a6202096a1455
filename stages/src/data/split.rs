//! Deduplication by content hash and the seeded stratified split. Both run
//! before any decoding-dependent step and long before augmentation, so no
//! copy of an image can sit on both sides of a split.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::sources::{Given, RawItem};

/// Index lists of the three splits (into the deduplicated item list).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct SplitIdx {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// Drops exact duplicates (same content hash). The copy kept is the one in
/// the most held-out given split (test, then val, then train/pool) and,
/// within that, the first by key, so the choice does not depend on file
/// order. Returns the kept items (sorted by key) and the number removed.
pub(crate) fn dedupe(mut items: Vec<RawItem>) -> (Vec<RawItem>, usize) {
    let rank = |g: Given| match g {
        Given::Test => 0,
        Given::Val => 1,
        Given::Train | Given::Pool => 2,
    };
    items.sort_by(|a, b| (rank(a.given), &a.key).cmp(&(rank(b.given), &b.key)));
    let before = items.len();
    let mut seen: HashMap<String, ()> = HashMap::with_capacity(before);
    items.retain(|it| seen.insert(it.hash.clone(), ()).is_none());
    items.sort_by(|a, b| a.key.cmp(&b.key));
    let removed = before - items.len();
    (items, removed)
}

fn take(n: usize, frac: f64) -> usize {
    if frac <= 0.0 || n == 0 {
        return 0;
    }
    // At least one held-out image per class when the class has a few.
    let k = (n as f64 * frac).round() as usize;
    k.clamp(usize::from(n >= 3), n.saturating_sub(1))
}

/// Fractions, seed and cap of [`stratified_split`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitCfg {
    pub val_fraction: f64,
    pub test_fraction: f64,
    pub seed: u64,
    pub max_per_class: Option<u32>,
}

/// Seeded stratified split. Pool items are split three ways, a source's
/// training part two ways (unless the source also gives a validation
/// part), given validation and test parts are kept. `labels[i]`, `given[i]`, `hashes[i]` describe
/// item `i`. Within each (class, given split) group the items are ordered by
/// hash, then shuffled with a generator seeded by (`seed`, class, group), so
/// the split depends only on content, labels and the seed.
pub(crate) fn stratified_split(
    labels: &[usize],
    given: &[Given],
    hashes: &[String],
    num_classes: usize,
    cfg: &SplitCfg,
) -> SplitIdx {
    let SplitCfg {
        val_fraction,
        test_fraction,
        seed,
        max_per_class,
    } = *cfg;
    let mut out = SplitIdx::default();
    // A source with its own validation split (MedMNIST) keeps its training
    // part whole.
    let has_val = given.contains(&Given::Val);
    let cap = |mut v: Vec<usize>| {
        if let Some(m) = max_per_class {
            v.truncate(m as usize);
        }
        v
    };
    for class in 0..num_classes {
        for (gi, g) in [Given::Pool, Given::Train, Given::Val, Given::Test]
            .into_iter()
            .enumerate()
        {
            let mut idx: Vec<usize> = (0..labels.len())
                .filter(|&i| labels[i] == class && given[i] == g)
                .collect();
            if idx.is_empty() {
                continue;
            }
            idx.sort_by(|&a, &b| hashes[a].cmp(&hashes[b]));
            let stream = seed
                .wrapping_mul(1_000_003)
                .wrapping_add((class as u64) * 8 + gi as u64);
            idx.shuffle(&mut ChaCha8Rng::seed_from_u64(stream));
            let n = idx.len();
            match g {
                Given::Pool => {
                    let n_test = take(n, test_fraction);
                    let n_val = take(n - n_test, val_fraction).min(n - n_test);
                    let test: Vec<usize> = idx[..n_test].to_vec();
                    let val: Vec<usize> = idx[n_test..n_test + n_val].to_vec();
                    let train: Vec<usize> = idx[n_test + n_val..].to_vec();
                    out.test.extend(cap(test));
                    out.val.extend(cap(val));
                    out.train.extend(cap(train));
                }
                Given::Train => {
                    let n_val = if has_val { 0 } else { take(n, val_fraction) };
                    out.val.extend(cap(idx[..n_val].to_vec()));
                    out.train.extend(cap(idx[n_val..].to_vec()));
                }
                Given::Val => out.val.extend(cap(idx)),
                Given::Test => out.test.extend(cap(idx)),
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_seeded_and_disjoint() {
        let labels: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let given = vec![Given::Pool; 40];
        let hashes: Vec<String> = (0..40).map(|i| format!("{i:04}")).collect();
        let cfg = |seed| SplitCfg {
            val_fraction: 0.2,
            test_fraction: 0.25,
            seed,
            max_per_class: None,
        };
        let a = stratified_split(&labels, &given, &hashes, 2, &cfg(7));
        let b = stratified_split(&labels, &given, &hashes, 2, &cfg(7));
        let c = stratified_split(&labels, &given, &hashes, 2, &cfg(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // 20 per class: 5 test, round(15 * 0.2) = 3 val, 12 train.
        assert_eq!(a.test.len(), 10);
        assert_eq!(a.val.len(), 6);
        assert_eq!(a.train.len(), 24);
        assert_eq!(a.test.iter().filter(|&&i| labels[i] == 1).count(), 5);
        let mut all: Vec<usize> = [a.train, a.val, a.test].concat();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 40);
    }
}
