//! The WebSocket driver and its four protocols over a real socket, with fake engines
//! (sokuji-testkit): message order and shapes, closes, the send timeout, recording into a real
//! (SQLite + local files) archive, and metrics. Seconds, no models.
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sokuji_testkit::{FixedTranslator, pcm16, silence, speech};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Gateway {
    url: String,
    _dir: tempfile::TempDir,
}

async fn gateway(send_timeout: Duration) -> Gateway {
    let dir = tempfile::tempdir().expect("tmp");
    let state = crate::testing::state(dir.path(), send_timeout).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, crate::app(state)).await });
    Gateway { url: format!("127.0.0.1:{}", addr.port()), _dir: dir }
}

async fn connect(g: &Gateway, path: &str, beta: bool) -> Ws {
    let mut req = format!("ws://{}{path}", g.url).into_client_request().expect("request");
    if beta {
        req.headers_mut().insert("OpenAI-Beta", "realtime=v1".parse().expect("header"));
    }
    tokio_tungstenite::connect_async(req).await.expect("connect").0
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

/// Two utterances ("w3…" then "w6…") with a second of silence after each, at 16 kHz.
fn two_utterances() -> Vec<f32> {
    [silence(0.3), speech(1.0, 0.3), silence(1.0), speech(1.0, 0.6), silence(1.0)].concat()
}

/// Reads until the server closes (deadline 20 s): the messages and the close code.
async fn drain(ws: &mut Ws) -> (Vec<Value>, Option<CloseCode>) {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await.expect("the server answered in time") {
            Some(Ok(Message::Text(t))) => got.push(serde_json::from_str(&t).expect("JSON")),
            Some(Ok(Message::Close(f))) => return (got, f.map(|f| f.code)),
            Some(Ok(_)) => {}
            _ => return (got, None),
        }
    }
}

/// Reads until a message of `kind` arrives (deadline 20 s); returns everything read.
async fn until(ws: &mut Ws, kind: &str) -> Vec<Value> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await.expect("in time") {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).expect("JSON");
                let done = v["type"] == kind;
                got.push(v);
                if done {
                    return got;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("socket ended before {kind}: {other:?} after {got:#?}"),
        }
    }
}

fn of<'a>(msgs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    msgs.iter().filter(|m| m["type"] == kind).collect()
}

#[tokio::test]
async fn translate_socket_delivers_each_utterance_in_order_then_closes() {
    let g = gateway(Duration::from_secs(5)).await;
    let mut ws = connect(&g, "/api/v1/ws/translate", false).await;
    ws.send(text(json!({"type": "config", "source_language": "en", "target_language": "vi"}))).await.expect("config");
    for (i, c) in two_utterances().chunks(1_600).enumerate() {
        // Half binary frames, half the original's base64 messages.
        let msg = if i % 2 == 0 {
            Message::Binary(pcm16(c).into())
        } else {
            text(json!({"type": "audio", "data": base64::engine::general_purpose::STANDARD.encode(pcm16(c))}))
        };
        ws.send(msg).await.expect("audio");
    }
    ws.send(text(json!({"type": "end"}))).await.expect("end");
    let (msgs, close) = drain(&mut ws).await;
    assert_eq!(close, Some(CloseCode::Normal));
    assert!(of(&msgs, "error").is_empty(), "{msgs:#?}");
    let finals: Vec<&Value> = of(&msgs, "transcription").into_iter().filter(|m| m["is_final"] == true).collect();
    assert_eq!(finals.len(), 2);
    for (i, f) in finals.iter().enumerate() {
        assert_eq!(f["segment_id"], i);
        assert!(f["timestamp"].is_i64(), "integer milliseconds, as the original: {f}");
        assert!(f["words"].as_array().is_some_and(|w| !w.is_empty()), "finals carry words on every socket");
        let said = f["text"].as_str().expect("text");
        let tr = msgs
            .iter()
            .position(|m| m["type"] == "translation" && m["is_final"] == true && m["segment_id"] == i)
            .expect("a translation");
        assert_eq!(msgs[tr]["text"], FixedTranslator::render(said, "vi"));
        let audio = msgs.iter().position(|m| m["type"] == "audio" && m["segment_id"] == i).expect("speech");
        let fin = msgs.iter().position(|m| std::ptr::eq(m, *f)).expect("final");
        assert!(fin < tr && tr < audio);
        let wav = base64::engine::general_purpose::STANDARD.decode(msgs[audio]["data"].as_str().expect("data"));
        assert!(wav.is_ok_and(|w| w.starts_with(b"RIFF")));
    }
}

#[tokio::test]
async fn asr_socket_records_into_the_archive() {
    let g = gateway(Duration::from_secs(5)).await;
    let mut ws = connect(&g, "/api/v1/ws/asr", false).await;
    let config = json!({"type": "config", "language": "vi", "sample_rate": 48000, "channels": 2, "record": true, "speaker": "Lan"});
    ws.send(text(config)).await.expect("config");
    let stereo48: Vec<f32> = two_utterances().iter().flat_map(|s| [*s; 6]).collect();
    for c in stereo48.chunks(9_600) {
        ws.send(Message::Binary(pcm16(c).into())).await.expect("audio");
    }
    ws.send(text(json!({"type": "end"}))).await.expect("end");
    let (msgs, close) = drain(&mut ws).await;
    assert_eq!(close, Some(CloseCode::Normal));
    assert!(of(&msgs, "translation").is_empty() && of(&msgs, "audio").is_empty(), "transcription only");
    let rec = of(&msgs, "recording");
    assert_eq!(rec.len(), 1, "{msgs:#?}");
    assert_eq!(msgs.last().map(|m| &m["type"]), Some(&json!("recording")), "the recording message comes last");
    assert_eq!(rec[0]["segments"], 2);
    assert!((rec[0]["duration"].as_f64().unwrap_or(0.0) - 4.3).abs() < 0.1, "{}", rec[0]);
    let id = rec[0]["id"].as_str().expect("id");
    let http = reqwest_lite(&g, &format!("/api/v1/recordings/{id}/transcript")).await;
    let words: Vec<&str> = http["text"].as_str().unwrap_or_default().split_whitespace().collect();
    assert!(words.len() >= 8 && words.contains(&"w3") && words.contains(&"w6"), "{http}");
}

#[tokio::test]
async fn a_client_that_closes_right_after_end_still_gets_its_session_stored() {
    let g = gateway(Duration::from_secs(5)).await;
    let mut ws = connect(&g, "/api/v1/ws/asr", false).await;
    ws.send(text(json!({"type": "config", "language": "vi", "record": true}))).await.expect("config");
    for c in two_utterances().chunks(1_600) {
        ws.send(Message::Binary(pcm16(c).into())).await.expect("audio");
    }
    ws.send(text(json!({"type": "end"}))).await.expect("end");
    ws.close(None).await.expect("close");
    drop(ws);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = reqwest_lite(&g, "/api/v1/recordings").await;
        if list["total"] == 1 {
            assert_eq!(list["items"][0]["status"], "transcribed", "{list}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the recording was lost: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GET through a plain TCP socket (the gateway crate has no HTTP client).
async fn reqwest_lite(g: &Gateway, path: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&g.url).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.expect("read");
    let body = buf.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

async fn metrics(g: &Gateway) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&g.url).await.expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.expect("read");
    buf
}

#[tokio::test]
async fn bad_frames_get_errors_the_session_goes_on_and_oversize_closes() {
    let g = gateway(Duration::from_secs(5)).await;
    let mut ws = connect(&g, "/api/v1/ws/translate", false).await;
    for (frame, code) in [
        (Message::Text("{not json".into()), "invalid_request"),
        (text(json!({"type": "dance"})), "invalid_request"),
        (text(json!({"type": "config", "target_language": "xx"})), "unsupported_language"),
        (text(json!({"type": "config", "target_language": "vi", "sample_rate": 1})), "invalid_audio"),
        (text(json!({"type": "commit"})), "invalid_request"),
    ] {
        ws.send(frame).await.expect("send");
        let got = until(&mut ws, "error").await;
        assert_eq!(got.last().map(|m| m["code"].clone()), Some(json!(code)));
    }
    ws.send(text(json!({"type": "config", "target_language": "vi"}))).await.expect("config");
    ws.send(Message::Binary(vec![0u8; 3].into())).await.expect("odd bytes");
    assert_eq!(until(&mut ws, "error").await.last().map(|m| m["code"].clone()), Some(json!("invalid_audio")));
    for c in two_utterances().chunks(3_200) {
        ws.send(Message::Binary(pcm16(c).into())).await.expect("audio");
    }
    ws.send(text(json!({"type": "end"}))).await.expect("end");
    let (msgs, close) = drain(&mut ws).await;
    assert_eq!((close, of(&msgs, "translation").len()), (Some(CloseCode::Normal), 2), "{msgs:#?}");

    let mut rogue = connect(&g, "/api/v1/ws/translate", false).await;
    let _ = rogue.send(Message::Binary(vec![0u8; 2 << 20].into())).await;
    assert_eq!(drain(&mut rogue).await.1, Some(CloseCode::Size));
    let m = metrics(&g).await;
    for line in [r#"sokuji_errors_total{code="invalid_request"} 3"#, r#"sokuji_live_sessions_total{end="end"} 1"#] {
        assert!(m.contains(line), "{line} in {m}");
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off() {
    let g = gateway(Duration::from_millis(500)).await;
    // A tiny receive window: the server's messages back up at once.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(2048).expect("rcvbuf");
    let tcp = socket.connect(g.url.parse().expect("addr")).await.expect("connect");
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("ws://{}/api/v1/ws/translate", g.url), tcp).await.expect("ws");
    ws.send(text(json!({"type": "config", "source_language": "en", "target_language": "vi"}))).await.expect("config");
    // Long utterances: each is spoken back as a long message (a few hundred kB), which soon
    // fills the socket's buffers when nobody reads them.
    let utterance = [speech(3.0, 0.5), silence(0.5)].concat();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let m = metrics(&g).await;
        if m.contains(r#"sokuji_live_sessions_total{end="stalled"} 1"#) && m.contains("sokuji_live_sessions_active 0") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "a client that never reads was not cut off: {m}");
        for c in utterance.chunks(8_000) {
            // The server stops reading too once its session waits on this client.
            let _ = tokio::time::timeout(Duration::from_millis(100), ws.send(Message::Binary(pcm16(c).into()))).await;
        }
    }
}

/// 24 kHz PCM16 in base64, as OpenAI clients send it.
fn b64_24k(samples16k: &[f32]) -> String {
    let at24 = sokuji_audio::resample::convert(samples16k, 16_000, 24_000).expect("resample");
    base64::engine::general_purpose::STANDARD.encode(pcm16(&at24))
}

#[tokio::test]
async fn realtime_transcription_in_both_shapes() {
    let g = gateway(Duration::from_secs(5)).await;
    for beta in [false, true] {
        let mut ws = connect(&g, "/v1/realtime?intent=transcription", beta).await;
        let created = until(&mut ws, if beta { "transcription_session.created" } else { "session.created" }).await;
        assert_eq!(created.len(), 1, "the first event");
        for c in two_utterances().chunks(2_400) {
            ws.send(text(json!({"type": "input_audio_buffer.append", "audio": b64_24k(c)}))).await.expect("append");
        }
        let mut events = until(&mut ws, "conversation.item.input_audio_transcription.completed").await;
        events.extend(until(&mut ws, "conversation.item.input_audio_transcription.completed").await);
        let kinds: Vec<&str> =
            events.iter().filter_map(|e| e["type"].as_str()).filter(|t| !t.ends_with(".delta")).collect();
        assert_eq!(
            kinds,
            [
                "input_audio_buffer.speech_started",
                "input_audio_buffer.speech_stopped",
                "input_audio_buffer.committed",
                "conversation.item.input_audio_transcription.completed",
                "input_audio_buffer.speech_started",
                "input_audio_buffer.speech_stopped",
                "input_audio_buffer.committed",
                "conversation.item.input_audio_transcription.completed",
            ],
            "beta {beta}"
        );
        for c in of(&events, "conversation.item.input_audio_transcription.completed") {
            let deltas: String = events
                .iter()
                .filter(|e| {
                    e["type"] == "conversation.item.input_audio_transcription.delta" && e["item_id"] == c["item_id"]
                })
                .filter_map(|e| e["delta"].as_str())
                .collect();
            assert_eq!(deltas.as_str(), c["transcript"].as_str().unwrap_or_default());
        }
        let completed = of(&events, "conversation.item.input_audio_transcription.completed");
        assert!(completed[0]["transcript"].as_str().is_some_and(|t| t.starts_with("w3")));
        assert!(completed[1]["transcript"].as_str().is_some_and(|t| t.starts_with("w6")));
    }
}

#[tokio::test]
async fn realtime_translation_speaks_at_24k_and_closes() {
    let g = gateway(Duration::from_secs(5)).await;
    let mut ws = connect(&g, "/v1/realtime/translations?model=x", false).await;
    until(&mut ws, "session.created").await;
    ws.send(text(json!({"type": "session.update", "session": {"audio": {"output": {"language": "ja"}}}})))
        .await
        .expect("update");
    let updated = until(&mut ws, "session.updated").await;
    assert_eq!(updated.last().map(|u| u["session"]["audio"]["output"]["language"].clone()), Some(json!("ja")));
    for c in two_utterances().chunks(2_400) {
        ws.send(text(json!({"type": "session.input_audio_buffer.append", "audio": b64_24k(c)}))).await.expect("append");
    }
    ws.send(text(json!({"type": "session.close"}))).await.expect("close");
    let (events, close) = drain(&mut ws).await;
    assert_eq!(close, Some(CloseCode::Normal));
    assert_eq!(events.last().map(|e| e["type"].clone()), Some(json!("session.closed")));
    let out: String =
        of(&events, "session.output_transcript.delta").iter().filter_map(|e| e["delta"].as_str()).collect();
    assert!(out.starts_with("ja: w3") && out.contains(" ja: w6"), "{out:?}");
    assert!(of(&events, "session.input_transcript.delta").is_empty(), "source transcript was not asked for");
    let audio = of(&events, "session.output_audio.delta");
    assert_eq!(audio.len(), 2);
    for a in audio {
        assert_eq!((a["sample_rate"].as_u64(), a["format"].as_str()), (Some(24_000), Some("pcm16")));
        let bytes = base64::engine::general_purpose::STANDARD.decode(a["delta"].as_str().unwrap_or_default());
        assert!(bytes.is_ok_and(|b| b.len() > 24_000), "{a}");
    }
}
