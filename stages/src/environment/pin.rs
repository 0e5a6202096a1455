//! Checking the `cpu_isa` pin of a stage on its host. The head's `kdpipe
//! exec-stage` sets the pin's variables before it execs `kdpipe-stage`
//! (`study::contract::cpu_isa`); this side refuses to compute when the host
//! lacks the pinned instructions (libtorch would silently fall back to other
//! kernels) or when the variables are not there (a stage started some other
//! way), so a published artifact was always computed under its pin.

use std::collections::BTreeMap;

use engine::spec::StageSpec;
use serde_json::Value;
use study::contract::cpu_isa::{CpuIsa, PARAM};

/// Why a stage cannot run under its pin.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PinError {
    #[error("invalid stage parameter: {0}")]
    Invalid(String),
    #[error(
        "cpu_isa = \"{isa}\" needs CPU flag(s) {missing} (from /proc/cpuinfo), which this host \
         ({model}) lacks; set `[run] cpu_isa = \"native\"` to use the kernels this CPU has \
         (results are then not bit-identical to those of other CPU models)",
        missing = .missing.join(", ")
    )]
    Unsupported {
        isa: CpuIsa,
        missing: Vec<&'static str>,
        model: String,
    },
    #[error(
        "cpu_isa = \"{isa}\" is not in this process's environment: {}; ML stages must be started \
         by `kdpipe exec-stage`, which sets it before libtorch starts",
        .mismatches.join(", ")
    )]
    NotApplied {
        isa: CpuIsa,
        mismatches: Vec<String>,
    },
}

/// The spec's pin and its params without it (what the stage's typed params
/// deserialize from). `Ok(None)`: the spec has no pin.
pub fn split_pin(spec: &StageSpec) -> Result<(Option<CpuIsa>, BTreeMap<String, Value>), PinError> {
    let isa = CpuIsa::of_params(&spec.params)
        .transpose()
        .map_err(PinError::Invalid)?;
    let mut params = spec.params.clone();
    params.remove(PARAM);
    Ok((isa, params))
}

/// Checks that a host with `cpu_flags` (and `cpu_model`, for the message)
/// whose environment is `get` honours `isa`.
pub fn check_pin(
    isa: CpuIsa,
    cpu_flags: &str,
    cpu_model: &str,
    get: impl Fn(&str) -> Option<String>,
) -> Result<(), PinError> {
    let missing = isa.missing_flags(cpu_flags);
    if !missing.is_empty() {
        return Err(PinError::Unsupported {
            isa,
            missing,
            model: cpu_model.to_owned(),
        });
    }
    let mismatches = isa.env_mismatches(get);
    if !mismatches.is_empty() {
        return Err(PinError::NotApplied { isa, mismatches });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pinned(isa: CpuIsa) -> impl Fn(&str) -> Option<String> {
        move |k| {
            isa.env()
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_host_without_avx2_fails_naming_the_pin_and_native() {
        let err = check_pin(
            CpuIsa::Avx2,
            "fpu sse2 sse4_2 avx",
            "Old CPU",
            pinned(CpuIsa::Avx2),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("cpu_isa = \"avx2\" needs CPU flag(s) avx2, fma"),
            "{msg}"
        );
        assert!(msg.contains("cpu_isa = \"native\""), "{msg}");
        assert!(msg.contains("(Old CPU)"), "{msg}");
    }

    #[test]
    fn avx512_needs_its_flags_and_native_needs_nothing() {
        let avx2_host = "sse4_2 avx avx2 fma";
        let err = check_pin(CpuIsa::Avx512, avx2_host, "m", pinned(CpuIsa::Avx512)).unwrap_err();
        assert_eq!(
            err,
            PinError::Unsupported {
                isa: CpuIsa::Avx512,
                missing: vec!["avx512f", "avx512bw", "avx512dq", "avx512vl"],
                model: "m".into()
            }
        );
        assert_eq!(check_pin(CpuIsa::Native, "", "m", |_| None), Ok(()));
        assert_eq!(
            check_pin(CpuIsa::Avx2, avx2_host, "m", pinned(CpuIsa::Avx2)),
            Ok(())
        );
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = check_pin(CpuIsa::Avx2, "avx2 fma", "m", |k| {
            (k != "MKL_CBWR").then(|| pinned(CpuIsa::Avx2)(k)).flatten()
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("MKL_CBWR unset (expected AVX2); ML stages must be started by"),
            "{err}"
        );
    }

    #[test]
    fn the_pin_is_split_off_the_params() {
        let mut spec = StageSpec {
            name: "t".into(),
            kind: "evaluate".into(),
            code_version: 1,
            params: BTreeMap::new(),
            upstream: BTreeMap::new(),
            inputs: BTreeMap::new(),
            input_root: None,
            resources: Default::default(),
        };
        spec.params.insert("device".into(), "cpu".into());
        spec.params.insert(PARAM.into(), "avx2".into());
        let (isa, params) = split_pin(&spec).unwrap();
        assert_eq!(isa, Some(CpuIsa::Avx2));
        assert_eq!(params.keys().collect::<Vec<_>>(), ["device"]);
        spec.params.insert(PARAM.into(), 3.into());
        assert!(matches!(split_pin(&spec), Err(PinError::Invalid(_))));
    }
}
