//! OpenAI's audio API as Sokuji serves it: `/v1/audio/transcriptions`, `/v1/audio/translations`,
//! `/v1/audio/speech`, `/v1/models`. Field names are OpenAI's, so its SDKs read them.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The multipart form of a transcription or translation (documentation).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TranscriptionForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// "whisper-1" and "gpt-*" let the server choose; or a catalog model id.
    pub model: Option<String>,
    pub language: Option<String>,
    pub prompt: Option<String>,
    /// json (default), text, srt, vtt or verbose_json.
    pub response_format: Option<String>,
    /// "word" and/or "segment" (verbose_json).
    #[schema(rename = "timestamp_granularities[]")]
    pub timestamp_granularities: Option<Vec<String>>,
}

/// `response_format=json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptionText {
    pub text: String,
}

/// `response_format=verbose_json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VerboseTranscription {
    /// "transcribe" or "translate".
    pub task: String,
    pub language: String,
    pub duration: f64,
    pub text: String,
    pub segments: Vec<VerboseSegment>,
    /// Sokuji's: the engine and model that decoded it.
    pub producer: crate::rest::transcript::Producer,
    /// With `timestamp_granularities[]=word`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<TimedWord>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VerboseSegment {
    pub id: u32,
    pub seek: u32,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub tokens: Vec<u32>,
    pub temperature: f32,
    pub avg_logprob: f32,
    pub compression_ratio: f32,
    pub no_speech_prob: f32,
}

impl From<&sokuji_core::Segment> for VerboseSegment {
    fn from(s: &sokuji_core::Segment) -> Self {
        Self {
            id: s.id,
            seek: 0,
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            tokens: Vec::new(),
            temperature: 0.0,
            avg_logprob: 0.0,
            compression_ratio: 0.0,
            no_speech_prob: s.no_speech_probability,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimedWord {
    pub word: String,
    pub start: f64,
    pub end: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SpeechRequest {
    /// Accepted for compatibility; the voice picks the engine.
    #[serde(default)]
    pub model: String,
    pub input: String,
    /// A voice id, or OpenAI's names ("alloy"…) for the language's default voice.
    #[serde(default)]
    pub voice: String,
    /// wav (default), pcm or flac.
    #[serde(default)]
    pub response_format: Option<String>,
    #[serde(default)]
    pub speed: Option<f32>,
    /// Sokuji's: the language whose default voice OpenAI's voice names stand for.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    /// "list".
    pub object: String,
    pub data: Vec<Model>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Model {
    pub id: String,
    /// "model".
    pub object: String,
    pub created: i64,
    pub owned_by: String,
}
