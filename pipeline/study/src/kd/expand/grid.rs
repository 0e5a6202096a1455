//! The KD study's walk: the device resolved once, then per dataset its
//! prepare stage, per seed its models and their downstream stages, and its
//! timing stage.

use std::collections::HashMap;
use std::path::PathBuf;

use super::datasets::prepare_spec;
use super::downstream::{timing_stage, Downstream, Timed};
use super::models::{expand_seed, weights, Models};
use crate::contract::cpu_isa;
use crate::experiment::{ExpandContext, Expansion, Experiment, ExperimentError};
use crate::index::StudyIndex;
use crate::kd::resolved::{Device, KdStudy};
use crate::specs::Specs;

/// Expands the KD study `kd` of `exp`.
pub(crate) fn expand_kd(
    exp: &Experiment,
    kd: &KdStudy,
    ctx: &mut ExpandContext<'_>,
) -> Result<Expansion, ExperimentError> {
    let device = match (kd.device, ctx.cuda_available) {
        (Device::Auto | Device::Cuda, true) => "cuda",
        (Device::Auto | Device::Cpu, _) => "cpu",
        (Device::Cuda, false) => {
            return Err(ExperimentError::CudaUnavailable {
                path: exp.path.clone(),
            })
        }
    };
    let gpu = u32::from(device == "cuda");
    let m = Models {
        v: ctx.code_version,
        device,
        gpu,
        down: Downstream::new(ctx.code_version, gpu, kd, device),
        teacher_weights: weights(&kd.teacher, ctx)?,
        student_weights: weights(&kd.student, ctx)?,
    };
    // Every KD stage runs in kdpipe-stage (libtorch): each carries the CPU
    // kernel pin, which `kdpipe exec-stage` turns into its environment.
    let mut out = Specs::with_common_params(
        [(cpu_isa::PARAM.to_owned(), kd.cpu_isa.name().into())]
            .into_iter()
            .collect(),
    );
    let mut index = StudyIndex::default();
    let mut hashes: HashMap<PathBuf, String> = HashMap::new();
    for ds in &kd.datasets {
        let data = out.push(prepare_spec(m.v, ds, ctx, &mut hashes)?);
        let mut timed = Timed::default();
        for &seed in &exp.seeds {
            let first_seed = Some(&seed) == exp.seeds.first();
            expand_seed(
                &m, kd, ds, seed, first_seed, &data, &mut out, &mut index, &mut timed,
            );
        }
        if let Some(timing) =
            timing_stage(&mut out, &m.down, &ds.params.name, &data, timed.upstream)
        {
            for (i, label) in timed.readers {
                index.models[i].timing = Some((timing.clone(), label));
            }
        }
    }
    Ok(Expansion {
        specs: out.specs,
        index,
    })
}
