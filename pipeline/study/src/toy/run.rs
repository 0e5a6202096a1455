//! The toy stages: tiny Rust functions that exercise the engine without tch.
//!
//! - `toy.gen`    params {seed, n, sleep_ms}: writes `values.json` (n numbers).
//! - `toy.square` params {x, sleep_ms, slow_write_ms, fail}, upstream {gen}:
//!   writes `result.json` {x, square, value = x² + values[|x| mod n]}, and with
//!   `slow_write_ms` > 0 also `slow.bin` in 10 chunks with a sleep between
//!   them (so a test can SIGKILL it mid-write).
//! - `toy.sum`    params {sleep_ms}, upstream `{sq_<x>...}`: writes `sum.json`
//!   {sum of the squares' values, count}.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use engine::exec::{Progress, StageContext, StageFailure, StageReport};

use crate::contract::Kind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenParams {
    seed: u64,
    n: u64,
    #[serde(default)]
    sleep_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SquareParams {
    x: i64,
    #[serde(default)]
    sleep_ms: u64,
    #[serde(default)]
    slow_write_ms: u64,
    #[serde(default)]
    fail: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SumParams {
    #[serde(default)]
    sleep_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SquareResult {
    x: i64,
    square: i64,
    value: i64,
}

/// Runs the toy stage `ctx.spec.kind`.
pub fn run_toy(ctx: &StageContext<'_>) -> Result<StageReport, StageFailure> {
    let summary = match Kind::from_name(&ctx.spec.kind) {
        Some(Kind::ToyGen) => gen(ctx)?,
        Some(Kind::ToySquare) => square(ctx)?,
        Some(Kind::ToySum) => sum(ctx)?,
        Some(
            Kind::Prepare
            | Kind::Teacher
            | Kind::Student
            | Kind::Evaluate
            | Kind::Explain
            | Kind::Timing,
        )
        | None => {
            return Err(StageFailure::new(format!(
                "`{}` is not a toy stage kind",
                ctx.spec.kind
            )))
        }
    };
    (ctx.progress)(Progress {
        done: 1,
        total: 1,
        metrics: Default::default(),
    });
    Ok(StageReport {
        device: "cpu".into(),
        summary,
    })
}

fn sleep(ms: u64) {
    if ms > 0 {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StageFailure> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| StageFailure::new(format!("failed to encode `{}`: {e}", path.display())))?;
    std::fs::write(path, bytes)
        .map_err(|e| StageFailure::new(format!("failed to write `{}`: {e}", path.display())))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, StageFailure> {
    let bytes = std::fs::read(path)
        .map_err(|e| StageFailure::new(format!("failed to read `{}`: {e}", path.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| StageFailure::new(format!("failed to parse `{}`: {e}", path.display())))
}

/// splitmix64: a deterministic stream from a seed.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn gen(ctx: &StageContext<'_>) -> Result<serde_json::Value, StageFailure> {
    let p: GenParams = ctx.params()?;
    sleep(p.sleep_ms);
    let values: Vec<i64> = (0..p.n)
        .map(|i| (splitmix(p.seed.wrapping_add(i)) % 100) as i64)
        .collect();
    write_json(&ctx.out_dir.join("values.json"), &values)?;
    Ok(serde_json::json!({ "n": p.n }))
}

fn square(ctx: &StageContext<'_>) -> Result<serde_json::Value, StageFailure> {
    let p: SquareParams = ctx.params()?;
    sleep(p.sleep_ms);
    if p.fail {
        return Err(StageFailure::new(format!(
            "toy.square x={} failed on purpose (fail = true)",
            p.x
        )));
    }
    let values: Vec<i64> = read_json(
        &ctx.upstream_dir(crate::contract::names::ROLE_GEN)?
            .join("values.json"),
    )?;
    let pick = if values.is_empty() {
        0
    } else {
        values[(p.x.unsigned_abs() % values.len() as u64) as usize]
    };
    // Planning refuses values that overflow; this guards specs written by
    // hand.
    let overflow = || StageFailure::new(format!("toy.square x={}: x * x overflows i64", p.x));
    let square = p.x.checked_mul(p.x).ok_or_else(overflow)?;
    let result = SquareResult {
        x: p.x,
        square,
        value: square.checked_add(pick).ok_or_else(overflow)?,
    };
    if p.slow_write_ms > 0 {
        let path = ctx.out_dir.join("slow.bin");
        let mut f = std::fs::File::create(&path).map_err(|e| {
            StageFailure::new(format!("failed to create `{}`: {e}", path.display()))
        })?;
        for chunk in 0..10u8 {
            f.write_all(&[chunk; 4096])
                .and_then(|()| f.flush())
                .map_err(|e| {
                    StageFailure::new(format!("failed to write `{}`: {e}", path.display()))
                })?;
            sleep(p.slow_write_ms);
        }
    }
    write_json(&ctx.out_dir.join("result.json"), &result)?;
    Ok(serde_json::json!({ "value": result.value }))
}

fn sum(ctx: &StageContext<'_>) -> Result<serde_json::Value, StageFailure> {
    let p: SumParams = ctx.params()?;
    sleep(p.sleep_ms);
    let mut total = 0i64;
    let mut count = 0usize;
    for (role, dir) in &ctx.upstream {
        if !role.starts_with("sq_") {
            continue;
        }
        let r: SquareResult = read_json(&dir.join("result.json"))?;
        total = total.checked_add(r.value).ok_or_else(|| {
            StageFailure::new(format!("toy.sum: adding {} overflows i64", r.value))
        })?;
        count += 1;
    }
    write_json(
        &ctx.out_dir.join("sum.json"),
        &serde_json::json!({ "sum": total, "count": count }),
    )?;
    Ok(serde_json::json!({ "sum": total, "count": count }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use engine::exec_stage::{exec_stage, ExecOutcome};
    use engine::spec::{Resources, StageSpec};
    use engine::store::Store;

    pub(crate) fn toy(
        name: &str,
        kind: &str,
        params: serde_json::Value,
        ups: &[(&str, &StageSpec)],
    ) -> StageSpec {
        StageSpec {
            name: name.into(),
            kind: kind.into(),
            code_version: Kind::from_name(kind).unwrap().code_version(),
            params: serde_json::from_value(params).unwrap(),
            upstream: ups
                .iter()
                .map(|(r, s)| (r.to_string(), s.fingerprint()))
                .collect(),
            inputs: BTreeMap::new(),
            input_root: None,
            resources: Resources::default(),
        }
    }

    fn exec(store: &Store, s: &StageSpec) -> ExecOutcome {
        let fp = store.write_spec(s).unwrap();
        exec_stage(store, &fp, 1, &run_toy).unwrap()
    }

    #[test]
    fn gen_square_sum_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let g = toy("gen", "toy.gen", json!({"seed": 7, "n": 4}), &[]);
        assert!(matches!(exec(&store, &g), ExecOutcome::Published(_)));
        let values: Vec<i64> =
            read_json(&store.artifact_dir(&g.fingerprint()).join("values.json")).unwrap();
        assert_eq!(values.len(), 4);

        let s2 = toy(
            "sq/2",
            "toy.square",
            json!({"x": 2, "slow_write_ms": 1}),
            &[("gen", &g)],
        );
        let s3 = toy("sq/-3", "toy.square", json!({"x": -3}), &[("gen", &g)]);
        exec(&store, &s2);
        exec(&store, &s3);
        let r2: SquareResult =
            read_json(&store.artifact_dir(&s2.fingerprint()).join("result.json")).unwrap();
        assert_eq!(r2.value, 4 + values[2]);
        assert!(store
            .artifact_dir(&s2.fingerprint())
            .join("slow.bin")
            .is_file());

        let total = toy(
            "sum",
            "toy.sum",
            json!({}),
            &[("sq_2", &s2), ("sq_-3", &s3)],
        );
        let ExecOutcome::Published(m) = exec(&store, &total) else {
            panic!()
        };
        assert_eq!(m.summary["sum"], json!(4 + values[2] + 9 + values[3]));
        assert_eq!(m.summary["count"], json!(2));
    }

    #[test]
    fn fail_and_unknown_params() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let g = toy("gen", "toy.gen", json!({"seed": 7, "n": 4}), &[]);
        exec(&store, &g);
        let bad = toy(
            "sq/1",
            "toy.square",
            json!({"x": 1, "fail": true}),
            &[("gen", &g)],
        );
        let ExecOutcome::Failed(f) = exec(&store, &bad) else {
            panic!()
        };
        assert_eq!(f.message, "toy.square x=1 failed on purpose (fail = true)");
        let typo = toy(
            "sq/4",
            "toy.square",
            json!({"x": 4, "sleepms": 1}),
            &[("gen", &g)],
        );
        let ExecOutcome::Failed(f) = exec(&store, &typo) else {
            panic!()
        };
        assert!(
            f.message.contains("unknown field `sleepms`"),
            "{}",
            f.message
        );
    }
}
