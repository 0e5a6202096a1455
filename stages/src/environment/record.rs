//! `environment.json`: the host (CPU model, the flags that decide kernels),
//! the pin and the variables as this process saw them, what libtorch says
//! about itself, and the thread count.

use std::collections::BTreeMap;

use study::contract::artifacts::Environment;
use study::contract::CpuIsa;

use super::libtorch::LibtorchInfo;

/// The version of the tch crate (kept in step with Cargo.lock by a test).
pub const TCH_VERSION: &str = "0.26.0";

/// Variables recorded in [`Environment::kernel_env`].
const KERNEL_VARS: [&str; 8] = [
    "ATEN_CPU_CAPABILITY",
    "ONEDNN_MAX_CPU_ISA",
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "MKL_DYNAMIC",
    "OMP_DYNAMIC",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
];

/// `model name` and `flags` of the first processor in `/proc/cpuinfo`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuInfo {
    pub model: String,
    /// The whole `flags` line.
    pub flags: String,
}

impl CpuInfo {
    /// Parses the text of `/proc/cpuinfo`.
    pub fn parse(text: &str) -> CpuInfo {
        let mut info = CpuInfo::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else {
                if line.trim().is_empty() && !info.flags.is_empty() {
                    break; // end of the first processor
                }
                continue;
            };
            match k.trim() {
                "model name" if info.model.is_empty() => info.model = v.trim().to_owned(),
                "flags" if info.flags.is_empty() => info.flags = v.trim().to_owned(),
                _ => {}
            }
        }
        info
    }

    /// The flags that decide libtorch's CPU kernels: SSE4.x, AVX*, FMA,
    /// F16C, AMX* (sorted).
    pub fn kernel_flags(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .flags
            .split_whitespace()
            .filter(|f| {
                f.starts_with("avx")
                    || f.starts_with("amx")
                    || f.starts_with("sse4")
                    || *f == "fma"
                    || *f == "f16c"
            })
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    }
}

/// Variable naming a file read instead of `/proc/cpuinfo`: tests emulate
/// another host with it (e.g. one without AVX2).
pub const CPUINFO_ENV: &str = "KDPIPE_CPUINFO";

/// This host's CPU (empty fields where `/proc/cpuinfo`, or the file named by
/// [`CPUINFO_ENV`], cannot be read).
pub fn cpu_info() -> CpuInfo {
    let path = std::env::var_os(CPUINFO_ENV).unwrap_or_else(|| "/proc/cpuinfo".into());
    std::fs::read_to_string(path)
        .map(|t| CpuInfo::parse(&t))
        .unwrap_or_default()
}

/// The record of this process: `isa` is the spec's pin (if any).
pub fn environment(isa: Option<CpuIsa>) -> Environment {
    let cpu = cpu_info();
    let lt = LibtorchInfo::query();
    let kernel_env: BTreeMap<String, Option<String>> = KERNEL_VARS
        .iter()
        .map(|k| (k.to_string(), std::env::var(k).ok()))
        .collect();
    Environment {
        aten_cpu_capability: lt.cpu_capability,
        cpu_flags: cpu.kernel_flags(),
        cpu_isa: isa.map(|i| i.name().to_owned()),
        cpu_model: cpu.model,
        kernel_env,
        libtorch_version: lt.version,
        mkl_version: lt.mkl_version,
        onednn_version: lt.onednn_version,
        tch_version: TCH_VERSION.to_owned(),
        threads: tch::get_num_threads(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_first_processor_and_kernel_flags() {
        let text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n\
                    flags\t\t: fpu sse2 sse4_1 sse4_2 avx avx2 fma avx512f avx512_vnni amx_tile aes\n\
                    \nprocessor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n";
        let c = CpuInfo::parse(text);
        assert_eq!(c.model, "Intel(R) Xeon(R) Processor");
        assert_eq!(
            c.kernel_flags(),
            [
                "amx_tile",
                "avx",
                "avx2",
                "avx512_vnni",
                "avx512f",
                "fma",
                "sse4_1",
                "sse4_2"
            ]
        );
    }

    #[test]
    fn tch_version_matches_the_lock_file() {
        let lock = include_str!("../../../Cargo.lock");
        let at = lock.find("name = \"tch\"\nversion = \"").unwrap();
        let v = &lock[at + "name = \"tch\"\nversion = \"".len()..];
        assert!(
            v.starts_with(&format!("{TCH_VERSION}\"")),
            "Cargo.lock: tch {}",
            &v[..8]
        );
    }
}
