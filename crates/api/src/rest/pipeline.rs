//! `POST /api/v1/pipeline/translate-text` and `…/translate-audio`: the original system's
//! pipelines. Answers carry the original's keys with their meanings and Sokuji's beside them.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranslateTextRequest {
    pub text: String,
    #[serde(default = "auto")]
    pub source_language: String,
    pub target_language: String,
    /// A voice id; empty or "default" for the target language's.
    #[serde(default)]
    pub voice_id: String,
    /// "json" (default) or "audio" (the WAV, with `X-Transcription`, `X-Translation`, `X-Duration-Ms`).
    #[serde(default)]
    pub return_format: Option<String>,
}

fn auto() -> String {
    "auto".into()
}

/// The multipart form of `translate-audio` (documentation).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TranslateAudioForm {
    #[schema(value_type = String, format = Binary)]
    pub audio_file: Vec<u8>,
    pub target_language: String,
    /// Default "auto".
    pub source_language: Option<String>,
    pub voice_id: Option<String>,
    /// "json" (default) or "audio".
    pub return_format: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PipelineResponse {
    /// What was heard (the text given, for `translate-text`).
    pub transcription: String,
    pub transcription_language: String,
    pub translation: String,
    pub translation_language: String,
    pub audio_sample_rate: u32,
    /// Length of the translated speech.
    pub audio_duration_ms: f64,
    pub total_latency_ms: f64,
    pub original_text: String,
    pub translated_text: String,
    pub source_language: String,
    pub target_language: String,
    /// Base64 WAV of the translation spoken.
    pub audio_data: String,
    pub audio_format: String,
    pub sample_rate: u32,
    pub processing_time_ms: f64,
}
