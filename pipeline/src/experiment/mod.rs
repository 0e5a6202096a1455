//! TODO (owned by the experiment helper; `pub mod params;` added so the explain branch builds)

pub mod params;
