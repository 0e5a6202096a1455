//! Expansion: a validated experiment into fingerprinted stage specs, deduped
//! by fingerprint, in a topological order (every spec after its upstream).
//! Each study expands itself ([`crate::kd`], [`crate::toy`]); this is where
//! the experiment picks which.

use super::error::ExperimentError;
use super::expansion::{ExpandContext, Expansion};
use super::resolved::{Experiment, Study};
use crate::index::StudyIndex;
use crate::kd::expand::expand_kd;
use crate::toy::expand::expand_toy;

/// Expands `exp` into stage specs: deduped by fingerprint, upstream first.
pub fn expand(exp: &Experiment, ctx: &mut ExpandContext<'_>) -> Result<Expansion, ExperimentError> {
    match &exp.study {
        Study::Kd(kd) => expand_kd(exp, kd, ctx),
        Study::Toy(toy) => Ok(Expansion {
            specs: expand_toy(exp, toy, ctx)?,
            index: StudyIndex::default(),
        }),
    }
}
