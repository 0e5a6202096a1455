//! Which tapped layer Grad-CAM explains: an index (negative counts from the
//! last), or `gradcam_layer = "common"`, the layer at the resolution that
//! every model of the sweep has. Expansion resolves "common" to a CNN block
//! k (the shallowest depth swept); its resolution is that of block k's
//! output in a CNN built by the same code as the students, so it follows
//! the CNN's pooling rule wherever that changes. A CNN explains block k
//! itself; another architecture (a ResNet or DenseNet teacher) its tapped
//! layer nearest that resolution.

use study::kd::params::{Arch, ModelParams};
use tch::{nn, Device, Kind, Tensor};

use super::error::ExplainError;
use super::gradcam::resolve_layer;
use crate::models::{build_model, Classifier};

/// [height, width] of every tapped activation of `model` for a
/// [C, H, W] input.
pub fn tap_sizes(model: &dyn Classifier, input: [i64; 3], device: Device) -> Vec<[i64; 2]> {
    let [c, h, w] = input;
    let _guard = tch::no_grad_guard();
    let x = Tensor::zeros([1, c, h, w], (Kind::Float, device));
    model
        .forward_taps(&x, false)
        .0
        .iter()
        .map(|a| {
            let s = a.size();
            [s[s.len() - 2], s[s.len() - 1]]
        })
        .collect()
}

/// The output resolution of block `block` (1-based) of a CNN for a
/// [C, H, W] input.
fn cnn_block_size(block: u32, input: [i64; 3]) -> Result<[i64; 2], ExplainError> {
    let params = ModelParams {
        arch: Arch::Cnn,
        depth: block.max(1),
        width: 1,
        max_width: 1,
        dropout: 0.0,
        weights: None,
    };
    let vs = nn::VarStore::new(Device::Cpu);
    let built = build_model(&params, input[0], input[1].max(input[2]), 2, &vs.root())
        .map_err(|e| ExplainError::Layer(e.to_string()))?;
    tap_sizes(built.model.as_ref(), input, Device::Cpu)
        .last()
        .copied()
        .ok_or_else(|| ExplainError::Layer("the reference CNN taps no layer".into()))
}

/// The index `gradcam` explains. `common_block = None`: `index` (negative
/// from the last). Else the tapped layer whose size is nearest block
/// `common_block`'s (by log-area; ties to the index nearest block − 1), which
/// for a CNN is block `common_block` itself.
pub fn choose_layer(
    model: &dyn Classifier,
    input: [i64; 3],
    device: Device,
    index: i32,
    common_block: Option<u32>,
) -> Result<usize, ExplainError> {
    let layers = model.layer_names().len();
    let Some(block) = common_block else {
        return resolve_layer(index, layers);
    };
    let target = cnn_block_size(block, input)?;
    let sizes = tap_sizes(model, input, device);
    let area = |s: [i64; 2]| ((s[0] * s[1]).max(1) as f64).ln();
    let want = block as i64 - 1;
    sizes
        .iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| {
            let (da, db) = (
                (area(**a) - area(target)).abs(),
                (area(**b) - area(target)).abs(),
            );
            da.total_cmp(&db)
                .then(((*i as i64) - want).abs().cmp(&((*j as i64) - want).abs()))
        })
        .map(|(i, _)| i)
        .ok_or(ExplainError::LayerOutOfRange {
            layer: index,
            layers,
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::explain::test_models::TwoConv;

    fn cnn(depth: u32) -> Box<dyn Classifier> {
        let vs = nn::VarStore::new(Device::Cpu);
        let p = ModelParams {
            arch: Arch::Cnn,
            depth,
            width: 4,
            max_width: 16,
            dropout: 0.0,
            weights: None,
        };
        build_model(&p, 1, 48, 2, &vs.root()).unwrap().model
    }

    /// At 48 px the last layer of a depth-1 CNN is 48×48, of a depth-4 one
    /// 6×6; "common" with block 1 picks the 48×48 block 1 of both, with
    /// block 2 the 24×24 block 2 of the depth-2 and depth-4 CNNs.
    #[test]
    fn common_layer_has_one_resolution_across_depths() {
        let input = [1, 48, 48];
        let (d1, d2, d4) = (cnn(1), cnn(2), cnn(4));
        let last = |m: &dyn Classifier| {
            let i = choose_layer(m, input, Device::Cpu, -1, None).unwrap();
            tap_sizes(m, input, Device::Cpu)[i]
        };
        assert_eq!(last(d1.as_ref()), [48, 48]);
        assert_eq!(last(d4.as_ref()), [6, 6]);
        for (m, block, want) in [
            (&d1, 1, 0),
            (&d4, 1, 0),
            (&d2, 2, 1),
            (&d4, 2, 1),
            (&d4, 4, 3),
        ] {
            let i = choose_layer(m.as_ref(), input, Device::Cpu, -1, Some(block)).unwrap();
            assert_eq!(i, want, "block {block}");
            let size = tap_sizes(m.as_ref(), input, Device::Cpu)[i];
            assert_eq!(size, [48 >> (block - 1), 48 >> (block - 1)]);
        }
    }

    /// A model of another shape takes its tap nearest the block's size:
    /// TwoConv taps 6×6 and 3×3; CNN block 2 of a 6×6 input is 3×3.
    #[test]
    fn other_models_take_the_nearest_resolution() {
        let m = TwoConv::new();
        let input = [1, 6, 6];
        assert_eq!(tap_sizes(&m, input, Device::Cpu), vec![[6, 6], [3, 3]]);
        assert_eq!(
            choose_layer(&m, input, Device::Cpu, -1, Some(1)).unwrap(),
            0
        );
        assert_eq!(
            choose_layer(&m, input, Device::Cpu, -1, Some(2)).unwrap(),
            1
        );
        assert_eq!(choose_layer(&m, input, Device::Cpu, 0, None).unwrap(), 0);
    }
}
