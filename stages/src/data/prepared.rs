//! Loading a prepared dataset artifact.

use std::path::Path;

use engine::exec::StageFailure;
use study::contract::artifacts::Dataset;
use tch::{Kind, Tensor};

use crate::error::{read_artifact, StagesError};

/// One split of a prepared dataset.
pub struct Split {
    /// Normalised images: f32 [n, channels, size, size].
    pub x: Tensor,
    /// Labels: i64 [n].
    pub y: Tensor,
}

impl Split {
    /// Number of images.
    pub fn len(&self) -> i64 {
        self.y.size()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A prepared dataset on the CPU, normalised with the training split's
/// per-channel mean and std.
pub struct PreparedData {
    pub name: String,
    pub classes: Vec<String>,
    pub channels: i64,
    pub image_size: i64,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub train: Split,
    pub val: Split,
    pub test: Split,
    /// The whole `dataset.json`.
    pub info: Dataset,
}

impl PreparedData {
    /// Loads `data.safetensors` and `dataset.json` from a `prepare` artifact.
    pub fn load(dir: &Path) -> Result<PreparedData, StageFailure> {
        Ok(Self::load_inner(dir)?)
    }

    fn load_inner(dir: &Path) -> Result<PreparedData, StagesError> {
        let info: Dataset = read_artifact(dir)?;
        let path = dir.join("data.safetensors");
        let tensors = Tensor::read_safetensors(&path)
            .map_err(StagesError::torch(format!("reading {}", path.display())))?;
        let get = |name: &str| {
            tensors
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.shallow_clone())
                .ok_or_else(|| StagesError::artifact(&path, format!("no tensor `{name}`")))
        };
        let c = info.channels as i64;
        let mean = Tensor::from_slice(&info.mean)
            .to_kind(Kind::Float)
            .view([1, c, 1, 1]);
        let std = Tensor::from_slice(&info.std)
            .to_kind(Kind::Float)
            .view([1, c, 1, 1]);
        let split = |name: &str| -> Result<Split, StagesError> {
            let x = get(&format!("{name}_x"))?;
            let y = get(&format!("{name}_y"))?.to_kind(Kind::Int64);
            let x = (x.to_kind(Kind::Float) / 255.0 - &mean) / &std;
            Ok(Split { x, y })
        };
        Ok(PreparedData {
            name: info.name.clone(),
            classes: info.classes.clone(),
            channels: c,
            image_size: info.image_size as i64,
            mean: info.mean.clone(),
            std: info.std.clone(),
            train: split("train")?,
            val: split("val")?,
            test: split("test")?,
            info,
        })
    }

    /// Number of classes.
    pub fn num_classes(&self) -> i64 {
        self.classes.len() as i64
    }

    /// Undoes the normalisation: [n, c, h, w] → pixels in [0, 1].
    pub fn denormalise(&self, x: &Tensor) -> Tensor {
        let c = self.channels;
        let mean = Tensor::from_slice(&self.mean)
            .to_kind(Kind::Float)
            .view([1, c, 1, 1]);
        let std = Tensor::from_slice(&self.std)
            .to_kind(Kind::Float)
            .view([1, c, 1, 1]);
        (x * std.to_device(x.device()) + mean.to_device(x.device())).clamp(0.0, 1.0)
    }
}
