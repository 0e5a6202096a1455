//! What the `explain` stage records: `gradcam.safetensors` (the maps a
//! student's explain stage compares with), the per-image faithfulness
//! accumulators of each method, and the means `explain.json` shows.
//!
//! `gradcam.safetensors` holds `maps` f32 [N, H, W] (input size, each over
//! its maximum), `coarse` f32 [N, h, w] (the layer's resolution,
//! unnormalised), `images` i64 [N] (test indices) and `classes` i64 [N]
//! (the class each map explains: the model's prediction).

use std::path::Path;

use study::contract::artifacts::explain::{Agreement, PerImage, RandomBaseline};
use study::contract::artifacts::{ArtifactFile, Explain};
use tch::{Device, Kind, Tensor};

use super::agreement::agreement_at;
use super::error::ExplainError;
use super::faithfulness::{Baseline, Curves, RANDOM_ORDERS};
use super::gradcam::gradcam;
use super::maps::{image_dims, to_vec_i64};
use crate::models::Classifier;

/// Images per Grad-CAM batch.
const GRADCAM_BATCH: usize = 16;

/// Grad-CAM of a whole sample, on the CPU.
pub(crate) struct Cams {
    /// [N, H, W], each map over its maximum (or all 0).
    pub(crate) maps: Tensor,
    /// [N, h, w] at the layer's resolution.
    pub(crate) coarse: Tensor,
    pub(crate) classes: Vec<i64>,
}

/// Grad-CAM at `layer` of xs: [N, C, H, W] (CPU) in batches on `device`;
/// `classes`: the class per image, or `None` for each prediction.
pub(crate) fn gradcam_all(
    model: &dyn Classifier,
    xs: &Tensor,
    layer: usize,
    classes: Option<&[i64]>,
    device: Device,
) -> Result<Cams, ExplainError> {
    let n = xs.size()[0] as usize;
    let (mut maps, mut coarse, mut out) = (Vec::new(), Vec::new(), Vec::new());
    for start in (0..n).step_by(GRADCAM_BATCH) {
        let len = GRADCAM_BATCH.min(n - start);
        let batch = xs.narrow(0, start as i64, len as i64).to_device(device);
        let wanted = classes.map(|c| Tensor::from_slice(&c[start..start + len]));
        let cam = gradcam(model, &batch, layer as i32, wanted.as_ref())?;
        maps.push(cam.maps.to_device(Device::Cpu));
        coarse.push(cam.coarse.to_device(Device::Cpu));
        out.extend(to_vec_i64(&cam.classes)?);
    }
    Ok(Cams {
        maps: Tensor::cat(&maps, 0),
        coarse: Tensor::cat(&coarse, 0),
        classes: out,
    })
}

/// Writes `gradcam.safetensors` into `dir`.
pub(crate) fn write_cams(dir: &Path, cams: &Cams, indices: &[i64]) -> Result<(), ExplainError> {
    let path = dir.join("gradcam.safetensors");
    Tensor::write_safetensors(
        &[
            ("classes", Tensor::from_slice(&cams.classes)),
            ("coarse", cams.coarse.shallow_clone()),
            ("images", Tensor::from_slice(indices)),
            ("maps", cams.maps.shallow_clone()),
        ],
        &path,
    )
    .map_err(|e| ExplainError::Write {
        path: path.clone(),
        message: e.to_string(),
    })
}

/// The teacher's Grad-CAM, read from its explain artifact in `dir`.
pub(crate) struct TeacherCams {
    /// [N, h, w] at the teacher's layer's resolution.
    pub(crate) coarse: Tensor,
    /// The teacher's predicted class per image.
    pub(crate) classes: Vec<i64>,
    /// The teacher's Grad-CAM layer name.
    pub(crate) layer: Option<String>,
}

impl TeacherCams {
    /// Reads `gradcam.safetensors` (and the layer from `explain.json`),
    /// checking the teacher explained the images `indices`.
    pub(crate) fn read(dir: &Path, indices: &[i64]) -> Result<TeacherCams, ExplainError> {
        let path = dir.join("gradcam.safetensors");
        let tensors = Tensor::read_safetensors(&path).map_err(|e| ExplainError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let get = |name: &str| {
            tensors
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.shallow_clone())
                .ok_or_else(|| ExplainError::Read {
                    path: path.clone(),
                    message: format!("no tensor `{name}`"),
                })
        };
        let mismatch = |message: String| ExplainError::TeacherMismatch {
            path: path.clone(),
            message,
        };
        let teacher_images = to_vec_i64(&get("images")?)?;
        if teacher_images != indices {
            return Err(mismatch(format!(
                "teacher explained test images {teacher_images:?}, this model {indices:?} \
                 (both need the same images and sample_seed)"
            )));
        }
        let coarse = get("coarse")?.to_kind(Kind::Float);
        let classes = to_vec_i64(&get("classes")?)?;
        if coarse.size().first() != Some(&(indices.len() as i64)) || classes.len() != indices.len()
        {
            return Err(mismatch(format!(
                "teacher maps {:?} and classes {} for {} images",
                coarse.size(),
                classes.len(),
                indices.len()
            )));
        }
        let json = dir.join(Explain::FILE);
        let layer = std::fs::read(&json)
            .ok()
            .and_then(|b| Explain::from_bytes(&b).ok())
            .and_then(|e| e.methods.gradcam.and_then(|g| g.layer));
        Ok(TeacherCams {
            coarse,
            classes,
            layer,
        })
    }
}

/// Our Grad-CAM of the teacher's predicted classes compared with the
/// teacher's, both upsampled to the input size.
pub(crate) fn teacher_agreement(
    model: &dyn Classifier,
    xs: &Tensor,
    layer: usize,
    device: Device,
    dir: &Path,
    indices: &[i64],
) -> Result<Agreement, ExplainError> {
    let teacher = TeacherCams::read(dir, indices)?;
    let ours = gradcam_all(model, xs, layer, Some(&teacher.classes), device)?;
    let [_, _, height, width] = image_dims(xs, "test images")?;
    let a = agreement_at(&ours.coarse, &teacher.coarse, height, width)?;
    Ok(Agreement {
        classes: teacher.classes,
        compared_at: [height, width],
        gradcam_iou_top10: a.iou_top10,
        gradcam_pearson: a.pearson,
        images: indices.len(),
        n_defined: a.n_defined,
        n_undefined: a.n_undefined,
        per_image: a.per_image,
        teacher_layer: teacher.layer,
    })
}

/// Per-image deletion / insertion AUCs of one method.
#[derive(Default)]
pub(crate) struct Faith {
    pub(crate) per_image: PerImage,
}

impl Faith {
    /// Adds one image's curves, scored against its random baseline.
    pub(crate) fn push(&mut self, c: &Curves, baseline: &Baseline) {
        let (deletion_norm, insertion_norm) = baseline.normalise(c);
        let p = &mut self.per_image;
        p.deletion_auc.push(c.deletion_auc());
        p.insertion_auc.push(c.insertion_auc());
        p.deletion_norm.push(deletion_norm);
        p.insertion_norm.push(insertion_norm);
    }

    /// Means: (deletion AUC, deletion norm, insertion AUC, insertion norm).
    pub(crate) fn means(&self) -> [f64; 4] {
        let p = &self.per_image;
        [
            mean(&p.deletion_auc),
            mean(&p.deletion_norm),
            mean(&p.insertion_auc),
            mean(&p.insertion_norm),
        ]
    }
}

/// Per-image random-order AUCs.
#[derive(Default)]
pub(crate) struct Baselines {
    deletion: Vec<f64>,
    insertion: Vec<f64>,
}

impl Baselines {
    pub(crate) fn push(&mut self, b: &Baseline) {
        self.deletion.push(b.deletion_auc);
        self.insertion.push(b.insertion_auc);
    }

    pub(crate) fn finish(self) -> Option<RandomBaseline> {
        (!self.deletion.is_empty()).then_some(RandomBaseline {
            deletion_auc: self.deletion,
            insertion_auc: self.insertion,
            orders: RANDOM_ORDERS,
        })
    }
}

/// Mean of `v` (0 for none).
pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}
