//! `GET /api/v1/search?q=…&mode=semantic|keyword|hybrid&language=&speaker=&tag=&from=&to=&limit=&offset=`
//! over the archive's passages: semantic (the query embedded as a `query:`), keyword (words with
//! or without diacritics, highlighted) or hybrid (reciprocal rank fusion of both, the default).
//! Each hit has the recording, the seconds it spans, its text and metadata.
use crate::{
    AppState,
    error::{ApiError, ApiResult},
};
use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
};
use sokuji_api::rest::{
    ErrorBody,
    search::{SearchHit, SearchParams, SearchResponse},
};
use sokuji_core::{
    EmbedKind, ErrorCode,
    search::{Hit, SearchFilter, SearchMode, fuse},
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

const MAX_LIMIT: usize = 100;
const MAX_OFFSET: usize = 1_000;

#[utoipa::path(get, path = "/api/v1/search", tag = "archive", params(SearchParams),
    responses((status = 200, description = "Done", body = SearchResponse), (status = 400, description = "Invalid request: the error says what to change", body = ErrorBody), (status = 503, description = "The engine is switched off or busy: retry after Retry-After", body = ErrorBody)))]
async fn search(
    State(s): State<AppState>,
    who: Option<axum::Extension<sokuji_core::auth::Principal>>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> ApiResult<Json<SearchResponse>> {
    let Query(p) =
        params.map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("bad query: {}", e.body_text())))?;
    let q = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidRequest, "q is required: the words or question to search for")
    })?;
    if q.chars().count() > 1_000 {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "q is longer than 1000 characters"));
    }
    let mode = match p.mode.as_deref() {
        None => SearchMode::Hybrid,
        Some(m) => SearchMode::parse(m).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidRequest, format!("mode {m:?}: use semantic, keyword or hybrid"))
        })?,
    };
    let (limit, offset) = (p.limit.unwrap_or(10), p.offset.unwrap_or(0));
    if limit == 0 || limit > MAX_LIMIT || offset > MAX_OFFSET {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("limit must be 1..={MAX_LIMIT} and offset at most {MAX_OFFSET}"),
        ));
    }
    let index = s
        .archive
        .as_ref()
        .and_then(|a| a.search.clone())
        .ok_or_else(|| ApiError::new(ErrorCode::EngineUnavailable, "this server runs no search index"))?;
    // The index keeps to the caller's tenant inside its query (a page is never short of hits).
    let tenant = sokuji_core::auth::visibility(who.as_deref()).tenant().map(String::from);
    let filter = SearchFilter { language: p.language, speaker: p.speaker, tag: p.tag, from: p.from, to: p.to, tenant };
    let started = std::time::Instant::now();
    // One page more than asked: `total` tells whether there is a next page.
    let want = offset + 2 * limit;
    let semantic = async {
        let embedder = s.embedder()?;
        let v = embedder.embed(vec![q.to_string()], EmbedKind::Query).await?.vectors.pop().unwrap_or_default();
        index.semantic(v, &filter, want).await
    };
    let hits: Vec<Hit> = match mode {
        SearchMode::Semantic => semantic.await?,
        SearchMode::Keyword => index.keyword(q, &filter, want).await?,
        SearchMode::Hybrid => {
            let (a, b) = tokio::join!(semantic, index.keyword(q, &filter, want));
            fuse(vec![a?, b?])
        }
    };
    let total = hits.len();
    let hits = hits.iter().skip(offset).take(limit).map(SearchHit::from).collect();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(Json(SearchResponse {
        query: q.to_string(),
        mode: mode.as_str().to_string(),
        hits,
        total,
        query_time_ms: ms,
        took_ms: ms,
    }))
}
