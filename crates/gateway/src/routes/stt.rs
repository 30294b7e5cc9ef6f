//! The seed's REST speech-to-text API.
use crate::{AppState, error::ApiResult, upload};
use axum::{
    Json, Router,
    extract::{Multipart, State, multipart::MultipartRejection},
    routing::{get, post},
};
use serde_json::{Value, json};
use sokuji_core::TranscribeOptions;
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/stt/transcribe", post(transcribe)).route("/api/v1/stt/languages", get(languages))
}

/// Multipart `audio_file` and `language` (default "auto") -> `{text, language, confidence,
/// processing_time_ms}`, plus `duration` and `segments`.
async fn transcribe(State(s): State<AppState>, mp: Result<Multipart, MultipartRejection>) -> ApiResult<Json<Value>> {
    let started = Instant::now();
    let mut form = upload::read(mp, &["audio_file", "file"]).await?;
    let audio = upload::decode(&s.cpu, &mut form, "audio_file").await?;
    let options = TranscribeOptions {
        language: form.field("language").map(String::from),
        word_timestamps: form.field("word_timestamps").is_some_and(|v| v == "true"),
        ..Default::default()
    };
    let t = s.stt.transcribe(audio, options).await?;
    Ok(Json(json!({
        "text": t.text,
        "language": t.language,
        "confidence": t.confidence,
        "processing_time_ms": started.elapsed().as_secs_f64() * 1000.0,
        "duration": t.duration,
        "segments": t.segments,
    })))
}

async fn languages(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let langs = s.stt.languages().await?;
    Ok(Json(json!({ "languages": langs, "count": langs.len() })))
}
