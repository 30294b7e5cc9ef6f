//! `GET /health`: the gateway and the engines it depends on.
use crate::AppState;
use axum::{Json, extract::State};
use sokuji_api::rest::service::{EngineDetails, HealthResponse};
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Each engine's state: "ready", "disabled", or what is wrong; any engine unhealthy makes the
/// whole "degraded" (the gateway still serves what works).
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "Done", body = HealthResponse)))]
async fn health(State(s): State<AppState>) -> Json<HealthResponse> {
    let mut healthy = true;
    let mut services = BTreeMap::new();
    let mut details = BTreeMap::new();
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
            services.insert(name.to_string(), "disabled".to_string());
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
        services.insert(name.to_string(), state);
        details.insert(name.to_string(), EngineDetails { provider: h.provider, info: h.details });
    }
    Json(HealthResponse {
        status: if healthy { "healthy" } else { "degraded" }.to_string(),
        services,
        details,
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}
