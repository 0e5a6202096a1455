//! What the loaded libtorch says about itself: its build configuration
//! (`at::show_config()`, which names the libtorch, MKL and oneDNN versions),
//! the kernel level ATen picked in this process (`at::get_cpu_capability()`)
//! and MKL's version string. tch binds none of these, so they are looked up
//! by symbol name at run time (`dlsym`): a libtorch that does not export one
//! gives `None` instead of a link error.
//!
//! The two C++ functions return a `std::string` by value. Under the x86-64
//! System V ABI such a value is returned through a hidden pointer to
//! caller-provided storage, passed as the first argument, which is how they
//! are called here; the libstdc++ (C++11 ABI) layout of that storage is
//! `{ char* data; size_t len; char local_buf[16] }`. The heap buffer of a
//! long string is not freed: it is read once per process.

use std::ffi::{c_char, c_int, CStr};

/// Build facts of the loaded libtorch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibtorchInfo {
    /// `at::show_config()`.
    pub config: Option<String>,
    /// `TORCH_VERSION=` of the config (e.g. `2.13.0`).
    pub version: Option<String>,
    /// `at::get_mkldnn_version()`.
    pub onednn_version: Option<String>,
    /// `at::get_cpu_capability()` (`DEFAULT`, `AVX2`, `AVX512`).
    pub cpu_capability: Option<String>,
    /// `MKL_Get_Version_String`.
    pub mkl_version: Option<String>,
}

impl LibtorchInfo {
    /// Asks the loaded libtorch.
    pub fn query() -> LibtorchInfo {
        let config = cxx_string_fn("_ZN2at11show_configB5cxx11Ev");
        let version = config.as_deref().and_then(torch_version);
        LibtorchInfo {
            version,
            onednn_version: cxx_string_fn("_ZN2at18get_mkldnn_versionB5cxx11Ev"),
            cpu_capability: cxx_string_fn("_ZN2at18get_cpu_capabilityB5cxx11Ev"),
            mkl_version: mkl_version(),
            config,
        }
    }
}

/// `2.13.0` from `..., TORCH_VERSION=2.13.0, ...`.
pub(crate) fn torch_version(config: &str) -> Option<String> {
    let rest = config.split("TORCH_VERSION=").nth(1)?;
    let v: String = rest
        .chars()
        .take_while(|c| !matches!(c, ',' | ' ' | '\n'))
        .collect();
    (!v.is_empty()).then_some(v)
}

fn symbol(name: &str) -> Option<*mut libc::c_void> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: dlsym with RTLD_DEFAULT only reads the loaded objects' symbol
    // tables; a null result means "not found".
    #[allow(unsafe_code)]
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) };
    (!p.is_null()).then_some(p)
}

#[repr(C)]
struct CxxString {
    data: *const u8,
    len: usize,
    local: [u8; 16],
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn cxx_string_fn(name: &str) -> Option<String> {
    let f = symbol(name)?;
    type Ret = unsafe extern "C" fn(*mut CxxString) -> *mut CxxString;
    let mut out = CxxString {
        data: std::ptr::null(),
        len: 0,
        local: [0; 16],
    };
    // SAFETY: `f` is a `std::string f()` of libtorch (no arguments); the
    // System V ABI passes the return slot as the first argument, and `out`
    // has the size and alignment of a libstdc++ std::string. The function
    // fills `data`/`len`; the bytes are copied out before `out` is dropped.
    #[allow(unsafe_code)]
    unsafe {
        let f: Ret = std::mem::transmute::<*mut libc::c_void, Ret>(f);
        f(&mut out);
        if out.data.is_null() || out.len > (1 << 20) {
            return None;
        }
        let bytes = std::slice::from_raw_parts(out.data, out.len);
        Some(String::from_utf8_lossy(bytes).trim().to_owned())
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn cxx_string_fn(_name: &str) -> Option<String> {
    None
}

fn mkl_version() -> Option<String> {
    let f = symbol("MKL_Get_Version_String")?;
    type Ret = unsafe extern "C" fn(*mut c_char, c_int);
    let mut buf = [0 as c_char; 256];
    // SAFETY: `void MKL_Get_Version_String(char* buf, int len)` writes at
    // most `len` bytes, NUL-terminated, into `buf`.
    #[allow(unsafe_code)]
    let s = unsafe {
        let f: Ret = std::mem::transmute::<*mut libc::c_void, Ret>(f);
        f(buf.as_mut_ptr(), buf.len() as c_int - 1);
        CStr::from_ptr(buf.as_ptr())
    };
    let s = s.to_string_lossy().trim().to_owned();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn torch_version_is_read_from_the_config() {
        let cfg = "  - Build settings: BLAS_INFO=mkl, TORCH_VERSION=2.13.0, USE_CUDA=1";
        assert_eq!(torch_version(cfg).as_deref(), Some("2.13.0"));
        assert_eq!(torch_version("no version"), None);
    }

    /// The loaded libtorch answers (this build links the venv's 2.13).
    #[test]
    fn the_loaded_libtorch_is_described() {
        let _ = tch::Tensor::from_slice(&[1.0f32]).sum(tch::Kind::Float);
        let info = LibtorchInfo::query();
        let cfg = info.config.unwrap();
        assert!(cfg.contains("PyTorch built with"), "{cfg}");
        assert!(info.version.unwrap().starts_with("2."));
        let cap = info.cpu_capability.unwrap();
        assert!(
            ["DEFAULT", "AVX2", "AVX512"].contains(&cap.as_str()),
            "{cap}"
        );
        assert!(info.mkl_version.unwrap().contains("Math Kernel Library"));
        assert!(info.onednn_version.is_some());
    }
}
