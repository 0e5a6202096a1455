//! Small tensor helpers shared by the explainers: shape checks, upsampling
//! of coarse maps to the input size, per-map normalisation, copying to host.

use tch::{Device, Kind, Tensor};

use super::error::ExplainError;

/// Checks xs is [N, C, H, W] and returns its sizes.
pub(crate) fn image_dims(xs: &Tensor, what: &'static str) -> Result<[i64; 4], ExplainError> {
    match xs.size().as_slice() {
        &[n, c, h, w] if n > 0 && c > 0 && h > 0 && w > 0 => Ok([n, c, h, w]),
        other => Err(ExplainError::Shape {
            what,
            expected: "[batch, channels, height, width]".into(),
            got: other.to_vec(),
        }),
    }
}

/// Checks x is one image [C, H, W] and returns its sizes.
pub(crate) fn single_dims(x: &Tensor, what: &'static str) -> Result<[i64; 3], ExplainError> {
    match x.size().as_slice() {
        &[c, h, w] if c > 0 && h > 0 && w > 0 => Ok([c, h, w]),
        other => Err(ExplainError::Shape {
            what,
            expected: "[channels, height, width]".into(),
            got: other.to_vec(),
        }),
    }
}

/// maps: [N, 1, h, w] → [N, H, W], bilinear (half-pixel centres, like
/// OpenCV's `resize`). A convex combination, so a non-negative map stays so.
pub(crate) fn upsample(maps: &Tensor, height: i64, width: i64) -> Tensor {
    maps.to_kind(Kind::Float)
        .upsample_bilinear2d([height, width], false, None::<f64>, None::<f64>)
        .squeeze_dim(1)
}

/// maps: [N, H, W] → each map min–max scaled to [0, 1]; a constant map
/// becomes all zeros.
pub(crate) fn minmax(maps: &Tensor) -> Tensor {
    let lo = maps.amin([1, 2], true);
    let hi = maps.amax([1, 2], true);
    let range = &hi - &lo;
    let scaled = (maps - &lo) / range.clamp_min(f64::from(f32::MIN_POSITIVE));
    scaled.where_self(&range.gt(0.0), &scaled.zeros_like())
}

/// maps: [N, H, W], non-negative → each map divided by its maximum (Grad-CAM's
/// normalisation); an all-zero map stays zero.
pub(crate) fn divide_by_max(maps: &Tensor) -> Tensor {
    let hi = maps.amax([1, 2], true);
    maps / hi.clamp_min(f64::from(f32::MIN_POSITIVE))
}

/// Copies any tensor to a flat host `Vec<f32>` (row-major).
pub(crate) fn to_vec_f32(t: &Tensor) -> Result<Vec<f32>, ExplainError> {
    let flat = t
        .detach()
        .to_device(Device::Cpu)
        .to_kind(Kind::Float)
        .contiguous()
        .reshape([-1]);
    Vec::<f32>::try_from(&flat).map_err(ExplainError::torch("copying a tensor to the host"))
}

/// Copies an integer tensor to a flat host `Vec<i64>`.
pub(crate) fn to_vec_i64(t: &Tensor) -> Result<Vec<i64>, ExplainError> {
    let flat = t
        .detach()
        .to_device(Device::Cpu)
        .to_kind(Kind::Int64)
        .contiguous()
        .reshape([-1]);
    Vec::<i64>::try_from(&flat).map_err(ExplainError::torch("copying a tensor to the host"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn minmax_scales_each_map_and_zeroes_constant_maps() {
        let maps = Tensor::from_slice(&[1.0f32, 3.0, 2.0, 5.0, 7.0, 7.0, 7.0, 7.0]).view([2, 2, 2]);
        let v = to_vec_f32(&minmax(&maps)).unwrap();
        assert_eq!(v, vec![0.0, 0.5, 0.25, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn upsample_keeps_a_constant_map_constant_and_resizes() {
        let maps = Tensor::full([1, 1, 2, 2], 0.25, (Kind::Float, Device::Cpu));
        let up = upsample(&maps, 8, 6);
        assert_eq!(up.size(), vec![1, 8, 6]);
        assert!(to_vec_f32(&up)
            .unwrap()
            .iter()
            .all(|v| (v - 0.25).abs() < 1e-7));
    }
}
