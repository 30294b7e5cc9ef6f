//! The seed's speech API: `POST /api/v1/tts/synthesize` (JSON with base64 audio, or the audio
//! itself) and `GET /api/v1/tts/voices`.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
    http::header,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use sokuji_api::rest::{
    ErrorBody,
    tts::{SynthesizeRequest, SynthesizeResponse, VoiceInfo, VoiceList},
};
use sokuji_audio::OutputFormat;
use sokuji_core::{ErrorCode, auth::meter_audio, quota::speech_seconds};
use std::time::Instant;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(synthesize)).routes(routes!(voices))
}

/// The speech as base64 inside JSON (default) or, with `return_format: "audio"`, the bytes.
#[utoipa::path(post, path = "/api/v1/tts/synthesize", tag = "tts", request_body = SynthesizeRequest,
    responses((status = 200, description = "Done", content((SynthesizeResponse = "application/json"), (Vec<u8> = "audio/wav"), (Vec<u8> = "audio/flac"), (Vec<u8> = "audio/pcm"))),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn synthesize(
    State(s): State<AppState>,
    meter: Option<axum::Extension<sokuji_core::auth::Meter>>,
    body: Result<Json<SynthesizeRequest>, JsonRejection>,
) -> ApiResult<Response> {
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
    let req = sokuji_core::SynthesizeRequest {
        text: r.text,
        voice: r.voice_id,
        language: r.language,
        speed: r.speed,
        pitch: r.pitch,
    };
    let tts = s.tts()?;
    meter_audio(meter.as_deref(), speech_seconds(&req.text)).await?;
    let mut speech = tts.synthesize(req).await?;
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
    Ok(Json(SynthesizeResponse {
        audio_data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        audio_format: format.as_str().to_string(),
        sample_rate: speech.sample_rate,
        duration_ms,
        voice_id: speech.voice,
        processing_time_ms: ms,
    })
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/tts/voices", tag = "tts",
    responses((status = 200, description = "Done", body = VoiceList), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn voices(State(s): State<AppState>) -> ApiResult<Json<VoiceList>> {
    let voices = s.tts()?.voices().await?;
    Ok(Json(VoiceList { voices: voices.iter().map(VoiceInfo::from).collect() }))
}
