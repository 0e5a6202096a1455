//! Data preparation (`prepare` stage) and loading of prepared datasets.
//!
//! Flow ([`prepare`]): read the source ([`sources`]: ImageFolder with an
//! optional pre-made train / val / test split, MedMNIST `.npz`, IDX) → drop
//! exact duplicates by content hash ([`split::dedupe`]) → decode upright,
//! convert and make square (pad, crop or stretch) in parallel ([`decode`])
//! → group near-duplicates on decoded pixels ([`near_dup`]) → seeded
//! stratified split that keeps each group in one split and checks every
//! class reaches every split ([`split::group_stratified_split`]) →
//! `data.safetensors` (u8 [N, C, H, W] and i64 labels per split) +
//! `dataset.json` (counts, split hashes, the near-duplicate clusters).
//! Normalisation statistics are computed on the training split only and
//! applied at load time ([`PreparedData::load`]), so training never decodes
//! an image again. Problems of the data itself are "bad input"
//! ([`crate::error::StagesError::is_bad_input`]).

mod arrays;
mod decode;
mod grouping_error;
mod near_dup;
mod prepare;
mod prepared;
mod sources;
mod split;

pub use grouping_error::GroupingError;
pub use near_dup::{NearDupCfg, DEFAULT_CANONICAL_SIZE, DEFAULT_MAX_HAMMING, DEFAULT_MIN_PEARSON};
pub use prepare::{prepare_dataset, run_prepare};
pub use prepared::{PreparedData, Split};
pub use sources::{list_input_files, InputFile};
