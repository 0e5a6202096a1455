//! Tests of the KD study: validation and expansion.

mod expand;
mod methods;
mod validate;
