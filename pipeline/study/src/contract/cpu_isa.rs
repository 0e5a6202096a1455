//! The CPU kernel pin of the ML stages (`[run] cpu_isa`): what the head sets
//! in a stage process's environment before `kdpipe-stage` (and so libtorch)
//! starts, and what the stage checks on its host.
//!
//! libtorch picks its CPU kernels at run time from the host's instruction
//! set: ATen's vectorised kernels (`ATEN_CPU_CAPABILITY`), oneDNN's
//! convolutions (`ONEDNN_MAX_CPU_ISA`) and MKL's GEMM (`MKL_CBWR`, the code
//! branch of conditional numerical reproducibility, and
//! `MKL_ENABLE_INSTRUCTIONS`). Float results, and then whole training runs,
//! differ between an AVX2 and an AVX-512 host unless all of them are pinned
//! to the same level. Each of them reads its variable once, when the library
//! is first used, so the variables must be in the environment when the
//! process starts; setting them later from inside the process is too late
//! (and `setenv` is not thread-safe). Values checked against libtorch 2.13
//! (MKL 2024.2, oneDNN 3.12):
//!
//! - `ATEN_CPU_CAPABILITY`: `default`, `avx2`, `avx512` (x86-64 builds);
//!   anything else is ignored with a warning.
//! - `ONEDNN_MAX_CPU_ISA`: `SSE41`, `AVX`, `AVX2`, `AVX2_VNNI`, ...,
//!   `AVX512_CORE` (AVX-512 F/CD/BW/DQ/VL, no VNNI/BF16/AMX), ...
//! - `MKL_CBWR`: a branch (`AVX2`, `AVX512`, ...) optionally with `,STRICT`,
//!   which also makes `?gemm` bitwise reproducible across thread counts. The
//!   stages run at a fixed thread count (the scheduler's slots, recorded in
//!   the manifest), so the plain branch suffices; `STRICT` is not set because
//!   it only widens a guarantee kdpipe does not make (see README).
//! - `MKL_ENABLE_INSTRUCTIONS`: `AVX2`, `AVX512`, ... (the highest
//!   instruction set MKL may dispatch to, for the non-CNR paths).
//!
//! The thread count is the other input of CPU bit-identity: the stage sets
//! libtorch's intra-op threads (which sets OpenMP's and MKL's) from
//! `--threads`; `MKL_DYNAMIC` and `OMP_DYNAMIC` default to false in the
//! libgomp/MKL builds libtorch ships, and are recorded in `environment.json`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key of the resolved pin in the params of every ML stage spec (so it
/// is part of the fingerprint).
pub const PARAM: &str = "cpu_isa";

/// `[run] cpu_isa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CpuIsa {
    /// AVX2 kernels on every x86-64 host that has AVX2 (the default).
    Avx2,
    /// AVX-512 kernels (AVX-512 F, BW, DQ, VL hosts only).
    Avx512,
    /// Whatever libtorch picks for the host: no pin, results may differ
    /// between CPU models.
    Native,
}

impl CpuIsa {
    pub const ALL: [CpuIsa; 3] = [CpuIsa::Avx2, CpuIsa::Avx512, CpuIsa::Native];

    /// The TOML / params spelling.
    pub fn name(self) -> &'static str {
        match self {
            CpuIsa::Avx2 => "avx2",
            CpuIsa::Avx512 => "avx512",
            CpuIsa::Native => "native",
        }
    }

    pub fn from_name(s: &str) -> Option<CpuIsa> {
        CpuIsa::ALL.into_iter().find(|i| i.name() == s)
    }

    /// The environment a stage process starts with (empty for `native`).
    pub fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            CpuIsa::Avx2 => &[
                ("ATEN_CPU_CAPABILITY", "avx2"),
                ("ONEDNN_MAX_CPU_ISA", "AVX2"),
                ("MKL_CBWR", "AVX2"),
                ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
            ],
            CpuIsa::Avx512 => &[
                ("ATEN_CPU_CAPABILITY", "avx512"),
                ("ONEDNN_MAX_CPU_ISA", "AVX512_CORE"),
                ("MKL_CBWR", "AVX512"),
                ("MKL_ENABLE_INSTRUCTIONS", "AVX512"),
            ],
            CpuIsa::Native => &[],
        }
    }

    /// `/proc/cpuinfo` flags the host needs to honour the pin: what ATen
    /// itself requires before it uses the level (AVX2 + FMA;
    /// AVX-512 F/BW/DQ/VL + FMA), otherwise it silently falls back.
    pub fn required_flags(self) -> &'static [&'static str] {
        match self {
            CpuIsa::Avx2 => &["avx2", "fma"],
            CpuIsa::Avx512 => &["avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"],
            CpuIsa::Native => &[],
        }
    }

    /// The pin in a spec's params, if the spec has one (every ML stage of a
    /// KD study; not toy stages, nor specs written before the pin existed).
    pub fn of_params<'a, I>(params: I) -> Option<Result<CpuIsa, String>>
    where
        I: IntoIterator<Item = (&'a String, &'a Value)>,
    {
        let (_, v) = params.into_iter().find(|(k, _)| k.as_str() == PARAM)?;
        Some(
            v.as_str()
                .and_then(CpuIsa::from_name)
                .ok_or_else(|| format!("`{PARAM}` = {v} is not one of avx2, avx512, native")),
        )
    }

    /// The flags of [`Self::required_flags`] missing from `flags` (the
    /// `flags` line of `/proc/cpuinfo`).
    pub fn missing_flags(self, flags: &str) -> Vec<&'static str> {
        let have: std::collections::HashSet<&str> = flags.split_whitespace().collect();
        self.required_flags()
            .iter()
            .copied()
            .filter(|f| !have.contains(f))
            .collect()
    }

    /// The variables of [`Self::env`] whose value in `get` differs, as
    /// `NAME=value (expected X)`.
    pub fn env_mismatches(self, get: impl Fn(&str) -> Option<String>) -> Vec<String> {
        self.env()
            .iter()
            .filter_map(|(k, want)| match get(k) {
                Some(v) if v == *want => None,
                Some(v) => Some(format!("{k}={v} (expected {want})")),
                None => Some(format!("{k} unset (expected {want})")),
            })
            .collect()
    }
}

impl std::fmt::Display for CpuIsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn avx2_pin_is_the_documented_environment() {
        assert_eq!(
            CpuIsa::Avx2.env(),
            [
                ("ATEN_CPU_CAPABILITY", "avx2"),
                ("ONEDNN_MAX_CPU_ISA", "AVX2"),
                ("MKL_CBWR", "AVX2"),
                ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
            ]
        );
        assert!(CpuIsa::Native.env().is_empty());
        assert_eq!(
            CpuIsa::Avx512.env()[1],
            ("ONEDNN_MAX_CPU_ISA", "AVX512_CORE")
        );
    }

    #[test]
    fn params_carry_the_pin() {
        let mut p: BTreeMap<String, Value> = BTreeMap::new();
        assert!(CpuIsa::of_params(&p).is_none());
        p.insert(PARAM.into(), Value::from("avx512"));
        assert_eq!(CpuIsa::of_params(&p), Some(Ok(CpuIsa::Avx512)));
        p.insert(PARAM.into(), Value::from("sse"));
        let err = CpuIsa::of_params(&p).unwrap().unwrap_err();
        assert!(err.contains("\"sse\""), "{err}");
    }

    #[test]
    fn missing_flags_are_named() {
        let old = "fpu sse2 avx fma";
        assert_eq!(CpuIsa::Avx2.missing_flags(old), ["avx2"]);
        assert!(CpuIsa::Avx2.missing_flags("avx avx2 fma").is_empty());
        assert_eq!(
            CpuIsa::Avx512.missing_flags("avx2 fma avx512f avx512vl"),
            ["avx512bw", "avx512dq"]
        );
        assert!(CpuIsa::Native.missing_flags("").is_empty());
    }

    #[test]
    fn env_mismatches_name_the_variable() {
        let got = CpuIsa::Avx2.env_mismatches(|k| match k {
            "ATEN_CPU_CAPABILITY" => Some("avx512".into()),
            "MKL_CBWR" => None,
            other => CpuIsa::Avx2
                .env()
                .iter()
                .find(|(n, _)| *n == other)
                .map(|(_, v)| v.to_string()),
        });
        assert_eq!(
            got,
            [
                "ATEN_CPU_CAPABILITY=avx512 (expected avx2)",
                "MKL_CBWR unset (expected AVX2)"
            ]
        );
    }
}
