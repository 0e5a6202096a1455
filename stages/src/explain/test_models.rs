//! Tiny hand-built classifiers with fixed weights, and their inputs, for the
//! explainers' tests.

use tch::{Kind, Tensor};

use super::shared::Inputs;
use crate::models::Classifier;

/// Deterministic weights in [-1, 1) from a small formula.
fn weights(shape: &[i64], salt: i64, kind: Kind) -> Tensor {
    let n: i64 = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| ((i * 7 + salt * 3 + 3) % 11) as f64 / 5.5 - 1.0)
        .collect();
    Tensor::from_slice(&v).to_kind(kind).view(shape)
}

/// conv3x3(1→2)+ReLU at full size → avg-pool 2 → conv3x3(2→3)+ReLU →
/// head: global mean of tanh → linear(3→2). Two tapped conv layers.
pub(crate) struct TwoConv {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    lin: Tensor,
    lin_b: Tensor,
}

impl TwoConv {
    pub(crate) fn new() -> Self {
        Self::with_kind(Kind::Float)
    }

    pub(crate) fn with_kind(kind: Kind) -> Self {
        TwoConv {
            w1: weights(&[2, 1, 3, 3], 1, kind),
            b1: Tensor::from_slice(&[0.1f64, 0.3]).to_kind(kind),
            w2: weights(&[3, 2, 3, 3], 2, kind),
            b2: Tensor::from_slice(&[0.2f64, -0.1, 0.4]).to_kind(kind),
            lin: weights(&[2, 3], 3, kind) * 2.0,
            lin_b: Tensor::from_slice(&[0.05f64, -0.05]).to_kind(kind),
        }
    }

    /// a2: [N, 3, h, w] → logits [N, 2].
    pub(crate) fn head(&self, a2: &Tensor) -> Tensor {
        let pooled = a2.tanh().mean_dim([2i64, 3].as_slice(), false, a2.kind());
        pooled.matmul(&self.lin.tr()) + &self.lin_b
    }
}

impl Classifier for TwoConv {
    fn logits(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_taps(xs, train).1
    }

    fn forward_taps(&self, xs: &Tensor, _train: bool) -> (Vec<Tensor>, Tensor) {
        let a1 = xs
            .conv2d(&self.w1, Some(&self.b1), [1, 1], [1, 1], [1, 1], 1)
            .relu();
        let a2 = a1
            .avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>)
            .conv2d(&self.w2, Some(&self.b2), [1, 1], [1, 1], [1, 1], 1)
            .relu();
        let logits = self.head(&a2);
        (vec![a1, a2], logits)
    }

    fn layer_names(&self) -> Vec<String> {
        vec!["conv1".into(), "conv2".into()]
    }

    fn num_classes(&self) -> i64 {
        2
    }
}

/// logits = W · flatten(x) + b: gradients are constant, so expected
/// gradients' completeness is exact in expectation.
pub(crate) struct Linear {
    pub(crate) w: Tensor,
    pub(crate) b: Tensor,
}

impl Linear {
    /// Input [N, c, h, w], 3 classes.
    pub(crate) fn new(c: i64, h: i64, w: i64) -> Self {
        Linear {
            w: weights(&[3, c * h * w], 5, Kind::Double),
            b: Tensor::from_slice(&[0.5f64, -0.25, 0.0]),
        }
    }
}

impl Classifier for Linear {
    fn logits(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.to_kind(Kind::Double).flatten(1, -1).matmul(&self.w.tr()) + &self.b
    }

    fn forward_taps(&self, xs: &Tensor, train: bool) -> (Vec<Tensor>, Tensor) {
        (vec![xs.shallow_clone()], self.logits(xs, train))
    }

    fn layer_names(&self) -> Vec<String> {
        vec!["input".into()]
    }

    fn num_classes(&self) -> i64 {
        3
    }
}

/// Ignores the image: constant logits.
pub(crate) struct Blind;

impl Classifier for Blind {
    fn logits(&self, xs: &Tensor, _train: bool) -> Tensor {
        let n = xs.size()[0];
        Tensor::from_slice(&[1.0f32, 2.0, 0.5])
            .view([1, 3])
            .expand([n, 3], false)
            + xs.sum_dim_intlist([1i64, 2, 3].as_slice(), true, Kind::Float)
                .view([n, 1])
                * 0.0
    }

    fn forward_taps(&self, xs: &Tensor, train: bool) -> (Vec<Tensor>, Tensor) {
        (vec![xs.shallow_clone()], self.logits(xs, train))
    }

    fn layer_names(&self) -> Vec<String> {
        vec!["input".into()]
    }

    fn num_classes(&self) -> i64 {
        3
    }
}

/// Reads one pixel: logits = [gain · x[0, row, col], 0].
pub(crate) struct OnePixel {
    pub(crate) row: i64,
    pub(crate) col: i64,
    pub(crate) gain: f64,
}

impl Classifier for OnePixel {
    fn logits(&self, xs: &Tensor, _train: bool) -> Tensor {
        let v = xs.select(1, 0).select(1, self.row).select(1, self.col) * self.gain;
        Tensor::stack(&[v.shallow_clone(), v.zeros_like()], 1)
    }

    fn forward_taps(&self, xs: &Tensor, train: bool) -> (Vec<Tensor>, Tensor) {
        (vec![xs.shallow_clone()], self.logits(xs, train))
    }

    fn layer_names(&self) -> Vec<String> {
        vec!["input".into()]
    }

    fn num_classes(&self) -> i64 {
        2
    }
}

/// A fixed-seed batch of test inputs, uniform in [-1, 1) (drawn in Rust:
/// torch's global generator is shared by tests running in parallel).
pub(crate) fn inputs(shape: &[i64], seed: u64, kind: Kind) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n: i64 = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    Tensor::from_slice(&v).to_kind(kind).view(shape)
}

/// Ten 6×6 grayscale test images (alternating labels 0, 1) and twelve
/// training images, as the explain and timing stages load them.
pub(crate) fn test_inputs() -> Inputs {
    Inputs {
        test_x: inputs(&[10, 1, 6, 6], 30, Kind::Float),
        test_y: Tensor::from_slice(&[0i64, 1, 0, 1, 0, 1, 0, 1, 0, 1]),
        train_x: inputs(&[12, 1, 6, 6], 31, Kind::Float),
        classes: vec!["no".into(), "yes".into()],
        mean: vec![0.5],
        std: vec![0.25],
    }
}
