//! Bakes libtorch's library directory into the binary's rpath so that
//! `kdpipe` runs without `LD_LIBRARY_PATH`. torch-sys exports the directory
//! to the build scripts of crates that depend on it directly.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
