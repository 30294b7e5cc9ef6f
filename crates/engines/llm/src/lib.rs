//! Translation with an instruction-tuned GGUF model run by candle's quantized kernels, and by this
//! crate's own for Q4_K and Q6_K matrices on AVX-512 VNNI (`tiled`): pure Rust, so it links beside
//! whisper.cpp's ggml without a symbol clash.
//!
//! The prompt and the clean-up of the model's answer are pure functions (`sokuji_core::prompt`); the model
//! owns a KV cache, so one generation runs at a time per loaded model.

mod mapped;
mod model;
mod qwen2;
mod tiled;
mod tokenizer;
mod translator;

pub use model::{Generation, LoadError, Model};
pub use translator::{LlmTranslator, TranslatorConfig, translate_with};
