//! The local speech-to-text engine: whisper.cpp through `whisper-rs`.
//!
//! The model is loaded once and shared; each request decodes on its own whisper state (taken
//! from a small pool), so concurrent requests run side by side up to a configured limit instead
//! of queueing behind one lock. Inference runs on blocking threads through an `Admission`
//! pool, never on the async runtime; a decode whose caller has gone is aborted.
//!
//! whisper-rs wraps the C API; the one `unsafe` of this crate is in `abort.rs`, which sets
//! whisper.cpp's abort callback and states the invariant it relies on.

mod abort;
mod decode;
mod engine;
mod words;

pub use engine::{WhisperConfig, WhisperEngine};
