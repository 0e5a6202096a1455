//! The jet colormap (blue → cyan → yellow → red), the piecewise-linear form
//! used by OpenCV's COLORMAP_JET and the paper's released code.

/// v in [0, 1] (clamped; NaN maps to 0) → RGB.
pub fn jet(v: f32) -> [u8; 3] {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let channel = |centre: f32| {
        let c = (1.5 - (4.0 * v - centre).abs()).clamp(0.0, 1.0);
        (c * 255.0).round() as u8
    };
    [channel(3.0), channel(2.0), channel(1.0)]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::jet;

    #[test]
    fn jet_endpoints_and_middle() {
        assert_eq!(jet(0.0), [0, 0, 128]);
        assert_eq!(jet(0.5), [128, 255, 128]);
        assert_eq!(jet(1.0), [128, 0, 0]);
        assert_eq!(jet(-3.0), jet(0.0));
        assert_eq!(jet(f32::NAN), jet(0.0));
        assert_eq!(jet(2.0), jet(1.0));
    }

    #[test]
    fn jet_runs_from_blue_to_red() {
        let lo = jet(0.1);
        let hi = jet(0.9);
        assert!(lo[2] > lo[0]);
        assert!(hi[0] > hi[2]);
    }
}
