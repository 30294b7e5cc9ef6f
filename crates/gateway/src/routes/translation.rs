//! The original system's translation API: `POST /api/v1/translation/translate`, `GET …/languages`.
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
    translation::{TranslateRequest, TranslateResponse, TranslationLanguages, TranslationResult},
};
use sokuji_core::ErrorCode;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(translate)).routes(routes!(languages))
}

/// `text` gives one result, `texts` a batch in the same order.
#[utoipa::path(post, path = "/api/v1/translation/translate", tag = "translation", request_body = TranslateRequest,
    responses((status = 200, description = "Done", body = TranslateResponse), (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn translate(
    State(s): State<AppState>,
    body: Result<Json<TranslateRequest>, JsonRejection>,
) -> ApiResult<Json<TranslateResponse>> {
    let Json(r) = body.map_err(bad_json)?;
    sokuji_core::limits::check_list("texts", r.texts.len(), sokuji_core::limits::TRANSLATION_TEXTS)?;
    let translator = s.translator()?;
    let make = |text: String| sokuji_core::TranslateRequest {
        text,
        source: r.source_language.clone(),
        target: r.target_language.clone(),
        context: r.context.clone(),
        keep: r.do_not_translate.clone(),
        ..Default::default()
    };
    match (r.text.clone(), r.texts.is_empty()) {
        (Some(text), true) => {
            Ok(Json(TranslateResponse::One(TranslationResult::from(&translator.translate(make(text)).await?))))
        }
        (None, false) => {
            let results = translator.translate_batch(r.texts.iter().cloned().map(make).collect()).await?;
            Ok(Json(TranslateResponse::Batch { results: results.iter().map(TranslationResult::from).collect() }))
        }
        _ => Err(ApiError::new(ErrorCode::InvalidRequest, "give either `text` or `texts`")),
    }
}

#[utoipa::path(get, path = "/api/v1/translation/languages", tag = "translation", operation_id = "translation_languages",
    responses((status = 200, description = "Done", body = TranslationLanguages), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn languages(State(s): State<AppState>) -> ApiResult<Json<TranslationLanguages>> {
    let languages = s.translator()?.languages().await?;
    Ok(Json(TranslationLanguages {
        languages,
        supports_batch: true,
        supports_streaming: true,
        supports_auto_detect: true,
    }))
}
