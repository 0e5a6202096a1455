//! The majority-class baseline of each data set: predict the most frequent
//! class of the training split (first in class order on ties) for every
//! test image. A model that does no better has learned nothing the class
//! counts do not already give.

use std::collections::HashMap;

use engine::store::Store;
use engine::StageSpec;
use study::contract::artifacts::Dataset;
use study::contract::names::ROLE_DATA;
use study::index::StudyIndex;

use super::evidence::Evidence;
use super::read::read_artifact;
use super::TablesError;

/// One data set's baseline on its test images.
pub(crate) struct Majority {
    pub dataset: String,
    pub class: String,
    /// One-hot "probabilities" of the majority class, with the true labels
    /// of the test images the models were scored on.
    pub test: stats::Predictions,
}

/// The baseline of every data set with at least one evaluated model.
pub(crate) fn majority(
    store: &Store,
    specs: &[StageSpec],
    index: &StudyIndex,
    evidence: &Evidence,
) -> Result<Vec<Majority>, TablesError> {
    let by_name: HashMap<&str, &StageSpec> = specs.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut out: Vec<Majority> = Vec::new();
    for entry in &index.models {
        if out.iter().any(|m| m.dataset == entry.dataset) {
            continue;
        }
        let Some(ev) = evidence.get(&entry.model.fingerprint) else {
            continue;
        };
        let data_fp = by_name
            .get(entry.model.name.as_str())
            .and_then(|s| s.upstream.get(ROLE_DATA));
        let Some(ds) = read_artifact::<Dataset>(store, data_fp)? else {
            continue;
        };
        let train = ds.counts.get("train");
        let count = |c: &str| train.and_then(|t| t.get(c)).copied().unwrap_or(0);
        let mut best = 0;
        for (i, c) in ds.classes.iter().enumerate() {
            if count(c) > count(&ds.classes[best]) {
                best = i;
            }
        }
        let n_classes = ev.test.n_classes();
        let labels = ev.test.labels().to_vec();
        let mut probs = vec![0.0; labels.len() * n_classes];
        for row in probs.chunks_exact_mut(n_classes) {
            row[best] = 1.0;
        }
        out.push(Majority {
            dataset: entry.dataset.clone(),
            class: ds.classes.get(best).cloned().unwrap_or_default(),
            test: stats::Predictions::from_flat(labels, probs, n_classes)?,
        });
    }
    Ok(out)
}
