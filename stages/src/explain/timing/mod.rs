//! The timing stage: seconds per image of each explanation method for every
//! timed model of a data set ([`measure`]), their statistics ([`stats`]) and
//! the stage function ([`run`]).

mod measure;
mod run;
mod stats;

pub use run::run_timing;
pub use stats::summarize;
