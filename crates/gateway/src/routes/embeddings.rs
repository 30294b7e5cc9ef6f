//! OpenAI-compatible `POST /v1/embeddings`. `input` is a string or a list of strings;
//! `input_type` (`query` or `passage`, as NVIDIA's API names it) picks e5's prefix and defaults
//! to `passage`; `encoding_format` is `float` or `base64` (little-endian f32, as OpenAI's SDKs
//! decode it); `dimensions`, when given, must be the model's (e5 vectors cannot be shortened).
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{Json, extract::State, extract::rejection::JsonRejection};
use base64::Engine;
use sokuji_api::rest::{
    ErrorBody,
    embeddings::{Embedding, EmbeddingInput, EmbeddingsRequest, EmbeddingsResponse, Usage, Vector},
};
use sokuji_core::{EmbedKind, ErrorCode};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(embeddings))
}

#[utoipa::path(post, path = "/v1/embeddings", tag = "openai", request_body = EmbeddingsRequest,
    responses((status = 200, description = "Done", body = EmbeddingsResponse), (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn embeddings(
    State(s): State<AppState>,
    body: Result<Json<EmbeddingsRequest>, JsonRejection>,
) -> ApiResult<Json<EmbeddingsResponse>> {
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
        EmbeddingInput::One(t) => vec![t],
        EmbeddingInput::Many(v) if v.is_empty() => {
            return Err(ApiError::new(ErrorCode::InvalidRequest, "input is an empty list"));
        }
        EmbeddingInput::Many(v) => v,
    };
    let e = embedder.embed(texts, kind).await?;
    let data = e
        .vectors
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                Vector::Float(v)
            };
            Embedding { object: "embedding".into(), index, embedding }
        })
        .collect();
    Ok(Json(EmbeddingsResponse {
        object: "list".into(),
        data,
        model: r.model.unwrap_or_else(|| embedder.model().to_string()),
        usage: Usage { prompt_tokens: e.tokens, total_tokens: e.tokens },
    }))
}
