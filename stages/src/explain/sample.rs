//! Seeded choices shared by the explain and timing stages: which test images
//! are explained, which training images form the expected-gradients
//! background, each image's sample draws, and each image's deletion-curve
//! tie-break and random orders. They depend only on the seed
//! and the split sizes, so every model of a dataset explains the same images
//! with the same background and the same interpolation points.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::error::ExplainError;

/// ChaCha stream of each use of the seed.
const TEST_STREAM: u64 = 0;
const BACKGROUND_STREAM: u64 = 1;
const IMAGE_STREAM_BASE: u64 = 2;
/// Streams of the deletion / insertion curves: one per test image, far
/// above the expected-gradients streams.
const CURVE_STREAM_BASE: u64 = 1 << 40;

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The first `wanted` of a seeded permutation of `0..available`, ascending:
/// a smaller sample is a subset of a larger one with the same seed (so the
/// timed images are among the explained ones).
fn sample(
    available: usize,
    wanted: usize,
    seed: u64,
    stream: u64,
) -> Result<Vec<i64>, ExplainError> {
    if available == 0 || wanted == 0 {
        return Err(ExplainError::EmptySample { wanted, available });
    }
    let mut all: Vec<i64> = (0..available as i64).collect();
    all.shuffle(&mut rng(seed, stream));
    all.truncate(wanted.min(available));
    all.sort_unstable();
    Ok(all)
}

/// Test indices to explain: `wanted` of `available` (all of them if fewer),
/// ascending.
pub fn test_sample(available: usize, wanted: usize, seed: u64) -> Result<Vec<i64>, ExplainError> {
    sample(available, wanted, seed, TEST_STREAM)
}

/// Training indices of the expected-gradients background, ascending.
pub fn background_sample(
    available: usize,
    wanted: usize,
    seed: u64,
) -> Result<Vec<i64>, ExplainError> {
    sample(available, wanted, seed, BACKGROUND_STREAM)
}

/// The generator of the expected-gradients draws for test image `index`.
pub fn image_rng(seed: u64, index: i64) -> ChaCha8Rng {
    rng(seed, IMAGE_STREAM_BASE.wrapping_add(index as u64))
}

/// The generator of test image `index`'s deletion-curve tie-break and
/// random pixel orders (the same for every model of a data set).
pub fn curve_rng(seed: u64, index: i64) -> ChaCha8Rng {
    rng(seed, CURVE_STREAM_BASE.wrapping_add(index as u64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn samples_are_seeded_sorted_and_distinct() {
        let a = test_sample(100, 10, 3).unwrap();
        assert_eq!(a, test_sample(100, 10, 3).unwrap());
        assert_ne!(a, test_sample(100, 10, 4).unwrap());
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_ne!(a, background_sample(100, 10, 3).unwrap());
        assert_eq!(test_sample(5, 10, 3).unwrap(), vec![0, 1, 2, 3, 4]);
        assert!(test_sample(0, 10, 3).is_err());
        let small = test_sample(100, 4, 3).unwrap();
        assert!(small.iter().all(|i| a.contains(i)), "{small:?} ⊄ {a:?}");
    }

    #[test]
    fn image_streams_differ() {
        let x: u64 = image_rng(1, 0).random();
        let y: u64 = image_rng(1, 1).random();
        assert_ne!(x, y);
        assert_eq!(x, image_rng(1, 0).random::<u64>());
        let z: u64 = curve_rng(1, 0).random();
        assert_ne!(x, z);
        assert_eq!(z, curve_rng(1, 0).random::<u64>());
    }
}
