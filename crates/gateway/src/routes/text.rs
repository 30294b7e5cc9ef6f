//! `POST /api/v1/text/normalize`: Vietnamese ITN, TN and tone repair over HTTP.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    routing::post,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_core::{ErrorCode, NormalizeMode};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/text/normalize", post(normalize_text))
}

#[derive(Deserialize)]
struct Request {
    /// One text, or `texts` for a batch (results keep the order).
    text: Option<String>,
    #[serde(default)]
    texts: Vec<String>,
    /// "itn" (spoken to written), "tn" (written to spoken) or "tone".
    mode: String,
    #[serde(default = "vi")]
    language: String,
    /// "classic" (default: "hòa") or "modern" ("hoà").
    #[serde(default)]
    tone_style: Option<String>,
}

fn vi() -> String {
    "vi".into()
}

async fn normalize_text(
    State(s): State<AppState>,
    body: Result<Json<Request>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(req) = body.map_err(bad_json)?;
    let modern = match req.tone_style.as_deref() {
        None | Some("classic") => false,
        Some("modern") => true,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("tone_style {other:?} is not classic or modern"),
            ));
        }
    };
    let mode = NormalizeMode::parse(&req.mode).ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidRequest, format!("mode {:?} is not itn, tn or tone", req.mode))
    })?;
    let texts: Vec<String> = req.text.into_iter().chain(req.texts).collect();
    if texts.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "give `text` or `texts`"));
    }
    let results = s.text.normalize(texts, mode, &req.language, modern).await?;
    Ok(Json(json!({ "mode": req.mode, "results": results })))
}
