//! Text embeddings through the real server: OpenAI-compatible `POST /v1/embeddings` (also
//! through the official Python SDK), the gRPC `EmbeddingService` with grpc.health.v1, and a
//! gateway using a separate embedding service; the vectors must agree and find the right text.
use crate::common::*;
use serde_json::{Value, json};
use sokuji_proto::embedding::{EmbedRequest, InputType, embedding_service_client::EmbeddingServiceClient};

const PASSAGES: [&str; 3] = [
    "Nuôi con theo phong cách Do Thái, không chỉ tốt cho đứa trẻ, mà còn tốt cho cả các bậc cha mẹ.",
    "Giá xăng dầu trong nước tăng mạnh từ chiều nay.",
    "The weather in Hanoi will be cold and rainy all week.",
];

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().expect("floats").iter().filter_map(Value::as_f64).map(|x| x as f32).collect()
}

async fn http_embed(http: &reqwest::Client, base: &str, body: Value) -> (u16, Value) {
    post_json(http, format!("{base}/v1/embeddings"), body).await
}

#[tokio::test]
async fn embeddings_over_http_and_grpc_agree_and_find_the_text() {
    let env = [("TTS_PROVIDER", "none")];
    let (server, grpc) = Server::start_with_grpc(&env);
    let server = server.wait_ready();
    let base = server.url();
    let http = reqwest::Client::new();

    let (status, v) = http_embed(&http, &base, json!({"model": "e5-small", "input": PASSAGES})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["object"].as_str(), v["model"].as_str()), (Some("list"), Some("e5-small")));
    let data = v["data"].as_array().expect("data");
    assert_eq!(data.len(), 3);
    let passages: Vec<Vec<f32>> = data.iter().map(|d| floats(&d["embedding"])).collect();
    assert!(data.iter().enumerate().all(|(i, d)| d["index"] == i));
    assert!(passages.iter().all(|p| p.len() == 384 && (dot(p, p) - 1.0).abs() < 1e-3));
    assert!(v["usage"]["prompt_tokens"].as_u64().is_some_and(|n| n > 30), "{v}");

    // A query in English finds the Vietnamese passage it paraphrases.
    let (_, q) = http_embed(
        &http,
        &base,
        json!({"input": "fuel prices went up", "input_type": "query", "encoding_format": "base64"}),
    )
    .await;
    let b64 = q["data"][0]["embedding"].as_str().expect("base64");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).expect("base64");
    let query: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let scores: Vec<f32> = passages.iter().map(|p| dot(&query, p)).collect();
    assert!(scores[1] > scores[0] && scores[1] > scores[2], "{scores:?}");

    // gRPC: the same query gives the same vector; passage and query prefixes differ.
    let channel = grpc_channel(grpc).await;
    let mut client = EmbeddingServiceClient::new(channel.clone());
    let req = |texts: &[&str], t: InputType| EmbedRequest {
        texts: texts.iter().map(|s| s.to_string()).collect(),
        input_type: t as i32,
    };
    let r = client.embed(req(&["fuel prices went up"], InputType::Query)).await.expect("embed").into_inner();
    assert_eq!((r.model.as_str(), r.dimensions), ("e5-small", 384));
    assert!(dot(&r.vectors[0].values, &query) > 0.9999);
    let p = client.embed(req(&["fuel prices went up"], InputType::Passage)).await.expect("embed").into_inner();
    assert!(dot(&p.vectors[0].values, &query) < 0.999, "the prefix matters");
    let mut bad = req(&["x"], InputType::Query);
    bad.input_type = 7;
    assert_eq!(client.embed(bad).await.expect_err("bad type").code(), tonic::Code::InvalidArgument);
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let res = health
        .check(tonic_health::pb::HealthCheckRequest { service: "sokuji.embedding.EmbeddingService".into() })
        .await
        .expect("grpc.health.v1")
        .into_inner();
    assert_eq!(res.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);

    // Bad requests: clear 400s.
    for (body, what) in [
        (json!({"input": []}), "empty list"),
        (json!({"input": "x", "input_type": "doc"}), "input_type"),
        (json!({"input": "x", "encoding_format": "int8"}), "encoding_format"),
        (json!({"input": "x", "dimensions": 256}), "dimensions"),
        (json!({"inputs": "x"}), "input"),
        (json!({"input": 5}), "input"),
    ] {
        let (status, v) = http_embed(&http, &base, body).await;
        assert_eq!(status, 400, "{what}: {v}");
        assert_eq!(v["error"]["code"], "invalid_request", "{v}");
    }

    // The models list names the embedding model.
    let (_, models) = get_json(&http, format!("{base}/v1/models")).await;
    assert!(models["data"].as_array().is_some_and(|m| m.iter().any(|x| x["id"] == "e5-small")), "{models}");

    // The official Python SDK reads the same vectors (it asks for base64 by default).
    let python = testdata().join("venv/bin/python");
    assert!(python.is_file(), "no SDK venv at {}: run `make testdata`", python.display());
    let script = "import json, sys, openai\n\
        c = openai.OpenAI(base_url=sys.argv[1], api_key='x')\n\
        r = c.embeddings.create(model='e5-small', input=[sys.argv[2]], extra_body={'input_type': 'query'})\n\
        print(json.dumps(r.data[0].embedding))";
    let out = std::process::Command::new(python)
        .args(["-c", script, &format!("{base}/v1"), "fuel prices went up"])
        .output()
        .expect("run the SDK");
    assert!(out.status.success(), "SDK: {}", String::from_utf8_lossy(&out.stderr));
    let sdk: Vec<f32> = serde_json::from_slice(&out.stdout).expect("a JSON list");
    assert!(dot(&sdk, &query) > 0.9999);
}

/// A gateway with no model of its own uses a separate `sokuji serve embedding`.
#[tokio::test]
async fn a_gateway_uses_a_separate_embedding_service() {
    let port = free_port();
    let service = Server::start_on(port, &["embedding"], &[]).wait_ready();
    let url = format!("http://127.0.0.1:{port}");
    let env = [("TTS_PROVIDER", "none"), ("SOKUJI_EMBEDDING_URL", url.as_str())];
    let gateway = Server::start(&["gateway"], &env).wait_ready();
    let http = reqwest::Client::new();
    let (status, v) = http_embed(&http, &gateway.url(), json!({"input": ["fuel prices went up", PASSAGES[1]]})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["model"], "e5-small");
    let a = floats(&v["data"][0]["embedding"]);
    let b = floats(&v["data"][1]["embedding"]);
    assert!(dot(&a, &b) > 0.8, "a paraphrase is near: {}", dot(&a, &b));
    // The vectors came from the service, not a model of the gateway's own: without it, no answer.
    drop(service);
    let (status, v) = http_embed(&http, &gateway.url(), json!({"input": "x"})).await;
    assert_eq!((status, v["error"]["code"].as_str()), (503, Some("engine_unavailable")), "{v}");
}
