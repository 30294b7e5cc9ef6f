//! Access control through the real binary: keys made with `sokuji keys`, the gateway refusing
//! what a key's scopes do not allow (HTTP and WebSocket), revocation taking effect at once, and a
//! server that would listen beyond this machine without authentication refusing to start.
use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sokuji_core::wer::word_error_rate;
use std::process::Command;

/// Runs `sokuji keys ARGS` on a server's database; its standard output.
fn keys(server: &Server, args: &[&str]) -> String {
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    cli(server, &all)
}

/// Runs `sokuji ARGS` on a server's database; its standard output.
fn cli(server: &Server, args: &[&str]) -> String {
    let out = Command::new(bin()).args(args).env("SOKUJI_DATA_DIR", server.data_dir()).output().expect("sokuji keys");
    assert!(out.status.success(), "keys {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The bytes of one of the vieneu recordings.
fn vieneu(name: &str) -> Vec<u8> {
    let (p, _) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with(format!("{name}.wav"))).expect(name);
    std::fs::read(p).expect("wav")
}

/// GET `path` with `key`, as JSON.
async fn get_with(http: &reqwest::Client, url: String, key: &str) -> Value {
    http.get(url).bearer_auth(key).send().await.expect("get").json().await.expect("json")
}

/// Polls a recording with `key` until `done` says so (deadline `secs`); its last detail.
async fn wait_for(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let v = get_with(http, format!("{base}/api/v1/recordings/{id}"), key).await;
        if done(&v) {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "not done in {secs} s: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// The audio seconds a key's usage shows for today.
fn audio_used(usage: &Value) -> u64 {
    let windows = usage["windows"].as_array().cloned().unwrap_or_default();
    windows.iter().filter(|w| w["kind"] == "audio_seconds").filter_map(|w| w["amount"].as_u64()).sum()
}

#[tokio::test]
async fn keys_made_by_the_cli_guard_the_gateway() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let (url, http) = (server.url(), reqwest::Client::new());
    let key = keys(&server, &["create", "--name", "transcriber", "--scopes", "stt"]);
    assert!(key.starts_with("sk_"), "{key}");
    let listed = keys(&server, &["ls"]);
    assert!(listed.contains("transcriber") && listed.contains("active") && !listed.contains(&key[16..]), "{listed}");

    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let bytes = std::fs::read(&wav).expect("wav");
    let transcribe = |key: Option<&str>| {
        let form = Form::new().part("audio_file", Part::bytes(bytes.clone()).file_name("a.wav")).text("language", "vi");
        let mut req = http.post(format!("{url}/api/v1/stt/transcribe")).multipart(form);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send()
    };
    let refused = transcribe(None).await.expect("post");
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated", "{body}");

    let ok: Value = transcribe(Some(&key)).await.expect("post").json().await.expect("json");
    let text = ok["text"].as_str().expect("text");
    assert!(word_error_rate(&reference, text) < 0.35, "{text}");

    // Outside its scopes: refused, and nothing stored.
    let upload = http.post(format!("{url}/api/v1/recordings")).bearer_auth(&key).body(bytes.clone()).send().await;
    assert_eq!(upload.expect("upload").status(), 403);
    let admin = keys(&server, &["create", "--name", "admin", "--scopes", "all"]);
    let (_, list) = {
        let r = http.get(format!("{url}/api/v1/recordings")).header("x-api-key", &admin).send().await.expect("list");
        (r.status(), r.json::<Value>().await.expect("json"))
    };
    assert_eq!(list["total"], 0, "the refused upload stored nothing: {list}");

    // A live socket without the live scope is refused at the handshake, before any audio.
    let ws = format!("ws://127.0.0.1:{}/api/v1/ws/asr?api_key={key}", server.port);
    match tokio_tungstenite::connect_async(ws).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("the handshake was not refused: {:?}", other.map(|_| ())),
    }
    let ws = format!("ws://127.0.0.1:{}/api/v1/ws/asr?api_key={admin}", server.port);
    assert!(tokio_tungstenite::connect_async(ws).await.is_ok(), "a live-scoped key opens a session");

    // Revoked from the CLI: the running server refuses it at its next request.
    let id = &key[3..15];
    assert!(keys(&server, &["revoke", id]).contains("revoked"));
    assert_eq!(transcribe(Some(&key)).await.expect("post").status(), 401);
    // Each act is in the audit log, newest first.
    let log = cli(&server, &["audit"]);
    let actions: Vec<&str> = log.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    assert_eq!(actions, ["key.revoke", "key.create", "key.create"], "{log}");
    assert!(log.lines().next().is_some_and(|l| l.contains(id)), "{log}");
}

/// The live page in Chromium with a browser token in its address (`/#token=…`), on a server
/// that requires credentials: the page never sees the key.
#[test]
fn the_live_page_works_with_a_browser_token() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    let key = keys(&server, &["create", "--name", "site", "--scopes", "live,tts,search"]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let token: Value = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/token", server.url()))
            .bearer_auth(&key)
            .json(&serde_json::json!({"scopes": ["live", "tts"]}))
            .send()
            .await
            .expect("token");
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    });
    let token = token["token"].as_str().expect("token");
    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let url = format!("{}/#token={token}", server.url());
    let v = page_run("live_page.cjs", &[&url, &wav.display().to_string(), "vi", "en"]);
    assert!(v["errors"].as_array().is_some_and(|e| e.is_empty()), "page errors: {v}");
    let finals: Vec<&str> = v["finals"].as_array().expect("finals").iter().filter_map(|f| f.as_str()).collect();
    assert!(word_error_rate(&reference, &finals.join(" ")) < 0.45, "captions {finals:?}");
    assert!(v["status"].as_str().is_some_and(|s| s.starts_with("Closed (1000")), "{v}");
}

#[test]
fn serving_beyond_this_machine_needs_authentication() {
    let said = refusal(&["serve", "gateway", "--listen", "0.0.0.0:0"], &[("TRANSLATION_PROVIDER", "none")]);
    assert!(said.contains("SOKUJI_AUTH=off") && said.contains("sokuji keys create"), "{said}");
    let said = refusal(&["serve", "text", "--listen", "0.0.0.0:0"], &[]);
    assert!(said.contains("SOKUJI_AUTH=off"), "{said}");
}

/// gRPC checks the same keys: an STT service refuses calls without the `stt` scope before
/// reading them, and a gateway in front of it gets through with its `SOKUJI_SERVICE_KEY`.
#[tokio::test]
async fn grpc_services_check_the_same_keys() {
    use sokuji_proto::{
        common::{AudioChunk, Empty},
        stt::{TranscribeRequest, stt_service_client::SttServiceClient},
    };
    let stt = Server::start(&["stt"], &[]).wait_ready();
    let key = keys(&stt, &["create", "--name", "gateway", "--scopes", "stt"]);
    let voice = keys(&stt, &["create", "--name", "voice", "--scopes", "tts"]);
    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let samples = load_16k(&wav);
    let request = |credential: Option<&str>| {
        let mut r = tonic::Request::new(TranscribeRequest {
            audio: Some(AudioChunk {
                data: int16_bytes(&samples),
                sample_rate: 16_000,
                channels: 1,
                format: "int16".into(),
                ..Default::default()
            }),
            language: Some("vi".into()),
            options: None,
        });
        if let Some(k) = credential {
            r.metadata_mut().insert("authorization", format!("Bearer {k}").parse().expect("metadata"));
        }
        r
    };
    let mut client = SttServiceClient::new(grpc_channel(stt.port).await);
    let refused = client.transcribe(request(None)).await.expect_err("no credential");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused}");
    let refused = client.transcribe(request(Some(&voice))).await.expect_err("wrong scope");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused}");
    // Health stays open (load balancers probe it without keys).
    assert!(client.health_check(Empty {}).await.is_ok());
    let r = client.transcribe(request(Some(&key))).await.expect("with the key").into_inner();
    assert!(word_error_rate(&reference, &r.text) < 0.35, "{}", r.text);
    // A key's rate holds on gRPC too: three calls at one a minute (over at most two calendar
    // minutes) put two in one.
    let slow = keys(&stt, &["create", "--name", "slow", "--scopes", "stt", "--rate", "1"]);
    let mut codes = Vec::new();
    for _ in 0..3 {
        let mut r = tonic::Request::new(Empty {});
        r.metadata_mut().insert("authorization", format!("Bearer {slow}").parse().expect("metadata"));
        codes.push(client.get_supported_languages(r).await.err().map(|s| s.code()));
    }
    assert!(codes.contains(&Some(tonic::Code::ResourceExhausted)), "{codes:?}");
    // An audio quota too: refused before the audio is transcribed, saying when to come back.
    let metered = keys(&stt, &["create", "--name", "metered", "--scopes", "stt", "--audio-quota", "2"]);
    let refused = client.transcribe(request(Some(&metered))).await.expect_err("past the quota");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused}");
    let meta = |k: &str| refused.metadata().get(k).and_then(|v| v.to_str().ok()).map(String::from);
    assert_eq!(meta("ratelimit-policy").as_deref(), Some("\"audio-day\";q=2;w=86400"));
    assert!(meta("retry-after").is_some_and(|v| v.parse::<u32>().is_ok()), "{refused:?}");

    // A gateway in front, sharing the keys (the same database), presents its service key.
    let stt_url = format!("http://127.0.0.1:{}", stt.port);
    let data = stt.data_dir().display().to_string();
    let env = [
        ("SOKUJI_STT_URL", stt_url.as_str()),
        ("SOKUJI_DATA_DIR", data.as_str()),
        ("SOKUJI_SERVICE_KEY", key.as_str()),
    ];
    let gateway = Server::start(&["gateway"], &env).wait_ready();
    let form = Form::new()
        .part("audio_file", Part::bytes(std::fs::read(&wav).expect("wav")).file_name("a.wav"))
        .text("language", "vi");
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/stt/transcribe", gateway.url()))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    let text = res.json::<Value>().await.expect("json")["text"].as_str().unwrap_or_default().to_string();
    assert!(word_error_rate(&reference, &text) < 0.35, "{text}");
}

/// Tenants end to end: real speech uploaded by two tenants' keys is transcribed and indexed;
/// each key's search and listing find its own recordings only (the same bytes in both tenants
/// are two recordings), on the embedded index's real queries.
#[tokio::test]
async fn tenants_search_only_their_own_recordings() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let (base, http) = (server.url(), reqwest::Client::new());
    let scopes = "archive:read,archive:write,search";
    let a = keys(&server, &["create", "--name", "a", "--scopes", scopes, "--tenant", "acme"]);
    let b = keys(&server, &["create", "--name", "b", "--scopes", scopes, "--tenant", "globex"]);
    let upload = |key: &str, bytes: Vec<u8>| {
        http.post(format!("{base}/api/v1/recordings?language=vi&filename=r.wav")).bearer_auth(key).body(bytes).send()
    };
    let mut ids = Vec::new();
    for (key, name) in [(&a, "doan"), (&b, "binh"), (&b, "doan")] {
        let r: Value = upload(key, vieneu(name)).await.expect("upload").json().await.expect("json");
        assert_eq!(r["duplicate"], false, "{r}");
        ids.push((key.clone(), r["id"].as_str().expect("id").to_string()));
    }
    let indexed = |v: &Value| {
        let stages = v["stages"].as_array().cloned().unwrap_or_default();
        stages.iter().any(|s| s["stage"] == "index" && s["status"] == "completed")
    };
    for (key, id) in &ids {
        wait_for(&http, &base, key, id, 300, indexed).await;
    }
    let found = |key: &str, q: &str, mode: &str| {
        let req = http.get(format!("{base}/api/v1/search")).bearer_auth(key).query(&[("q", q), ("mode", mode)]);
        async move {
            let v: Value = req.send().await.expect("search").json().await.expect("json");
            v["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|h| h["recording_id"].as_str().map(String::from))
                .collect::<Vec<_>>()
        }
    };
    let (a_doan, b_binh, b_doan) = (&ids[0].1, &ids[1].1, &ids[2].1);
    for mode in ["keyword", "semantic", "hybrid"] {
        // Globex's words are not found by Acme, in any mode; each finds its own copy of doan.
        let hits = found(&a, "huấn luyện viên", mode).await;
        assert!(!hits.contains(b_binh) && !hits.contains(b_doan), "{mode}: {hits:?}");
        let hits = found(&b, "huấn luyện viên", mode).await;
        assert_eq!(hits.first(), Some(b_binh), "{mode}: {hits:?}");
        let hits = found(&a, "người Do Thái dạy con", mode).await;
        assert_eq!(hits.first(), Some(a_doan), "{mode}: {hits:?}");
        assert!(hits.iter().all(|h| h == a_doan), "{mode}: {hits:?}");
    }
    let listed = get_with(&http, format!("{base}/api/v1/recordings"), &a).await;
    assert_eq!(listed["total"], 1, "{listed}");
    let status = http.get(format!("{base}/api/v1/recordings/{b_binh}/transcript")).bearer_auth(&a).send().await;
    assert_eq!(status.expect("get").status(), 404);
}

/// The archive's transcription spends the uploading key's audio quota, window by window before
/// each is transcribed: past it, the recording fails at once with the reason (no retries that
/// cannot help), and nothing more is taken.
#[tokio::test]
async fn archive_transcription_spends_the_uploaders_quota() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let (base, http) = (server.url(), reqwest::Client::new());
    let key =
        keys(&server, &["create", "--name", "q", "--scopes", "archive:read,archive:write", "--audio-quota", "10"]);
    // doan: 6.1 s (7 metered), then ly: 3.1 s (4 more would pass 10), one after the other so
    // that which one passes the quota is known.
    for (name, want) in [("doan", "completed"), ("ly", "failed")] {
        let r = http
            .post(format!("{base}/api/v1/recordings?language=vi&filename={name}.wav"))
            .bearer_auth(&key)
            .body(vieneu(name))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 202, "uploads are accepted; their transcription is metered");
        let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
        let v = wait_for(&http, &base, &key, &id, 120, |v| v["status"] == "completed" || v["status"] == "failed").await;
        assert_eq!(v["status"], want, "{name}: {v}");
        if want == "failed" {
            let asr = v["stages"].as_array().and_then(|s| s.iter().find(|s| s["stage"] == "asr")).cloned();
            let asr = asr.expect("asr stage");
            let why = asr["last_error"].as_str().unwrap_or_default();
            assert!(why.contains("rate_limited") && why.contains("quota"), "{v}");
            assert_eq!(asr["attempts"], 1, "refused once, not retried: {v}");
        }
    }
    let usage = get_with(&http, format!("{base}/api/v1/usage"), &key).await;
    let used = audio_used(&usage);
    assert_eq!(used, 7, "only doan's window was taken: {usage}");
}
