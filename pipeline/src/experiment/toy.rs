//! The toy experiment (`kind = "toy"`): small Rust stages that exercise the
//! engine without tch. Per seed `s`: `toy/gen/s<s>` (toy.gen {seed, n,
//! sleep_ms}), one `toy/square/s<s>/x<v>` per value (toy.square {x,
//! sleep_ms, slow_write_ms, fail}, upstream {gen}) and `toy/sum/s<s>`
//! (toy.sum {sleep_ms}, upstream {sq_<v>} for every value).

use serde_json::json;

use super::error::ExperimentError;
use super::expand::{code_version, spec, to_params, ExpandContext, Specs};
use super::resolved::{Experiment, ToyStudy};
use crate::spec::StageSpec;

pub(crate) fn expand_toy(
    exp: &Experiment,
    toy: &ToyStudy,
    ctx: &mut ExpandContext<'_>,
) -> Result<Vec<StageSpec>, ExperimentError> {
    let v_gen = code_version(ctx, "toy.gen")?;
    let v_square = code_version(ctx, "toy.square")?;
    let v_sum = code_version(ctx, "toy.sum")?;
    let mut out = Specs::new();
    for &seed in &exp.seeds {
        let mut gen = spec(format!("toy/gen/s{seed}"), "toy.gen", v_gen);
        gen.params = to_params(&json!({"seed": seed, "n": toy.n, "sleep_ms": toy.sleep_ms}));
        let gen = out.push(gen);
        let mut sum = spec(format!("toy/sum/s{seed}"), "toy.sum", v_sum);
        sum.params = to_params(&json!({"sleep_ms": toy.sleep_ms}));
        for &x in &toy.values {
            let mut sq = spec(format!("toy/square/s{seed}/x{x}"), "toy.square", v_square);
            sq.params = to_params(&json!({
                "x": x,
                "sleep_ms": toy.sleep_ms,
                "slow_write_ms": toy.slow_write_ms,
                "fail": toy.fail.contains(&x),
            }));
            sq.upstream.insert("gen".into(), gen.clone());
            let fp = out.push(sq);
            sum.upstream.insert(format!("sq_{x}"), fp);
        }
        out.push(sum);
    }
    Ok(out.specs)
}
