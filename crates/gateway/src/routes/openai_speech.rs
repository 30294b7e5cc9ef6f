//! OpenAI-compatible `POST /v1/audio/speech` (streamed sentence by sentence) and
//! `GET /v1/models`, so stock OpenAI clients speak through Sokuji.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{
    Json,
    body::Body,
    extract::{State, rejection::JsonRejection},
    http::header,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use sokuji_api::rest::{
    ErrorBody,
    openai::{Model, ModelList, SpeechRequest},
};
use sokuji_audio::{OutputFormat, encode, encode::streaming_wav_header};
use sokuji_core::{ErrorCode, SynthesizeRequest, auth::meter_audio, quota::speech_seconds};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(speech)).routes(routes!(models))
}

/// The speech, streamed sentence by sentence (FLAC whole).
#[utoipa::path(post, path = "/v1/audio/speech", tag = "openai", request_body = SpeechRequest,
    responses((status = 200, description = "Done", content((Vec<u8> = "audio/wav"), (Vec<u8> = "audio/pcm"), (Vec<u8> = "audio/flac"))),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn speech(
    State(s): State<AppState>,
    meter: Option<axum::Extension<sokuji_core::auth::Meter>>,
    body: Result<Json<SpeechRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(r) = body.map_err(bad_json)?;
    let format = OutputFormat::parse(r.response_format.as_deref().unwrap_or("wav"))?;
    let tts = s.tts()?.clone();
    let base = SynthesizeRequest { text: r.input, voice: r.voice, language: r.language, speed: r.speed, pitch: None };
    let pieces = sokuji_live::voices::sentences(&base)?;
    meter_audio(meter.as_deref(), speech_seconds(&base.text)).await?;
    if format == OutputFormat::Flac {
        // FLAC frames need the whole signal's parameters: encoded once, sent whole.
        let speech = tts.synthesize(base).await?;
        let bytes = s.encode(speech.samples, speech.sample_rate, format).await?;
        return Ok(([(header::CONTENT_TYPE, format.content_type())], bytes).into_response());
    }
    // The first sentence is synthesized before the response starts, so a bad voice or language
    // is a clean JSON error rather than a broken stream.
    let mut pieces = pieces.into_iter();
    let Some(first_req) = pieces.next() else {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "input has nothing to say"));
    };
    let first = tts.synthesize(first_req).await?;
    let stream = async_stream::stream! {
        if format == OutputFormat::Wav {
            yield Ok::<Bytes, std::io::Error>(Bytes::from(streaming_wav_header(first.sample_rate)));
        }
        yield Ok(Bytes::from(encode(&first.samples, first.sample_rate, OutputFormat::Pcm).unwrap_or_default()));
        for piece in pieces {
            match tts.synthesize(piece).await {
                Ok(sp) => yield Ok(Bytes::from(encode(&sp.samples, sp.sample_rate, OutputFormat::Pcm).unwrap_or_default())),
                Err(e) => {
                    tracing::warn!("speech stream cut short: {e}");
                    yield Err(std::io::Error::other(e.to_string()));
                    break;
                }
            }
        }
    };
    let content_type = format.content_type();
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::HeaderName::from_static("x-sample-rate"), first.sample_rate.to_string()),
            (header::HeaderName::from_static("x-voice-id"), first.voice.clone()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The configured models, and OpenAI's names the SDKs default to.
#[utoipa::path(get, path = "/v1/models", tag = "openai", responses((status = 200, description = "Done", body = ModelList)))]
async fn models(State(s): State<AppState>) -> Json<ModelList> {
    let aliases = ["whisper-1", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"];
    let data = s
        .model_names
        .iter()
        .map(String::as_str)
        .chain(aliases)
        .map(|id| Model { id: id.to_string(), object: "model".into(), created: 0, owned_by: "sokuji".into() })
        .collect();
    Json(ModelList { object: "list".into(), data })
}
