//! TODO

pub mod params;
