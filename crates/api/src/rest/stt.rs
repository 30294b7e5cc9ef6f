//! `POST /api/v1/stt/transcribe`, `GET /api/v1/stt/languages` (the original system's REST STT).
use crate::rest::transcript::Segment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The multipart form of a transcription (documentation: handlers read the parts as they come).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TranscribeForm {
    /// The audio: WAV, FLAC, MP3, Ogg (Vorbis or Opus), WebM (Opus), M4A/AAC or raw PCM.
    #[schema(value_type = String, format = Binary)]
    pub audio_file: Vec<u8>,
    /// ISO 639-1, or "auto" (default) to detect.
    pub language: Option<String>,
    /// "true" for word times.
    pub word_timestamps: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscribeResponse {
    pub text: String,
    pub language: String,
    /// Mean token probability, 0 when there is no text.
    pub confidence: f32,
    pub processing_time_ms: f64,
    /// Seconds of audio.
    pub duration: f64,
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Languages {
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    pub count: usize,
}
