//! The distillation of one student: its method's parameters resolved for
//! its depth (`"last"` / `"all"` blocks become block numbers) and where its
//! teacher targets come from.

use crate::kd::params::{
    Arch, AtParams, DistillMethod, DistillParams, DistillSource, FitnetsParams, MethodParams,
    ModelParams,
};
use crate::kd::resolved::DistillConfig;

/// The `distill` params of a student of `depth` blocks distilled by
/// `method` at (`temperature`, `alpha`) from `teacher`. Blocks are paired
/// by index (block k of every CNN has the same resolution), up to the
/// deepest block both models have. Feature methods always run the teacher
/// online: its feature maps are not cached.
pub(super) fn distill_params(
    d: &DistillConfig,
    method: DistillMethod,
    depth: u32,
    teacher: &ModelParams,
    temperature: f64,
    alpha: f64,
) -> DistillParams {
    let teacher_depth = match teacher.arch {
        Arch::Cnn => teacher.depth,
        // Validation refuses feature methods without a CNN teacher.
        Arch::Resnet18 | Arch::Densenet121 => depth,
    };
    let top = depth.min(teacher_depth).max(1);
    let method_params = match method {
        DistillMethod::Hinton => MethodParams::Hinton,
        DistillMethod::Fitnets => {
            let block = d.fitnets_block.unwrap_or(top);
            MethodParams::Fitnets(FitnetsParams {
                student_block: block,
                teacher_block: block,
                hint_weight: d.hint_weight,
            })
        }
        DistillMethod::At => {
            let blocks = d.at_blocks.clone().unwrap_or_else(|| (1..=top).collect());
            MethodParams::At(AtParams {
                pairs: blocks.into_iter().map(|b| (b, b)).collect(),
                p: d.at_p,
                beta: d.at_beta,
            })
        }
        DistillMethod::Dkd => MethodParams::Dkd(d.dkd.clone()),
    };
    let source = if method.needs_features() {
        DistillSource::Online
    } else {
        d.source
    };
    DistillParams {
        temperature,
        alpha,
        method: method_params,
        source,
    }
}
