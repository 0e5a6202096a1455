//! The study contract: what the study crate, the ML stages and the tables
//! agree on. Stage kinds with their code versions ([`kind`]), stage names
//! and upstream roles ([`names`]), and the types of the JSON files in the
//! artifacts ([`artifacts`]).

pub mod artifacts;
pub mod kind;
pub mod names;

pub use kind::Kind;
