//! `POST /api/v1/text/normalize`: Vietnamese ITN, TN and tone repair over HTTP.
use crate::{
    AppState,
    error::{ApiError, ApiResult, bad_json},
};
use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
};
use sokuji_api::rest::{
    ErrorBody,
    text::{NormalizeRequest, NormalizeResponse},
};
use sokuji_core::{ErrorCode, NormalizeMode};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(normalize_text))
}

#[utoipa::path(post, path = "/api/v1/text/normalize", tag = "text", request_body = NormalizeRequest,
    responses((status = 200, description = "Done", body = NormalizeResponse), (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody)))]
async fn normalize_text(
    State(s): State<AppState>,
    body: Result<Json<NormalizeRequest>, JsonRejection>,
) -> ApiResult<Json<NormalizeResponse>> {
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
    sokuji_core::limits::check_list("texts", req.texts.len(), sokuji_core::limits::NORMALIZE_TEXTS)?;
    let texts: Vec<String> = req.text.into_iter().chain(req.texts).collect();
    if texts.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "give `text` or `texts`"));
    }
    let results = s.text.normalize(texts, mode, &req.language, modern).await?;
    Ok(Json(NormalizeResponse { mode: req.mode, results }))
}
