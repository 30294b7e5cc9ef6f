//! The seed's REST pipelines: `POST /api/v1/pipeline/translate-text` (translation, then speech)
//! and `POST /api/v1/pipeline/translate-audio` (speech to text, translation, speech).
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
    upload,
};
use axum::{
    Json,
    extract::{Multipart, State, multipart::MultipartRejection, rejection::JsonRejection},
    http::{HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use sokuji_api::rest::{
    ErrorBody,
    pipeline::{PipelineResponse, TranslateAudioForm, TranslateTextRequest},
};
use sokuji_audio::{OutputFormat, encode};
use sokuji_core::{
    ErrorCode, SynthesizeRequest, TranscribeOptions, TranslateRequest,
    auth::{Meter, meter_audio},
    quota::speech_seconds,
};
use std::time::Instant;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(translate_text)).routes(routes!(translate_audio))
}

fn wants_json(f: Option<&str>) -> ApiResult<bool> {
    match f.unwrap_or("json") {
        "json" => Ok(true),
        "audio" => Ok(false),
        other => Err(ApiError::new(ErrorCode::InvalidRequest, format!("return_format {other:?} is not json or audio"))),
    }
}

/// What both pipelines end with: the translated text spoken, as JSON or as the wav itself.
struct Done {
    /// What was heard and its language (the audio pipeline).
    transcription: Option<(String, String)>,
    original: String,
    translated: String,
    source: String,
    target: String,
    wav: Vec<u8>,
    sample_rate: u32,
    duration_ms: f64,
    started: Instant,
}

fn respond(d: Done, as_json: bool) -> Response {
    let ms = d.started.elapsed().as_secs_f64() * 1000.0;
    if as_json {
        // The original system's keys (`transcription` … `total_latency_ms`, with its meanings: for
        // the text pipeline the "transcription" is the text given), and Sokuji's beside them.
        let (heard, heard_language) = d.transcription.clone().unwrap_or((d.original.clone(), d.source.clone()));
        return Json(PipelineResponse {
            transcription: heard,
            transcription_language: heard_language,
            translation: d.translated.clone(),
            translation_language: d.target.clone(),
            audio_sample_rate: d.sample_rate,
            audio_duration_ms: d.duration_ms,
            total_latency_ms: ms,
            original_text: d.original,
            translated_text: d.translated,
            source_language: d.source,
            target_language: d.target,
            audio_data: base64::engine::general_purpose::STANDARD.encode(&d.wav),
            audio_format: "wav".into(),
            sample_rate: d.sample_rate,
            processing_time_ms: ms,
        })
        .into_response();
    }
    let mut res = ([(header::CONTENT_TYPE, "audio/wav")], d.wav).into_response();
    // Header values are ASCII: non-ASCII text is percent-encoded.
    let enc = |s: &str| HeaderValue::from_str(&percent(s)).unwrap_or(HeaderValue::from_static(""));
    let h = res.headers_mut();
    h.insert(HeaderName::from_static("x-transcription"), enc(d.transcription.as_ref().map_or(&d.original, |t| &t.0)));
    h.insert(HeaderName::from_static("x-translation"), enc(&d.translated));
    h.insert(HeaderName::from_static("x-processing-time-ms"), enc(&format!("{ms:.1}")));
    h.insert(HeaderName::from_static("x-duration-ms"), enc(&format!("{:.1}", d.duration_ms)));
    res
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b" -_.~,!?'".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn speak_translation(
    s: &AppState,
    meter: Option<&Meter>,
    text: String,
    source: String,
    target: String,
    voice: String,
    started: Instant,
) -> ApiResult<Done> {
    let t = s
        .translator()?
        .translate(TranslateRequest {
            text: text.clone(),
            source,
            target: target.clone(),
            context: None,
            keep: Vec::new(),
            ..Default::default()
        })
        .await?;
    meter_audio(meter, speech_seconds(&t.text)).await?;
    let req =
        SynthesizeRequest { text: t.text.clone(), voice, language: Some(target.clone()), speed: None, pitch: None };
    let speech = s.tts()?.synthesize(req).await?;
    Ok(Done {
        transcription: None,
        original: text,
        translated: t.text,
        source: t.source,
        target,
        wav: encode(&speech.samples, speech.sample_rate, OutputFormat::Wav)?,
        sample_rate: speech.sample_rate,
        duration_ms: speech.duration_ms(),
        started,
    })
}

/// Translation, then speech: JSON (default) or, with `return_format: "audio"`, the WAV.
#[utoipa::path(post, path = "/api/v1/pipeline/translate-text", tag = "pipeline", request_body = TranslateTextRequest,
    responses((status = 200, description = "Done", content((PipelineResponse = "application/json"), (Vec<u8> = "audio/wav"))),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn translate_text(
    State(s): State<AppState>,
    meter: Option<axum::Extension<sokuji_core::auth::Meter>>,
    body: Result<Json<TranslateTextRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let started = Instant::now();
    let Json(r) = body.map_err(bad_json)?;
    let as_json = wants_json(r.return_format.as_deref())?;
    let done =
        speak_translation(&s, meter.as_deref(), r.text, r.source_language, r.target_language, r.voice_id, started)
            .await?;
    Ok(respond(done, as_json))
}

/// Speech to text, translation, speech.
#[utoipa::path(post, path = "/api/v1/pipeline/translate-audio", tag = "pipeline",
    request_body(content = TranslateAudioForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "Done", content((PipelineResponse = "application/json"), (Vec<u8> = "audio/wav"))),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 413, description = "The upload is larger than this server accepts", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn translate_audio(
    State(s): State<AppState>,
    meter: Option<axum::Extension<sokuji_core::auth::Meter>>,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let started = Instant::now();
    let mut form = upload::read(mp, &["audio_file", "file"]).await?;
    let as_json = wants_json(form.field("return_format"))?;
    let target = form
        .field("target_language")
        .map(String::from)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "target_language is required"))?;
    let source = form.field("source_language").unwrap_or("auto").to_string();
    let voice = form.field("voice_id").unwrap_or("default").to_string();
    let audio = upload::decode(&s.cpu, meter.as_deref(), &mut form, "audio_file").await?;
    let options = TranscribeOptions { language: (source != "auto").then(|| source.clone()), ..Default::default() };
    let heard = s.stt.transcribe(audio, options).await?;
    if heard.text.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidAudio, "no speech was recognized in the audio"));
    }
    let mut done =
        speak_translation(&s, meter.as_deref(), heard.text.clone(), heard.language.clone(), target, voice, started)
            .await?;
    done.transcription = Some((heard.text, heard.language));
    Ok(respond(done, as_json))
}
