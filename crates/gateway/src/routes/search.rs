//! `GET /api/v1/search?q=…&mode=semantic|keyword|hybrid&language=&speaker=&tag=&from=&to=&limit=&offset=`
//! over the archive's passages: semantic (the query embedded as a `query:`), keyword (words with
//! or without diacritics, highlighted) or hybrid (reciprocal rank fusion of both, the default).
//! Each hit has the recording, the seconds it spans, its text and metadata.
use crate::{
    AppState,
    error::{ApiError, ApiResult},
};
use axum::{
    Json, Router,
    extract::{Query, State, rejection::QueryRejection},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_core::{
    EmbedKind, ErrorCode,
    search::{Hit, SearchFilter, SearchMode, fuse},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/search", get(search))
}

const MAX_LIMIT: usize = 100;
const MAX_OFFSET: usize = 1_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    q: Option<String>,
    mode: Option<String>,
    language: Option<String>,
    speaker: Option<String>,
    tag: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn search(State(s): State<AppState>, params: Result<Query<Params>, QueryRejection>) -> ApiResult<Json<Value>> {
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
    let filter = SearchFilter { language: p.language, speaker: p.speaker, tag: p.tag, from: p.from, to: p.to };
    let started = std::time::Instant::now();
    let want = offset + limit;
    let semantic = async {
        let embedder = s.embedder()?;
        let v = embedder.embed(vec![q.to_string()], EmbedKind::Query).await?.vectors.pop().unwrap_or_default();
        index.semantic(v, &filter, want).await
    };
    let hits: Vec<Hit> = match mode {
        SearchMode::Semantic => semantic.await?,
        SearchMode::Keyword => index.keyword(q, &filter, want).await?,
        SearchMode::Hybrid => {
            let (a, b) = tokio::join!(semantic, index.keyword(q, &filter, want * 2));
            fuse(vec![a?, b?])
        }
    };
    let hits: Vec<Value> = hits
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|h| {
            json!({
                "recording_id": h.passage.recording_id,
                "start": h.passage.start,
                "end": h.passage.end,
                "text": h.passage.text,
                "score": h.score,
                "highlights": h.highlights,
                "speaker": h.passage.speaker,
                "language": h.passage.language,
                "tags": h.passage.tags,
            })
        })
        .collect();
    Ok(Json(json!({
        "query": q,
        "mode": mode,
        "hits": hits,
        "took_ms": started.elapsed().as_secs_f64() * 1000.0,
    })))
}
