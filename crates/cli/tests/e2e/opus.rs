//! Opus audio, as browsers (MediaRecorder: WebM) and OpenAI clients (Ogg) send it, through the
//! real server: the REST and OpenAI uploads, the archive, and a WebM stream cut into pieces over
//! the live socket. Files from opusenc and ffmpeg (`make testdata`); what MediaRecorder itself
//! makes is the browser test's.
use crate::common::*;
use futures::{SinkExt, StreamExt};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sokuji_core::wer::word_error_rate;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// An Opus file of the test set and its transcript.
fn opus(name: &str) -> (Vec<u8>, String) {
    let dir = testdata().join("opus");
    let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e} (run `make testdata`)"));
    let stem = name.split('.').next().unwrap_or_default();
    let text = std::fs::read_to_string(dir.join(format!("{stem}.txt"))).expect("transcript");
    (bytes, text)
}

async fn transcribe(http: &reqwest::Client, url: &str, bytes: Vec<u8>, name: &str) -> Value {
    let form = Form::new().part("audio_file", Part::bytes(bytes).file_name(name.to_string())).text("language", "vi");
    let res = http.post(format!("{url}/api/v1/stt/transcribe")).multipart(form).send().await.expect("post");
    assert_eq!(res.status(), 200, "{name}");
    res.json().await.expect("json")
}

#[tokio::test]
async fn opus_uploads_transcribe_on_every_route() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let (url, http) = (server.url(), reqwest::Client::new());
    for name in ["doan.opus", "doan.webm"] {
        let (bytes, reference) = opus(name);
        // Without a file name: the bytes alone say what they are.
        for file_name in [name, "upload"] {
            let r = transcribe(&http, &url, bytes.clone(), file_name).await;
            let text = r["text"].as_str().expect("text");
            let wer = word_error_rate(&reference, text);
            assert!(wer < 0.35, "{name} as {file_name}: WER {wer}: {text}");
            assert!((r["duration"].as_f64().expect("duration") - 6.1).abs() < 1.0, "{name}: {r}");
        }
    }

    // OpenAI's endpoint, as its SDKs upload a browser recording.
    let (webm, reference) = opus("binh.webm");
    let form =
        Form::new().part("file", Part::bytes(webm.clone()).file_name("recording.webm")).text("model", "whisper-1");
    let j: Value = http
        .post(format!("{url}/v1/audio/transcriptions"))
        .multipart(form.text("language", "vi"))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let text = j["text"].as_str().expect("text");
    assert!(word_error_rate(&reference, text) < 0.35, "{text}");

    // The archive: stored as sent, transcribed by its worker, served back as WebM.
    let res = http
        .post(format!("{url}/api/v1/recordings?filename=binh.webm&language=vi"))
        .body(webm.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let (_, v) = get_json(&http, format!("{url}/api/v1/recordings/{id}")).await;
        if v["status"] == "completed" {
            break;
        }
        assert!(v["status"] != "failed" && tokio::time::Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (_, t) = get_json(&http, format!("{url}/api/v1/recordings/{id}/transcript")).await;
    let text = t["text"].as_str().expect("text");
    assert!(word_error_rate(&reference, text) < 0.35, "{text}");
    let audio = http.get(format!("{url}/api/v1/recordings/{id}/audio")).send().await.expect("audio");
    assert_eq!(audio.headers()["content-type"], "audio/webm");
    assert_eq!(audio.bytes().await.expect("bytes").to_vec(), webm);
}

/// A WebM stream sent in pieces cut anywhere, as MediaRecorder's `dataavailable` delivers it.
#[tokio::test]
async fn a_webm_stream_in_pieces_over_the_live_socket() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let (webm, reference) = opus("doan.webm");
    let url = format!("ws://127.0.0.1:{}/api/v1/ws/asr", server.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    let config = json!({"type": "config", "language": "vi", "format": "webm"});
    ws.send(Message::Text(config.to_string().into())).await.expect("config");
    for piece in webm.chunks(3_001) {
        ws.send(Message::Binary(piece.to_vec().into())).await.expect("piece");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ws.send(Message::Text(json!({"type": "end"}).to_string().into())).await.expect("end");
    let mut msgs: Vec<Value> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while let Some(Ok(m)) = tokio::time::timeout_at(deadline, ws.next()).await.expect("answers in time") {
        match m {
            Message::Text(t) => msgs.push(serde_json::from_str(&t).expect("JSON")),
            Message::Close(_) => break,
            _ => {}
        }
    }
    let errors: Vec<_> = msgs.iter().filter(|m| m["type"] == "error").collect();
    assert!(errors.is_empty(), "{errors:?}");
    let finals: Vec<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "transcription" && m["is_final"] == true)
        .filter_map(|m| m["text"].as_str())
        .collect();
    let wer = word_error_rate(&reference, &finals.join(" "));
    assert!(wer < 0.35, "WER {wer}: {finals:?}");
}
