//! Sokuji's domain: audio, transcripts, translations, voices, the engine traits every service implements on both sides
//! of the wire, the one error table, and the pure policies of streaming recognition.
//!
//! Invariants: no IO, no wire formats (no prost, no HTTP types), no panics on any input.

pub mod aligned;
pub mod archive;
pub mod audio;
pub mod auth;
mod detect;
pub mod embed;
pub mod error;
pub mod fidelity;
pub mod guard;
pub mod limits;
pub mod prompt;
pub mod quota;
pub mod readable;
pub mod search;
mod spelled_numbers;
pub mod stream;
pub mod stt;
pub mod subtitle;
pub mod text;
pub mod transcript;
pub mod translate;
pub mod tts;
pub mod wer;

pub use audio::{Audio, SAMPLE_RATE};
pub use embed::{EmbedKind, Embedder, Embeddings};
pub use error::{Error, ErrorCode, Result};
pub use stt::{Health, Identified, SpeechToText, SttModel, SttStream};
pub use text::{NormalizeMode, TextNormalizer};
pub use transcript::{Producer, ProgressFn, Segment, Task, TranscribeOptions, Transcript, Word};
pub use translate::{Partial, TranslateRequest, Translation, Translator};
pub use tts::{Speech, SynthesizeRequest, Synthesizer, Voice};
