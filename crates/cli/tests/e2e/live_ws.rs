//! Live translation over the WebSocket protocol against the real server and models: speech in,
//! transcripts, translations and translated speech out, in order, with latencies; bad input
//! answered with `error` messages while the session and other sessions go on.
use crate::common::*;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sokuji_core::wer::word_error_rate;
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &Server) -> Ws {
    let url = format!("ws://127.0.0.1:{}/api/v1/ws/translate", server.port);
    tokio_tungstenite::connect_async(url).await.expect("connect").0
}

/// The texts of the final transcriptions among a session's messages.
fn final_texts(msgs: &[Value]) -> Vec<&str> {
    msgs.iter()
        .filter(|m| m["type"] == "transcription" && m["is_final"] == true)
        .filter_map(|m| m["text"].as_str())
        .collect()
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

/// Reads messages until the server closes (deadline 120 s); returns them and the close code.
async fn drain(ws: &mut Ws) -> (Vec<Value>, Option<CloseCode>) {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.expect("server answered in time");
        match msg {
            Some(Ok(Message::Text(t))) => got.push(serde_json::from_str(&t).expect("JSON message")),
            Some(Ok(Message::Close(frame))) => return (got, frame.map(|f| f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (got, None),
        }
    }
}

/// Speaks `samples` and a second of silence into the session, ends it, and returns what the
/// server sent before its clean close.
async fn say_and_end(ws: &mut Ws, samples: &[f32]) -> Vec<Value> {
    let mut audio = samples.to_vec();
    audio.extend(vec![0.0; 16_000]);
    send_speech(ws, &audio).await;
    ws.send(text(json!({"type": "end"}))).await.expect("end");
    let (msgs, close) = drain(ws).await;
    assert_eq!(close, Some(CloseCode::Normal), "clean close after end");
    msgs
}

/// Sends 16 kHz samples as int16 PCM in 100 ms pieces, half as binary frames and half as the
/// seed's base64 JSON messages, at 4x real time.
async fn send_speech(ws: &mut Ws, samples: &[f32]) {
    for (i, piece) in samples.chunks(1600).enumerate() {
        let pcm = int16_bytes(piece);
        let msg = if i % 2 == 0 {
            Message::Binary(pcm.into())
        } else {
            text(
                json!({"type": "audio", "data": base64::engine::general_purpose::STANDARD.encode(pcm), "timestamp": i}),
            )
        };
        ws.send(msg).await.expect("send audio");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn vietnamese_speech_becomes_english_text_and_speech() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    let (path, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let audio = load_16k(&path);
    let mut ws = connect(&server).await;
    // `record`: the session is kept in the archive too.
    ws.send(text(json!({"type": "config", "source_language": "vi", "target_language": "en", "voice_id": "default", "sample_rate": 16000, "channels": 1, "record": true, "speaker": "Bình"})))
        .await
        .expect("config");
    let msgs = say_and_end(&mut ws, &audio).await;
    let errors: Vec<_> = msgs.iter().filter(|m| m["type"] == "error").collect();
    assert!(errors.is_empty(), "{errors:?}");

    let finals: Vec<&Value> = msgs.iter().filter(|m| m["type"] == "transcription" && m["is_final"] == true).collect();
    let heard: Vec<&str> = finals.iter().filter_map(|m| m["text"].as_str()).collect();
    let wer = word_error_rate(&reference, &heard.join(" "));
    // The Vietnamese Conformer decodes the live session too.
    assert!(wer < 0.15, "WER {wer}: {heard:?}");
    assert!(
        finals
            .iter()
            .all(|m| m["language"] == "vi" && m["e2e_ms"].as_f64().is_some() && m["stt_ms"].as_f64().is_some())
    );
    assert!(finals.iter().all(|m| m["engine"] == "conformer-ctc" && m["model"] == "vi-conformer"), "{finals:?}");
    assert!(msgs.iter().any(|m| m["type"] == "transcription" && m["is_final"] == false), "interim results stream too");

    let translations: Vec<&Value> =
        msgs.iter().filter(|m| m["type"] == "translation" && m["is_final"] == true).collect();
    assert_eq!(
        translations.len(),
        finals.iter().filter(|m| !m["text"].as_str().unwrap_or("").trim().is_empty()).count()
    );
    assert_translation_of_binh(&translations.iter().filter_map(|t| t["text"].as_str()).collect::<Vec<_>>().join(" "));
    for t in &translations {
        let s = t["text"].as_str().expect("text");
        assert!(!s.is_empty() && s.is_ascii(), "not English: {s:?}");
        assert_eq!((t["source_language"].as_str(), t["target_language"].as_str()), (Some("vi"), Some("en")));
        assert!(t["mt_ms"].as_f64().is_some() && t["e2e_ms"].as_f64().is_some());
    }

    let audio_msgs: Vec<&Value> = msgs.iter().filter(|m| m["type"] == "audio").collect();
    assert!(!audio_msgs.is_empty(), "translated speech");
    for a in &audio_msgs {
        let wav = base64::engine::general_purpose::STANDARD.decode(a["data"].as_str().expect("data")).expect("base64");
        assert!(wav.starts_with(b"RIFF") && wav.len() > 10_000);
        assert_eq!((a["format"].as_str(), a["sample_rate"].as_u64()), (Some("wav"), Some(22050)));
        assert!(a["tts_ms"].as_f64().is_some() && a["e2e_ms"].as_f64().is_some());
    }
    // Per segment: its final transcript, then its translation, then its audio.
    let pos = |kind: &str, seg: &Value, final_only: bool| {
        msgs.iter().position(|m| m["type"] == kind && m["segment_id"] == *seg && (!final_only || m["is_final"] == true))
    };
    for t in &translations {
        let seg = &t["segment_id"];
        let (f, tr) = (pos("transcription", seg, true), pos("translation", seg, true));
        assert!(f < tr, "transcript before translation");
        if let Some(a) = pos("audio", seg, false) {
            assert!(tr < Some(a), "translation before audio");
        }
    }

    // The recorded session: after the last audio, a `recording` message; stored with the
    // transcript made live, normalized by NLP-Post.
    let http = reqwest::Client::new();
    let rec = msgs.iter().find(|m| m["type"] == "recording").expect("a recording message");
    let last_audio = msgs.iter().rposition(|m| m["type"] == "audio");
    assert!(msgs.iter().position(|m| m["type"] == "recording") > last_audio, "recorded after the last event");
    let id = rec["id"].as_str().expect("id");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let shown = loop {
        let (_, v) = get_json(&http, format!("{}/api/v1/recordings/{id}", server.url())).await;
        if v["status"] == "completed" || std::time::Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (shown["status"].as_str(), shown["speaker"].as_str(), shown["source"].as_str()),
        (Some("completed"), Some("Bình"), Some("live")),
        "{shown}"
    );
    let (_, t) = get_json(&http, format!("{}/api/v1/recordings/{id}/transcript", server.url())).await;
    let said: Vec<&str> = heard.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    assert_eq!(t["text"].as_str(), Some(said.join(" ").as_str()), "{t}");

    // The seed's REST pipelines on the same server.
    let (status, r) = post_json(
        &http,
        format!("{}/api/v1/pipeline/translate-text", server.url()),
        json!({"text": "Mẹ tôi là giáo viên.", "source_language": "vi", "target_language": "en"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let said = r["translated_text"].as_str().expect("text").to_lowercase();
    assert!(said.contains("mother") && said.contains("teacher"), "{said}");
    let wav = base64::engine::general_purpose::STANDARD.decode(r["audio_data"].as_str().expect("audio")).expect("b64");
    assert!(wav.starts_with(b"RIFF") && r["sample_rate"] == 22050);
    // The original system's keys beside Sokuji's.
    assert_eq!(
        (r["transcription"].as_str(), r["transcription_language"].as_str()),
        (Some("Mẹ tôi là giáo viên."), Some("vi"))
    );
    assert_eq!((&r["translation"], &r["translation_language"]), (&r["translated_text"], &json!("en")));
    assert!(r["audio_duration_ms"].as_f64().is_some_and(|ms| ms > 300.0) && r["total_latency_ms"].as_f64().is_some());
    let form = reqwest::multipart::Form::new()
        .part("audio_file", reqwest::multipart::Part::bytes(std::fs::read(&path).expect("wav")).file_name("binh.wav"))
        .text("source_language", "vi")
        .text("target_language", "en")
        .text("return_format", "audio");
    let r = http
        .post(format!("{}/api/v1/pipeline/translate-audio", server.url()))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let h = |k: &str| r.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(!h("x-transcription").is_empty());
    assert_translation_of_binh(&h("x-translation"));
    assert!(h("x-processing-time-ms").parse::<f64>().is_ok_and(|ms| ms > 0.0));
    assert!(h("x-duration-ms").parse::<f64>().is_ok_and(|ms| ms > 300.0));
    assert!(r.bytes().await.expect("body").starts_with(b"RIFF"));
}

/// English speech to Portuguese through the dedicated model: every final translated by
/// fxtranslate, each segment's translation before its audio; and four sentences 0.25 s apart
/// (shorter than the endpointer's silence) come out as more than one final, with every word
/// kept: closed at a pause or cut after a clause once the utterance has gone on for 3 s (which of
/// the two is pinned by the live crate's recognizer tables).
#[tokio::test]
async fn english_speech_becomes_portuguese_through_the_dedicated_model() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    let set = speech_set("en");
    let mut audio = Vec::new();
    for (path, _) in set.iter().filter(|(p, _)| p.ends_with("05.wav") || p.ends_with("06.wav")) {
        audio.extend(load_16k(path));
        audio.extend(vec![0.0; 16_000]);
    }
    let mut ws = connect(&server).await;
    ws.send(text(json!({"type": "config", "source_language": "en", "target_language": "pt", "voice_id": "default", "sample_rate": 16000, "channels": 1})))
        .await
        .expect("config");
    let msgs = say_and_end(&mut ws, &audio).await;
    let errors: Vec<_> = msgs.iter().filter(|m| m["type"] == "error").collect();
    assert!(errors.is_empty(), "{errors:?}");
    let translations: Vec<&Value> =
        msgs.iter().filter(|m| m["type"] == "translation" && m["is_final"] == true).collect();
    assert!(!translations.is_empty(), "{msgs:?}");
    assert!(
        translations.iter().all(|t| t["engine"] == "fxtranslate" && t["model"] == "marian-en-pt"),
        "{translations:?}"
    );
    let all = translations.iter().filter_map(|t| t["text"].as_str()).collect::<Vec<_>>().join(" ").to_lowercase();
    for w in ["arroz", "tigelas", "lim"] {
        assert!(all.contains(w), "{all:?} lacks {w:?}");
    }
    let pos = |kind: &str, seg: &Value| msgs.iter().position(|m| m["type"] == kind && m["segment_id"] == *seg);
    for t in &translations {
        let audio_at = pos("audio", &t["segment_id"]);
        assert!(audio_at.is_some(), "no speech for {t}");
        assert!(msgs.iter().position(|m| std::ptr::eq(m, *t)) < audio_at, "translation before audio");
    }

    let (mut audio, mut reference) = (Vec::new(), Vec::new());
    for (path, text) in set.iter().take(4) {
        audio.extend(voiced(&load_16k(path)));
        audio.extend(vec![0.0; 4_000]);
        reference.push(text.as_str());
    }
    audio.extend(vec![0.0; 16_000]);
    let mut ws = connect(&server).await;
    ws.send(text(json!({"type": "config", "source_language": "en", "target_language": "pt", "voice_id": "", "sample_rate": 16000, "channels": 1})))
        .await
        .expect("config");
    let msgs = say_and_end(&mut ws, &audio).await;
    let heard = final_texts(&msgs);
    assert!(heard.len() >= 2, "never closed before the end: {heard:?}");
    let wer = word_error_rate(&reference.join(" "), &heard.join(" "));
    assert!(wer < 0.4, "WER {wer}: {heard:?}");
}

#[tokio::test]
async fn bad_input_gets_errors_and_other_sessions_go_on() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TTS_PROVIDER", "none")]).wait_ready();
    let mut ws = connect(&server).await;
    let next_error = async |ws: &mut Ws| loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("answer")
            .expect("open")
            .expect("frame")
        {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).expect("json");
                if v["type"] == "error" {
                    return v["code"].as_str().unwrap_or_default().to_string();
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    ws.send(Message::Text("{not json".into())).await.expect("send");
    assert_eq!(next_error(&mut ws).await, "invalid_request");
    // Audio before any config starts the session with the original system's defaults.
    ws.send(Message::Binary(vec![0u8; 3200].into())).await.expect("send");
    ws.send(text(json!({"type": "dance"}))).await.expect("send");
    assert_eq!(next_error(&mut ws).await, "invalid_request");
    ws.send(text(json!({"type": "config", "target_language": "en", "sample_rate": 0}))).await.expect("send");
    assert_eq!(next_error(&mut ws).await, "invalid_audio", "bad sample rate");
    // A later config changes languages mid-session; a bad one is refused and changes nothing.
    ws.send(text(json!({"type": "config", "target_language": "klingon"}))).await.expect("send");
    assert_eq!(next_error(&mut ws).await, "unsupported_language");
    ws.send(text(json!({"type": "config", "source_language": "vi", "target_language": "en", "sample_rate": 16000})))
        .await
        .expect("send");
    ws.send(Message::Binary(vec![0u8; 3].into())).await.expect("send");
    assert_eq!(next_error(&mut ws).await, "invalid_audio", "odd byte count");
    ws.send(text(json!({"type": "audio", "data": "%%%"}))).await.expect("send");
    assert_eq!(next_error(&mut ws).await, "invalid_audio");

    // A second session with an oversize frame is closed; this one keeps working.
    let mut rogue = connect(&server).await;
    rogue.send(text(json!({"type": "config", "target_language": "vi"}))).await.expect("config");
    let _ = rogue.send(Message::Binary(vec![0u8; 2 << 20].into())).await;
    let (_, code) = drain(&mut rogue).await;
    assert_eq!(code, Some(CloseCode::Size), "oversize frame: close 1009");

    let (doan, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let msgs = say_and_end(&mut ws, &load_16k(&doan)).await;
    let heard = final_texts(&msgs);
    assert!(word_error_rate(&reference, &heard.join(" ")) < 0.4, "{heard:?}");
    // Translation is off in this server: each final gets an error message, never a dropped session.
    assert!(msgs.iter().any(|m| m["type"] == "error" && m["code"] == "engine_unavailable"));
    let health: Value =
        reqwest::get(format!("{}/health", server.url())).await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "healthy");
}

/// Streams one recording through a session and returns its messages.
async fn live_session(gateway: &Server, wav: &std::path::Path) -> Vec<Value> {
    let mut ws = connect(gateway).await;
    ws.send(text(json!({"type": "config", "source_language": "vi", "target_language": "en", "voice_id": "default"})))
        .await
        .expect("config");
    say_and_end(&mut ws, &load_16k(wav)).await
}

fn count(msgs: &[Value], kind: &str) -> usize {
    msgs.iter().filter(|m| m["type"] == kind && m["is_final"] != false).count()
}

#[tokio::test]
async fn services_apart_and_tts_loss_degrades_to_text() {
    let stt = Server::start(&["stt"], &[]).wait_ready();
    let mt = Server::start(&["translation"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    let tts_port = free_port();
    let tts = Server::start_on(tts_port, &["tts"], &[]).wait_ready();
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    let (stt_url, mt_url, tts_url) = (url(stt.port), url(mt.port), url(tts_port));
    let env = [
        ("SOKUJI_STT_URL", stt_url.as_str()),
        ("SOKUJI_TRANSLATION_URL", mt_url.as_str()),
        ("SOKUJI_TTS_URL", tts_url.as_str()),
    ];
    let gateway = Server::start(&["gateway"], &env).wait_ready();
    let (ly, _) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("ly.wav")).expect("ly");

    let msgs = live_session(&gateway, &ly).await;
    assert!(
        count(&msgs, "transcription") >= 1 && count(&msgs, "translation") >= 1 && count(&msgs, "audio") >= 1,
        "{msgs:?}"
    );
    let english: Vec<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "translation" && m["is_final"] == true)
        .filter_map(|m| m["text"].as_str())
        .collect();
    // "Chúng ta có thể áp dụng logic tương tự với người khác": Whisper hears "logic" in various
    // ways, so the check is on the rest of the sentence.
    let english = english.join(" ").to_lowercase();
    assert!(english.is_ascii() && english.contains("apply") && english.contains("other"), "{english}");

    // The TTS service dies: health says degraded; sessions still get text, and an error for speech.
    drop(tts);
    let health: Value =
        reqwest::get(format!("{}/health", gateway.url())).await.expect("health").json().await.expect("json");
    assert_eq!(
        (health["status"].as_str(), health["services"]["stt"].as_str()),
        (Some("degraded"), Some("ready")),
        "{health}"
    );
    let msgs = live_session(&gateway, &ly).await;
    assert!(count(&msgs, "transcription") >= 1 && count(&msgs, "translation") >= 1, "{msgs:?}");
    assert_eq!(count(&msgs, "audio"), 0);
    assert!(msgs.iter().any(|m| m["type"] == "error" && m["code"] == "engine_unavailable"), "{msgs:?}");

    // It comes back where it was: the gateway reconnects by itself (after the circuit breaker's
    // cooldown, its first call probes) and speech resumes.
    let _tts = Server::start_on(tts_port, &["tts"], &[]).wait_ready();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let health = loop {
        let h: Value =
            reqwest::get(format!("{}/health", gateway.url())).await.expect("health").json().await.expect("json");
        if h["status"] == "healthy" || std::time::Instant::now() > deadline {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(health["status"], "healthy", "{health}");
    let msgs = live_session(&gateway, &ly).await;
    assert!(count(&msgs, "audio") >= 1, "{msgs:?}");
}

/// A service that accepts connections and never answers (a hung process).
fn black_hole() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for conn in listener.incoming().take(8) {
            open.extend(conn.ok());
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    (port, held)
}

#[tokio::test]
async fn a_hung_service_fails_fast_once_its_circuit_opens() {
    let (port, _held) = black_hole();
    let mt_url = format!("http://127.0.0.1:{port}");
    let env = [("SOKUJI_TRANSLATION_URL", mt_url.as_str()), ("SOKUJI_TRANSLATION_TIMEOUT_SECS", "1")];
    let server = Server::start(&["--grpc-listen", "off"], &env).wait_ready();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/translation/translate", server.url());
    let body = json!({"text": "Xin chào", "source_language": "vi", "target_language": "en"});
    // Three calls wait for the deadline each...
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let (status, r) = post_json(&http, url.clone(), body.clone()).await;
        assert_eq!((status, r["error"]["code"].as_str()), (504, Some("timeout")), "{r}");
        assert!(started.elapsed() >= Duration::from_millis(900));
    }
    // ...then the circuit is open: refused at once, saying why.
    let started = std::time::Instant::now();
    let (status, r) = post_json(&http, url.clone(), body.clone()).await;
    assert!(started.elapsed() < Duration::from_millis(500), "failed fast");
    assert_eq!((status, r["error"]["code"].as_str()), (503, Some("engine_unavailable")), "{r}");
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("circuit open")), "{r}");
    let health: Value =
        reqwest::get(format!("{}/health", server.url())).await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "degraded", "{health}");
}

/// Streams speech without ever reading what the server sends, until the server hangs up.
/// Returns how long that took, or None if the deadline passed first.
async fn stream_without_reading(port: u16, speech: Vec<f32>, deadline: Duration) -> Option<Duration> {
    // A small receive window, so the server's messages back up soon.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = socket.connect(([127, 0, 0, 1], port).into()).await.expect("connect");
    let url = format!("ws://127.0.0.1:{port}/api/v1/ws/translate");
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.expect("handshake");
    let config = json!({"type": "config", "source_language": "vi", "target_language": "vi", "voice_id": "default"});
    ws.send(text(config)).await.expect("config");
    let started = std::time::Instant::now();
    while started.elapsed() < deadline {
        for piece in speech.chunks(3200) {
            let sent =
                tokio::time::timeout(Duration::from_secs(1), ws.send(Message::Binary(int16_bytes(piece).into())));
            match sent.await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Some(started.elapsed()),
                // The server has stopped reading too (its session is blocked on this client).
                Err(_) => {}
            }
            if started.elapsed() > deadline {
                return None;
            }
        }
    }
    None
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_and_others_go_on() {
    let server = Server::start(&["--grpc-listen", "off"], &[("SOKUJI_LIVE_SEND_TIMEOUT_SECS", "3")]).wait_ready();
    // Short utterances with pauses: many finals, each spoken back, fill the buffers soonest.
    let (binh, _) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("binh.wav")).expect("binh");
    let mut utterance = load_16k(&binh);
    utterance.extend(vec![0.0; 16_000]);
    let stuck = tokio::spawn(stream_without_reading(server.port, utterance, Duration::from_secs(150)));
    let (doan, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let speech = load_16k(&doan);

    // Meanwhile a well-behaved session is served in full.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut ws = connect(&server).await;
    ws.send(text(json!({"type": "config", "source_language": "vi", "target_language": "vi", "voice_id": ""})))
        .await
        .expect("config");
    let msgs = say_and_end(&mut ws, &speech).await;
    let heard = final_texts(&msgs);
    assert!(word_error_rate(&reference, &heard.join(" ")) < 0.4, "{heard:?}");

    let cut_after = stuck.await.expect("task");
    assert!(cut_after.is_some(), "the server never hung up on a client that does not read");
    let metrics = reqwest::get(format!("{}/metrics", server.url())).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("sokuji_live_sessions_active 0"), "{metrics}");
    assert!(metrics.contains(r#"sokuji_live_sessions_total{end="stalled"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"sokuji_live_sessions_total{end="end"} 1"#), "{metrics}");
}

/// Asked for whole sentences, a session's final translation is the translator's own of the
/// whole transcript, what the REST endpoint answers for it, however the interim translations
/// went: they were only drafts, checked by the LLM, never imposed. Nearly, not bit for bit: the
/// drafted tokens are read in passes of several rows, which round differently from one-token
/// passes, and where two tokens nearly tie the answer can tip ("child, but" / "child but"; "the
/// traditional way" / "the principles of Taoism", 4 words of 21). A continued interim
/// translation is another sentence ("Let the child follow the style of the Tao, not only for the
/// child, but also for the whole family"; over 60% of the words differ).
#[tokio::test]
async fn whole_sentence_translations_are_the_translators_own() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    let (path, _) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("doan.wav")).expect("doan");
    let http = reqwest::Client::new();
    let translate = |text: &str| {
        let body = json!({"text": text, "source_language": "vi", "target_language": "en"});
        post_json(&http, format!("{}/api/v1/translation/translate", server.url()), body)
    };
    // The model loads in the background: a session started before would see its first interim
    // translations wait for it until the pause stops them.
    assert_eq!(translate("Xin chào.").await.0, 200);
    let mut ws = connect(&server).await;
    let config = json!({"type": "config", "source_language": "vi", "target_language": "en", "voice_id": "", "whole_sentences": true});
    ws.send(text(config)).await.expect("config");
    // At half real time, so that interims are translated (they are the drafts): at real time on
    // a slower two-core machine (a token ~85 ms) every interim translation was stopped by the
    // speaker's next pause before it was done, and none was sent.
    let audio = [load_16k(&path), vec![0.0; 16_000]].concat();
    for piece in audio.chunks(1600) {
        ws.send(Message::Binary(int16_bytes(piece).into())).await.expect("send audio");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ws.send(text(json!({"type": "end"}))).await.expect("end");
    let (msgs, _) = drain(&mut ws).await;
    let first = |kind: &str| {
        msgs.iter().find(|m| m["type"] == kind && m["is_final"] == true && m["segment_id"] == 0).expect("segment 0")
    };
    let (heard, live) = (first("transcription")["text"].as_str().expect("text"), first("translation"));
    assert!(
        msgs.iter().any(|m| m["type"] == "translation" && m["is_final"] == false),
        "interims were translated: {msgs:?}"
    );
    let (status, whole) = translate(heard).await;
    assert_eq!(status, 200, "{whole}");
    let (live, whole) = (live["text"].as_str().expect("text"), whole["translated_text"].as_str().expect("text"));
    assert!(word_error_rate(whole, live) < 0.3, "{heard:?}: {live:?} / {whole:?}");
}
