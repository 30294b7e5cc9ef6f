//! `GET /api/v1/search`: the archive's passages by meaning, by words, or both.
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words or question (at most 1000 characters).
    pub q: Option<String>,
    /// semantic, keyword or hybrid (default: reciprocal rank fusion of both).
    pub mode: Option<String>,
    pub language: Option<String>,
    pub speaker: Option<String>,
    pub tag: Option<String>,
    /// The recording's creation time range, ms since the epoch.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// 1..=100, default 10.
    pub limit: Option<usize>,
    /// At most 1000.
    pub offset: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchResponse {
    pub query: String,
    pub mode: String,
    pub hits: Vec<SearchHit>,
    /// Passages found before paging. The search looks one page past this one, so
    /// `total > offset + limit` means there is a next page.
    pub total: usize,
    /// Milliseconds the search took (the original platform's name).
    pub query_time_ms: f64,
    /// The same, under Sokuji's first name for it.
    pub took_ms: f64,
}

/// A passage: the recording and the seconds it spans, to jump to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub recording_id: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub score: f32,
    /// Character ranges [start, end) of `text` that matched the query's words.
    pub highlights: Vec<[usize; 2]>,
    pub speaker: Option<String>,
    pub language: String,
    pub tags: Vec<String>,
}

impl From<&sokuji_core::search::Hit> for SearchHit {
    fn from(h: &sokuji_core::search::Hit) -> Self {
        let p = &h.passage;
        Self {
            recording_id: p.recording_id.clone(),
            start: p.start,
            end: p.end,
            text: p.text.clone(),
            score: h.score,
            highlights: h.highlights.iter().map(|&(a, b)| [a, b]).collect(),
            speaker: p.speaker.clone(),
            language: p.language.clone(),
            tags: p.tags.clone(),
        }
    }
}
