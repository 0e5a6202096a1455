//! `predictions.safetensors` of an `evaluate` stage: every test and
//! validation image's class probabilities with its label and content hash,
//! so the head can bootstrap over images and pair models image by image.
//!
//! Tensors (rows in the order of `data.safetensors`, which is the order of
//! `dataset.json`'s `split.<name>` hashes):
//! - `test.probs` f32 [N, C]: softmax of the logits,
//! - `test.labels` i64 [N],
//! - `test.hashes` u8 [N, 32]: the raw SHA-256 of each image's content,
//!
//! and the same three for `val.` (the validation split; N may be 0).
//! `metrics.json` is computed from these very probabilities, so the argmax
//! of `test.probs` reproduces its accuracy exactly.

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::data::{PreparedData, Split};
use crate::error::{Result, StagesError};
use crate::models::Classifier;
use crate::train::fit::predict_logits;

/// File name of the predictions in an evaluate artifact.
pub const PREDICTIONS_FILE: &str = "predictions.safetensors";

/// Images per forward pass.
const BATCH: usize = 64;

/// One split's predictions, on the CPU.
pub struct SplitPredictions {
    /// Softmax probabilities: f32 [N, C].
    pub probs: Tensor,
    /// i64 [N].
    pub labels: Tensor,
    /// Raw SHA-256 of every image: u8 [N, 32].
    pub hashes: Tensor,
    /// Mean cross-entropy (natural log) of the logits; `None` for N = 0.
    pub loss: Option<f64>,
}

impl SplitPredictions {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.size()[0] as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Probabilities as f64 rows ([N][C]), exactly the stored f32 values.
    pub fn prob_rows(&self) -> Result<Vec<Vec<f64>>> {
        let c = self.probs.size()[1] as usize;
        let flat = Vec::<f32>::try_from(self.probs.flatten(0, -1))
            .map_err(StagesError::torch("reading probabilities"))?;
        Ok(flat
            .chunks(c.max(1))
            .map(|r| r.iter().map(|&v| f64::from(v)).collect())
            .collect())
    }

    /// Labels as class indices.
    pub fn label_indices(&self) -> Result<Vec<usize>> {
        Ok(Vec::<i64>::try_from(&self.labels)
            .map_err(StagesError::torch("reading labels"))?
            .into_iter()
            .map(|l| l as usize)
            .collect())
    }

    /// Fraction of argmax predictions equal to the label; `None` for N = 0.
    pub fn accuracy(&self) -> Result<Option<f64>> {
        let (rows, labels) = (self.prob_rows()?, self.label_indices()?);
        if labels.is_empty() {
            return Ok(None);
        }
        let correct = rows
            .iter()
            .zip(&labels)
            .filter(|(p, l)| super::metrics::argmax(p) == **l)
            .count();
        Ok(Some(correct as f64 / labels.len() as f64))
    }
}

/// The predictions of `model` on split `name` (`test` or `val`) of `data`.
pub fn predict_split(
    model: &dyn Classifier,
    data: &PreparedData,
    name: &str,
    device: Device,
) -> Result<SplitPredictions> {
    let split: &Split = match name {
        "test" => &data.test,
        "val" => &data.val,
        other => {
            return Err(StagesError::param(
                "split",
                other,
                "expected `test` or `val`",
            ))
        }
    };
    let n = split.len();
    let hashes = data.info.split.get(name).map(Vec::as_slice).unwrap_or(&[]);
    let hashes = hash_bytes(hashes, n, name, &data.name)?;
    let logits = predict_logits(model, &split.x, device, BATCH).to_kind(Kind::Double);
    let probs = logits.softmax(-1, Kind::Double).to_kind(Kind::Float);
    let labels = split.y.to_kind(Kind::Int64);
    let loss = (n > 0).then(|| {
        logits
            .log_softmax(-1, Kind::Double)
            .nll_loss(&labels)
            .double_value(&[])
    });
    Ok(SplitPredictions {
        probs,
        labels,
        hashes,
        loss,
    })
}

/// dataset.json's hex hashes of a split → u8 [n, 32]; the count must match
/// the split's rows.
fn hash_bytes(hex: &[String], n: i64, split: &str, dataset: &str) -> Result<Tensor> {
    let bad = |reason: String| StagesError::Dataset {
        dataset: dataset.to_owned(),
        reason: format!("dataset.json split.{split}: {reason}"),
    };
    if hex.len() as i64 != n {
        return Err(bad(format!(
            "{} hashes for {n} images in data.safetensors",
            hex.len()
        )));
    }
    let mut bytes = Vec::with_capacity(hex.len() * 32);
    for (i, h) in hex.iter().enumerate() {
        let raw = decode_hex(h)
            .filter(|b| b.len() == 32)
            .ok_or_else(|| bad(format!("hash {i} `{h}` is not 64 hex digits")))?;
        bytes.extend_from_slice(&raw);
    }
    Ok(Tensor::from_slice(&bytes).view([n, 32]))
}

/// Hex digits → bytes (`None` on an odd length or a non-hex digit).
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Writes `predictions.safetensors` into `dir`.
pub fn write_predictions(
    dir: &Path,
    test: &SplitPredictions,
    val: &SplitPredictions,
) -> Result<()> {
    let path = dir.join(PREDICTIONS_FILE);
    let mut tensors: Vec<(String, Tensor)> = Vec::new();
    for (name, p) in [("test", test), ("val", val)] {
        tensors.push((format!("{name}.hashes"), p.hashes.shallow_clone()));
        tensors.push((format!("{name}.labels"), p.labels.shallow_clone()));
        tensors.push((format!("{name}.probs"), p.probs.shallow_clone()));
    }
    Tensor::write_safetensors(&tensors, &path)
        .map_err(StagesError::torch(format!("writing {}", path.display())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_decode_to_raw_bytes_and_are_checked() {
        let h = "00ff10".repeat(10) + "abcd";
        let t = hash_bytes(std::slice::from_ref(&h), 1, "test", "d").unwrap();
        assert_eq!(t.size(), vec![1, 32]);
        let v = Vec::<u8>::try_from(t.flatten(0, -1)).unwrap();
        assert_eq!(&v[..4], &[0x00, 0xff, 0x10, 0x00]);
        assert_eq!(&v[30..], &[0xab, 0xcd]);
        let err = hash_bytes(std::slice::from_ref(&h), 2, "val", "d").unwrap_err();
        assert!(err.to_string().contains("1 hashes for 2 images"), "{err}");
        let err = hash_bytes(&["zz".repeat(32)], 1, "test", "d").unwrap_err();
        assert!(err.to_string().contains("is not 64 hex digits"), "{err}");
        assert_eq!(decode_hex("0a1"), None);
    }
}
