//! Stage kinds and their code versions: the one table the fingerprints use.
//!
//! Bump a kind's version whenever its logic changes in a way that changes its
//! outputs (the file that holds the logic is named beside it): every artifact
//! of that kind, and everything downstream, is then recomputed on purpose.
//! The head binary never links the ML code, so the versions live here rather
//! than next to it.

use std::collections::BTreeMap;

/// `stages/src/data/`: decode, dedupe, split, resize, normalise.
pub const PREPARE: u32 = 1;
/// `stages/src/train/` + `stages/src/models/`: teacher training.
pub const TEACHER: u32 = 1;
/// `stages/src/train/` (incl. `distill.rs`) + `stages/src/models/`.
pub const STUDENT: u32 = 1;
/// `stages/src/eval/`.
pub const EVALUATE: u32 = 1;
/// `stages/src/explain/` (maps, faithfulness, agreement).
pub const EXPLAIN: u32 = 1;
/// `stages/src/explain/timing.rs`. 2: one stage per data set times all its
/// models side by side (was: one stage per model).
pub const TIMING: u32 = 2;

/// Kind → code version, for every kind the engine can run.
pub fn code_versions() -> BTreeMap<&'static str, u32> {
    let mut map: BTreeMap<&'static str, u32> = [
        ("prepare", PREPARE),
        ("teacher", TEACHER),
        ("student", STUDENT),
        ("evaluate", EVALUATE),
        ("explain", EXPLAIN),
        ("timing", TIMING),
    ]
    .into_iter()
    .collect();
    map.extend(crate::toy::code_versions());
    map
}
