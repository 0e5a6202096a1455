//! Floats that may be `null` in a file: serde_json writes a NaN or an
//! infinity as `null` (a diverged model's loss or faithfulness, say), so
//! those fields read `null` back as NaN instead of failing the whole file.

use serde::{Deserialize, Deserializer};

/// An `f64` field: `null` reads as NaN.
pub(crate) fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A list of `f64`: each `null` reads as NaN.
pub(crate) fn f64s<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}
