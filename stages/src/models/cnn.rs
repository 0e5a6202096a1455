//! The VGG-style CNN used for the default teacher and for every student:
//! `depth` blocks of conv3×3 → batch norm → ReLU (→ 2×2 max-pool while the
//! feature map is at least 2 pixels wide), then global average pooling,
//! dropout and one linear layer. Channels start at `width` and double every
//! block up to `max_width`.

use tch::{nn, Tensor};

use super::Classifier;

/// Depth, widths and dropout of a [`Cnn`].
#[derive(Debug, Clone, Copy)]
pub struct CnnConfig {
    pub depth: i64,
    pub width: i64,
    pub max_width: i64,
    pub dropout: f64,
}

struct Block {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    pool: bool,
}

/// VGG-style CNN. Variables: `block{i}.conv.{weight,bias}`,
/// `block{i}.bn.*`, `fc.{weight,bias}` (i from 1).
pub struct Cnn {
    blocks: Vec<Block>,
    dropout: f64,
    fc: nn::Linear,
    num_classes: i64,
    macs: u64,
}

impl Cnn {
    /// Builds the network for `channels` × `image_size`² inputs.
    pub fn new(
        p: &nn::Path,
        channels: i64,
        image_size: i64,
        num_classes: i64,
        cfg: CnnConfig,
    ) -> Cnn {
        let CnnConfig {
            depth,
            width,
            max_width,
            dropout,
        } = cfg;
        let mut blocks = Vec::new();
        let (mut c_in, mut size, mut macs) = (channels, image_size, 0u64);
        for i in 0..depth {
            let c_out = (width << i.min(30)).min(max_width).max(1);
            let bp = p / format!("block{}", i + 1);
            let cfg = nn::ConvConfig {
                padding: 1,
                ..Default::default()
            };
            let conv = nn::conv2d(&bp / "conv", c_in, c_out, 3, cfg);
            let bn = nn::batch_norm2d(&bp / "bn", c_out, Default::default());
            macs += (c_out * c_in * 9 * size * size) as u64;
            let pool = size >= 2;
            if pool {
                size /= 2;
            }
            blocks.push(Block { conv, bn, pool });
            c_in = c_out;
        }
        let fc = nn::linear(p / "fc", c_in, num_classes, Default::default());
        macs += (c_in * num_classes) as u64;
        Cnn {
            blocks,
            dropout,
            fc,
            num_classes,
            macs,
        }
    }

    /// Multiply-accumulates per image (convolutions and the linear layer).
    pub fn macs(&self) -> u64 {
        self.macs
    }
}

impl Classifier for Cnn {
    fn logits(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_taps(xs, train).1
    }

    fn forward_taps(&self, xs: &Tensor, train: bool) -> (Vec<Tensor>, Tensor) {
        let mut taps = Vec::with_capacity(self.blocks.len());
        let mut h = xs.shallow_clone();
        for b in &self.blocks {
            let a = h.apply(&b.conv).apply_t(&b.bn, train).relu();
            h = if b.pool {
                a.max_pool2d_default(2)
            } else {
                a.shallow_clone()
            };
            taps.push(a);
        }
        let logits = h
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .dropout(self.dropout, train)
            .apply(&self.fc);
        (taps, logits)
    }

    fn layer_names(&self) -> Vec<String> {
        (1..=self.blocks.len())
            .map(|i| format!("block{i}.conv"))
            .collect()
    }

    fn num_classes(&self) -> i64 {
        self.num_classes
    }
}
