//! ResNet-18 (He et al. 2015) with tapped activations. Variable paths follow
//! torchvision / `tch::vision::resnet` (`conv1`, `bn1`, `layer{1..4}.{0,1}.*`,
//! `downsample.{0,1}`, `fc`), so converted ImageNet weights load by name.

use tch::{nn, Tensor};

use super::{conv_out, Classifier};

fn conv(p: nn::Path, c_in: i64, c_out: i64, k: i64, pad: i64, stride: i64) -> nn::Conv2D {
    let cfg = nn::ConvConfig {
        stride,
        padding: pad,
        bias: false,
        ..Default::default()
    };
    nn::conv2d(p, c_in, c_out, k, cfg)
}

struct BasicBlock {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    down: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl BasicBlock {
    fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = xs
            .apply(&self.conv1)
            .apply_t(&self.bn1, train)
            .relu()
            .apply(&self.conv2)
            .apply_t(&self.bn2, train);
        let short = match &self.down {
            Some((c, b)) => xs.apply(c).apply_t(b, train),
            None => xs.shallow_clone(),
        };
        (short + ys).relu()
    }
}

/// ResNet-18 for `channels`-channel inputs.
pub struct ResNet18 {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    blocks: Vec<(String, BasicBlock)>,
    fc: nn::Linear,
    dropout: f64,
    num_classes: i64,
    macs: u64,
}

impl ResNet18 {
    pub fn new(
        p: &nn::Path,
        channels: i64,
        image_size: i64,
        num_classes: i64,
        dropout: f64,
    ) -> Self {
        let mut macs = 0u64;
        let mut s = conv_out(image_size, 7, 2, 3);
        let conv1 = conv(p / "conv1", channels, 64, 7, 3, 2);
        macs += (64 * channels * 49 * s * s) as u64;
        let bn1 = nn::batch_norm2d(p / "bn1", 64, Default::default());
        s = conv_out(s, 3, 2, 1);
        let mut blocks = Vec::new();
        let mut c_in = 64;
        for (l, c_out) in [64i64, 128, 256, 512].into_iter().enumerate() {
            for b in 0..2 {
                let stride = if l > 0 && b == 0 { 2 } else { 1 };
                let bp = p / format!("layer{}", l + 1) / b.to_string();
                let s_out = conv_out(s, 3, stride, 1);
                let down = (stride != 1 || c_in != c_out).then(|| {
                    let dp = &bp / "downsample";
                    macs += (c_out * c_in * s_out * s_out) as u64;
                    (
                        conv(&dp / "0", c_in, c_out, 1, 0, stride),
                        nn::batch_norm2d(&dp / "1", c_out, Default::default()),
                    )
                });
                macs +=
                    (c_out * c_in * 9 * s_out * s_out + c_out * c_out * 9 * s_out * s_out) as u64;
                let block = BasicBlock {
                    conv1: conv(&bp / "conv1", c_in, c_out, 3, 1, stride),
                    bn1: nn::batch_norm2d(&bp / "bn1", c_out, Default::default()),
                    conv2: conv(&bp / "conv2", c_out, c_out, 3, 1, 1),
                    bn2: nn::batch_norm2d(&bp / "bn2", c_out, Default::default()),
                    down,
                };
                blocks.push((format!("layer{}.{b}", l + 1), block));
                c_in = c_out;
                s = s_out;
            }
        }
        let fc = nn::linear(p / "fc", 512, num_classes, Default::default());
        macs += (512 * num_classes) as u64;
        ResNet18 {
            conv1,
            bn1,
            blocks,
            fc,
            dropout,
            num_classes,
            macs,
        }
    }

    pub fn macs(&self) -> u64 {
        self.macs
    }
}

impl Classifier for ResNet18 {
    fn logits(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_taps(xs, train).1
    }

    fn forward_taps(&self, xs: &Tensor, train: bool) -> (Vec<Tensor>, Tensor) {
        let stem = xs.apply(&self.conv1).apply_t(&self.bn1, train).relu();
        let mut h = stem.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        let mut taps = vec![stem];
        for (_, b) in &self.blocks {
            h = b.forward(&h, train);
            taps.push(h.shallow_clone());
        }
        let logits = h
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .dropout(self.dropout, train)
            .apply(&self.fc);
        (taps, logits)
    }

    fn layer_names(&self) -> Vec<String> {
        std::iter::once("conv1".to_string())
            .chain(self.blocks.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    fn num_classes(&self) -> i64 {
        self.num_classes
    }
}
