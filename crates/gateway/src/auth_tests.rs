//! Authentication over the whole application with a real key store: what each credential may
//! do, refusals before any handler runs, and the table covering every documented route.
use crate::{app, openapi, testing};
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use sokuji_core::{
    auth::{Scope, http_access},
    quota::Limits,
};
use sokuji_store::NewKey;
use std::time::Duration;
use tower::ServiceExt;

async fn call(app: &axum::Router, method: &str, uri: &str, key: Option<(&str, &str)>) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some((header, value)) = key {
        req = req.header(header, value);
    }
    let res = app.clone().oneshot(req.body(Body::empty()).expect("request")).await.expect("response");
    let status = res.status();
    if status == StatusCode::UNAUTHORIZED {
        assert!(res.headers().contains_key("www-authenticate"), "401 says how to authenticate");
    }
    let body = axum::body::to_bytes(res.into_body(), 1 << 24).await.expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// (method, uri, credential header, expected status)
type Case<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>, StatusCode);

#[test]
fn every_documented_operation_has_a_scope() {
    let doc = openapi();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [("GET", &item.get), ("POST", &item.post), ("DELETE", &item.delete)] {
            if op.is_some() {
                assert!(http_access(method, path).is_some(), "{method} {path} is missing from the scope table");
            }
        }
    }
}

#[tokio::test]
async fn keys_open_what_their_scopes_allow_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    // No key yet (auto): open, as a fresh install is.
    assert_eq!(call(&app, "GET", "/api/v1/recordings", None).await.0, StatusCode::OK);

    let new = |name: &str, scopes: Vec<Scope>| NewKey { name: name.into(), scopes, ..Default::default() };
    let (reader, _) = db.create_key(&new("reader", vec![Scope::ArchiveRead]), "test").await.expect("key");
    let (admin, _) = db.create_key(&new("admin", vec![Scope::Admin]), "test").await.expect("key");
    let bearer = format!("Bearer {reader}");
    let huge_token = format!("Bearer {}.{}.{}", "e".repeat(30_000), "f".repeat(30_000), "g".repeat(300));
    let huge_key = format!("sk_{}", "0".repeat(60_000));
    let cases: &[Case] = &[
        ("GET", "/api/v1/recordings", None, StatusCode::UNAUTHORIZED),
        ("GET", "/api/v1/recordings", Some(("authorization", "Bearer sk_000000000000_nope")), StatusCode::UNAUTHORIZED),
        ("GET", "/api/v1/recordings", Some(("authorization", &bearer)), StatusCode::OK),
        ("GET", "/api/v1/recordings", Some(("x-api-key", &reader)), StatusCode::OK),
        // The key leaves the query before the handler's strict parser sees it.
        ("GET", &format!("/api/v1/recordings?limit=5&api_key={reader}"), None, StatusCode::OK),
        ("DELETE", "/api/v1/recordings/x", Some(("x-api-key", &reader)), StatusCode::FORBIDDEN),
        ("DELETE", "/api/v1/dlq", Some(("x-api-key", &reader)), StatusCode::FORBIDDEN),
        ("GET", "/metrics", Some(("x-api-key", &reader)), StatusCode::FORBIDDEN),
        ("GET", "/api/v1/keys", Some(("x-api-key", &reader)), StatusCode::FORBIDDEN),
        ("GET", "/api/v1/keys", Some(("x-api-key", &admin)), StatusCode::OK),
        // Oversized and malformed credentials: the same clear refusal.
        ("GET", "/api/v1/recordings", Some(("authorization", &huge_token)), StatusCode::UNAUTHORIZED),
        ("GET", "/api/v1/recordings", Some(("x-api-key", &huge_key)), StatusCode::UNAUTHORIZED),
        ("GET", "/api/v1/recordings", Some(("authorization", "Bearer a.b.c")), StatusCode::UNAUTHORIZED),
        // A WebSocket handshake is refused before any upgrade.
        ("GET", "/api/v1/ws/translate", None, StatusCode::UNAUTHORIZED),
        ("GET", "/api/v1/ws/translate", Some(("x-api-key", &reader)), StatusCode::FORBIDDEN),
        // Public: health, the document, the pages.
        ("GET", "/health", None, StatusCode::OK),
        ("GET", "/openapi.json", None, StatusCode::OK),
        ("GET", "/", None, StatusCode::OK),
        ("GET", "/archive", None, StatusCode::OK),
    ];
    for (method, uri, key, want) in cases {
        let (status, body) = call(&app, method, uri, *key).await;
        assert_eq!(status, *want, "{method} {uri} with {key:?}: {body}");
    }
    // Refused requests changed nothing: the dead-letter purge never ran, the key list is whole.
    let (_, body) = call(&app, "GET", "/api/v1/keys", Some(("x-api-key", &admin))).await;
    let list: sokuji_api::rest::keys::KeyList = serde_json::from_str(&body).expect("keys");
    assert_eq!(list.items.len(), 2);
    assert!(!body.contains(&reader[16..]), "listings never show secrets");

    // Revoked: refused at its next request.
    let reader_id = &reader[3..15];
    let (status, _) = call(&app, "DELETE", &format!("/api/v1/keys/{reader_id}"), Some(("x-api-key", &admin))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(&app, "GET", "/api/v1/recordings", Some(("x-api-key", &reader))).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn keys_are_made_over_the_admin_api_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    let (admin, _) = db
        .create_key(&NewKey { name: "root".into(), scopes: vec![Scope::Admin], ..Default::default() }, "test")
        .await
        .expect("key");
    let post = |body: &'static str| {
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/keys")
            .header("x-api-key", admin.as_str())
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        app.clone().oneshot(req)
    };
    let res = post(r#"{"name":"stt","scopes":["stt","live"]}"#).await.expect("response");
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.expect("body");
    let created: sokuji_api::rest::keys::CreatedKey = serde_json::from_slice(&body).expect("created");
    assert_eq!(created.info.scopes, ["stt", "live"]);
    let p = db.authenticate(&created.key).await.expect("the new key works");
    assert_eq!(p.scopes, [Scope::Stt, Scope::Live]);
    for bad in [r#"{"name":"x","scopes":["sst"]}"#, r#"{"name":"","scopes":["stt"]}"#, r#"{"name":"x"}"#] {
        assert_eq!(post(bad).await.expect("response").status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(db.keys().await.expect("keys").len(), 2, "refused requests made no key");
}

#[tokio::test]
async fn browser_tokens_stand_in_for_their_key_and_acts_are_audited() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    let (key, info) = db
        .create_key(
            &NewKey {
                name: "app".into(),
                scopes: vec![Scope::ArchiveRead, Scope::ArchiveAdmin, Scope::Admin],
                ..Default::default()
            },
            "test",
        )
        .await
        .expect("key");
    let token_for = |body: &'static str, credential: String| {
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/auth/token")
            .header("authorization", format!("Bearer {credential}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        app.clone().oneshot(req)
    };
    let res = token_for(r#"{"scopes":["archive:read"],"ttl_secs":120}"#, key.clone()).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.expect("body");
    let t: sokuji_api::rest::keys::TokenResponse = serde_json::from_slice(&body).expect("token");
    assert_eq!((t.expires_in, t.scopes.as_slice()), (120, ["archive:read".to_string()].as_slice()));
    let bearer = format!("Bearer {}", t.token);
    // The token reads, and only reads.
    assert_eq!(call(&app, "GET", "/api/v1/recordings", Some(("authorization", &bearer))).await.0, StatusCode::OK);
    assert_eq!(call(&app, "DELETE", "/api/v1/dlq", Some(("authorization", &bearer))).await.0, StatusCode::FORBIDDEN);
    let uri = format!("/api/v1/recordings?api_key={}", t.token);
    assert_eq!(call(&app, "GET", &uri, None).await.0, StatusCode::OK, "in the query, as a page's WebSocket sends it");
    // A token never mints another, and a key cannot grant what it lacks.
    let res = token_for("{}", t.token.clone()).await.expect("response");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = token_for(r#"{"scopes":["stt"]}"#, key.clone()).await.expect("response");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Dead letters hold every tenant's events: `archive:admin` alone (one tenant's) does not
    // reach them.
    let (tenant_admin, _) = db
        .create_key(&NewKey { name: "t".into(), scopes: vec![Scope::ArchiveAdmin], ..Default::default() }, "test")
        .await
        .expect("key");
    let (status, body) = call(&app, "DELETE", "/api/v1/dlq", Some(("x-api-key", &tenant_admin))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The key purges the dead letters: the log says who, what and when.
    let (status, _) = call(&app, "DELETE", "/api/v1/dlq", Some(("x-api-key", &key))).await;
    assert_eq!(status, StatusCode::OK);
    let log = db.audit_log(10).await.expect("log");
    let log: Vec<_> = log.into_iter().filter(|e| e.action != "key.create").collect();
    assert_eq!(log.len(), 1, "refused acts are not logged as done: {log:?}");
    assert_eq!(
        (log[0].actor.as_str(), log[0].action.as_str(), log[0].target.as_str()),
        (info.id.as_str(), "dlq.purge", "all")
    );
}

/// A key's rate: answers say where it stands; past it, 429 with when to come back, and the
/// refused request never reaches its handler.
#[tokio::test]
async fn a_keys_rate_is_held_with_the_ietf_headers() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    let (key, _) = db
        .create_key(
            &NewKey {
                name: "slow".into(),
                scopes: vec![Scope::ArchiveRead],
                limits: Limits { requests_per_minute: Some(3), ..Default::default() },
                ..Default::default()
            },
            "test",
        )
        .await
        .expect("key");
    let get = || {
        let req = Request::builder().uri("/api/v1/recordings").header("x-api-key", key.as_str()).body(Body::empty());
        app.clone().oneshot(req.expect("request"))
    };
    // The window is the calendar minute: 7 requests over at most two windows put 4 in one.
    let mut seen = Vec::new();
    for _ in 0..7 {
        let res = get().await.expect("response");
        let h = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        seen.push((res.status(), h("ratelimit"), h("ratelimit-policy"), h("retry-after")));
    }
    let first_429 = seen.iter().position(|s| s.0 == StatusCode::TOO_MANY_REQUESTS).expect("refused past the rate");
    assert!(first_429 >= 3, "{seen:?}");
    let (_, limit, policy, retry) = &seen[first_429];
    assert_eq!(policy, "\"minute\";q=3;w=60", "{seen:?}");
    assert!(limit.starts_with("\"minute\";r=0;t=") && !retry.is_empty(), "{seen:?}");
    assert!(seen[0].1.starts_with("\"minute\";r=2;t="), "the first answer says two are left: {seen:?}");
    // The key's usage, counted where every replica sees it.
    let req = Request::builder().uri("/api/v1/usage").header("x-api-key", key.as_str()).body(Body::empty());
    let res = app.clone().oneshot(req.expect("request")).await.expect("response");
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.expect("body");
    let u: sokuji_api::rest::keys::Usage = serde_json::from_slice(&body).expect("usage");
    let counted: u64 = u.windows.iter().filter(|w| w.kind == "requests").map(|w| w.amount).sum();
    assert_eq!((u.rate_per_minute, counted), (Some(3), 7), "refused requests count too: {u:?}");
}

/// Every documented operation, as a prober tries it: without a credential, with a key of every
/// scope but the one it needs, with a revoked key. Each is refused with its code before any
/// handler runs (so nothing changes: the archive stays empty, no key is made).
#[tokio::test]
async fn every_operation_refuses_the_wrong_credential() {
    use sokuji_core::auth::{ALL_SCOPES, Access};
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    let (revoked, info) = db
        .create_key(&NewKey { name: "gone".into(), scopes: ALL_SCOPES.to_vec(), ..Default::default() }, "test")
        .await
        .expect("key");
    db.revoke_key(&info.id, "test").await.expect("revoke");
    let mut checked = 0;
    for (path, item) in &openapi().paths.paths {
        for (method, op) in [("GET", &item.get), ("POST", &item.post), ("DELETE", &item.delete)] {
            let Some(Access::Needs(scope)) = op.as_ref().and_then(|_| http_access(method, path)) else { continue };
            let uri = path.replace("{id}", "x").replace("{name}", "x");
            let others: Vec<Scope> = ALL_SCOPES.iter().copied().filter(|s| *s != scope).collect();
            let (wrong, _) = db
                .create_key(&NewKey { name: "wrong".into(), scopes: others, ..Default::default() }, "test")
                .await
                .expect("key");
            for (credential, want) in [
                (None, StatusCode::UNAUTHORIZED),
                (Some(revoked.as_str()), StatusCode::UNAUTHORIZED),
                (Some("sk_000000000000_0000"), StatusCode::UNAUTHORIZED),
                (Some(wrong.as_str()), StatusCode::FORBIDDEN),
            ] {
                let (status, body) = call(&app, method, &uri, credential.map(|c| ("x-api-key", c))).await;
                assert_eq!(status, want, "{method} {path} with {credential:?}: {body}");
                let code = if want == StatusCode::FORBIDDEN { "forbidden" } else { "unauthenticated" };
                assert!(body.contains(code), "{method} {path}: {body}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 35, "{checked} operations");
    assert!(db.list(&Default::default()).await.expect("list").0.is_empty(), "nothing was stored");
    assert!(db.keys().await.expect("keys").iter().all(|k| k.name != "x"), "no key was made");
}

/// A refusal sent before the body is read closes an HTTP/1.1 connection and says so, so a client
/// never reuses a connection the server is about to drop (its next request would fail).
#[tokio::test]
async fn a_refused_upload_closes_its_connection_and_says_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    db.create_key(&NewKey { name: "k".into(), scopes: vec![Scope::Stt], ..Default::default() }, "test")
        .await
        .expect("key");
    let upload = Request::builder()
        .method("POST")
        .uri("/api/v1/stt/transcribe")
        .header("content-length", "5")
        .body(Body::from("hello"))
        .expect("request");
    let res = app.clone().oneshot(upload).await.expect("response");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers().get("connection").and_then(|v| v.to_str().ok()), Some("close"));
    let get = Request::builder().uri("/api/v1/recordings").body(Body::empty()).expect("request");
    let res = app.oneshot(get).await.expect("response");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("connection").is_none(), "a bodiless request keeps its connection");
}
