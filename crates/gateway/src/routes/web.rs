//! `GET /`: the live-translation page, and `GET /search`: the archive's search page, embedded
//! in the binary (no files to deploy).
use axum::{Router, response::Html, routing::get};

const LIVE_PAGE: &str = include_str!("../../../../web/live.html");
const SEARCH_PAGE: &str = include_str!("../../../../web/search.html");

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(|| async { Html(LIVE_PAGE) })).route("/search", get(|| async { Html(SEARCH_PAGE) }))
}
