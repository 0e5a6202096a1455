//! Expansion of the KD study into fingerprinted stage specs, deduped by
//! fingerprint, in a topological order (every spec after its upstream).
//!
//! Stage names, kinds and upstream roles (per dataset `ds` and seed `s`):
//! `prepare/<ds>` {} ([`datasets`]); `teacher/<ds>/s<s>` {data};
//! `student/<ds>/s<s>/d<k>-T<t>-a<a>` {data, teacher} (Hinton; every other
//! method `…/d<k>-<method>-T<t>-a<a>`, its parameters from [`methods`]);
//! `student/<ds>/s<s>/d<k>-control` {data} (alpha = 0: no temperature, no
//! teacher, so one per depth and seed) ([`models`]); then for every model
//! stage `m`: `evaluate/<m>` {data, model} and `explain/<m>` {data, model}
//! plus {teacher_explain} for students, and per dataset one exclusive
//! `timing/<ds>` {data, one role per timed model} ([`downstream`]).
//! [`grid`] walks datasets × seeds.

mod datasets;
mod downstream;
mod grid;
mod methods;
mod models;

pub(crate) use grid::expand_kd;
