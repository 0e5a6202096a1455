//! kdpipe's ML stages (tch): data preparation, teacher and student models,
//! training with Hinton distillation, evaluation and explanations. Each stage
//! kind is a function `fn(&StageContext) -> Result<StageReport, StageFailure>`
//! dispatched by [`run_stage`].

pub mod data;
pub mod device;
pub mod environment;
pub mod error;
pub mod eval;
pub mod explain;
pub mod models;
pub mod registry;
pub mod train;
pub mod worker;

pub use registry::run_stage;
