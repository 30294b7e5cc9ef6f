//! The remote providers against small local servers that speak the providers' documented
//! formats: what we send (paths, auth, bodies) and how we read answers and failures.
use axum::{Json, Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use serde_json::{Value, json};
use sokuji_core::{ErrorCode, TranslateRequest, Translator};
use sokuji_mt_remote::{DeeplTranslator, OpenAiChatTranslator};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    format!("http://{addr}")
}

fn req(text: &str, source: &str, target: &str) -> TranslateRequest {
    TranslateRequest { text: text.into(), source: source.into(), target: target.into(), ..Default::default() }
}

#[tokio::test]
async fn openai_compatible_chat() {
    let seen: Seen = Arc::default();
    async fn chat(State(seen): State<Seen>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
        seen.lock().expect("lock").push((headers, body.clone()));
        let user = body["messages"][1]["content"].as_str().unwrap_or_default();
        if user.contains("overloaded") {
            return (StatusCode::TOO_MANY_REQUESTS, Json(json!({"error": {"message": "slow down"}})));
        }
        // A chatty model: label and quotes, which the client must strip.
        let content = if user.contains("Good morning") { "Vietnamese: \"Chào buổi sáng.\"" } else { "?" };
        (
            StatusCode::OK,
            Json(
                json!({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}),
            ),
        )
    }
    let base = serve(Router::new().route("/v1/chat/completions", post(chat)).with_state(seen.clone())).await;
    let t = OpenAiChatTranslator::new(&format!("{base}/v1"), "qwen2.5", Some("sk-test".into()), Duration::from_secs(5))
        .expect("client");
    let out = t.translate(req("Good morning.", "en", "vi")).await.expect("translate");
    assert_eq!(out.text, "Chào buổi sáng.");
    assert_eq!((out.source.as_str(), out.target.as_str(), out.model.as_str()), ("en", "vi", "qwen2.5"));
    {
        let seen = seen.lock().expect("lock");
        let (headers, body) = &seen[0];
        assert_eq!(headers["authorization"], "Bearer sk-test");
        assert_eq!(body["model"], "qwen2.5");
        assert_eq!(body["temperature"], 0);
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(
            body["messages"][1]["content"],
            "Translate this English text into Vietnamese:\n<text>\nGood morning.\n</text>"
        );
    }
    let err = t.translate(req("overloaded", "en", "vi")).await.expect_err("429");
    assert_eq!(err.code, ErrorCode::RateLimited, "{err}");
    assert!(err.code.retryable());
    // Bad input is refused before any request is sent.
    let before = seen.lock().expect("lock").len();
    assert_eq!(t.translate(req("", "en", "vi")).await.expect_err("empty").code, ErrorCode::InvalidRequest);
    assert_eq!(seen.lock().expect("lock").len(), before);
}

#[tokio::test]
async fn deepl_batches_and_detects() {
    let seen: Seen = Arc::default();
    async fn translate(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        seen.lock().expect("lock").push((headers, body.clone()));
        if body["target_lang"] == "XX" {
            return (StatusCode::BAD_REQUEST, Json(json!({"message": "Value for 'target_lang' not supported."})));
        }
        let texts = body["text"].as_array().cloned().unwrap_or_default();
        let out: Vec<Value> = texts
            .iter()
            .map(|t| json!({"detected_source_language": "VI", "text": format!("[{}] {}", body["target_lang"].as_str().unwrap_or(""), t.as_str().unwrap_or(""))}))
            .collect();
        (StatusCode::OK, Json(json!({"translations": out})))
    }
    let base = serve(Router::new().route("/v2/translate", post(translate)).with_state(seen.clone())).await;
    let t = DeeplTranslator::new("key:fx", Some(&base), Duration::from_secs(5)).expect("client");
    let out = t.translate_batch(vec![req("Xin chào", "auto", "en"), req("Cảm ơn", "auto", "en")]).await.expect("batch");
    assert_eq!(out.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(), ["[EN-US] Xin chào", "[EN-US] Cảm ơn"]);
    assert!(out.iter().all(|t| t.source == "vi" && t.source_detected));
    {
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 1, "one call for the batch");
        assert_eq!(seen[0].0["authorization"], "DeepL-Auth-Key key:fx");
        assert!(seen[0].1.get("source_lang").is_none(), "auto sends no source_lang");
    }
    let one = t.translate(req("Hello", "en", "ja")).await.expect("one");
    assert_eq!(one.text, "[JA] Hello");
    assert_eq!(seen.lock().expect("lock")[1].1["source_lang"], "EN");
    // Unreachable provider: a retryable error, not a hang.
    let down = DeeplTranslator::new("k", Some("http://127.0.0.1:9"), Duration::from_secs(2)).expect("client");
    let err = down.translate(req("Hello", "en", "ja")).await.expect_err("down");
    assert_eq!(err.code, ErrorCode::EngineUnavailable, "{err}");
}
