//! The speech-to-text capability. A local engine implements it; so does the gRPC client, and
//! callers hold `Arc<dyn SpeechToText>` without knowing which one they have.
use crate::{Audio, Result, TranscribeOptions, Transcript};
use std::collections::BTreeMap;

/// What a service says of itself for health checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    pub healthy: bool,
    pub status: String,
    pub provider: String,
    pub details: BTreeMap<String, String>,
}

#[async_trait::async_trait]
pub trait SpeechToText: Send + Sync {
    /// Transcribes a whole piece of audio. CPU-heavy engines run off the async runtime.
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript>;

    /// ISO 639-1 codes this engine can recognize.
    async fn languages(&self) -> Result<Vec<String>>;

    async fn health(&self) -> Health;
}
