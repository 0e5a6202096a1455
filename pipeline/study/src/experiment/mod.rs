//! What every study shares: the experiment file loaded ([`load()`]) and
//! checked with every problem pointed at its line and column (`locate.rs`,
//! the generic checker of `check.rs`, [`ExperimentError`]), the top-level
//! keys ([`schema`]), the resolved [`Experiment`] and its [`Study`], and the
//! expansion of a study into stage specs ([`expand()`], [`ExpandContext`],
//! [`Expansion`]).

pub(crate) mod check;
mod error;
mod expand;
mod expansion;
mod load;
pub(crate) mod locate;
mod resolved;
pub mod schema;
pub(crate) mod validate;

pub use error::{ExperimentError, Problem};
pub use expand::expand;
pub use expansion::{ExpandContext, Expansion};
pub use load::{load, load_str};
pub use resolved::{ExecutorConfig, ExecutorKind, Experiment, Study};

#[cfg(test)]
mod tests;
