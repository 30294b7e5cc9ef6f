//! The original system's own clients, unmodified, against Sokuji: its FastAPI gateway
//! (`services/gateway`) in front of Sokuji's gRPC services, and its test page
//! (`examples/web-client.html`) opened from a file against Sokuji's gateway.
//!
//! Their code is not ours to ship and no registry publishes it, so these tests need a checkout of
//! kizuna-ai-lab/sokuji-bridge named by `SOKUJI_ORIGINAL_DIR` (`make testdata` then installs the
//! gateway's Python requirements into `$SOKUJI_TESTDATA/original-venv`); `make test` runs them
//! when it is set and says they were skipped when it is not.
use crate::common::*;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sokuji_core::wer::word_error_rate;
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};
use tokio_tungstenite::tungstenite::Message;

fn original_dir() -> PathBuf {
    let dir = PathBuf::from(std::env::var("SOKUJI_ORIGINAL_DIR").expect("SOKUJI_ORIGINAL_DIR names a checkout"));
    assert!(dir.join("services/gateway/server.py").is_file(), "{} is no sokuji-bridge checkout", dir.display());
    dir
}

/// The original gateway, killed when dropped.
struct OriginalGateway(Child);

impl Drop for OriginalGateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the original gateway on `port` with its three `*_SERVICE_URL`s at Sokuji's gRPC port,
/// as its compose file wires it, and waits until its health answers.
async fn original_gateway(port: u16, grpc: u16) -> OriginalGateway {
    let python = testdata().join("original-venv/bin/python");
    assert!(python.is_file(), "no {}: run `make testdata` with SOKUJI_ORIGINAL_DIR set", python.display());
    let dir = original_dir();
    let grpc = format!("127.0.0.1:{grpc}");
    let child = Command::new(python)
        .arg(dir.join("services/gateway/server.py"))
        .current_dir(&dir)
        .env("STT_SERVICE_URL", &grpc)
        .env("TRANSLATION_SERVICE_URL", &grpc)
        .env("TTS_SERVICE_URL", &grpc)
        .env("PORT", port.to_string())
        .env("LOG_LEVEL", "WARNING")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the original gateway");
    let gateway = OriginalGateway(child);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("http://127.0.0.1:{port}/health")).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "the original gateway did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    gateway
}

#[tokio::test]
#[ignore = "needs SOKUJI_ORIGINAL_DIR (a sokuji-bridge checkout): `make test` runs it when set"]
async fn original_gateway_in_front_of_sokuji_services() {
    let (_sokuji, grpc) = Server::start_with_grpc(&[("TRANSLATION_PROVIDER", "local")]);
    let _sokuji = _sokuji.wait_ready();
    let port = free_port();
    let _gateway = original_gateway(port, grpc).await;
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    // Healthy once Sokuji's engines have loaded (the translation model takes seconds).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (_, health) = get_json(&http, format!("{url}/health")).await;
        if health["status"] == "healthy" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let form = Form::new()
        .part("audio_file", Part::bytes(std::fs::read(&wav).expect("wav")).file_name("doan.wav"))
        .text("language", "vi");
    let r: Value = http
        .post(format!("{url}/api/v1/stt/transcribe"))
        .multipart(form)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let text = r["text"].as_str().expect("text");
    assert!(word_error_rate(&reference, text) < 0.35, "{r}");

    let (status, t) = post_json(
        &http,
        format!("{url}/api/v1/translation/translate"),
        json!({"text": "Tôi muốn mua một chiếc xe mới.", "source_language": "vi", "target_language": "en"}),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let translated = t["translated_text"].as_str().expect("translated_text").to_lowercase();
    assert!(translated.contains("buy") && translated.contains("car"), "{t}");

    let (status, s) = post_json(
        &http,
        format!("{url}/api/v1/tts/synthesize"),
        json!({"text": "Hello there, how are you?", "voice_id": "default", "language": "en"}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    let audio =
        base64::engine::general_purpose::STANDARD.decode(s["audio_data"].as_str().expect("audio")).expect("b64");
    assert!(audio.len() > 20_000 && audio.starts_with(b"RIFF"), "{} bytes of speech", audio.len());

    // Its live socket: every result of TranscribeStream is translated and spoken, so one
    // translation per utterance means Sokuji sent finals only.
    let (binh, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let mut samples = load_16k(&binh);
    samples.extend(vec![0.0; 32_000]);
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/api/v1/ws/translate")).await.expect("connect");
    let config = json!({"type": "config", "source_language": "vi", "target_language": "en", "voice_id": "default", "sample_rate": 16000});
    ws.send(Message::Text(config.to_string().into())).await.expect("config");
    for piece in samples.chunks(1_600) {
        let data = base64::engine::general_purpose::STANDARD.encode(int16_bytes(piece));
        let audio = json!({"type": "audio", "data": data, "timestamp": 1_733_000_000_000u64});
        ws.send(Message::Text(audio.to_string().into())).await.expect("audio");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut msgs: Vec<Value> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = m {
            msgs.push(serde_json::from_str(&t).expect("JSON"));
            if msgs.iter().any(|m| m["type"] == "audio") {
                // Wait a little for anything more (a second translation would come now).
                tokio::time::sleep(Duration::from_secs(3)).await;
                while let Ok(Some(Ok(Message::Text(t)))) =
                    tokio::time::timeout(Duration::from_millis(100), ws.next()).await
                {
                    msgs.push(serde_json::from_str(&t).expect("JSON"));
                }
                break;
            }
        }
    }
    let of = |kind: &str| msgs.iter().filter(|m| m["type"] == kind).collect::<Vec<_>>();
    assert!(of("error").is_empty(), "{msgs:?}");
    let heard: Vec<&str> = of("transcription").iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(word_error_rate(&reference, &heard.join(" ")) < 0.35, "{heard:?}");
    assert_eq!(of("translation").len(), 1, "one translation for one utterance: {msgs:?}");
    assert_eq!(of("audio").len(), 1, "{msgs:?}");
}

#[test]
#[ignore = "needs SOKUJI_ORIGINAL_DIR (a sokuji-bridge checkout): `make test` runs it when set"]
fn original_web_client_against_sokuji() {
    let client = original_dir().join("examples/web-client.html");
    let server = Server::start(&["--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    // Its live tab offers no Vietnamese: real Vietnamese speech with "Auto Detect", to English.
    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let seconds = load_16k(&wav).len() as f64 / 16_000.0;
    let (client, api, secs) = (client.display().to_string(), server.url(), format!("{seconds:.1}"));
    let v = page_run("original_web_client.cjs", &[&client, &api, &wav.display().to_string(), &secs, "auto", "en"]);
    assert!(v["errors"].as_array().is_some_and(|e| e.is_empty()), "page errors: {v}");
    assert!(v["dialogs"].as_array().is_some_and(|d| d.is_empty()), "the page alerted: {v}");
    assert!(v["health"].as_str().is_some_and(|h| h.contains("Healthy")), "{}", v["health"]);
    assert!(v["services"].as_str().is_some_and(|s| s.contains("STT (ready)")), "{}", v["services"]);
    let translation = v["translation"].as_str().expect("translation");
    assert!(translation.contains("Success") && translation.contains("車"), "{translation}");
    let captions = v["captions"].as_str().expect("captions");
    let said = captions.split(" [").next().unwrap_or_default();
    assert!(word_error_rate(&reference, said) < 0.35, "captions {captions:?} for {reference:?}");
    assert!(v["translations"].as_u64().is_some_and(|n| n >= 1), "{v}");
    assert_translation_of_binh(v["liveTranslation"].as_str().expect("live translation"));
}
