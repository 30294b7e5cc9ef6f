//! The seed's speech API: `POST /api/v1/tts/synthesize` (JSON with base64 audio, or the audio
//! itself) and `GET /api/v1/tts/voices`.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_audio::OutputFormat;
use sokuji_core::{ErrorCode, SynthesizeRequest};
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/tts/synthesize", post(synthesize)).route("/api/v1/tts/voices", get(voices))
}

#[derive(Deserialize)]
struct Request {
    text: String,
    language: Option<String>,
    #[serde(default)]
    voice_id: String,
    /// "json" (default: base64 audio inside JSON) or "audio" (the bytes).
    #[serde(default)]
    return_format: Option<String>,
    /// wav (default), pcm or flac.
    #[serde(default)]
    audio_format: Option<String>,
    speed: Option<f32>,
    pitch: Option<f32>,
}

async fn synthesize(State(s): State<AppState>, body: Result<Json<Request>, JsonRejection>) -> ApiResult<Response> {
    let started = Instant::now();
    let Json(r) = body.map_err(bad_json)?;
    let format = OutputFormat::parse(r.audio_format.as_deref().unwrap_or("wav"))?;
    let as_json = match r.return_format.as_deref().unwrap_or("json") {
        "json" => true,
        "audio" => false,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("return_format {other:?} is not json or audio"),
            ));
        }
    };
    let req =
        SynthesizeRequest { text: r.text, voice: r.voice_id, language: r.language, speed: r.speed, pitch: r.pitch };
    let mut speech = s.tts()?.synthesize(req).await?;
    let duration_ms = speech.duration_ms();
    let bytes = s.encode(std::mem::take(&mut speech.samples), speech.sample_rate, format).await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !as_json {
        let headers = [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::HeaderName::from_static("x-voice-id"), speech.voice.clone()),
            (header::HeaderName::from_static("x-sample-rate"), speech.sample_rate.to_string()),
            (header::HeaderName::from_static("x-processing-time-ms"), format!("{ms:.1}")),
            // The original's: the speech's length.
            (header::HeaderName::from_static("x-duration-ms"), format!("{duration_ms:.1}")),
        ];
        return Ok((headers, bytes).into_response());
    }
    Ok(Json(json!({
        "audio_data": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "audio_format": format.as_str(),
        "sample_rate": speech.sample_rate,
        "duration_ms": duration_ms,
        "voice_id": speech.voice,
        "processing_time_ms": ms,
    }))
    .into_response())
}

async fn voices(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let voices = s.tts()?.voices().await?;
    let list: Vec<Value> = voices
        .iter()
        .map(|v| {
            json!({
                "id": v.id, "name": v.name, "language": v.language, "supported_languages": v.languages,
                "gender": v.gender, "sample_rate": v.sample_rate, "engine": v.engine, "metadata": v.metadata,
            })
        })
        .collect();
    Ok(Json(json!({ "voices": list })))
}
