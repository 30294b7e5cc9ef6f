//! `POST /api/v1/text/normalize`: Vietnamese ITN, TN and tone repair over HTTP.
use crate::{
    AppState,
    error::{ApiError, ApiResult},
};
use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    routing::post,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_core::ErrorCode;
use sokuji_text::{ToneStyle, inverse_normalize, normalize, normalize_tones};

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

/// Lines longer than this are refused: normalization is linear, but a line is a sentence.
const MAX_TEXT_BYTES: usize = 1 << 20;

async fn normalize_text(
    State(_): State<AppState>,
    body: Result<Json<Request>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(req) =
        body.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("bad JSON body: {}", e.body_text())))?;
    if req.language != "vi" {
        return Err(ApiError::new(
            ErrorCode::UnsupportedLanguage,
            format!("language {:?}: only \"vi\" is supported", req.language),
        ));
    }
    let style = match req.tone_style.as_deref() {
        None | Some("classic") => ToneStyle::Classic,
        Some("modern") => ToneStyle::Modern,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("tone_style {other:?} is not classic or modern"),
            ));
        }
    };
    let f: fn(&str, ToneStyle) -> String = match req.mode.as_str() {
        "itn" => |t, s| inverse_normalize(&normalize_tones(t, s)),
        "tn" => |t, s| normalize(&normalize_tones(t, s)),
        "tone" => normalize_tones,
        other => {
            return Err(ApiError::new(ErrorCode::InvalidRequest, format!("mode {other:?} is not itn, tn or tone")));
        }
    };
    let texts: Vec<String> = req.text.into_iter().chain(req.texts).collect();
    if texts.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "give `text` or `texts`"));
    }
    if texts.iter().any(|t| t.len() > MAX_TEXT_BYTES) {
        return Err(ApiError::new(ErrorCode::UploadTooLarge, format!("a text is longer than {MAX_TEXT_BYTES} bytes")));
    }
    // Each line on its own, as the CLI does: a newline never joins two sentences.
    let results: Vec<String> =
        texts.iter().map(|t| t.split('\n').map(|l| f(l, style)).collect::<Vec<_>>().join("\n")).collect();
    Ok(Json(json!({ "mode": req.mode, "results": results })))
}
