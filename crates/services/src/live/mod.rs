//! Live speech translation: one session turns streamed speech into transcripts, translations and
//! translated speech, each stage on its own task so that TTS of sentence N runs while STT hears
//! sentence N+1. Wire-agnostic: the WebSocket and gRPC front ends only convert messages.
pub mod pipeline;
pub mod server;

pub use pipeline::{LiveConfig, LiveEngines, LiveEvent, LiveInput, session_id, start};
pub use server::{LiveServer, SESSION_ID_KEY};
