//! Hierarchical feature maps, the paper's KD-FMV visualisation: for every
//! conv layer, shallow to deep, the channel-mean activation, upsampled to the
//! input size and min–max normalised. No gradients, no channel ranking.

use tch::{Kind, Tensor};

use super::error::ExplainError;
use super::maps::{image_dims, minmax, upsample};
use crate::models::Classifier;

/// One normalised map per conv layer.
pub struct FeatureMaps {
    /// Layer names, shallow to deep.
    pub layers: Vec<String>,
    /// One tensor per layer: [N, H, W] with every map in [0, 1].
    pub maps: Vec<Tensor>,
}

/// xs: [N, C, H, W] (normalised images) → the feature maps of every conv layer.
pub fn feature_maps(model: &dyn Classifier, xs: &Tensor) -> Result<FeatureMaps, ExplainError> {
    let [_, _, height, width] = image_dims(xs, "feature-map input")?;
    let _guard = tch::no_grad_guard();
    let (acts, _) = model.forward_taps(xs, false);
    let layers = model.layer_names();
    if layers.len() != acts.len() {
        return Err(ExplainError::LayerCount {
            taps: acts.len(),
            names: layers.len(),
        });
    }
    let maps = acts
        .iter()
        .map(|a| minmax(&upsample(&a.mean_dim(1, true, Kind::Float), height, width)))
        .collect();
    Ok(FeatureMaps { layers, maps })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::explain::maps::to_vec_f32;
    use crate::explain::test_models::{inputs, TwoConv};

    #[test]
    fn one_map_per_conv_layer_in_range_at_input_size() {
        let model = TwoConv::new();
        let xs = inputs(&[3, 1, 6, 6], 1, Kind::Float);
        let fm = feature_maps(&model, &xs).unwrap();
        assert_eq!(fm.layers, model.layer_names());
        assert_eq!(fm.maps.len(), 2);
        for m in &fm.maps {
            assert_eq!(m.size(), vec![3, 6, 6]);
            let v = to_vec_f32(m).unwrap();
            assert!(v.iter().all(|x| (0.0..=1.0).contains(x)), "{v:?}");
            // Each non-constant map reaches both ends of the range.
            for img in v.chunks(36) {
                let hi = img.iter().cloned().fold(f32::MIN, f32::max);
                let lo = img.iter().cloned().fold(f32::MAX, f32::min);
                assert!(hi == 1.0 || hi == 0.0);
                assert_eq!(lo, 0.0);
            }
        }
    }

    #[test]
    fn channel_mean_of_a_full_resolution_layer_is_min_max_scaled() {
        // The first TwoConv layer keeps the input size, so its map is exactly
        // the min–max scaled channel mean of its activation.
        let model = TwoConv::new();
        let xs = inputs(&[1, 1, 6, 6], 2, Kind::Float);
        let (acts, _) = model.forward_taps(&xs, false);
        let mean = to_vec_f32(&acts[0].mean_dim(1, false, Kind::Float)).unwrap();
        let lo = mean.iter().cloned().fold(f32::MAX, f32::min);
        let hi = mean.iter().cloned().fold(f32::MIN, f32::max);
        let fm = feature_maps(&model, &xs).unwrap();
        let got = to_vec_f32(&fm.maps[0]).unwrap();
        for (g, m) in got.iter().zip(&mean) {
            assert!((g - (m - lo) / (hi - lo)).abs() < 1e-5);
        }
    }
}
