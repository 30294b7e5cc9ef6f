//! `GET /`: the live-translation page, embedded in the binary (no files to deploy).
use axum::{Router, response::Html, routing::get};

const LIVE_PAGE: &str = include_str!("../../../../web/live.html");

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(|| async { Html(LIVE_PAGE) }))
}
