//! DenseNet-121 (Huang et al. 2016), the paper's teacher, with tapped
//! activations (stem, each dense block, final norm). Variable paths follow
//! torchvision / `tch::vision::densenet` (`features.conv0`, `features.norm0`,
//! `features.denseblock{i}.denselayer{j}.{norm1,conv1,norm2,conv2}`,
//! `features.transition{i}.{norm,conv}`, `features.norm5`, `classifier`), so
//! converted ImageNet weights load by name. Pooling that would shrink a map
//! below 1 pixel is skipped, so small images work.

use tch::{nn, Tensor};

use super::{conv_out, Classifier};

const GROWTH: i64 = 32;
const BN_SIZE: i64 = 4;
const BLOCKS: [i64; 4] = [6, 12, 24, 16];
const STEM: i64 = 64;

fn conv(p: nn::Path, c_in: i64, c_out: i64, k: i64, pad: i64, stride: i64) -> nn::Conv2D {
    let cfg = nn::ConvConfig {
        stride,
        padding: pad,
        bias: false,
        ..Default::default()
    };
    nn::conv2d(p, c_in, c_out, k, cfg)
}

struct DenseLayer {
    norm1: nn::BatchNorm,
    conv1: nn::Conv2D,
    norm2: nn::BatchNorm,
    conv2: nn::Conv2D,
}

struct Transition {
    norm: nn::BatchNorm,
    conv: nn::Conv2D,
}

/// DenseNet-121 for `channels`-channel inputs.
pub struct DenseNet121 {
    conv0: nn::Conv2D,
    norm0: nn::BatchNorm,
    blocks: Vec<Vec<DenseLayer>>,
    transitions: Vec<Transition>,
    norm5: nn::BatchNorm,
    classifier: nn::Linear,
    dropout: f64,
    num_classes: i64,
    macs: u64,
}

impl DenseNet121 {
    pub fn new(
        p: &nn::Path,
        channels: i64,
        image_size: i64,
        num_classes: i64,
        dropout: f64,
    ) -> Self {
        let f = p / "features";
        let mut s = conv_out(image_size, 7, 2, 3);
        let mut macs = (STEM * channels * 49 * s * s) as u64;
        let conv0 = conv(&f / "conv0", channels, STEM, 7, 3, 2);
        let norm0 = nn::batch_norm2d(&f / "norm0", STEM, Default::default());
        s = conv_out(s, 3, 2, 1);
        let mut nfeat = STEM;
        let mut blocks = Vec::new();
        let mut transitions = Vec::new();
        for (i, &n) in BLOCKS.iter().enumerate() {
            let bp = &f / format!("denseblock{}", i + 1);
            let mut layers = Vec::new();
            for j in 0..n {
                let lp = &bp / format!("denselayer{}", j + 1);
                let c_in = nfeat + j * GROWTH;
                let inter = BN_SIZE * GROWTH;
                macs += ((c_in * inter + inter * GROWTH * 9) * s * s) as u64;
                layers.push(DenseLayer {
                    norm1: nn::batch_norm2d(&lp / "norm1", c_in, Default::default()),
                    conv1: conv(&lp / "conv1", c_in, inter, 1, 0, 1),
                    norm2: nn::batch_norm2d(&lp / "norm2", inter, Default::default()),
                    conv2: conv(&lp / "conv2", inter, GROWTH, 3, 1, 1),
                });
            }
            blocks.push(layers);
            nfeat += n * GROWTH;
            if i + 1 < BLOCKS.len() {
                let tp = &f / format!("transition{}", i + 1);
                macs += (nfeat * (nfeat / 2) * s * s) as u64;
                transitions.push(Transition {
                    norm: nn::batch_norm2d(&tp / "norm", nfeat, Default::default()),
                    conv: conv(&tp / "conv", nfeat, nfeat / 2, 1, 0, 1),
                });
                nfeat /= 2;
                if s >= 2 {
                    s /= 2;
                }
            }
        }
        let norm5 = nn::batch_norm2d(&f / "norm5", nfeat, Default::default());
        let classifier = nn::linear(p / "classifier", nfeat, num_classes, Default::default());
        macs += (nfeat * num_classes) as u64;
        DenseNet121 {
            conv0,
            norm0,
            blocks,
            transitions,
            norm5,
            classifier,
            dropout,
            num_classes,
            macs,
        }
    }

    pub fn macs(&self) -> u64 {
        self.macs
    }
}

impl Classifier for DenseNet121 {
    fn logits(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_taps(xs, train).1
    }

    fn forward_taps(&self, xs: &Tensor, train: bool) -> (Vec<Tensor>, Tensor) {
        let stem = xs.apply(&self.conv0).apply_t(&self.norm0, train).relu();
        let mut h = stem.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        let mut taps = vec![stem];
        for (i, layers) in self.blocks.iter().enumerate() {
            for l in layers {
                let y = h
                    .apply_t(&l.norm1, train)
                    .relu()
                    .apply(&l.conv1)
                    .apply_t(&l.norm2, train)
                    .relu()
                    .apply(&l.conv2);
                h = Tensor::cat(&[&h, &y], 1);
            }
            taps.push(h.shallow_clone());
            if let Some(t) = self.transitions.get(i) {
                h = h.apply_t(&t.norm, train).relu().apply(&t.conv);
                if h.size()[2] >= 2 {
                    h = h.avg_pool2d_default(2);
                }
            }
        }
        let last = h.apply_t(&self.norm5, train).relu();
        taps.push(last.shallow_clone());
        let logits = last
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .dropout(self.dropout, train)
            .apply(&self.classifier);
        (taps, logits)
    }

    fn layer_names(&self) -> Vec<String> {
        let mut names = vec!["features.conv0".to_string()];
        names.extend((1..=BLOCKS.len()).map(|i| format!("features.denseblock{i}")));
        names.push("features.norm5".into());
        names
    }

    fn num_classes(&self) -> i64 {
        self.num_classes
    }
}
