//! kdpipe's studies: the experiment file (load, locate, check), the KD
//! study and the toy study expanded into the engine's stage specs, and the
//! typed study contract (stage kinds and their code versions, stage names,
//! artifact file types) that the stages write and the tables read. No tch.

pub mod contract;
pub mod experiment;
pub mod index;
pub mod toy;
