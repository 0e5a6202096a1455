//! Grad-CAM (Selvaraju et al. 2017) at any tapped conv layer: channel
//! weights are the spatial mean of the gradient of the class score with
//! respect to the layer's activation; the map is ReLU(Σ_k w_k A_k),
//! upsampled to the input size and divided by its maximum.

use tch::{Kind, Tensor};

use super::error::ExplainError;
use super::maps::{divide_by_max, image_dims, upsample};
use crate::models::Classifier;

/// Grad-CAM maps of a batch.
pub struct GradCam {
    /// Index of the explained conv layer (0 = shallowest).
    pub layer: usize,
    /// Explained class of each image: [N] i64.
    pub classes: Tensor,
    /// ReLU(Σ_k w_k A_k) at the layer's resolution, unnormalised: [N, h, w].
    pub coarse: Tensor,
    /// Upsampled and normalised maps: [N, H, W], each with maximum 1 (or all 0).
    pub maps: Tensor,
}

/// Resolves a layer index (negative counts from the last layer: -1 = last).
pub fn resolve_layer(layer: i32, layers: usize) -> Result<usize, ExplainError> {
    let n = i64::try_from(layers).unwrap_or(i64::MAX);
    let idx = if layer < 0 {
        n + i64::from(layer)
    } else {
        i64::from(layer)
    };
    if (0..n).contains(&idx) {
        Ok(idx as usize)
    } else {
        Err(ExplainError::LayerOutOfRange { layer, layers })
    }
}

/// xs: [N, C, H, W]; `classes`: [N] i64 classes to explain, or `None` for
/// each image's predicted class.
pub fn gradcam(
    model: &dyn Classifier,
    xs: &Tensor,
    layer: i32,
    classes: Option<&Tensor>,
) -> Result<GradCam, ExplainError> {
    let [n, _, height, width] = image_dims(xs, "grad-cam input")?;
    let layers = model.layer_names().len();
    let layer = resolve_layer(layer, layers)?;
    // The input requires grad so that the tapped activation is in the graph
    // even when the model's weights are frozen; backward stops at `act`.
    let xs = xs.detach().set_requires_grad(true);
    let (acts, logits) = model.forward_taps(&xs, false);
    if acts.len() != layers {
        return Err(ExplainError::LayerCount {
            taps: acts.len(),
            names: layers,
        });
    }
    let act = &acts[layer];
    let classes = match classes {
        Some(c) => {
            if c.size() != [n] {
                return Err(ExplainError::Shape {
                    what: "grad-cam classes",
                    expected: format!("[{n}]"),
                    got: c.size(),
                });
            }
            c.to_device(logits.device()).to_kind(Kind::Int64)
        }
        None => logits.argmax(1, false).detach(),
    };
    // Images are independent in eval mode, so the gradient of the summed
    // scores gives every image's own gradient in one backward pass.
    let score = logits
        .gather(1, &classes.view([-1, 1]), false)
        .sum(Kind::Float);
    let grads = Tensor::f_run_backward(&[score], &[act], false, false).map_err(
        ExplainError::torch("back-propagating the grad-cam class score"),
    )?;
    let weights = grads[0].mean_dim([2i64, 3].as_slice(), true, Kind::Float);
    let coarse = (weights * act.detach().to_kind(Kind::Float))
        .sum_dim_intlist(1, true, Kind::Float)
        .relu();
    let maps = divide_by_max(&upsample(&coarse, height, width));
    Ok(GradCam {
        layer,
        classes,
        coarse: coarse.squeeze_dim(1),
        maps,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::explain::maps::{to_vec_f32, to_vec_i64};
    use crate::explain::test_models::{inputs, TwoConv};

    #[test]
    fn layer_indices_resolve_from_either_end() {
        assert_eq!(resolve_layer(-1, 5).unwrap(), 4);
        assert_eq!(resolve_layer(-5, 5).unwrap(), 0);
        assert_eq!(resolve_layer(2, 5).unwrap(), 2);
        assert!(matches!(
            resolve_layer(5, 5),
            Err(ExplainError::LayerOutOfRange {
                layer: 5,
                layers: 5
            })
        ));
        assert!(resolve_layer(-6, 5).is_err());
    }

    /// The coarse map equals ReLU(Σ_k w_k A_k) with w_k the spatial mean of
    /// the finite-difference gradient of the class score through the
    /// model's (nonlinear) head, worked out here without autograd.
    #[test]
    fn last_layer_matches_finite_differences() {
        let model = TwoConv::with_kind(Kind::Double);
        let xs = inputs(&[2, 1, 6, 6], 3, Kind::Double);
        let cam = gradcam(&model, &xs, -1, None).unwrap();
        assert_eq!(cam.layer, 1);
        let (acts, logits) = model.forward_taps(&xs, false);
        let a2 = acts[1].detach();
        let predicted = to_vec_i64(&logits.argmax(1, false)).unwrap();
        assert_eq!(to_vec_i64(&cam.classes).unwrap(), predicted);
        let [_, k, h, w] = image_dims(&a2, "a2").unwrap();
        let eps = 1e-6;
        for (i, &c) in predicted.iter().enumerate() {
            let a = a2.narrow(0, i as i64, 1);
            let a_vals = to_vec_f32(&a).unwrap();
            let score = |t: &Tensor| model.head(t).double_value(&[0, c]);
            let mut want = vec![0.0f64; (h * w) as usize];
            for ch in 0..k {
                let mut g = 0.0;
                for p in 0..h * w {
                    let idx = [0, ch, p / w, p % w];
                    let bump = |d: f64| {
                        let t = a.copy();
                        let _ = t
                            .get(0)
                            .get(ch)
                            .get(p / w)
                            .get(p % w)
                            .fill_(a.double_value(&idx) + d);
                        score(&t)
                    };
                    g += (bump(eps) - bump(-eps)) / (2.0 * eps);
                }
                g /= (h * w) as f64;
                for p in 0..(h * w) as usize {
                    want[p] += g * f64::from(a_vals[(ch * h * w) as usize + p]);
                }
            }
            // Non-degenerate: the ReLU both keeps and clips some pixels.
            assert!(want.iter().any(|v| *v > 1e-3) && want.iter().any(|v| *v < -1e-3));
            let got = to_vec_f32(&cam.coarse.get(i as i64)).unwrap();
            for (gv, wv) in got.iter().zip(&want) {
                assert!(
                    (f64::from(*gv) - wv.max(0.0)).abs() < 1e-5,
                    "{got:?} vs {want:?}"
                );
            }
        }
        // Normalised maps are the upsampled coarse maps over their maximum.
        let maps = to_vec_f32(&cam.maps).unwrap();
        assert_eq!(cam.maps.size(), vec![2, 6, 6]);
        for img in maps.chunks(36) {
            let hi = img.iter().cloned().fold(0.0f32, f32::max);
            assert!(hi == 1.0 || img.iter().all(|v| *v == 0.0));
            assert!(img.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    /// First layer, by hand: conv1 keeps the input size, so no upsampling
    /// blurs the comparison; the class is chosen explicitly.
    #[test]
    fn explicit_class_at_the_first_layer() {
        let model = TwoConv::with_kind(Kind::Double);
        let xs = inputs(&[1, 1, 6, 6], 4, Kind::Double);
        let classes = Tensor::from_slice(&[1i64]);
        let cam = gradcam(&model, &xs, 0, Some(&classes)).unwrap();
        let x = xs.detach().set_requires_grad(true);
        let (acts, logits) = model.forward_taps(&x, false);
        let g = Tensor::run_backward(&[logits.get(0).get(1)], &[&acts[0]], false, false);
        let w = g[0].mean_dim([2i64, 3].as_slice(), true, Kind::Double);
        let want = (w * acts[0].detach())
            .sum_dim_intlist(1, false, Kind::Double)
            .relu();
        let want = &want / want.max().clamp_min(1e-300);
        let diff = (cam.maps.to_kind(Kind::Double) - want)
            .abs()
            .max()
            .double_value(&[]);
        assert!(diff < 1e-5, "max difference {diff}");
        assert_eq!(to_vec_i64(&cam.classes).unwrap(), vec![1]);
    }

    #[test]
    fn rejects_a_layer_the_model_does_not_have() {
        let model = TwoConv::new();
        let xs = inputs(&[1, 1, 6, 6], 5, Kind::Float);
        let err = gradcam(&model, &xs, 2, None).err().unwrap();
        assert_eq!(
            err.to_string(),
            "grad-cam layer 2 out of range: the model has 2 conv layers"
        );
    }
}
