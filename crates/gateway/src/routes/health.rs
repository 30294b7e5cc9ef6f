//! `GET /health`: the gateway and the engines it depends on.
use crate::AppState;
use axum::{Json, Router, extract::State, routing::get};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(s): State<AppState>) -> Json<Value> {
    let stt = s.stt.health().await;
    let status = if stt.healthy { "healthy" } else { "degraded" };
    let stt_state = if stt.healthy { "ready".to_string() } else { stt.status.clone() };
    Json(json!({
        "status": status,
        "services": { "stt": stt_state },
        "details": { "stt": { "provider": stt.provider, "info": stt.details } },
        "version": env!("CARGO_PKG_VERSION"),
    }))
}
