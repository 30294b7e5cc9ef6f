//! OpenAI-compatible `POST /v1/audio/transcriptions` and `/v1/audio/translations`, so the
//! official SDKs work against Sokuji unchanged.
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    upload,
};
use axum::{
    Json,
    extract::{Multipart, State, multipart::MultipartRejection},
    http::header,
    response::{IntoResponse, Response},
};
use sokuji_api::rest::{
    ErrorBody,
    openai::{TimedWord, TranscriptionForm, TranscriptionText, VerboseSegment, VerboseTranscription},
    transcript::Producer,
};
use sokuji_core::{ErrorCode, Task, TranscribeOptions, Transcript, subtitle};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transcriptions)).routes(routes!(translations))
}

/// The speech as text in its own language.
#[utoipa::path(post, path = "/v1/audio/transcriptions", tag = "openai",
    request_body(content = TranscriptionForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "Done", content((TranscriptionText = "application/json"), (VerboseTranscription = "application/json"),
        (String = "text/plain"), (String = "application/x-subrip"), (String = "text/vtt"))),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 413, description = "The upload is larger than this server accepts", body = ErrorBody)))]
async fn transcriptions(
    State(s): State<AppState>,
    meter: Option<axum::Extension<sokuji_core::auth::Meter>>,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    handle(s, meter.as_deref(), mp, Task::Transcribe).await
}

/// The speech as English text.
#[utoipa::path(post, path = "/v1/audio/translations", tag = "openai",
    request_body(content = TranscriptionForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "Done", content((TranscriptionText = "application/json"), (VerboseTranscription = "application/json"),
        (String = "text/plain"), (String = "application/x-subrip"), (String = "text/vtt"))),
        (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 413, description = "The upload is larger than this server accepts", body = ErrorBody)))]
async fn translations(
    State(s): State<AppState>,
    meter: Option<axum::Extension<sokuji_core::auth::Meter>>,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    handle(s, meter.as_deref(), mp, Task::Translate).await
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Text,
    Srt,
    Vtt,
    VerboseJson,
}

fn format(s: Option<&str>) -> ApiResult<Format> {
    Ok(match s.unwrap_or("json") {
        "json" => Format::Json,
        "text" => Format::Text,
        "srt" => Format::Srt,
        "vtt" => Format::Vtt,
        "verbose_json" => Format::VerboseJson,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("response_format {other:?} is not one of json, text, srt, vtt, verbose_json"),
            ));
        }
    })
}

async fn handle(
    s: AppState,
    meter: Option<&sokuji_core::auth::Meter>,
    mp: Result<Multipart, MultipartRejection>,
    task: Task,
) -> ApiResult<Response> {
    let mut form = upload::read(mp, &["file"]).await?;
    let fmt = format(form.field("response_format"))?;
    let granularities: Vec<String> = ["timestamp_granularities[]", "timestamp_granularities"]
        .iter()
        .flat_map(|k| form.fields.get(*k).cloned().unwrap_or_default())
        .collect();
    if let Some(bad) = granularities.iter().find(|g| !matches!(g.as_str(), "word" | "segment")) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("timestamp granularity {bad:?} is not word or segment"),
        ));
    }
    let words = granularities.iter().any(|g| g == "word");
    let options = TranscribeOptions {
        language: if task == Task::Translate { None } else { form.field("language").map(String::from) },
        task,
        word_timestamps: words,
        initial_prompt: form.field("prompt").map(String::from),
        model: form.field("model").filter(|m| !is_openai_alias(m)).map(String::from),
        ..Default::default()
    };
    let audio = upload::decode(&s.cpu, meter, &mut form, "file").await?;
    let t = s.stt.transcribe(audio, options).await?;
    Ok(render(&t, fmt, task, words))
}

/// OpenAI's own model names (the SDKs send them): the deployment's routing decides.
fn is_openai_alias(model: &str) -> bool {
    model.is_empty() || model == "whisper-1" || model.starts_with("gpt-")
}

fn render(t: &Transcript, fmt: Format, task: Task, words: bool) -> Response {
    let text = |body: String, mime: &'static str| ([(header::CONTENT_TYPE, mime)], body).into_response();
    match fmt {
        Format::Json => Json(TranscriptionText { text: t.text.clone() }).into_response(),
        Format::Text => text(format!("{}\n", t.text), "text/plain; charset=utf-8"),
        Format::Srt => text(subtitle::to_srt(t), "application/x-subrip; charset=utf-8"),
        Format::Vtt => text(subtitle::to_vtt(t), "text/vtt; charset=utf-8"),
        Format::VerboseJson => Json(VerboseTranscription {
            task: if task == Task::Translate { "translate" } else { "transcribe" }.to_string(),
            language: t.language.clone(),
            duration: t.duration,
            text: t.text.clone(),
            segments: t.segments.iter().map(VerboseSegment::from).collect(),
            producer: Producer { engine: t.producer.engine.clone(), model: t.producer.model.clone() },
            words: words
                .then(|| t.words().map(|w| TimedWord { word: w.text.clone(), start: w.start, end: w.end }).collect()),
        })
        .into_response(),
    }
}
