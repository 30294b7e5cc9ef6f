//! Translation with an instruction-tuned GGUF model run by candle's quantized kernels: pure Rust,
//! so it links beside whisper.cpp's ggml without a symbol clash.
//!
//! The prompt and the clean-up of the model's answer are pure functions (`sokuji_core::prompt`); the model
//! owns a KV cache, so one generation runs at a time per loaded model.

mod mapped;
mod model;
mod qwen2;
mod tokenizer;
mod translator;

pub use model::{Generation, LoadError, Model};
pub use translator::{LlmTranslator, TranslatorConfig, translate_with};
