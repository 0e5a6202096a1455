//! `predictions.safetensors` of an `evaluate` stage: the model's class
//! probabilities for every image of the test and validation splits, with
//! each image's label and content hash, so that the tables can pair two
//! models image by image (paired bootstrap, McNemar) and select on
//! validation without rerunning anything.
//!
//! Tensors, per split `s` in `test`, `val` (rows in the order of the
//! prepare stage's `dataset.json` `split.<s>` hash list):
//! - `s.probs`: f32 `[N, C]`, softmax probabilities, rows summing to 1;
//! - `s.labels`: i64 `[N]`, the true class index in `0..C`;
//! - `s.hashes`: u8 `[N, 32]`, the raw SHA-256 of each image's file bytes
//!   (the hex strings of `dataset.json`, decoded).
//!
//! Safetensors because the file is read without libtorch (the head binary
//! never links it) and is about 12 bytes per image and class.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

/// One split's predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitPredictions {
    /// Row-major `[n, n_classes]`.
    pub probs: Vec<f32>,
    pub n_classes: usize,
    pub labels: Vec<i64>,
    pub hashes: Vec<[u8; 32]>,
}

impl SplitPredictions {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Probabilities of image `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.probs[i * self.n_classes..(i + 1) * self.n_classes]
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    pub test: SplitPredictions,
    pub val: SplitPredictions,
}

/// What is wrong with a predictions file.
#[derive(Debug, thiserror::Error)]
pub enum PredictionsError {
    #[error("not a safetensors file: {0}")]
    Format(#[from] safetensors::SafeTensorError),
    #[error("tensor '{name}': {reason}")]
    Tensor { name: String, reason: String },
}

impl Predictions {
    /// The file's name inside the evaluate stage's artifact.
    pub const FILE: &'static str = "predictions.safetensors";

    /// Parses the file's bytes, checking dtypes, shapes and that labels lie
    /// in `0..C`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PredictionsError> {
        let st = SafeTensors::deserialize(bytes)?;
        Ok(Self {
            test: split(&st, "test")?,
            val: split(&st, "val")?,
        })
    }

    /// The file's bytes (little-endian; tensors sorted by name, as
    /// safetensors writes them).
    pub fn to_bytes(&self) -> Result<Vec<u8>, PredictionsError> {
        let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, s) in [("test", &self.test), ("val", &self.val)] {
            let n = s.len();
            buffers.push((
                format!("{name}.probs"),
                Dtype::F32,
                vec![n, s.n_classes],
                s.probs.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ));
            buffers.push((
                format!("{name}.labels"),
                Dtype::I64,
                vec![n],
                s.labels.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ));
            buffers.push((
                format!("{name}.hashes"),
                Dtype::U8,
                vec![n, 32],
                s.hashes.iter().flatten().copied().collect(),
            ));
        }
        let mut views = Vec::with_capacity(buffers.len());
        for (name, dtype, shape, data) in &buffers {
            views.push((name.clone(), TensorView::new(*dtype, shape.clone(), data)?));
        }
        let none: Option<HashMap<String, String>> = None;
        Ok(safetensors::serialize(views, &none)?)
    }
}

fn bad(name: &str, reason: impl Into<String>) -> PredictionsError {
    PredictionsError::Tensor {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

fn view<'a>(
    st: &'a SafeTensors<'a>,
    name: &str,
    dtype: Dtype,
    rank: usize,
) -> Result<TensorView<'a>, PredictionsError> {
    let v = st.tensor(name).map_err(|_| bad(name, "missing"))?;
    if v.dtype() != dtype {
        return Err(bad(
            name,
            format!("dtype {:?}, expected {dtype:?}", v.dtype()),
        ));
    }
    if v.shape().len() != rank {
        return Err(bad(
            name,
            format!("shape {:?}, expected rank {rank}", v.shape()),
        ));
    }
    Ok(v)
}

fn split(st: &SafeTensors<'_>, s: &str) -> Result<SplitPredictions, PredictionsError> {
    let (pn, ln, hn) = (
        format!("{s}.probs"),
        format!("{s}.labels"),
        format!("{s}.hashes"),
    );
    let probs = view(st, &pn, Dtype::F32, 2)?;
    let labels = view(st, &ln, Dtype::I64, 1)?;
    let hashes = view(st, &hn, Dtype::U8, 2)?;
    let (n, c) = (probs.shape()[0], probs.shape()[1]);
    if labels.shape()[0] != n {
        return Err(bad(
            &ln,
            format!("{} rows, {pn} has {n}", labels.shape()[0]),
        ));
    }
    if hashes.shape() != [n, 32] {
        return Err(bad(
            &hn,
            format!("shape {:?}, expected [{n}, 32]", hashes.shape()),
        ));
    }
    let probs: Vec<f32> = probs
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let labels: Vec<i64> = labels
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    if let Some(l) = labels.iter().find(|&&l| l < 0 || l as usize >= c) {
        return Err(bad(&ln, format!("label {l} outside 0..{c}")));
    }
    let hashes = hashes
        .data()
        .chunks_exact(32)
        .map(|b| {
            let mut h = [0u8; 32];
            h.copy_from_slice(b);
            h
        })
        .collect();
    Ok(SplitPredictions {
        probs,
        n_classes: c,
        labels,
        hashes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Predictions {
        let split = |n: usize| SplitPredictions {
            probs: (0..n)
                .flat_map(|i| [0.25 + 0.1 * i as f32, 0.75 - 0.1 * i as f32])
                .collect(),
            n_classes: 2,
            labels: (0..n as i64).map(|i| i % 2).collect(),
            hashes: (0..n as u8).map(|i| [i; 32]).collect(),
        };
        Predictions {
            test: split(3),
            val: split(2),
        }
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let p = sample();
        let bytes = p.to_bytes().expect("serialize");
        let back = Predictions::from_bytes(&bytes).expect("parse");
        assert_eq!(back, p);
        assert_eq!(back.test.row(1), &[0.35, 0.65]);
        assert_eq!(back.to_bytes().expect("serialize"), bytes);
    }

    #[test]
    fn names_the_tensor_that_is_wrong() {
        let mut p = sample();
        p.val.labels[1] = 5;
        let bytes = p.to_bytes().expect("serialize");
        let err = Predictions::from_bytes(&bytes).expect_err("label out of range");
        assert_eq!(err.to_string(), "tensor 'val.labels': label 5 outside 0..2");
        let err = Predictions::from_bytes(b"garbage").expect_err("not safetensors");
        assert!(
            err.to_string().starts_with("not a safetensors file"),
            "{err}"
        );
    }
}
