//! `POST /api/v1/tts/synthesize`, `GET /api/v1/tts/voices` (the original system's REST TTS).
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SynthesizeRequest {
    pub text: String,
    /// Picks the language's default voice when `voice_id` is empty or "default".
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub voice_id: String,
    /// "json" (default: base64 audio inside JSON) or "audio" (the bytes, with `X-Duration-Ms`).
    #[serde(default)]
    pub return_format: Option<String>,
    /// "wav" (default), "pcm" or "flac".
    #[serde(default)]
    pub audio_format: Option<String>,
    #[serde(default)]
    pub speed: Option<f32>,
    #[serde(default)]
    pub pitch: Option<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SynthesizeResponse {
    /// Base64 of the audio in `audio_format`.
    pub audio_data: String,
    pub audio_format: String,
    pub sample_rate: u32,
    pub duration_ms: f64,
    pub voice_id: String,
    pub processing_time_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VoiceList {
    pub voices: Vec<VoiceInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VoiceInfo {
    pub id: String,
    pub name: String,
    /// Primary language (ISO 639-1, or a BCP 47 tag such as "en-US").
    pub language: String,
    pub supported_languages: Vec<String>,
    pub gender: String,
    pub sample_rate: u32,
    /// "piper" or "espeak".
    pub engine: String,
    /// `default_for`: the languages this voice is the default of (comma-separated).
    pub metadata: BTreeMap<String, String>,
}

impl From<&sokuji_core::Voice> for VoiceInfo {
    fn from(v: &sokuji_core::Voice) -> Self {
        Self {
            id: v.id.clone(),
            name: v.name.clone(),
            language: v.language.clone(),
            supported_languages: v.languages.clone(),
            gender: v.gender.clone(),
            sample_rate: v.sample_rate,
            engine: v.engine.clone(),
            metadata: v.metadata.clone(),
        }
    }
}
