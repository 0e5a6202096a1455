//! Deduplication by content hash and the seeded stratified split. Both run
//! before any decoding-dependent step and long before augmentation, so no
//! copy of an image can sit on both sides of a split.

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::grouping_error::GroupingError;
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

/// The split `prepare` used before near-duplicate groups (code version 1),
/// kept for the tests that show what it leaked. Seeded stratified split. Pool items are split three ways, a source's
/// training part two ways (unless the source also gives a validation
/// part), given validation and test parts are kept. `labels[i]`, `given[i]`, `hashes[i]` describe
/// item `i`. Within each (class, given split) group the items are ordered by
/// hash, then shuffled with a generator seeded by (`seed`, class, group), so
/// the split depends only on content, labels and the seed.
#[cfg(test)]
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

/// How held out a given split is: a group spanning two given splits goes to
/// the more held-out one, as [`dedupe`] keeps the more held-out copy.
fn held_out_rank(g: Given) -> u8 {
    match g {
        Given::Pool => 0,
        Given::Train => 1,
        Given::Val => 2,
        Given::Test => 3,
    }
}

/// One group in [`group_stratified_split`]: its members, ordered by hash.
struct Group {
    members: Vec<usize>,
    label: usize,
    given: Given,
}

/// Places `groups` (already shuffled) in order: each goes to test if it fits
/// in the remaining `n_test`, else to val if it fits in the remaining
/// `n_val`, else to train. With singletons left to fill the gaps, test and
/// val get exactly their targets; without groups this is the cut of
/// [`stratified_split`].
fn first_fit(groups: &[&Group], n_test: usize, n_val: usize) -> [Vec<usize>; 3] {
    let [mut train, mut val, mut test] = [Vec::new(), Vec::new(), Vec::new()];
    for g in groups {
        let k = g.members.len();
        let part = if test.len() + k <= n_test {
            &mut test
        } else if val.len() + k <= n_val {
            &mut val
        } else {
            &mut train
        };
        part.extend_from_slice(&g.members);
    }
    [train, val, test]
}

/// Seeded stratified split that keeps groups whole: every item of a group
/// (`groups[i]` is the group id of item `i`, e.g. from
/// [`super::near_dup::group_near_duplicates`]) lands in the same split. Each
/// group goes as a unit by its label, to the most held-out given split of its
/// members. Unlike [`stratified_split`], in a pool both `val_fraction` and
/// `test_fraction` are fractions of the class's whole pool (0.15 gives 15 %,
/// not 15 % of what the test split left). Within each (class, given split),
/// groups are ordered by their smallest member hash and shuffled with the
/// same ChaCha8 stream as [`stratified_split`], then placed by [`first_fit`];
/// with no group of two or more the test split equals that of
/// [`stratified_split`]. `max_per_class` truncates each (class, split) list
/// as there.
///
/// Fails when a class has no image in a split that receives images: train
/// always, val when `val_fraction` > 0 or the source gives one, test when
/// `test_fraction` > 0 on a pool or the source gives one.
pub(crate) fn group_stratified_split(
    labels: &[usize],
    given: &[Given],
    hashes: &[String],
    groups: &[usize],
    classes: &[String],
    cfg: &SplitCfg,
) -> Result<SplitIdx, GroupingError> {
    let n = labels.len();
    if given.len() != n || hashes.len() != n || groups.len() != n {
        return Err(GroupingError::Lengths {
            what: format!(
                "{n} labels, {} given, {} hashes, {} groups",
                given.len(),
                hashes.len(),
                groups.len()
            ),
        });
    }
    let class_name = |c: usize| classes.get(c).cloned().unwrap_or_else(|| c.to_string());
    let mut by_id: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        by_id.entry(g).or_default().push(i);
    }
    let mut all: Vec<Group> = Vec::with_capacity(by_id.len());
    for (id, mut members) in by_id {
        members.sort_by(|&a, &b| hashes[a].cmp(&hashes[b]));
        let first = members[0];
        if let Some(&other) = members.iter().find(|&&i| labels[i] != labels[first]) {
            return Err(GroupingError::MixedGroup {
                group: id,
                first_label: class_name(labels[first]),
                second_label: class_name(labels[other]),
                first_hash: hashes[first].clone(),
                second_hash: hashes[other].clone(),
            });
        }
        let g = members
            .iter()
            .map(|&i| given[i])
            .max_by_key(|&g| held_out_rank(g))
            .unwrap_or(Given::Pool);
        all.push(Group {
            label: labels[first],
            given: g,
            members,
        });
    }
    // Content order, independent of group ids and file names.
    all.sort_by(|a, b| hashes[a.members[0]].cmp(&hashes[b.members[0]]));

    let SplitCfg {
        val_fraction,
        test_fraction,
        seed,
        max_per_class,
    } = *cfg;
    let has_val = given.contains(&Given::Val);
    let cap = |mut v: Vec<usize>| {
        if let Some(m) = max_per_class {
            v.truncate(m as usize);
        }
        v
    };
    let mut out = SplitIdx::default();
    for class in 0..classes.len() {
        for (gi, g) in [Given::Pool, Given::Train, Given::Val, Given::Test]
            .into_iter()
            .enumerate()
        {
            let mut part: Vec<&Group> = all
                .iter()
                .filter(|x| x.label == class && x.given == g)
                .collect();
            if part.is_empty() {
                continue;
            }
            let stream = seed
                .wrapping_mul(1_000_003)
                .wrapping_add((class as u64) * 8 + gi as u64);
            part.shuffle(&mut ChaCha8Rng::seed_from_u64(stream));
            let n: usize = part.iter().map(|x| x.members.len()).sum();
            let (n_test, n_val) = match g {
                Given::Pool => {
                    let n_test = take(n, test_fraction);
                    // Both of the whole pool; train keeps at least one.
                    let room = n.saturating_sub(1).saturating_sub(n_test);
                    (n_test, take(n, val_fraction).min(room))
                }
                Given::Train if !has_val => (0, take(n, val_fraction)),
                Given::Train => (0, 0),
                Given::Val => (0, n),
                Given::Test => (n, 0),
            };
            let [train, val, test] = first_fit(&part, n_test, n_val);
            out.train.extend(cap(train));
            out.val.extend(cap(val));
            out.test.extend(cap(test));
        }
    }

    let has = |g: Given| given.contains(&g);
    let required = [
        ("train", true, &out.train),
        (
            "test",
            has(Given::Test) || (test_fraction > 0.0 && has(Given::Pool)),
            &out.test,
        ),
        (
            "val",
            has(Given::Val) || (val_fraction > 0.0 && (has(Given::Pool) || has(Given::Train))),
            &out.val,
        ),
    ];
    for class in 0..classes.len() {
        for (split, needed, part) in required {
            if needed && !part.iter().any(|&i| labels[i] == class) {
                return Err(GroupingError::ClassMissingFromSplit {
                    class: class_name(class),
                    split,
                });
            }
        }
    }
    Ok(out)
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

    fn names() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    fn cfg(seed: u64) -> SplitCfg {
        SplitCfg {
            val_fraction: 0.2,
            test_fraction: 0.25,
            seed,
            max_per_class: None,
        }
    }

    /// Split name of every item; panics when an item is in two or none.
    fn split_of(idx: &SplitIdx, n: usize) -> Vec<&'static str> {
        let mut out = vec![""; n];
        for (name, part) in [
            ("train", &idx.train),
            ("val", &idx.val),
            ("test", &idx.test),
        ] {
            for &i in part {
                assert_eq!(out[i], "", "item {i} twice");
                out[i] = name;
            }
        }
        assert!(out.iter().all(|s| !s.is_empty()));
        out
    }

    #[test]
    fn group_split_keeps_groups_whole_with_fractions_of_the_pool() {
        // 40 items per class; items 4k..4k+3 of every 16 form a group of 4,
        // 4k+4..4k+5 a pair, the rest singletons.
        let n = 80;
        let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let given = vec![Given::Pool; n];
        let hashes: Vec<String> = (0..n).map(|i| format!("{:04}", (i * 37) % n)).collect();
        let groups: Vec<usize> = (0..n)
            .map(|i| {
                let (block, pos) = (i / 16, (i % 16) / 2);
                let base = block * 16 + i % 2;
                match pos {
                    0..=3 => base,
                    4 | 5 => base + 8,
                    _ => i,
                }
            })
            .collect();
        let a =
            group_stratified_split(&labels, &given, &hashes, &groups, &names(), &cfg(3)).unwrap();
        let b =
            group_stratified_split(&labels, &given, &hashes, &groups, &names(), &cfg(3)).unwrap();
        let c =
            group_stratified_split(&labels, &given, &hashes, &groups, &names(), &cfg(4)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        for idx in [&a, &c] {
            let s = split_of(idx, n);
            for i in 0..n {
                assert_eq!(s[i], s[groups[i]], "group of item {i} crosses splits");
            }
            for class in 0..2 {
                let count = |p: &[usize]| p.iter().filter(|&&i| labels[i] == class).count();
                // Of the class's 40: round(40 * 0.25) = 10 test and
                // round(40 * 0.2) = 8 val, not round(30 * 0.2) = 6.
                assert_eq!(count(&idx.test), 10);
                assert_eq!(count(&idx.val), 8);
                assert_eq!(count(&idx.train), 22);
            }
        }
    }

    #[test]
    fn without_groups_the_test_split_is_the_old_one() {
        let labels: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let given = vec![Given::Pool; 40];
        let hashes: Vec<String> = (0..40).map(|i| format!("{i:04}")).collect();
        let groups: Vec<usize> = (0..40).collect();
        let old = stratified_split(&labels, &given, &hashes, 2, &cfg(7));
        let new =
            group_stratified_split(&labels, &given, &hashes, &groups, &names(), &cfg(7)).unwrap();
        assert_eq!(old.test, new.test);
        assert_eq!(new.val.len(), 8);
        assert_eq!(old.val.len(), 6);
    }

    #[test]
    fn a_class_in_one_group_cannot_reach_every_split() {
        // Class b: three images, all one group.
        let labels = vec![0, 0, 0, 0, 0, 0, 1, 1, 1];
        let given = vec![Given::Pool; 9];
        let hashes: Vec<String> = (0..9).map(|i| format!("{i:04}")).collect();
        let groups = vec![0, 1, 2, 3, 4, 5, 6, 6, 6];
        let err = group_stratified_split(&labels, &given, &hashes, &groups, &names(), &cfg(0))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "class `b` has no images in the test split (after keeping near-duplicate groups whole)"
        );
    }

    #[test]
    fn a_mixed_label_group_is_refused() {
        let labels = vec![0, 1, 0, 1];
        let given = vec![Given::Pool; 4];
        let hashes: Vec<String> = (0..4).map(|i| format!("h{i}")).collect();
        let err =
            group_stratified_split(&labels, &given, &hashes, &[0, 0, 2, 3], &names(), &cfg(0))
                .err()
                .unwrap();
        assert_eq!(
            err.to_string(),
            "group 0 mixes labels `a` and `b` (images h0 and h1)"
        );
    }

    #[test]
    fn a_group_spanning_given_splits_goes_to_the_more_held_out_one() {
        // Per class: 6 given train, 3 given test; a train image of class a
        // is grouped with a test image.
        let labels: Vec<usize> = (0..18).map(|i| i % 2).collect();
        let given: Vec<Given> = (0..18)
            .map(|i| if i < 12 { Given::Train } else { Given::Test })
            .collect();
        let hashes: Vec<String> = (0..18).map(|i| format!("{i:04}")).collect();
        let mut groups: Vec<usize> = (0..18).collect();
        groups[0] = 12;
        let idx =
            group_stratified_split(&labels, &given, &hashes, &groups, &names(), &cfg(1)).unwrap();
        let s = split_of(&idx, 18);
        assert_eq!((s[0], s[12]), ("test", "test"));
        // Given test images stay in test; val comes from the given train part.
        assert!((12..18).all(|i| s[i] == "test"));
        assert_eq!(idx.val.iter().filter(|&&i| labels[i] == 1).count(), 1);
    }
}
