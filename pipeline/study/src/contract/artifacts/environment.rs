//! `environment.json` of every ML stage: the host and the kernel settings it
//! ran under (CPU model and flags, the `cpu_isa` pin and the variables it
//! sets, the kernel level ATen actually used, libtorch / MKL / oneDNN
//! versions, the thread count). It describes the machine, not the result,
//! so `kdpipe verify` reports it like the wall-clock files instead of
//! requiring it to be bit-identical.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ArtifactFile;

/// `environment.json` (keys sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// ATen's kernel level in this process (`at::get_cpu_capability()`:
    /// `DEFAULT`, `AVX2`, `AVX512`); `None` where libtorch does not export it.
    pub aten_cpu_capability: Option<String>,
    /// `flags` of `/proc/cpuinfo` that decide the kernels (SSE4.2 and up:
    /// AVX, AVX2, FMA, AVX-512 *, AVX-VNNI, AMX *), sorted.
    pub cpu_flags: Vec<String>,
    /// The spec's `cpu_isa` (`avx2`, `avx512`, `native`); `None` for a spec
    /// without one (made before the pin existed, or by a test).
    pub cpu_isa: Option<String>,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The kernel and threading variables as this process saw them
    /// (`null` = unset): the pin's four, `MKL_DYNAMIC`, `OMP_DYNAMIC`,
    /// `OMP_NUM_THREADS`, `MKL_NUM_THREADS`.
    pub kernel_env: BTreeMap<String, Option<String>>,
    /// `TORCH_VERSION` of libtorch's build configuration (e.g. `2.13.0`).
    pub libtorch_version: Option<String>,
    /// `MKL_Get_Version_String`.
    pub mkl_version: Option<String>,
    /// `at::get_mkldnn_version()` (oneDNN, e.g. `3.12.0 (Git Hash ...)`).
    pub onednn_version: Option<String>,
    /// The version of the tch crate the stages were built with.
    pub tch_version: String,
    /// libtorch intra-op threads (which also sets OpenMP's and MKL's).
    pub threads: i32,
}

impl ArtifactFile for Environment {
    const FILE: &'static str = "environment.json";
}
