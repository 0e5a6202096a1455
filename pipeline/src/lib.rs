//! kdpipe's engine: experiment files, stage specs and their fingerprints, the
//! content-addressed artifact store, planning and the scheduler. This crate
//! never depends on tch, so it builds and tests in seconds.

pub mod error;
pub mod events;
pub mod exec;
pub mod exec_stage;
pub mod experiment;
pub mod fingerprint;
pub mod graph;
pub mod hashing;
pub mod kinds;
pub mod plan;
pub mod scheduler;
pub mod spec;
pub mod store;
pub mod toy;

pub use error::{Error, Result};
pub use fingerprint::{Fingerprint, FingerprintInputs, STORE_SCHEMA_VERSION};
pub use spec::{Resources, StageSpec};
