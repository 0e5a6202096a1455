//! Stage kinds and their code versions: the one table the fingerprints use.
//!
//! Bump a kind's version whenever its logic changes in a way that changes its
//! outputs (the files that hold the logic are named beside it): every artifact
//! of that kind, and everything downstream, is then recomputed on purpose.
//! The head binary never links the ML code, so the versions live here rather
//! than next to it. Every place that dispatches on a kind matches [`Kind`]
//! exhaustively, so a new variant is a compile error until each handles it.

use std::fmt;

/// Every stage kind a study can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `stages/src/data/`: decode, dedupe, split, resize, normalise.
    Prepare,
    /// `stages/src/train/` + `stages/src/models/`: teacher training.
    Teacher,
    /// `stages/src/train/` (incl. `distill.rs`, `objective.rs`, `losses/`) +
    /// `stages/src/models/`. Still 2 after the method axis: a Hinton student
    /// (and the control) computes the same bytes as before, and every other
    /// method is a new params value, so a new fingerprint anyway.
    Student,
    /// `stages/src/eval/`.
    Evaluate,
    /// `stages/src/explain/` (maps, faithfulness, agreement).
    Explain,
    /// `stages/src/explain/timing/`: one stage per data set times all its
    /// models side by side.
    Timing,
    /// `pipeline/study/src/toy/run.rs`: writes `values.json`.
    ToyGen,
    /// `pipeline/study/src/toy/run.rs`: writes `result.json`.
    ToySquare,
    /// `pipeline/study/src/toy/run.rs`: writes `sum.json`.
    ToySum,
}

impl Kind {
    /// Every kind, in pipeline order.
    pub const ALL: [Kind; 9] = [
        Kind::Prepare,
        Kind::Teacher,
        Kind::Student,
        Kind::Evaluate,
        Kind::Explain,
        Kind::Timing,
        Kind::ToyGen,
        Kind::ToySquare,
        Kind::ToySum,
    ];

    /// The kind's name in stage specs and manifests (hashed: never rename).
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Prepare => "prepare",
            Kind::Teacher => "teacher",
            Kind::Student => "student",
            Kind::Evaluate => "evaluate",
            Kind::Explain => "explain",
            Kind::Timing => "timing",
            Kind::ToyGen => "toy.gen",
            Kind::ToySquare => "toy.square",
            Kind::ToySum => "toy.sum",
        }
    }

    /// The kind's code version (hashed into every fingerprint of the kind).
    pub const fn code_version(self) -> u32 {
        match self {
            // 3: near-duplicate groups kept in one split, val_fraction of
            // the pool, resize pad/crop/stretch + EXIF orientation, val_dir,
            // every class checked in every split, bad data exits 2; and
            // (every ML kind, since the CPU kernel pin) `environment.json`
            // beside its outputs.
            Kind::Prepare => 3,
            // 2: `select` / `class_weight`, the CNN pools in ceil mode,
            // train.json holds the kept epoch's `val_*` scores.
            // 3: the CNN's convolutions have no bias (redundant before batch
            // norm, and its noise gradient made weights differ across CPUs).
            Kind::Teacher => 3,
            Kind::Student => 3,
            // 3: writes predictions.safetensors (test and validation
            // probabilities, labels, hashes); metrics read the stored f32
            // probabilities; balanced accuracy, validation loss and accuracy
            // in metrics.json; environment.json.
            Kind::Evaluate => 3,
            // 3: agreement explains the teacher's class in both models at
            // the input resolution, constant maps undefined; deletion /
            // insertion against a seeded random-order baseline, ties broken
            // by a seeded order; completeness gap; `images = "all"`;
            // `gradcam_layer = "common"`; environment.json.
            Kind::Explain => 3,
            // 2: one stage per data set times all its models side by side
            // (was: one stage per model). 3: environment.json. 4:
            // `gradcam_layer = "common"`.
            Kind::Timing => 4,
            Kind::ToyGen => 1,
            Kind::ToySquare => 1,
            Kind::ToySum => 1,
        }
    }

    /// Whether the kind is one of the toy study's (run by the head binary
    /// itself, without libtorch).
    pub const fn is_toy(self) -> bool {
        match self {
            Kind::ToyGen | Kind::ToySquare | Kind::ToySum => true,
            Kind::Prepare
            | Kind::Teacher
            | Kind::Student
            | Kind::Evaluate
            | Kind::Explain
            | Kind::Timing => false,
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
        }
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
        assert_eq!(Kind::from_name("toy.cube"), None);
    }

    /// The versions the stores made before the typed contract were hashed
    /// with (pipeline/src/kinds.rs and toy.rs at 406551c): changing one is a
    /// deliberate recompute of that kind and everything downstream.
    #[test]
    fn code_versions_are_the_published_ones() {
        let v: Vec<(&str, u32)> = Kind::ALL
            .iter()
            .map(|k| (k.name(), k.code_version()))
            .collect();
        assert_eq!(
            v,
            [
                ("prepare", 3),
                ("teacher", 3),
                ("student", 3),
                ("evaluate", 3),
                ("explain", 3),
                ("timing", 4),
                ("toy.gen", 1),
                ("toy.square", 1),
                ("toy.sum", 1)
            ]
        );
    }
}
