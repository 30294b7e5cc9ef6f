//! Tenants and quotas through the gateway, as a penetration tester would try them: another
//! tenant's recordings by id guessing and by listing, the same bytes in two tenants, audio
//! quotas under concurrent requests, concurrent live sessions. Fake engines, a real SQLite
//! archive; seconds.
use crate::{app, testing};
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sokuji_core::{auth::Scope, quota::Limits};
use sokuji_store::{Db, NewKey};
use sokuji_testkit::{pcm16, silence, speech};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
use tower::ServiceExt;

async fn key(db: &Db, tenant: Option<&str>, scopes: &[Scope], limits: Limits) -> String {
    let new = NewKey { name: "k".into(), scopes: scopes.to_vec(), tenant: tenant.map(String::from), limits };
    db.create_key(&new, "test").await.expect("key").0
}

/// (status, headers as `name: value` lines, body)
async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String, Value) {
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let headers = res.headers().iter().map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or_default())).collect();
    let body = axum::body::to_bytes(res.into_body(), 1 << 24).await.expect("body");
    (status, headers, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn get(uri: &str, key: &str) -> Request<Body> {
    Request::builder().uri(uri).header("x-api-key", key).body(Body::empty()).expect("request")
}

fn with(method: &str, uri: &str, key: &str) -> Request<Body> {
    Request::builder().method(method).uri(uri).header("x-api-key", key).body(Body::empty()).expect("request")
}

fn upload(key: &str, bytes: &'static [u8]) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/api/v1/recordings?filename=a.wav")
        .header("x-api-key", key)
        .body(Body::from(bytes))
        .expect("request")
}

#[tokio::test]
async fn a_tenant_never_reaches_another_tenants_recordings() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    let archive = [Scope::ArchiveRead, Scope::ArchiveWrite, Scope::ArchiveAdmin];
    let a = key(&db, Some("a"), &archive, Limits::default()).await;
    let b = key(&db, Some("b"), &archive, Limits::default()).await;
    let plain = key(&db, None, &archive, Limits::default()).await;
    let operator = key(&db, None, &[&archive[..], &[Scope::Admin]].concat(), Limits::default()).await;

    // The same bytes from two tenants: two recordings, neither a "duplicate" of the other's.
    let (status, _, ra) = send(&app, upload(&a, b"RIFF tenant bytes")).await;
    assert_eq!((status, &ra["duplicate"]), (StatusCode::ACCEPTED, &json!(false)), "{ra}");
    let (status, _, rb) = send(&app, upload(&b, b"RIFF tenant bytes")).await;
    assert_eq!((status, &rb["duplicate"]), (StatusCode::ACCEPTED, &json!(false)), "{rb}");
    let (ida, idb) = (ra["id"].as_str().expect("id"), rb["id"].as_str().expect("id"));
    assert_ne!(ida, idb);
    assert_eq!(send(&app, upload(&a, b"RIFF tenant bytes")).await.2["id"], json!(ida), "deduplicated within a");

    // By id: every route answers as if b's recording did not exist, and changes nothing.
    for (method, path) in
        [("GET", ""), ("GET", "/transcript"), ("GET", "/audio"), ("POST", "/reprocess"), ("DELETE", "")]
    {
        let (status, _, body) = send(&app, with(method, &format!("/api/v1/recordings/{idb}{path}"), &a)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("no recording"), "{body}");
    }
    let (status, _, shown) = send(&app, get(&format!("/api/v1/recordings/{idb}"), &b)).await;
    assert_eq!((status, &shown["status"]), (StatusCode::OK, &json!("ingested")), "b's is untouched: {shown}");
    let (_, _, audio) = send(&app, get(&format!("/api/v1/recordings/{idb}/audio"), &b)).await;
    assert_eq!(audio, Value::Null, "b reads its own bytes (not JSON)");

    // By listing (and by hash): each tenant sees its own; a key without a tenant sees the
    // default tenant's (none); an administrator sees all.
    let total = |key: String, q: &'static str| {
        let app = app.clone();
        async move { send(&app, get(&format!("/api/v1/recordings{q}"), &key)).await.2["total"].clone() }
    };
    let sha = ra["sha256"].as_str().expect("sha").to_string();
    let by_hash: &'static str = Box::leak(format!("?sha256={sha}").into_boxed_str());
    assert_eq!(total(a.clone(), "").await, json!(1));
    assert_eq!(total(a.clone(), by_hash).await, json!(1));
    assert_eq!(total(b.clone(), "").await, json!(1));
    assert_eq!(total(plain.clone(), by_hash).await, json!(0));
    assert_eq!(total(operator.clone(), by_hash).await, json!(2));

    // Dead letters are every tenant's: a tenant's archive:admin does not reach them.
    assert_eq!(send(&app, with("DELETE", "/api/v1/dlq", &a)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, get("/api/v1/dlq", &operator)).await.0, StatusCode::OK);
    // Deleting its own leaves the other's bytes.
    assert_eq!(send(&app, with("DELETE", &format!("/api/v1/recordings/{ida}"), &a)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, get(&format!("/api/v1/recordings/{idb}/audio"), &b)).await.0, StatusCode::OK);
}

fn wav(secs: f32) -> Vec<u8> {
    let samples = [speech(secs - 0.2, 0.3), silence(0.2)].concat();
    sokuji_audio::encode(&samples, 16_000, sokuji_audio::OutputFormat::Wav).expect("wav")
}

fn transcribe(key: &str, wav: Vec<u8>) -> Request<Body> {
    let boundary = "sokujiboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
    )
    .into_bytes();
    body.extend(wav);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    Request::builder()
        .method("POST")
        .uri("/api/v1/stt/transcribe")
        .header("x-api-key", key)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn an_audio_quota_holds_under_concurrent_requests() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let app = app(state);
    let limits = Limits { audio_seconds_per_day: Some(10), ..Default::default() };
    let k = key(&db, None, &[Scope::Stt, Scope::Tts], limits).await;
    // Eight 2-second requests at once against 10 s a day: five fit, never six.
    let answers = futures::future::join_all((0..8).map(|_| send(&app, transcribe(&k, wav(2.0))))).await;
    let ok = answers.iter().filter(|a| a.0 == StatusCode::OK).count();
    assert_eq!(ok, 5, "{:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
    let (status, headers, body) = answers.into_iter().find(|a| a.0 != StatusCode::OK).expect("a refusal");
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    assert!(headers.contains("ratelimit-policy: \"audio-day\";q=10;w=86400\n"), "{headers}");
    assert!(headers.contains("ratelimit: \"audio-day\";r=0;t="), "{headers}");
    assert!(
        headers.lines().any(|l| l.strip_prefix("retry-after: ").is_some_and(|v| v.parse::<u32>().is_ok())),
        "{headers}"
    );
    // Speech is metered too (before it is made): nothing is left today.
    let tts = Request::builder()
        .method("POST")
        .uri("/api/v1/tts/synthesize")
        .header("x-api-key", k.as_str())
        .header("content-type", "application/json")
        .body(Body::from(r#"{"text":"xin chào"}"#))
        .expect("request");
    assert_eq!(send(&app, tts).await.0, StatusCode::TOO_MANY_REQUESTS);
    // The key's usage says what it used.
    let (_, _, usage) = send(&app, get("/api/v1/usage", &k)).await;
    let used: u64 = usage["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .filter(|w| w["kind"] == "audio_seconds")
        .filter_map(|w| w["amount"].as_u64())
        .sum();
    assert_eq!((used, &usage["audio_seconds_per_day"]), (10, &json!(10)), "{usage}");
}

#[tokio::test]
async fn live_sessions_are_held_to_the_keys_limit_and_to_its_audio() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = testing::state(dir.path(), Duration::from_secs(5)).await;
    let db = state.auth.keys.clone().expect("key store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    let limits = Limits { live_sessions: Some(1), audio_seconds_per_day: Some(3), ..Default::default() };
    let k = key(&db, None, &[Scope::Live], limits).await;
    let connect = || {
        let req = format!("ws://{addr}/api/v1/ws/asr?api_key={k}").into_client_request().expect("request");
        tokio_tungstenite::connect_async(req)
    };
    let (mut first, _) = connect().await.expect("the first session opens");
    // A second at once: refused before any upgrade, with the limit's fields.
    match connect().await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
            let policy = res.headers().get("ratelimit-policy").and_then(|v| v.to_str().ok());
            assert_eq!(policy, Some("\"live\";q=1"));
        }
        other => panic!("a second session was not refused: {:?}", other.map(|_| ())),
    }
    // The first streams past its 3 s of audio: told why, and ended.
    first.send(Message::Text(json!({"type": "config", "language": "vi"}).to_string().into())).await.expect("config");
    for c in [speech(1.0, 0.3), silence(0.5)].concat().repeat(3).chunks(1_600) {
        if first.send(Message::Binary(pcm16(c).into())).await.is_err() {
            break;
        }
    }
    let mut refused = None;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(20), first.next()).await {
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).expect("JSON");
            if v["type"] == "error" {
                refused = Some(v);
            }
        }
    }
    let refused = refused.expect("an error message before the close");
    assert!(refused.to_string().contains("rate_limited"), "{refused}");
    drop(first);
    // The ended session's slot is free again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while connect().await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "the slot was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
