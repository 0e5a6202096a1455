//! What expanding a study takes from its caller ([`ExpandContext`]) and
//! gives back ([`Expansion`]).

use std::path::{Path, PathBuf};

use crate::contract::Kind;
use crate::index::StudyIndex;
use engine::spec::StageSpec;

/// What expansion needs from its caller.
pub struct ExpandContext<'a> {
    /// Code version of every stage kind: [`Kind::code_version`], or another
    /// table in tests.
    pub code_version: &'a dyn Fn(Kind) -> u32,
    /// Content hash (SHA-256 hex) of an input file, through the engine's stat
    /// cache; `Err` carries a message naming the problem.
    pub hash_file: &'a mut dyn FnMut(&Path) -> Result<String, String>,
    /// Where built-in datasets live (`<builtin_root>/brain-mri/{no,yes}/...`).
    pub builtin_root: PathBuf,
    /// Whether CUDA is usable: `device = "auto"` resolves to it, and the
    /// resolved device is part of the fingerprint.
    pub cuda_available: bool,
}

/// An expanded study: its stage specs and the index of its models.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    /// Deduped by fingerprint, upstream first.
    pub specs: Vec<StageSpec>,
    /// Every model stage with its evaluate / explain / timing stages (empty
    /// for the toy study).
    pub index: StudyIndex,
}
