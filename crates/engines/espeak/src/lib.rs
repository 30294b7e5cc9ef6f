//! eSpeak NG behind a safe API. libespeak-ng keeps global state and is not thread-safe, so
//! every call goes through one process-wide lock (`ffi::Espeak`); callers never see a pointer.
//!
//! This is one of the few crates allowed `unsafe`: each block states the invariant it relies on.

mod ffi;
mod phonemes;
mod synthesizer;

pub use ffi::{EspeakError, EspeakVoice, espeak};
pub use phonemes::{Clause, join_clauses};
pub use synthesizer::EspeakSynthesizer;
