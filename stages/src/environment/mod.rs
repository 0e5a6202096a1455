//! The host side of the CPU kernel pin: before an ML stage runs, check that
//! the host can honour the spec's `cpu_isa` and that the pin's variables are
//! in this process's environment ([`pin`]); after it ran, record the host,
//! the kernel settings and the library versions in `environment.json`
//! ([`record`], [`libtorch`]).

mod libtorch;
mod pin;
mod record;

pub use libtorch::LibtorchInfo;
pub use pin::{check_pin, split_pin, PinError};
pub use record::{cpu_info, environment, CpuInfo};
