//! Expansion of the toy study (`kind = "toy"`). Per seed `s`:
//! `toy/gen/s<s>` (toy.gen {seed, n, sleep_ms}), one `toy/square/s<s>/x<v>`
//! per value (toy.square {x, sleep_ms, slow_write_ms, fail}, upstream
//! {gen}) and `toy/sum/s<s>` (toy.sum {sleep_ms}, upstream `{sq_<v>}` for
//! every value).

use serde_json::json;

use super::resolved::ToyStudy;
use crate::contract::{names, Kind};
use crate::experiment::{ExpandContext, Experiment, ExperimentError};
use crate::specs::{spec, to_params, Specs};
use engine::spec::StageSpec;

/// Expands the toy study `toy` of `exp`.
pub(crate) fn expand_toy(
    exp: &Experiment,
    toy: &ToyStudy,
    ctx: &ExpandContext<'_>,
) -> Result<Vec<StageSpec>, ExperimentError> {
    let v = ctx.code_version;
    let mut out = Specs::new();
    for &seed in &exp.seeds {
        let mut gen = spec(v, names::toy_gen(seed), Kind::ToyGen);
        gen.params = to_params(&json!({"seed": seed, "n": toy.n, "sleep_ms": toy.sleep_ms}));
        let gen = out.push(gen);
        let mut sum = spec(v, names::toy_sum(seed), Kind::ToySum);
        sum.params = to_params(&json!({"sleep_ms": toy.sleep_ms}));
        for &x in &toy.values {
            let mut sq = spec(v, names::toy_square(seed, x), Kind::ToySquare);
            sq.params = to_params(&json!({
                "x": x,
                "sleep_ms": toy.sleep_ms,
                "slow_write_ms": toy.slow_write_ms,
                "fail": toy.fail.contains(&x),
            }));
            sq.upstream.insert(names::ROLE_GEN.into(), gen.clone());
            let fp = out.push(sq);
            sum.upstream.insert(names::role_square(x), fp);
        }
        out.push(sum);
    }
    Ok(out.specs)
}
