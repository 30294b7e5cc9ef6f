//! The speech-to-text capability. A local engine implements it; so does the gRPC client, and
//! callers hold `Arc<dyn SpeechToText>` without knowing which one they have.
use crate::{Audio, Result, TranscribeOptions, Transcript, Word};
use std::collections::BTreeMap;

/// A spoken language as an engine identified it.
#[derive(Clone, Debug, PartialEq)]
pub struct Identified {
    /// ISO 639-1.
    pub language: String,
    /// How likely the engine finds it (0–1): a second of speech often leaves it unsure.
    pub probability: f32,
}

/// What a service says of itself for health checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    pub healthy: bool,
    pub status: String,
    pub provider: String,
    pub details: BTreeMap<String, String>,
}

impl Health {
    pub fn ready(provider: impl Into<String>) -> Self {
        Self { healthy: true, status: "ready".into(), provider: provider.into(), details: BTreeMap::new() }
    }

    /// Unhealthy: "unreachable" when the engine is down, "error" otherwise, with the error.
    pub fn failing(provider: impl Into<String>, e: &crate::Error) -> Self {
        let status = if e.code == crate::ErrorCode::EngineUnavailable { "unreachable" } else { "error" };
        let details = [("error".to_string(), e.to_string())].into();
        Self { healthy: false, status: status.into(), provider: provider.into(), details }
    }
}

#[async_trait::async_trait]
pub trait SpeechToText: Send + Sync {
    /// Transcribes a whole piece of audio. CPU-heavy engines run off the async runtime.
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript>;

    /// ISO 639-1 codes this engine can recognize.
    async fn languages(&self) -> Result<Vec<String>>;

    async fn health(&self) -> Health;

    /// The spoken language of `audio` (ISO 639-1), for routing; `None` when this engine cannot
    /// tell.
    async fn identify_language(&self, _audio: Audio) -> Result<Option<Identified>> {
        Ok(None)
    }

    /// The models a request may name in `TranscribeOptions::model`, with what each is.
    async fn models(&self) -> Vec<SttModel> {
        Vec::new()
    }

    /// A stream that reads one utterance as it arrives, for engines whose model streams
    /// natively: interim words then cost no re-decoding, and the final only the last chunk.
    /// `None` (the default) means the caller decodes the audio so far again with `transcribe`.
    async fn stream(&self, _options: &TranscribeOptions) -> Option<Box<dyn SttStream>> {
        None
    }
}

/// One utterance read incrementally (`SpeechToText::stream`). Times are seconds from the first
/// sample pushed.
#[async_trait::async_trait]
pub trait SttStream: Send {
    /// Takes the next 16 kHz samples; returns every word decoded so far.
    async fn push(&mut self, samples: Vec<f32>) -> Result<Vec<Word>>;

    /// Takes the next samples at a pause in the speech; returns every word as if the utterance
    /// ended here, without ending it (the speaker may go on): an engine that reads in fixed steps
    /// reads the audio short of a step too, as its finish would, on a copy of its state. By
    /// default, [`Self::push`].
    async fn push_at_pause(&mut self, samples: Vec<f32>) -> Result<Vec<Word>> {
        self.push(samples).await
    }

    /// Ends the utterance and gives its transcript, as `transcribe` would of the same audio.
    async fn finish(self: Box<Self>) -> Result<Transcript>;
}

/// A model a speech-to-text service offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SttModel {
    /// The name a request gives (`TranscribeOptions::model`).
    pub id: String,
    pub engine: String,
}
