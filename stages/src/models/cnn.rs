//! The VGG-style CNN used for the default teacher and for every student:
//! `depth` blocks of conv3×3 → batch norm → ReLU (→ 2×2 max-pool while the
//! feature map is at least 2 pixels wide), then global average pooling,
//! dropout and one linear layer. Channels start at `width` and double every
//! block up to `max_width`.
//!
//! The pooling uses ceil mode: an odd map (e.g. 3×3 at 48 px, depth 5; 7×7
//! at 28 px, depth 3) ends in a partial window instead of losing its last
//! row and column (floor mode kept only the top-left 2×2 of a 3×3 map, so 5
//! of its 9 positions never reached the logits, and Grad-CAM put heat where
//! the gradient was exactly zero). Ceil mode keeps the halving schedule (and
//! so the receptive fields and costs of every depth) where skipping the pool
//! on odd maps would leave the deep blocks on larger maps; every position
//! belongs to exactly one window.

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

/// VGG-style CNN. Variables: `block{i}.conv.weight`, `block{i}.bn.*`,
/// `fc.{weight,bias}` (i from 1).
///
/// The convolutions have no bias: batch norm subtracts the batch mean right
/// after them, so a conv bias changes nothing the network computes and its
/// gradient is pure rounding noise (the sum of a zero-mean quantity). Adam
/// divides that noise by its own running magnitude and turns it into
/// learning-rate-sized steps, so the bias (and BN's running mean) came out
/// different on every CPU whose kernels sum in another order, even under
/// the AVX2 pin (an AMD EPYC host vs the Intel host of the golden test).
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
                bias: false,
                ..Default::default()
            };
            let conv = nn::conv2d(&bp / "conv", c_in, c_out, 3, cfg);
            let bn = nn::batch_norm2d(&bp / "bn", c_out, Default::default());
            macs += (c_out * c_in * 9 * size * size) as u64;
            let pool = size >= 2;
            if pool {
                size = (size + 1) / 2; // ceil mode
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
                a.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], true)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Positions of the tapped map (summed over a batch of random images and
    /// over channels) whose gradient from the logits is exactly zero.
    fn dead_positions(depth: i64, size: i64) -> Vec<(usize, i64, i64)> {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        // A position gets gradient when it is the maximum of its pooling
        // window for some image and channel: 32 images × ≥ 8 channels make
        // that near-certain for every position a window covers.
        let cfg = CnnConfig {
            depth,
            width: 8,
            max_width: 16,
            dropout: 0.0,
        };
        let cnn = Cnn::new(&vs.root(), 1, size, 2, cfg);
        let xs = Tensor::randn([32, 1, size, size], (Kind::Float, Device::Cpu));
        let (taps, logits) = cnn.forward_taps(&xs, false);
        let grads = Tensor::run_backward(&[logits.sum(Kind::Float)], &taps, false, false);
        let mut dead = Vec::new();
        for (l, g) in grads.iter().enumerate() {
            // [c, h, w] → [h, w]
            let per_pos = g
                .abs()
                .sum_dim_intlist([0i64, 1].as_slice(), false, Kind::Float);
            let (h, w) = (per_pos.size()[0], per_pos.size()[1]);
            for i in 0..h {
                for j in 0..w {
                    if per_pos.double_value(&[i, j]) == 0.0 {
                        dead.push((l + 1, i, j));
                    }
                }
            }
        }
        dead
    }

    /// Every depth and input size of the defaults (48 px, teacher depth 5,
    /// students 1..4), of experiments/paper.toml (224 px, students 2, 4, 6)
    /// and the other common sizes (28, 32, 64 px): every position of every
    /// tapped map reaches the logits. Floor-mode pooling fails this at 48 px
    /// depth 5 (3×3 → 2×2), at 28 px depth ≥ 3 (7×7) and at 224 px depth 6.
    #[test]
    fn every_position_of_every_tap_reaches_the_logits() {
        let mut failures = Vec::new();
        for size in [28, 32, 48, 64, 224] {
            for depth in 1..=6 {
                let dead = dead_positions(depth, size);
                if !dead.is_empty() {
                    failures.push(format!(
                        "{size} px, depth {depth}: {} dead (block, row, col), e.g. {:?}",
                        dead.len(),
                        &dead[..dead.len().min(3)]
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn odd_maps_pool_to_the_ceiling() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = CnnConfig {
            depth: 5,
            width: 2,
            max_width: 4,
            dropout: 0.0,
        };
        let cnn = Cnn::new(&vs.root(), 1, 48, 2, cfg);
        let xs = Tensor::zeros([2, 1, 48, 48], (Kind::Float, Device::Cpu));
        let (taps, _) = cnn.forward_taps(&xs, false);
        let sides: Vec<i64> = taps.iter().map(|t| t.size()[3]).collect();
        assert_eq!(sides, [48, 24, 12, 6, 3]);
        // block 5's 3×3 map pools to 2×2 (ceil), not 1×1: macs count it
        let macs_block5 = 4 * 4 * 9 * 3 * 3;
        assert!(cnn.macs() > macs_block5 as u64);
    }
}
