//! The toy study (`kind = "toy"`): tiny Rust-function stages that exercise
//! the engine without tch. Its TOML table ([`schema`]), its validation into
//! [`ToyStudy`], its expansion into `toy.gen` / `toy.square` / `toy.sum`
//! stages, and the stages themselves ([`run_toy`]).

pub(crate) mod expand;
mod resolved;
mod run;
pub mod schema;
pub(crate) mod validate;

pub use resolved::ToyStudy;
pub use run::run_toy;

#[cfg(test)]
mod tests;
