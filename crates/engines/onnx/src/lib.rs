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

/// A session of `model` on the runtime in `lib`: full graph optimization, `threads` threads
/// inside an operator and one across them (the engines run one inference at a time per session).
///
/// With `spin`, those threads spin between runs instead of blocking: a long file decodes ~20%
/// faster, but beside the LLM on few cores the spinning takes the cores its tokens wait for
/// (bench/results/live-2026-12-03.md: vi→en text p50 0.1–0.2 s later on 2 cores).
pub fn session(lib: &Path, model: &Path, threads: usize, spin: bool) -> Result<ort::session::Session, String> {
    let env = runtime(lib)?;
    let err = |e: String| format!("cannot load {}: {e}", model.display());
    ort::session::Session::builder(env)
        .map_err(|e| err(e.to_string()))?
        .with_optimization_level(ort::session::builder::GraphOptimizationLevel::Level3)
        .map_err(|e| err(e.to_string()))?
        .with_intra_threads(threads.max(1))
        .map_err(|e| err(e.to_string()))?
        .with_inter_threads(1)
        .map_err(|e| err(e.to_string()))?
        .with_intra_op_spinning(spin)
        .map_err(|e| err(e.to_string()))?
        .commit_from_file(model)
        .map_err(|e| err(e.to_string()))
}
