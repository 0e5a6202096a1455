//! Models: the VGG-style CNN (teacher and student), ResNet-18 and
//! DenseNet-121. Every model implements [`Classifier`], which exposes its
//! per-conv-layer activations in the same autograd graph as its logits (tch
//! has no forward hooks): the explainers need both.
//!
//! A trained model is stored as `model.safetensors` (variables sorted by
//! name, so the bytes are reproducible) plus `model.json` ([`ModelInfo`]);
//! [`load_model`] rebuilds it from the two.

mod cnn;
mod densenet121;
mod resnet18;

use std::path::Path;

use engine::exec::StageFailure;
use serde::{Deserialize, Serialize};
use study::kd::params::{Arch, ModelParams};
use tch::{nn, Device, Tensor};

pub use cnn::{Cnn, CnnConfig};
pub use densenet121::DenseNet121;
pub use resnet18::ResNet18;

use crate::error::{read_json, Result, StagesError};

/// A classifier whose intermediate conv activations can be tapped.
pub trait Classifier: Send {
    /// xs: [batch, channels, height, width] → logits [batch, classes].
    fn logits(&self, xs: &Tensor, train: bool) -> Tensor;

    /// xs: [batch, channels, height, width] → (activations of every conv
    /// layer, shallow to deep, each [batch, c_l, h_l, w_l]; logits
    /// [batch, classes]). The logits are computed from these very tensors, so
    /// gradients of a logit with respect to any activation are defined.
    fn forward_taps(&self, xs: &Tensor, train: bool) -> (Vec<Tensor>, Tensor);

    /// Display names of the tapped conv layers, shallow to deep (same length
    /// as the first element of [`Classifier::forward_taps`]).
    fn layer_names(&self) -> Vec<String>;

    /// Number of classes.
    fn num_classes(&self) -> i64;
}

/// `model.json`: what [`load_model`] needs to rebuild a trained model, plus
/// its size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub arch: Arch,
    pub depth: u32,
    pub width: u32,
    pub max_width: u32,
    pub dropout: f64,
    pub num_classes: i64,
    pub channels: i64,
    pub image_size: i64,
    /// Trainable parameters.
    #[serde(default)]
    pub params: u64,
    /// Multiply-accumulates per image (convolutions and linear layers).
    #[serde(default)]
    pub macs: u64,
    #[serde(default)]
    pub classes: Vec<String>,
}

/// A freshly built model and its cost.
pub struct Built {
    pub model: Box<dyn Classifier>,
    /// Multiply-accumulates per image.
    pub macs: u64,
}

/// Output side of a k×k convolution or pooling with stride and padding.
pub(crate) fn conv_out(size: i64, k: i64, stride: i64, pad: i64) -> i64 {
    ((size + 2 * pad - k) / stride + 1).max(1)
}

/// Builds the model described by `params` for `channels` ×
/// `image_size`² inputs under the variable path `p`. Pretrained weights
/// (`params.weights`) are not loaded here: see [`load_pretrained`].
pub fn build_model(
    params: &ModelParams,
    channels: i64,
    image_size: i64,
    num_classes: i64,
    p: &nn::Path,
) -> Result<Built> {
    if num_classes < 2 {
        return Err(StagesError::param(
            "num_classes",
            num_classes,
            "need at least 2",
        ));
    }
    if !(0.0..1.0).contains(&params.dropout) {
        return Err(StagesError::param(
            "dropout",
            params.dropout,
            "must be in [0, 1)",
        ));
    }
    Ok(match params.arch {
        Arch::Cnn => {
            if params.depth == 0 || params.width == 0 || params.max_width < params.width {
                return Err(StagesError::param(
                    "depth/width/max_width",
                    format!("{}/{}/{}", params.depth, params.width, params.max_width),
                    "need depth ≥ 1 and 1 ≤ width ≤ max_width",
                ));
            }
            let m = Cnn::new(
                p,
                channels,
                image_size,
                num_classes,
                CnnConfig {
                    depth: params.depth as i64,
                    width: params.width as i64,
                    max_width: params.max_width as i64,
                    dropout: params.dropout,
                },
            );
            let macs = m.macs();
            Built {
                model: Box::new(m),
                macs,
            }
        }
        Arch::Resnet18 => {
            let m = ResNet18::new(p, channels, image_size, num_classes, params.dropout);
            let macs = m.macs();
            Built {
                model: Box::new(m),
                macs,
            }
        }
        Arch::Densenet121 => {
            let m = DenseNet121::new(p, channels, image_size, num_classes, params.dropout);
            let macs = m.macs();
            Built {
                model: Box::new(m),
                macs,
            }
        }
    })
}

/// Number of trainable parameters in a var store.
pub fn param_count(vs: &nn::VarStore) -> u64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as u64)
        .sum()
}

/// Writes every variable of `vs` to `path` (safetensors, names sorted, CPU).
pub fn save_weights(vs: &nn::VarStore, path: &Path) -> Result<()> {
    save_weights_where(vs, path, |_| true)
}

/// [`save_weights`] of the variables whose name passes `keep`.
pub fn save_weights_where(
    vs: &nn::VarStore,
    path: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(n, _)| keep(n))
        .map(|(n, t)| (n, t.detach().to_device(Device::Cpu)))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, path)
        .map_err(StagesError::torch(format!("writing {}", path.display())))
}

/// Loads a trained model (`model.json` + `model.safetensors`) in eval form
/// (weights frozen) on `device`.
pub fn load_model(dir: &Path, device: Device) -> Result<Box<dyn Classifier>, StageFailure> {
    Ok(load_model_inner(dir, device)?.0)
}

/// Like [`load_model`], also returning its `model.json`.
pub fn load_model_with_info(
    dir: &Path,
    device: Device,
) -> Result<(Box<dyn Classifier>, ModelInfo), StageFailure> {
    Ok(load_model_inner(dir, device)?)
}

fn load_model_inner(dir: &Path, device: Device) -> Result<(Box<dyn Classifier>, ModelInfo)> {
    let info: ModelInfo = read_json(&dir.join("model.json"))?;
    let params = ModelParams {
        arch: info.arch,
        depth: info.depth,
        width: info.width,
        max_width: info.max_width,
        dropout: info.dropout,
        weights: None,
    };
    let mut vs = nn::VarStore::new(device);
    let built = build_model(
        &params,
        info.channels,
        info.image_size,
        info.num_classes,
        &vs.root(),
    )?;
    let path = dir.join("model.safetensors");
    vs.load(&path)
        .map_err(StagesError::torch(format!("loading {}", path.display())))?;
    vs.freeze();
    Ok((built.model, info))
}

/// Copies pretrained weights (safetensors, or a libtorch `.ot` file as
/// published for `tch::vision`) into `vs` by variable name. Variables whose
/// shape differs are skipped (the classifier head, whose class count
/// differs), except a first convolution trained on RGB loaded into a
/// grayscale model, whose filters are summed over the colour axis. Returns
/// (loaded, skipped); no matching variable at all is an error.
pub fn load_pretrained(vs: &nn::VarStore, path: &Path) -> Result<(usize, usize)> {
    let is_st = path.extension().is_some_and(|e| e == "safetensors");
    let src: Vec<(String, Tensor)> = if is_st {
        Tensor::read_safetensors(path)
    } else {
        Tensor::load_multi(path)
    }
    .map_err(StagesError::torch(format!(
        "reading weights {}",
        path.display()
    )))?;
    let src: std::collections::HashMap<String, Tensor> = src.into_iter().collect();
    let (mut loaded, mut skipped) = (0, 0);
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            let Some(s) = src.get(&name) else {
                skipped += 1;
                continue;
            };
            let s = s.to_kind(var.kind()).to_device(var.device());
            if s.size() == var.size() {
                var.copy_(&s);
                loaded += 1;
            } else if s.dim() == 4
                && var.dim() == 4
                && s.size()[1] == 3
                && var.size()[1] == 1
                && s.size()[0] == var.size()[0]
            {
                var.copy_(&s.sum_dim_intlist(1, true, s.kind()));
                loaded += 1;
            } else {
                skipped += 1;
            }
        }
    });
    if loaded == 0 {
        return Err(StagesError::artifact(
            path,
            "no variable of the weights file matches the model",
        ));
    }
    Ok((loaded, skipped))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mp(arch: Arch, depth: u32) -> ModelParams {
        ModelParams {
            arch,
            depth,
            width: 4,
            max_width: 16,
            dropout: 0.1,
            weights: None,
        }
    }

    #[test]
    fn cnn_taps_shapes_and_macs() {
        let vs = nn::VarStore::new(Device::Cpu);
        let b = build_model(&mp(Arch::Cnn, 3), 1, 8, 3, &vs.root()).unwrap();
        let (taps, logits) = b
            .model
            .forward_taps(&Tensor::zeros([2, 1, 8, 8], tch::kind::FLOAT_CPU), false);
        assert_eq!(logits.size(), vec![2, 3]);
        let shapes: Vec<Vec<i64>> = taps.iter().map(|t| t.size()).collect();
        assert_eq!(
            shapes,
            vec![vec![2, 4, 8, 8], vec![2, 8, 4, 4], vec![2, 16, 2, 2]]
        );
        assert_eq!(
            b.model.layer_names(),
            vec!["block1.conv", "block2.conv", "block3.conv"]
        );
        // 4·1·9·64 + 8·4·9·16 + 16·8·9·4 + 16·3
        assert_eq!(b.macs, 2304 + 4608 + 4608 + 48);
        // conv weights (no bias: see Cnn), bn weight+bias, fc
        let expect = (4 * 9 + 8) + (8 * 4 * 9 + 16) + (16 * 8 * 9 + 32) + (16 * 3 + 3);
        assert_eq!(param_count(&vs), expect as u64);
    }

    #[test]
    fn pretrained_weights_load_by_name_and_skip_the_head() {
        let dir = tempfile::tempdir().unwrap();
        let src = nn::VarStore::new(Device::Cpu);
        build_model(&mp(Arch::Cnn, 2), 3, 8, 10, &src.root()).unwrap();
        let path = dir.path().join("w.safetensors");
        save_weights(&src, &path).unwrap();
        // Grayscale, 3 classes: first conv summed over RGB, fc skipped.
        let dst = nn::VarStore::new(Device::Cpu);
        build_model(&mp(Arch::Cnn, 2), 1, 8, 3, &dst.root()).unwrap();
        let (loaded, skipped) = load_pretrained(&dst, &path).unwrap();
        assert_eq!(skipped, 2); // fc.weight, fc.bias
        assert_eq!(loaded, dst.variables().len() - 2);
        let w_src =
            src.variables()["block1.conv.weight"].sum_dim_intlist(1, true, tch::Kind::Float);
        assert!(dst.variables()["block1.conv.weight"].allclose(&w_src, 1e-6, 1e-6, false));
    }

    #[test]
    fn pooling_stops_at_one_pixel() {
        let vs = nn::VarStore::new(Device::Cpu);
        let b = build_model(&mp(Arch::Cnn, 5), 3, 4, 2, &vs.root()).unwrap();
        let (taps, logits) = b
            .model
            .forward_taps(&Tensor::zeros([1, 3, 4, 4], tch::kind::FLOAT_CPU), false);
        assert_eq!(taps.last().unwrap().size()[2], 1);
        assert_eq!(logits.size(), vec![1, 2]);
    }

    #[test]
    fn resnet_and_densenet_paths_match_tch_vision() {
        let vs = nn::VarStore::new(Device::Cpu);
        let b = build_model(&mp(Arch::Resnet18, 0), 3, 32, 4, &vs.root()).unwrap();
        let (taps, logits) = b
            .model
            .forward_taps(&Tensor::zeros([1, 3, 32, 32], tch::kind::FLOAT_CPU), false);
        assert_eq!(taps.len(), b.model.layer_names().len());
        assert_eq!(logits.size(), vec![1, 4]);
        let theirs = nn::VarStore::new(Device::Cpu);
        let _ = tch::vision::resnet::resnet18(&theirs.root(), 4);
        let mut a: Vec<_> = vs.variables().into_keys().collect();
        let mut t: Vec<_> = theirs.variables().into_keys().collect();
        a.sort();
        t.sort();
        assert_eq!(a, t);

        let vs = nn::VarStore::new(Device::Cpu);
        let b = build_model(&mp(Arch::Densenet121, 0), 3, 32, 4, &vs.root()).unwrap();
        let (taps, logits) = b
            .model
            .forward_taps(&Tensor::zeros([1, 3, 32, 32], tch::kind::FLOAT_CPU), false);
        assert_eq!(taps.len(), 6);
        assert_eq!(logits.size(), vec![1, 4]);
        let theirs = nn::VarStore::new(Device::Cpu);
        let _ = tch::vision::densenet::densenet121(&theirs.root(), 4);
        let mut a: Vec<_> = vs.variables().into_keys().collect();
        let mut t: Vec<_> = theirs.variables().into_keys().collect();
        a.sort();
        t.sort();
        assert_eq!(a, t);
        assert!(b.macs > 0);
    }
}
