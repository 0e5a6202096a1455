//! Near-duplicate grouping: the second dedupe pass, on decoded pixels.
//!
//! [`super::split::dedupe`] drops byte-identical files only; the same scan
//! saved as JPEG and PNG, at another resolution or with other margins
//! survives it. This pass fingerprints every image ([`fingerprint`]: upright,
//! grayscale, cropped to its object, 32×32, a 64-bit DCT pHash and the
//! normalised pixels) and groups those whose hashes are within
//! `max_hamming` bits AND whose pixels correlate at least `min_pearson`
//! ([`cluster`]). `prepare` then splits by group
//! ([`super::split::group_stratified_split`]), so a cluster never crosses
//! splits. A group whose images carry two labels is an error naming two of
//! them, or is dropped whole with `label_conflicts = "drop"`.
//!
//! Images that cannot be decoded here are left ungrouped: the decode step of
//! `prepare` reports or skips them.

mod cluster;
mod fingerprint;

pub(crate) use cluster::group_near_duplicates;
pub use cluster::{NearDupCfg, DEFAULT_CANONICAL_SIZE, DEFAULT_MAX_HAMMING, DEFAULT_MIN_PEARSON};

#[cfg(test)]
mod tests;
