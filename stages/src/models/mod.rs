//! Models: the VGG-style CNN (teacher and student), ResNet-18 and
//! DenseNet-121. Every model implements [`Classifier`], which exposes its
//! per-conv-layer activations in the same autograd graph as its logits (tch
//! has no forward hooks): the explainers need both.

use tch::Tensor;

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
