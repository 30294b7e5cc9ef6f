//! What the server says of itself: `GET /` (the live-translation page for browsers, a short JSON
//! description for API clients that ask with `Accept: application/json`, as the original gateway
//! answers), `GET /api/v1/info` (the routes, grouped as the original grouped them, read from the
//! OpenAPI document so it cannot drift), `GET /openapi.json`, `GET /docs` (Swagger UI, served from
//! the binary), `GET /search` (the archive's search page) and `GET /archive` (its recordings, each
//! transcript in the written form with the raw reading one click away, played from any word).
use axum::{
    Extension, Json, Router,
    http::{HeaderMap, header},
    response::{Html, IntoResponse, Response},
};
use sokuji_api::rest::service::{EndpointGroup, Info, Root};
use std::{collections::BTreeMap, sync::Arc};
use utoipa::openapi::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

const LIVE_PAGE: &str = include_str!("../../../../web/live.html");
const SEARCH_PAGE: &str = include_str!("../../../../web/search.html");
const ARCHIVE_PAGE: &str = include_str!("../../../../web/archive.html");
pub const OPENAPI_PATH: &str = "/openapi.json";
/// The pages load nothing from elsewhere and may not be framed (clickjacking); the live page's
/// audio worklet is a blob: module, its speech blob: and data: URLs.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; style-src 'self' \
    'unsafe-inline'; img-src 'self' data:; media-src 'self' blob: data:; connect-src 'self' ws: wss:; \
    worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A page with its content security policy.
fn page(html: &'static str) -> Response {
    ([(header::CONTENT_SECURITY_POLICY, PAGE_POLICY), (header::X_FRAME_OPTIONS, "DENY")], Html(html)).into_response()
}
pub const DOCS_PATH: &str = "/docs";

pub fn router<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    OpenApiRouter::new()
        .routes(routes!(root))
        .routes(routes!(info))
        .routes(routes!(search_page))
        .routes(routes!(archive_page))
        .routes(routes!(openapi))
}

/// The docs page: Swagger UI reading `/openapi.json`.
pub fn docs<S: Clone + Send + Sync + 'static>() -> Router<S> {
    utoipa_swagger_ui::SwaggerUi::new(DOCS_PATH).config(utoipa_swagger_ui::Config::from(OPENAPI_PATH)).into()
}

/// The live page for browsers; JSON for API clients.
#[utoipa::path(get, path = "/", tag = "service",
    responses((status = 200, description = "Done", content((Root = "application/json"), (String = "text/html")))))]
async fn root(headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if wants_json(accept) {
        return Json(Root {
            message: "Sokuji gateway API".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            docs: DOCS_PATH.into(),
            openapi: OPENAPI_PATH.into(),
        })
        .into_response();
    }
    page(LIVE_PAGE)
}

/// JSON when asked for and HTML is not (browsers list text/html first).
fn wants_json(accept: &str) -> bool {
    accept.contains("application/json") && !accept.contains("text/html")
}

/// The archive's search page.
#[utoipa::path(get, path = "/search", tag = "service", responses((status = 200, description = "Done", content((String = "text/html")))))]
async fn search_page() -> Response {
    page(SEARCH_PAGE)
}

/// The archive's recordings and their transcripts.
#[utoipa::path(get, path = "/archive", tag = "service", responses((status = 200, description = "Done", content((String = "text/html")))))]
async fn archive_page() -> Response {
    page(ARCHIVE_PAGE)
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "service", responses((status = 200, description = "Done", content((Object = "application/json")))))]
async fn openapi(Extension(doc): Extension<Arc<OpenApi>>) -> Json<OpenApi> {
    Json((*doc).clone())
}

/// What the API offers, by area.
#[utoipa::path(get, path = "/api/v1/info", tag = "service", responses((status = 200, description = "Done", body = Info)))]
async fn info(Extension(doc): Extension<Arc<OpenApi>>) -> Json<Info> {
    Json(describe(&doc))
}

fn describe(doc: &OpenApi) -> Info {
    let mut by_tag: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_else(|| "other".into());
            by_tag.entry(tag).or_default().push((method.to_string(), path.clone()));
        }
    }
    let endpoints = by_tag
        .into_iter()
        .map(|(tag, routes)| {
            let base = common_prefix(routes.iter().map(|(_, p)| p.as_str()));
            let endpoints = routes.iter().map(|(m, p)| format!("{m} {}", &p[base.len()..])).collect();
            (tag, EndpointGroup { base_path: base, endpoints })
        })
        .collect();
    let microservices = [
        ("stt", "STTService (gRPC, port 50051)"),
        ("translation", "TranslationService (gRPC, port 50052)"),
        ("tts", "TTSService (gRPC, port 50053)"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Info {
        name: "Sokuji gateway API".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description: "Live speech translation and a speech archive: speech-to-text, translation and speech \
                      over REST, WebSocket and gRPC"
            .into(),
        endpoints,
        microservices,
        openapi: OPENAPI_PATH.into(),
        docs: DOCS_PATH.into(),
    }
}

/// The longest prefix of whole path segments the paths share ("/api/v1/stt" for its routes).
fn common_prefix<'a>(mut paths: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = paths.next() else { return String::new() };
    let mut segments: Vec<&str> = first.split('/').collect();
    segments.pop(); // a base path is never a whole route
    for p in paths {
        let other: Vec<&str> = p.split('/').collect();
        let same = segments.iter().zip(&other).take_while(|(a, b)| a == b).count();
        segments.truncate(same.min(other.len().saturating_sub(1)));
    }
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    async fn get_root(accept: &str) -> (String, String) {
        let req = Request::builder().uri("/").header("accept", accept).body(Body::empty()).expect("request");
        let (router, _) = router::<()>().split_for_parts();
        let res = router.oneshot(req).await.expect("response");
        let kind = res.headers()[header::CONTENT_TYPE].to_str().unwrap_or_default().to_string();
        let body = axum::body::to_bytes(res.into_body(), 1 << 22).await.expect("body");
        (kind, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn api_clients_get_json_browsers_the_page() {
        let (kind, body) = get_root("application/json").await;
        assert!(kind.starts_with("application/json"), "{kind}");
        let root: Root = serde_json::from_str(&body).expect("root");
        assert_eq!(root.openapi, "/openapi.json");
        let (kind, body) = get_root("text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8").await;
        assert!(kind.starts_with("text/html") && body.contains("<html"), "{kind}");
        let (kind, _) = get_root("*/*").await;
        assert!(kind.starts_with("text/html"));
    }

    #[tokio::test]
    async fn pages_carry_their_policy() {
        let (router, _) = router::<()>().split_for_parts();
        for uri in ["/", "/search", "/archive"] {
            let req = Request::builder().uri(uri).body(Body::empty()).expect("request");
            let res = router.clone().oneshot(req).await.expect("response");
            let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap_or_default();
            assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{uri}: {csp}");
        }
    }

    #[test]
    fn base_paths_are_whole_segments() {
        let cases: &[(&[&str], &str)] = &[
            (&["/api/v1/stt/transcribe", "/api/v1/stt/languages"], "/api/v1/stt"),
            (&["/api/v1/tts/synthesize"], "/api/v1/tts"),
            (&["/v1/audio/speech", "/v1/models"], "/v1"),
            (&["/", "/search", "/archive"], ""),
            (&["/api/v1/recordings", "/api/v1/recordings/{id}"], "/api/v1"),
        ];
        for (paths, want) in cases {
            assert_eq!(common_prefix(paths.iter().copied()), *want, "{paths:?}");
        }
    }
}
