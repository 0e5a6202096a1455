//! Device selection, libtorch thread count and seeding of a stage process.

use tch::Device;

use crate::error::{Result, StagesError};

/// Resolves `auto` | `cpu` | `cuda` (or `cuda:N`) to a tch device. `auto`
/// picks the first CUDA device when one is present.
pub fn resolve_device(name: &str) -> Result<Device> {
    match name {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" | "cuda:0" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        s if s.starts_with("cuda") => {
            let idx = match s.strip_prefix("cuda:") {
                Some(n) => n
                    .parse::<usize>()
                    .map_err(|_| StagesError::param("device", s, "expected cuda:N"))?,
                None => 0,
            };
            let count = tch::Cuda::device_count();
            if (idx as i64) < count {
                Ok(Device::Cuda(idx))
            } else {
                Err(StagesError::param(
                    "device",
                    s,
                    format!("only {count} CUDA device(s) are present"),
                ))
            }
        }
        other => Err(StagesError::param(
            "device",
            other,
            "expected `auto`, `cpu` or `cuda`",
        )),
    }
}

/// Display name of a device, as recorded in manifests (`cpu`, `cuda:0`).
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
        _ => "cpu".into(),
    }
}

/// Sets libtorch's intra-op thread count (at least 1).
pub fn set_threads(threads: usize) {
    let n = threads.clamp(1, i32::MAX as usize) as i32;
    tch::set_num_threads(n);
}

/// Seeds libtorch's generators (CPU and CUDA) and turns off cuDNN's
/// autotuner, whose kernel choice can differ between runs. CPU kernels of
/// libtorch are deterministic at a fixed thread count, which is what the
/// determinism guarantee relies on (tch exposes no
/// `use_deterministic_algorithms` switch).
pub fn seed_everything(seed: u64) {
    tch::manual_seed(seed as i64);
    if tch::Cuda::is_available() {
        tch::Cuda::manual_seed_all(seed);
        tch::Cuda::cudnn_set_benchmark(false);
    }
}
