//! `POST /api/v1/translation/translate`, `GET /api/v1/translation/languages`.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranslateRequest {
    /// One text, or `texts` for a batch.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub texts: Vec<String>,
    /// ISO 639-1 or "auto" (default).
    #[serde(default = "auto")]
    pub source_language: String,
    pub target_language: String,
    /// What was said before (helps pronouns and terms).
    #[serde(default)]
    pub context: Option<String>,
    /// Terms kept verbatim in the translation.
    #[serde(default)]
    pub do_not_translate: Vec<String>,
}

fn auto() -> String {
    "auto".into()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranslationResult {
    pub original_text: String,
    pub translated_text: String,
    pub source_language: String,
    pub target_language: String,
    /// Whether the source language was detected rather than given.
    pub source_detected: bool,
    pub engine: String,
    pub model: String,
    pub processing_time_ms: f64,
}

impl From<&sokuji_core::Translation> for TranslationResult {
    fn from(t: &sokuji_core::Translation) -> Self {
        Self {
            original_text: t.original.clone(),
            translated_text: t.text.clone(),
            source_language: t.source.clone(),
            target_language: t.target.clone(),
            source_detected: t.source_detected,
            engine: t.engine.clone(),
            model: t.model.clone(),
            processing_time_ms: t.processing_ms,
        }
    }
}

/// One result for `text`, `results` for `texts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TranslateResponse {
    One(TranslationResult),
    Batch { results: Vec<TranslationResult> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranslationLanguages {
    pub languages: Vec<String>,
    pub supports_batch: bool,
    pub supports_streaming: bool,
    pub supports_auto_detect: bool,
}
