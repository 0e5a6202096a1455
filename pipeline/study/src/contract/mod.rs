//! The study contract: what the study crate, the ML stages and the tables
//! agree on. Stage kinds with their code versions ([`kind`]), stage names
//! and upstream roles ([`names`]), the types of the JSON files in the
//! artifacts ([`artifacts`]), and the CPU kernel pin of the ML stages
//! ([`cpu_isa`]), which the head sets and the stages check.

pub mod artifacts;
pub mod cpu_isa;
pub mod kind;
pub mod names;

pub use cpu_isa::CpuIsa;
pub use kind::Kind;
