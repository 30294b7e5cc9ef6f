//! The local speech-to-text engine: whisper.cpp through `whisper-rs`.
//!
//! The model is loaded once and shared; each request decodes on its own whisper state (taken
//! from a small pool), so concurrent requests run side by side up to a configured limit instead
//! of queueing behind one lock. Inference runs on blocking threads, never on the async runtime.
//! This crate holds no `unsafe` of its own: whisper-rs wraps the C API.

mod decode;
mod engine;
mod words;

pub use engine::{WhisperConfig, WhisperEngine};
