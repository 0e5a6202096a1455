//! kdpipe's engine: stage specs and their fingerprints, the
//! content-addressed artifact store, planning, the scheduler and its
//! executors, and the exec-stage protocol. It knows no study: stage kinds,
//! parameters and artifact contents are opaque to it. It never depends on
//! tch, so it builds and tests in seconds.

pub mod error;
pub mod events;
pub mod exec;
pub mod exec_stage;
pub mod fingerprint;
pub mod graph;
pub mod hashing;
pub mod plan;
pub mod protocol;
pub mod scheduler;
pub mod spec;
pub mod store;
pub mod targets;

pub use error::{Error, Result};
pub use fingerprint::{Fingerprint, FingerprintInputs, STORE_SCHEMA_VERSION};
pub use spec::{Resources, StageSpec};
