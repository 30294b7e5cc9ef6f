//! The HTTP gateway: Sokuji's REST API, the OpenAI-compatible audio API and health. It holds
//! `Arc<dyn SpeechToText>` and never knows whether the engine is local or remote.
//!
//! Only this crate (and `proto`) knows wire formats; errors leave as
//! `{"error":{"code","message"}}` with the status from the one error table.

pub mod error;
pub mod routes;
pub mod upload;

use axum::{Router, extract::DefaultBodyLimit};
use sokuji_core::{SpeechToText, TextNormalizer};
use std::{sync::Arc, time::Duration};
use tower_http::trace::TraceLayer;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub stt: Arc<dyn SpeechToText>,
    pub text: Arc<dyn TextNormalizer>,
    /// Largest accepted request body; larger uploads get `upload_too_large`.
    pub max_upload_bytes: usize,
}

/// The whole HTTP application, with its layers.
pub fn app(state: AppState) -> Router {
    let limit = state.max_upload_bytes;
    Router::new()
        .merge(routes::health::router())
        .merge(routes::stt::router())
        .merge(routes::openai::router())
        .merge(routes::text::router())
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(600),
        ))
        .layer(TraceLayer::new_for_http())
}

async fn not_found(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::new(sokuji_core::ErrorCode::NotFound, format!("no route for {}", uri.path()))
}
