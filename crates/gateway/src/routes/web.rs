//! `GET /`: the live-translation page for browsers and a short JSON description for API clients
//! (`Accept: application/json`, as the original gateway answers); `GET /api/v1/info`: what the API
//! offers; `GET /search`: the archive's search page. Pages are embedded in the binary (no files to
//! deploy).
use axum::{
    Json, Router,
    http::{HeaderMap, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

const LIVE_PAGE: &str = include_str!("../../../../web/live.html");
const SEARCH_PAGE: &str = include_str!("../../../../web/search.html");

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(root))
        .route("/api/v1/info", get(|| async { Json(info()) }))
        .route("/search", get(|| async { Html(SEARCH_PAGE) }))
}

async fn root(headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if wants_json(accept) {
        return Json(
            json!({"message": "Sokuji gateway API", "version": env!("CARGO_PKG_VERSION"), "docs": "/api/v1/info"}),
        )
        .into_response();
    }
    Html(LIVE_PAGE).into_response()
}

/// JSON when asked for and HTML is not (browsers list text/html first).
fn wants_json(accept: &str) -> bool {
    accept.contains("application/json") && !accept.contains("text/html")
}

fn info() -> Value {
    json!({
        "name": "Sokuji gateway API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Live speech translation and a speech archive: speech-to-text, translation and speech \
                        over REST, WebSocket and gRPC",
        "endpoints": {
            "stt": {"base_path": "/api/v1/stt", "endpoints": ["POST /transcribe", "GET /languages"]},
            "translation": {"base_path": "/api/v1/translation", "endpoints": ["POST /translate", "GET /languages"]},
            "tts": {"base_path": "/api/v1/tts", "endpoints": ["POST /synthesize", "GET /voices"]},
            "text": {"base_path": "/api/v1/text", "endpoints": ["POST /normalize"]},
            "pipeline": {"base_path": "/api/v1/pipeline", "endpoints": ["POST /translate-text", "POST /translate-audio"]},
            "websocket": {"base_path": "/api/v1/ws", "endpoints": ["WS /translate", "WS /asr"]},
            "openai": {"base_path": "/v1", "endpoints": [
                "POST /audio/transcriptions", "POST /audio/translations", "POST /audio/speech", "POST /embeddings",
                "GET /models", "WS /realtime", "WS /realtime/translations"
            ]},
            "archive": {"base_path": "/api/v1", "endpoints": ["POST /recordings", "GET /recordings", "GET /search"]},
        },
        "microservices": {
            "stt": "STTService (gRPC, port 50051)",
            "translation": "TranslationService (gRPC, port 50052)",
            "tts": "TTSService (gRPC, port 50053)",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    async fn get_root(accept: &str) -> (String, String) {
        let req = Request::builder().uri("/").header("accept", accept).body(Body::empty()).expect("request");
        let res = router::<()>().oneshot(req).await.expect("response");
        let kind = res.headers()[header::CONTENT_TYPE].to_str().unwrap_or_default().to_string();
        let body = axum::body::to_bytes(res.into_body(), 1 << 22).await.expect("body");
        (kind, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn api_clients_get_json_browsers_the_page() {
        let (kind, body) = get_root("application/json").await;
        assert!(kind.starts_with("application/json"), "{kind}");
        assert!(body.contains("\"docs\":\"/api/v1/info\""), "{body}");
        let (kind, body) = get_root("text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8").await;
        assert!(kind.starts_with("text/html") && body.contains("<html"), "{kind}");
        let (kind, _) = get_root("*/*").await;
        assert!(kind.starts_with("text/html"));
    }

    #[test]
    fn info_names_every_service_of_the_original() {
        let v = info();
        for k in ["stt", "translation", "tts", "pipeline", "websocket"] {
            assert!(v["endpoints"][k]["base_path"].is_string(), "{k}");
        }
    }
}
