//! OpenAI-compatible `POST /v1/embeddings`. `input` is a string or a list of strings;
//! `input_type` (`query` or `passage`, as NVIDIA's API names it) picks e5's prefix and defaults
//! to `passage`; `encoding_format` is `float` or `base64` (little-endian f32, as OpenAI's SDKs
//! decode it); `dimensions`, when given, must be the model's (e5 vectors cannot be shortened).
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{Json, Router, extract::State, extract::rejection::JsonRejection, routing::post};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_core::{EmbedKind, ErrorCode};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/embeddings", post(embeddings))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Request {
    input: Input,
    /// Accepted and reported back; there is one embedding model per server.
    model: Option<String>,
    #[serde(default)]
    input_type: Option<String>,
    #[serde(default)]
    encoding_format: Option<String>,
    dimensions: Option<usize>,
    /// OpenAI's, accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    user: Option<String>,
}

async fn embeddings(State(s): State<AppState>, body: Result<Json<Request>, JsonRejection>) -> ApiResult<Json<Value>> {
    let Json(r) = body.map_err(bad_json)?;
    let embedder = s.embedder()?;
    let kind = match r.input_type.as_deref().unwrap_or("passage") {
        "query" => EmbedKind::Query,
        "passage" | "document" => EmbedKind::Passage,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("input_type {other:?}: use query or passage"),
            ));
        }
    };
    let base64 = match r.encoding_format.as_deref().unwrap_or("float") {
        "float" => false,
        "base64" => true,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("encoding_format {other:?}: use float or base64"),
            ));
        }
    };
    if let Some(d) = r.dimensions.filter(|d| *d != embedder.dimensions()) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("dimensions {d}: {} gives {} dimensions", embedder.model(), embedder.dimensions()),
        ));
    }
    let texts = match r.input {
        Input::One(t) => vec![t],
        Input::Many(v) if v.is_empty() => {
            return Err(ApiError::new(ErrorCode::InvalidRequest, "input is an empty list"));
        }
        Input::Many(v) => v,
    };
    let e = embedder.embed(texts, kind).await?;
    let data: Vec<Value> = e
        .vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "model": r.model.unwrap_or_else(|| embedder.model().to_string()),
        "usage": {"prompt_tokens": e.tokens, "total_tokens": e.tokens},
    })))
}
