//! Which browser origins may call the API (`SOKUJI_CORS_ORIGINS`). Any origin by default, as the
//! original gateway: its own test page, opened from a file, and browser apps on other ports call
//! the REST API directly. Credentials are never allowed: authentication is by bearer token, not by
//! cookies a browser would send on its own.
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cors {
    #[default]
    AnyOrigin,
    Origins(Vec<String>),
    Off,
}

impl Cors {
    /// `*` (or empty) for any origin, `none` for no cross-origin access, or a comma-separated
    /// list of origins (`https://app.example,http://localhost:5173`).
    pub fn parse(v: &str) -> Result<Self, String> {
        match v.trim() {
            "" | "*" => Ok(Self::AnyOrigin),
            "none" | "off" => Ok(Self::Off),
            list => {
                let origins: Vec<String> =
                    list.split(',').map(|o| o.trim().trim_end_matches('/').to_string()).collect();
                for o in &origins {
                    let scheme = o.starts_with("http://") || o.starts_with("https://");
                    if !scheme || HeaderValue::from_str(o).is_err() || o[o.find("://").unwrap_or(0) + 3..].contains('/')
                    {
                        return Err(format!(
                            "SOKUJI_CORS_ORIGINS: {o:?} is not an origin (scheme://host[:port], no path); use *, none \
                             or a comma-separated list of origins"
                        ));
                    }
                }
                Ok(Self::Origins(origins))
            }
        }
    }

    pub fn layer(&self) -> CorsLayer {
        let base = CorsLayer::new()
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
            .allow_headers(Any)
            .expose_headers(EXPOSED.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>())
            .max_age(std::time::Duration::from_secs(600));
        match self {
            Self::AnyOrigin => base.allow_origin(Any),
            Self::Origins(list) => {
                base.allow_origin(AllowOrigin::list(list.iter().filter_map(|o| HeaderValue::from_str(o).ok())))
            }
            // No origin matches: browsers refuse cross-origin calls.
            Self::Off => CorsLayer::new(),
        }
    }
}

/// Response headers a page may read: what the REST routes say beside their bodies.
const EXPOSED: &[&str] = &[
    "x-duration-ms",
    "x-processing-time-ms",
    "x-transcription",
    "x-translation",
    "x-voice-id",
    "x-sample-rate",
    "x-sokuji-session-id",
];

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{Router, body::Body, http::Request, routing::post};
    use tower::ServiceExt;

    async fn preflight(cors: &Cors, origin: &str) -> Option<String> {
        let app = Router::new().route("/api/v1/translation/translate", post(|| async { "ok" })).layer(cors.layer());
        let req = Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/v1/translation/translate")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization")
            .body(Body::empty())
            .expect("request");
        let res = app.oneshot(req).await.expect("response");
        assert!(res.headers().get("access-control-allow-credentials").is_none(), "never credentials");
        res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).map(String::from)
    }

    #[tokio::test]
    async fn origins_allowed_as_configured() {
        assert_eq!(preflight(&Cors::AnyOrigin, "null").await.as_deref(), Some("*"), "a page opened from a file");
        let list = Cors::parse("https://app.example, http://localhost:5173/").expect("list");
        assert_eq!(preflight(&list, "http://localhost:5173").await.as_deref(), Some("http://localhost:5173"));
        assert_eq!(preflight(&list, "https://evil.example").await, None);
        assert_eq!(preflight(&Cors::Off, "https://app.example").await, None);
    }

    #[test]
    fn settings_parse_or_say_why_not() {
        assert_eq!(Cors::parse("*"), Ok(Cors::AnyOrigin));
        assert_eq!(Cors::parse("none"), Ok(Cors::Off));
        for bad in ["app.example", "https://app.example/path", "ftp://x"] {
            assert!(Cors::parse(bad).is_err(), "{bad}");
        }
    }
}
