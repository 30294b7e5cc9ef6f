//! The HTTP gateway against the real server: REST, the OpenAI-compatible API, health, errors,
//! upload limits, and the gateway in front of a separate STT service.
use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sokuji_core::wer::word_error_rate;

fn sample(name: &str) -> (Vec<u8>, String) {
    let (path, text) =
        speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with(format!("{name}.wav"))).expect("sample");
    (std::fs::read(path).expect("read"), text)
}

/// Posts a multipart form and reads the JSON answer.
async fn post_form(http: &reqwest::Client, url: impl reqwest::IntoUrl, form: Form) -> Value {
    http.post(url).multipart(form).send().await.expect("post").json().await.expect("json")
}

fn file(bytes: Vec<u8>, name: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_string())
}

async fn error_code(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status().as_u16(), status);
    let body: Value = res.json().await.expect("JSON error body");
    body["error"]["message"].as_str().filter(|m| !m.is_empty()).expect("message");
    body["error"]["code"].as_str().expect("code").to_string()
}

#[tokio::test]
async fn rest_and_openai_endpoints() {
    let server = Server::start(&["--grpc-listen", "off"], &[]).wait_ready();
    let http = reqwest::Client::new();
    let url = server.url();

    let health: Value = http.get(format!("{url}/health")).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["services"]["stt"], "ready");
    assert_eq!(health["details"]["stt"]["info"]["route_vi"], "conformer-ctc (vi-conformer): ready", "{health}");

    let langs: Value =
        http.get(format!("{url}/api/v1/stt/languages")).send().await.expect("langs").json().await.expect("json");
    assert!(langs["languages"].as_array().expect("array").iter().any(|l| l == "vi"));

    let (wav, reference) = sample("doan");
    let form = Form::new().part("audio_file", file(wav.clone(), "a.wav")).text("language", "vi");
    let r: Value = post_form(&http, format!("{url}/api/v1/stt/transcribe"), form).await;
    let text = r["text"].as_str().expect("text");
    assert!(word_error_rate(&reference, text) < 0.35, "{text}");
    assert_eq!(r["language"], "vi");
    assert!(r["processing_time_ms"].as_f64().expect("ms") > 0.0 && r["confidence"].as_f64().expect("conf") > 0.3);

    // OpenAI: json, text, srt, vtt, verbose_json with words.
    let openai = |fmt: &str, extra: Option<(&str, &str)>| {
        let mut form = Form::new()
            .part("file", file(wav.clone(), "speech.wav"))
            .text("model", "whisper-1")
            .text("response_format", fmt.to_string());
        form = form.text("language", "vi");
        if let Some((k, v)) = extra {
            form = form.text(k.to_string(), v.to_string());
        }
        http.post(format!("{url}/v1/audio/transcriptions")).multipart(form).send()
    };
    let j: Value = openai("json", None).await.expect("json").json().await.expect("json");
    assert!(word_error_rate(&reference, j["text"].as_str().expect("text")) < 0.35);
    let t = openai("text", None).await.expect("text").text().await.expect("body");
    assert!(word_error_rate(&reference, &t) < 0.35, "{t}");
    let srt = openai("srt", None).await.expect("srt").text().await.expect("body");
    assert!(srt.starts_with("1\n00:00:0") && srt.contains(" --> "), "{srt}");
    let vtt = openai("vtt", None).await.expect("vtt").text().await.expect("body");
    assert!(vtt.starts_with("WEBVTT"), "{vtt}");
    let v: Value = openai("verbose_json", Some(("timestamp_granularities[]", "word")))
        .await
        .expect("verbose")
        .json()
        .await
        .expect("json");
    assert_eq!(v["task"], "transcribe");
    assert_eq!(v["language"], "vi");
    let words = v["words"].as_array().expect("words");
    assert!(words.len() >= 8, "{words:?}");
    assert!(words.iter().all(|w| w["start"].as_f64() <= w["end"].as_f64()));
    assert!(v["segments"].as_array().is_some_and(|s| !s.is_empty()));

    let (ly, _) = sample("ly");
    let form = Form::new().part("file", file(ly, "ly.wav")).text("model", "whisper-1");
    let tr: Value = post_form(&http, format!("{url}/v1/audio/translations"), form).await;
    assert_translation_of_ly(tr["text"].as_str().expect("text"));
}

#[tokio::test]
async fn bad_requests_get_json_errors_and_change_nothing() {
    let server = Server::start(&["--grpc-listen", "off"], &[("SOKUJI_MAX_UPLOAD_BYTES", "1000000")]).wait_ready();
    let http = reqwest::Client::new();
    let url = server.url();
    let post = |form: Form| http.post(format!("{url}/v1/audio/transcriptions")).multipart(form).send();

    let junk = Form::new().part("file", file(b"not audio at all".repeat(100), "x.wav"));
    assert_eq!(error_code(post(junk).await.expect("post"), 400).await, "invalid_audio");
    let empty = Form::new().part("file", file(Vec::new(), "x.wav"));
    assert_eq!(error_code(post(empty).await.expect("post"), 400).await, "invalid_audio");
    let (wav, reference) = sample("binh");
    let truncated = Form::new().part("file", file(wav[..40].to_vec(), "x.wav"));
    assert_eq!(error_code(post(truncated).await.expect("post"), 400).await, "invalid_audio");
    let no_file = Form::new().text("model", "whisper-1");
    assert_eq!(error_code(post(no_file).await.expect("post"), 400).await, "invalid_request");
    let bad_fmt = Form::new().part("file", file(wav.clone(), "x.wav")).text("response_format", "xml");
    assert_eq!(error_code(post(bad_fmt).await.expect("post"), 400).await, "invalid_request");
    let bad_lang = Form::new().part("file", file(wav.clone(), "x.wav")).text("language", "klingon");
    assert_eq!(error_code(post(bad_lang).await.expect("post"), 400).await, "unsupported_language");
    let not_multipart = http.post(format!("{url}/v1/audio/transcriptions")).body("hello").send().await.expect("post");
    assert_eq!(error_code(not_multipart, 400).await, "invalid_request");
    // Just over the 1 MB limit: the server answers before reading the rest, and a client that
    // is still writing a large remainder can see the connection close first (HTTP/1.1 has no
    // way round that but `Expect: 100-continue`); a small excess lets this client read the 413.
    let too_big = Form::new().part("file", file(vec![0u8; 1_100_000], "big.wav"));
    assert_eq!(error_code(post(too_big).await.expect("post"), 413).await, "upload_too_large");
    let missing = http.get(format!("{url}/nope")).send().await.expect("get");
    assert_eq!(error_code(missing, 404).await, "not_found");

    // Still serving, and right.
    let ok = Form::new().part("file", file(wav, "x.wav")).text("language", "vi");
    let j: Value = post(ok).await.expect("post").json().await.expect("json");
    assert!(word_error_rate(&reference, j["text"].as_str().expect("text")) < 0.35);
}

#[tokio::test]
async fn text_normalization_endpoint() {
    let server = Server::start(&["--grpc-listen", "off"], &[]).wait_ready();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/text/normalize", server.url());
    let post = |body: Value| http.post(&url).json(&body).send();
    let r: Value = post(serde_json::json!({"mode": "itn", "texts": ["hai mươi tư", "tám giờ rưỡi"]}))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(r["results"], serde_json::json!(["24", "8:30"]));
    let r: Value =
        post(serde_json::json!({"mode": "tn", "text": "12kg"})).await.expect("post").json().await.expect("json");
    assert_eq!(r["results"][0], "mười hai ki lô gam");
    let r: Value = post(serde_json::json!({"mode": "tone", "text": "hòa", "tone_style": "modern"}))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(r["results"][0], "hoà");
    assert_eq!(
        error_code(post(serde_json::json!({"mode": "xyz", "text": "a"})).await.expect("post"), 400).await,
        "invalid_request"
    );
    assert_eq!(
        error_code(post(serde_json::json!({"mode": "itn", "text": "a", "language": "fr"})).await.expect("post"), 400)
            .await,
        "unsupported_language"
    );
    let bad = http.post(&url).header("content-type", "application/json").body("{not json").send().await.expect("post");
    assert_eq!(error_code(bad, 400).await, "invalid_request");
}

/// The original system's compose values, as written, start Sokuji's STT service and gateway:
/// providers mapped to the engines of the same kind, `PORT`, `host:port` service URLs,
/// `DEVICE=cuda` running on the CPU with a warning; a provider that cannot run here is refused
/// at start-up with what to use instead.
#[tokio::test]
async fn the_originals_environment_starts_sokuji() {
    let stt_port = free_port();
    let env = [
        ("STT_PROVIDER", "faster_whisper"),
        ("MODEL_SIZE", "base"),
        ("DEVICE", "cuda"),
        ("COMPUTE_TYPE", "float16"),
        ("VAD_FILTER", "true"),
        ("LOG_LEVEL", "INFO"),
        ("PORT", &stt_port.to_string()),
        // PORT serves every interface: without credentials, only as the operator's deliberate choice.
        ("SOKUJI_AUTH", "off"),
    ];
    let _stt = Server::start_by_env(stt_port, &["stt"], &env).wait_ready();
    let gw_port = free_port();
    let stt_url = format!("127.0.0.1:{stt_port}");
    let env = [
        ("STT_SERVICE_URL", stt_url.as_str()),
        ("TRANSLATION_PROVIDER", "nllb_local"),
        ("TTS_PROVIDER", "piper"),
        ("LOG_LEVEL", "INFO"),
        ("PORT", &gw_port.to_string()),
        ("SOKUJI_AUTH", "off"),
    ];
    // nllb_local is the local translation engine here (its model loads in the background).
    let gateway = Server::start_by_env(gw_port, &["gateway"], &env).wait_ready();
    let http = reqwest::Client::new();
    let (wav, reference) = sample("binh");
    let form = Form::new().part("audio_file", file(wav, "v.wav")).text("language", "vi");
    let r: Value = post_form(&http, format!("{}/api/v1/stt/transcribe", gateway.url()), form).await;
    assert!(word_error_rate(&reference, r["text"].as_str().expect("text")) < 0.35, "{r}");
    // ... by the STT service that STT_SERVICE_URL names, not a local engine of the gateway's.
    let mut stt = sokuji_proto::stt::stt_service_client::SttServiceClient::new(grpc_channel(stt_port).await);
    let m = stt.get_metrics(sokuji_proto::common::Empty {}).await.expect("metrics").into_inner();
    assert_eq!(m.total_requests, 1, "the transcription went to the STT service");

    // The original's web client, opened from a file (origin "null"), calls the REST API.
    let preflight = http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/tts/synthesize", gateway.url()))
        .header("origin", "null")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    // Speech in audio mode says its length, as the original's header.
    let spoken = http
        .post(format!("{}/api/v1/tts/synthesize", gateway.url()))
        .header("origin", "null")
        .json(&serde_json::json!({"text": "Good morning.", "language": "en", "return_format": "audio"}))
        .send()
        .await
        .expect("synthesize");
    assert_eq!(spoken.headers()["access-control-allow-origin"], "*");
    let exposed = spoken.headers()["access-control-expose-headers"].to_str().unwrap_or_default().to_string();
    let ms: f64 = spoken.headers()["x-duration-ms"].to_str().ok().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    assert!(ms > 300.0 && exposed.contains("x-duration-ms"), "{ms} {exposed}");
    assert!(spoken.bytes().await.expect("audio").starts_with(b"RIFF"));

    let said = refusal(&["serve", "stt", "--listen", "127.0.0.1:0"], &[("STT_PROVIDER", "azure_stt")]);
    assert!(said.contains("faster_whisper"), "{said}");
}

#[tokio::test]
async fn gateway_in_front_of_separate_stt_service() {
    let stt = Server::start(&["stt"], &[]).wait_ready();
    let stt_url = format!("http://127.0.0.1:{}", stt.port);
    let gateway = Server::start(&["gateway"], &[("SOKUJI_STT_URL", &stt_url)]).wait_ready();
    let http = reqwest::Client::new();
    let health: Value =
        http.get(format!("{}/health", gateway.url())).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "healthy", "{health}");
    let (wav, reference) = sample("binh");
    let form = Form::new().part("audio_file", file(wav, "v.wav")).text("language", "vi");
    let r: Value = post_form(&http, format!("{}/api/v1/stt/transcribe", gateway.url()), form).await;
    assert!(word_error_rate(&reference, r["text"].as_str().expect("text")) < 0.35, "{r}");

    // The STT service goes away: the gateway reports degraded and answers 503, not a hang.
    drop(stt);
    let health: Value =
        http.get(format!("{}/health", gateway.url())).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "degraded", "{health}");
    let (wav, _) = sample("ly");
    let form = Form::new().part("audio_file", file(wav, "v.wav"));
    let res = http.post(format!("{}/api/v1/stt/transcribe", gateway.url())).multipart(form).send().await.expect("post");
    assert_eq!(error_code(res, 503).await, "engine_unavailable");
}

/// The OpenAPI document passes an independent validator (openapi-spec-validator, installed by
/// `make testdata`): what code generators and gateways read must be valid OpenAPI 3.1.
#[test]
fn openapi_document_validates() {
    let python = testdata().join("venv/bin/python");
    assert!(python.is_file(), "no venv at {}: run `make testdata`", python.display());
    let out = std::process::Command::new(bin()).arg("openapi").output().expect("sokuji openapi");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().expect("tmp");
    let doc = dir.path().join("openapi.json");
    std::fs::write(&doc, &out.stdout).expect("write");
    let check = std::process::Command::new(python)
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&doc)
        .output()
        .expect("validator");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && said.contains("OK"), "{said}{}", String::from_utf8_lossy(&check.stderr));
    // A broken document fails the same check, so the check is not vacuous.
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["paths"]["/health"]["get"]["responses"]["200"].as_object_mut().expect("the health answer").remove("description");
    std::fs::write(&doc, v.to_string()).expect("write");
    let broken = std::process::Command::new(testdata().join("venv/bin/python"))
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&doc)
        .output()
        .expect("validator");
    assert!(!broken.status.success(), "the validator accepted a response without a description");
}
