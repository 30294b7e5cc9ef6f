//! Live sessions, whatever the wire: speech streams in; speech starts and stops, interim and
//! final transcripts, translations and translated speech stream out, as [`LiveEvent`]s. The
//! JSON WebSockets, OpenAI's realtime protocols and the gRPC streams are all front ends of the
//! one [`start`]ed session; they only convert messages.
//!
//! Holds: the recognizer (VAD, endpointing or client commits, interim decodes with local
//! agreement, bounded utterances), the three-stage pipeline with its bounded channels, the
//! recorder that keeps a session for the archive, the local voice set, and the translator that
//! loads on first use.
//!
//! Never: knows a wire format (no JSON, no protobuf), reads the environment, or runs CPU-bound
//! work on the async runtime (engines do that through their admission pools).

mod allowance;
pub mod config;
pub mod event;
pub mod lazy;
pub mod pipeline;
pub mod recognizer;
pub mod recorder;
pub mod voices;

pub use config::LiveConfig;
pub use event::{LiveError, LiveEvent, LiveInput, LiveUpdate, Recorded, Spoken, Transcription, Translated};
pub use lazy::LazyTranslator;
pub use pipeline::{LiveEngines, VadFactory, session_id, start};
pub use recognizer::{Recognizer, RecognizerConfig, Turns};
pub use recorder::Recorder;
pub use voices::VoiceSet;

#[cfg(test)]
mod tests;
