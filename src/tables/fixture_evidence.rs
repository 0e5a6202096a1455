//! The fixture's per-image evidence: test and validation predictions of
//! every model (a correctness pattern about each model's fixture accuracy,
//! one collapsed model, validation scores that make a known (T, alpha) the
//! selected one per depth) and the prepare stage's `dataset.json` behind the
//! majority baseline. Written into the store by [`super::fixture::build`].

use std::collections::BTreeMap;

use study::contract::artifacts::predictions::{Predictions, SplitPredictions};
use study::contract::artifacts::Dataset;

use super::fixture::{accuracy, Model, DATASET};

/// Test images of the fixture's predictions (labels alternate 0, 1).
pub(crate) const N_TEST: usize = 40;
/// Validation images (labels alternate 0, 1).
pub(crate) const N_VAL: usize = 20;

/// Whether `model` of `seed` gets test image `i` right: about
/// `accuracy(model, seed)` of the images, in a pattern that differs by
/// model and seed. The depth-1 control of seed 0 predicts class 0 for
/// every image (a collapsed model).
pub(crate) fn correct(model: Model, seed: u64, i: usize) -> bool {
    if let (Model::Control { depth: 1 }, 0) = (model, seed) {
        return i % 2 == 0;
    }
    let right = (accuracy(model, seed).min(1.0) * N_TEST as f64).round() as usize;
    let shift = match model {
        Model::Teacher => 0,
        Model::Student { depth, temperature } => depth as usize * 3 + temperature as usize,
        Model::Control { depth } => depth as usize * 5,
    };
    (i * 7 + seed as usize * 3 + shift) % N_TEST < right
}

/// The probability of the true class on every validation image: the
/// validation-best distilled student is `T = 1` at depth 1 and `T = 4` at
/// depth 2.
pub(crate) fn val_true_prob(model: Model, seed: u64) -> f64 {
    let bonus = match model {
        Model::Student { depth, temperature } if (depth == 1) == (temperature == 1.0) => 0.2,
        _ => 0.0,
    };
    0.55 + 0.05 * seed as f64 + bonus
}

pub(super) fn predictions(model: Model, seed: u64) -> Predictions {
    let test = SplitPredictions {
        probs: (0..N_TEST)
            .flat_map(|i| {
                let label = i % 2;
                let p_true = if correct(model, seed, i) { 0.8 } else { 0.3 };
                if label == 0 {
                    [p_true, 1.0 - p_true]
                } else {
                    [1.0 - p_true, p_true]
                }
            })
            .collect(),
        n_classes: 2,
        labels: (0..N_TEST as i64).map(|i| i % 2).collect(),
        hashes: (0..N_TEST as u8).map(|i| [i; 32]).collect(),
    };
    let q = val_true_prob(model, seed) as f32;
    let val = SplitPredictions {
        probs: (0..N_VAL)
            .flat_map(|i| {
                if i % 2 == 0 {
                    [q, 1.0 - q]
                } else {
                    [1.0 - q, q]
                }
            })
            .collect(),
        n_classes: 2,
        labels: (0..N_VAL as i64).map(|i| i % 2).collect(),
        hashes: (0..N_VAL as u8).map(|i| [100 + i; 32]).collect(),
    };
    Predictions { test, val }
}

/// The fixture's `dataset.json`: 30 `no` and 50 `yes` training images, so
/// the majority baseline predicts `yes`.
pub(super) fn dataset_file() -> Dataset {
    let counts = |no: usize, yes: usize| BTreeMap::from([("no".into(), no), ("yes".into(), yes)]);
    Dataset {
        name: DATASET.into(),
        classes: vec!["no".into(), "yes".into()],
        channels: 1,
        image_size: 32,
        counts: BTreeMap::from([
            ("train".into(), counts(30, 50)),
            ("val".into(), counts(10, 10)),
            ("test".into(), counts(20, 20)),
        ]),
        mean: vec![0.5],
        std: vec![0.25],
        duplicates_removed: 0,
        skipped_corrupt: 0,
        skipped_files: Vec::new(),
        split: BTreeMap::new(),
        near_duplicates: None,
    }
}
