//! The original system's REST speech-to-text API.
use crate::{AppState, error::ApiResult, upload};
use axum::{
    Json,
    extract::{Multipart, State, multipart::MultipartRejection},
};
use sokuji_api::rest::{
    ErrorBody,
    stt::{Languages, TranscribeForm, TranscribeResponse},
    transcript::Segment,
};
use sokuji_core::TranscribeOptions;
use std::time::Instant;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transcribe)).routes(routes!(languages))
}

/// Multipart `audio_file` and `language` (default "auto") -> the text, its language and segments.
#[utoipa::path(post, path = "/api/v1/stt/transcribe", tag = "stt",
    request_body(content = TranscribeForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "Done", body = TranscribeResponse), (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 413, description = "The upload is larger than this server accepts", body = ErrorBody)))]
async fn transcribe(
    State(s): State<AppState>,
    meter: Option<axum::Extension<sokuji_core::auth::Meter>>,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<TranscribeResponse>> {
    let started = Instant::now();
    let mut form = upload::read(mp, &["audio_file", "file"]).await?;
    let audio = upload::decode(&s.cpu, meter.as_deref(), &mut form, "audio_file").await?;
    let options = TranscribeOptions {
        language: form.field("language").map(String::from),
        word_timestamps: form.field("word_timestamps").is_some_and(|v| v == "true"),
        ..Default::default()
    };
    let t = s.stt.transcribe(audio, options).await?;
    Ok(Json(TranscribeResponse {
        text: t.text,
        language: t.language,
        confidence: t.confidence,
        processing_time_ms: started.elapsed().as_secs_f64() * 1000.0,
        duration: t.duration,
        segments: t.segments.iter().map(Segment::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/stt/languages", tag = "stt", operation_id = "stt_languages", responses((status = 200, description = "Done", body = Languages)))]
async fn languages(State(s): State<AppState>) -> ApiResult<Json<Languages>> {
    let languages = s.stt.languages().await?;
    Ok(Json(Languages { count: languages.len(), languages }))
}
