//! The OpenAPI document against the application it describes: every documented operation is
//! served, every served route is documented, and the schemas match what handlers answer.
use crate::{app, openapi, testing};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use std::time::Duration;
use tower::ServiceExt;

async fn call(app: &axum::Router, method: Method, uri: &str) -> (StatusCode, String) {
    let req = Request::builder().method(method).uri(uri).body(Body::empty()).expect("request");
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 24).await.expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let dir = tempfile::tempdir().expect("tmp");
    let app = app(testing::state(dir.path(), Duration::from_secs(5)).await);
    let doc = openapi();
    let mut checked = 0;
    for (path, item) in &doc.paths.paths {
        let uri = path.replace("{id}", "no-such-id");
        let ops = [
            (Method::GET, item.get.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::DELETE, item.delete.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::PATCH, item.patch.is_some()),
        ];
        for (method, documented) in ops {
            if !documented {
                continue;
            }
            let (status, body) = call(&app, method.clone(), &uri).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed");
            assert!(!body.contains("no route for"), "{method} {path} is documented but not routed: {body}");
            checked += 1;
        }
    }
    assert!(checked >= 35, "only {checked} operations documented");
}

/// Code generators name their functions by operation id: each is unique (the validator of the
/// slow tier found two `list`s).
#[test]
fn operation_ids_are_unique() {
    let doc = openapi();
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in &doc.paths.paths {
        for op in [&item.get, &item.post, &item.delete, &item.put, &item.patch].into_iter().flatten() {
            let id = op.operation_id.clone().unwrap_or_default();
            if let Some(other) = seen.insert(id.clone(), path.clone()) {
                panic!("operation id {id:?} is used by {other} and {path}");
            }
        }
    }
}

/// Routes are only ever added through `OpenApiRouter::routes(routes!(…))`, which documents them:
/// a plain axum `.route(` in the gateway's code would serve an undocumented route.
#[test]
fn no_route_is_added_undocumented() {
    let src = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("src");
    let mut stack = vec![src];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !name.ends_with(".rs") || name.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            if code.contains(".route(") {
                offenders.push(path.display().to_string());
            }
        }
    }
    assert!(offenders.is_empty(), "undocumented routes in {offenders:?}");
}

#[tokio::test]
async fn the_document_and_its_page_are_served() {
    let dir = tempfile::tempdir().expect("tmp");
    let app = app(testing::state(dir.path(), Duration::from_secs(5)).await);
    let (status, body) = call(&app, Method::GET, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let served: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(served, serde_json::to_value(openapi()).expect("doc"));
    assert!(served["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", served["openapi"]);
    let (status, page) = call(&app, Method::GET, "/docs/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("swagger-ui"), "{page}");
    // Served from the binary: the page loads nothing from elsewhere.
    assert!(!page.contains("https://"), "the docs page loads from the network: {page}");
    let (status, js) = call(&app, Method::GET, "/docs/swagger-initializer.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("/openapi.json"), "{js}");
}

#[tokio::test]
async fn info_groups_the_routes_as_the_original() {
    let dir = tempfile::tempdir().expect("tmp");
    let app = app(testing::state(dir.path(), Duration::from_secs(5)).await);
    let (status, body) = call(&app, Method::GET, "/api/v1/info").await;
    assert_eq!(status, StatusCode::OK);
    let info: sokuji_api::rest::service::Info = serde_json::from_str(&body).expect("info");
    let cases = [
        ("stt", "/api/v1/stt", "POST /transcribe"),
        ("translation", "/api/v1/translation", "POST /translate"),
        ("tts", "/api/v1/tts", "GET /voices"),
        ("pipeline", "/api/v1/pipeline", "POST /translate-audio"),
        ("websocket", "", "GET /api/v1/ws/translate"),
        ("archive", "/api/v1", "GET /search"),
    ];
    for (tag, base, route) in cases {
        let group = &info.endpoints[tag];
        assert_eq!(group.base_path, base, "{tag}");
        assert!(group.endpoints.iter().any(|e| e == route), "{tag}: {:?}", group.endpoints);
    }
}

/// What the handlers answer deserializes into the documented types (the CLI reads them so).
#[tokio::test]
async fn answers_are_the_documented_types() {
    let dir = tempfile::tempdir().expect("tmp");
    let app = app(testing::state(dir.path(), Duration::from_secs(5)).await);
    let (_, body) = call(&app, Method::GET, "/health").await;
    let h: sokuji_api::rest::service::HealthResponse = serde_json::from_str(&body).expect("health");
    assert_eq!(h.services["embedding"], "disabled");
    let (_, body) = call(&app, Method::GET, "/api/v1/recordings").await;
    let l: sokuji_api::rest::archive::RecordingList = serde_json::from_str(&body).expect("list");
    assert_eq!((l.total, l.limit), (0, 50));
    let (status, body) = call(&app, Method::GET, "/api/v1/recordings/no-such-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let e: sokuji_api::rest::ErrorBody = serde_json::from_str(&body).expect("error");
    assert_eq!(e.error.code, "not_found");
    let (_, body) = call(&app, Method::GET, "/v1/models").await;
    let m: sokuji_api::rest::openai::ModelList = serde_json::from_str(&body).expect("models");
    assert!(m.data.iter().any(|m| m.id == "whisper-1"));
}
