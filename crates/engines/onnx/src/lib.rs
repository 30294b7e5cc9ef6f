//! The ONNX Runtime shared by the engines that run ONNX models. The runtime is a shared library
//! loaded at run time (nothing native is linked at build time) and is process-wide: ort keeps one
//! API table, so every engine must go through the same loader, loaded once from the first path
//! given.
use std::{path::Path, sync::OnceLock};

pub use ort;

static RUNTIME: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// The process's runtime, loading `lib` on first use; the error says why it could not be loaded.
pub fn runtime(lib: &Path) -> Result<&'static ort::environment::Environment, String> {
    let env = RUNTIME.get_or_init(|| {
        ort::init_from(lib).map_err(|e| e.to_string())?.with_name("sokuji").build().map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|e| format!("ONNX Runtime could not be loaded from {}: {e}", lib.display()))
}
