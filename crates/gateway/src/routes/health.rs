//! `GET /health`: the gateway and the engines it depends on.
use crate::AppState;
use axum::{Json, Router, extract::State, routing::get};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// Each engine's state: "ready", "disabled", or what is wrong; any engine unhealthy makes the
/// whole "degraded" (the gateway still serves what works).
async fn health(State(s): State<AppState>) -> Json<Value> {
    let mut healthy = true;
    let mut services = serde_json::Map::new();
    let mut details = serde_json::Map::new();
    let engines = [
        ("stt", Some(s.stt.health().await)),
        (
            "translation",
            match &s.translator {
                Some(t) => Some(t.health().await),
                None => None,
            },
        ),
        (
            "tts",
            match &s.tts {
                Some(t) => Some(t.health().await),
                None => None,
            },
        ),
        (
            "embedding",
            match &s.embedder {
                Some(e) => Some(e.health().await),
                None => None,
            },
        ),
        (
            "search",
            match s.archive.as_ref().and_then(|a| a.search.as_ref()) {
                Some(i) => Some(i.health().await),
                None => None,
            },
        ),
    ];
    for (name, h) in engines {
        let Some(h) = h else {
            services.insert(name.into(), "disabled".into());
            continue;
        };
        healthy &= h.healthy;
        let state = if !h.healthy {
            h.status.clone()
        } else if h.status == "loading" {
            "loading".into()
        } else {
            "ready".into()
        };
        services.insert(name.into(), state.into());
        details.insert(name.into(), json!({ "provider": h.provider, "info": h.details }));
    }
    Json(json!({
        "status": if healthy { "healthy" } else { "degraded" },
        "services": services,
        "details": details,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}
