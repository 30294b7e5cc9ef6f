//! The seed's translation API: `POST /api/v1/translation/translate`, `GET …/languages`.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_core::{ErrorCode, TranslateRequest, Translation};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/translation/translate", post(translate))
        .route("/api/v1/translation/languages", get(languages))
}

#[derive(Deserialize)]
struct Request {
    /// One text, or `texts` for a batch.
    text: Option<String>,
    #[serde(default)]
    texts: Vec<String>,
    #[serde(default = "auto")]
    source_language: String,
    target_language: String,
    context: Option<String>,
    #[serde(default)]
    do_not_translate: Vec<String>,
}

fn auto() -> String {
    "auto".into()
}

fn render(t: &Translation) -> Value {
    json!({
        "original_text": t.original,
        "translated_text": t.text,
        "source_language": t.source,
        "target_language": t.target,
        "source_detected": t.source_detected,
        "engine": t.engine,
        "model": t.model,
        "processing_time_ms": t.processing_ms,
    })
}

async fn translate(State(s): State<AppState>, body: Result<Json<Request>, JsonRejection>) -> ApiResult<Json<Value>> {
    let Json(r) = body.map_err(bad_json)?;
    let translator = s.translator()?;
    let make = |text: String| TranslateRequest {
        text,
        source: r.source_language.clone(),
        target: r.target_language.clone(),
        context: r.context.clone(),
        keep: r.do_not_translate.clone(),
        hints: Vec::new(),
    };
    match (r.text.clone(), r.texts.is_empty()) {
        (Some(text), true) => Ok(Json(render(&translator.translate(make(text)).await?))),
        (None, false) => {
            let results = translator.translate_batch(r.texts.iter().cloned().map(make).collect()).await?;
            Ok(Json(json!({ "results": results.iter().map(render).collect::<Vec<_>>() })))
        }
        _ => Err(ApiError::new(ErrorCode::InvalidRequest, "give either `text` or `texts`")),
    }
}

async fn languages(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let languages = s.translator()?.languages().await?;
    Ok(Json(json!({
        "languages": languages,
        "supports_batch": true,
        "supports_streaming": true,
        "supports_auto_detect": true,
    })))
}
