//! What speech-to-text produces, and what a caller may ask of it.
use serde::{Deserialize, Serialize};

/// A word with its times (seconds from the start of the audio) and the model's probability.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

/// A stretch of speech the model decoded as one piece.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: u32,
    pub start: f64,
    pub end: f64,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
    pub no_speech_probability: f32,
    /// Language of this segment: with VAD on, each utterance is detected on its own.
    pub language: String,
}

/// The result of transcribing one piece of audio.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub text: String,
    /// The language of most of the speech (by duration); "" when there was no speech.
    pub language: String,
    /// Mean token probability over the text, 0 when there is no text.
    pub confidence: f32,
    pub duration: f64,
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// Every word of every segment, in order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.segments.iter().flat_map(|s| s.words.iter())
    }
}

/// Transcribe in the spoken language, or translate any language to English text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    #[default]
    Transcribe,
    Translate,
}

/// Called with the fraction of the audio transcribed so far, for progress bars.
#[derive(Clone)]
pub struct ProgressFn(pub std::sync::Arc<dyn Fn(f32) + Send + Sync>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

impl PartialEq for ProgressFn {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a caller may ask of a transcription. Defaults are what a newcomer expects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TranscribeOptions {
    /// ISO 639-1 code; `None` (or "auto") detects the language.
    pub language: Option<String>,
    pub task: Task,
    pub word_timestamps: bool,
    /// Primes the decoder with names, spellings or hot words.
    pub initial_prompt: Option<String>,
    /// Voice activity detection before decoding; `None` means the engine's default (on).
    pub vad: Option<bool>,
    /// Size the encoder context to the audio instead of a full 30 s window: much faster for
    /// short utterances (live use), slightly less accurate.
    pub fit_context: bool,
    /// Progress reports for long audio (local engines only; not sent over the wire).
    pub progress: Option<ProgressFn>,
}

impl TranscribeOptions {
    /// The language hint with "auto" and "" read as no hint.
    pub fn language_hint(&self) -> Option<&str> {
        self.language.as_deref().map(str::trim).filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("auto"))
    }
}
