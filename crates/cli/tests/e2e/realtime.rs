//! OpenAI's realtime WebSockets against the real server and models: the official Python SDK's
//! realtime client for a transcription session (server VAD, deltas, completed transcripts) and a
//! speech translation session (source and translated transcripts, 24 kHz speech), and a plain
//! WebSocket client speaking the beta events with client commits.
use crate::common::*;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sokuji_core::wer::word_error_rate;
use std::{process::Command, time::Duration};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

/// Raw 24 kHz PCM16 of recordings, each followed by `gap` seconds of silence.
fn pcm24k(names: &[&str], gap: f32) -> (Vec<u8>, Vec<String>) {
    let set = speech_set("vieneu");
    let mut samples = vec![0.0f32; 8_000];
    let mut refs = Vec::new();
    for n in names {
        let (wav, text) = set.iter().find(|(p, _)| p.ends_with(format!("{n}.wav"))).expect("recording");
        samples.extend(load_16k(wav));
        samples.extend(vec![0.0; (gap * 16_000.0) as usize]);
        refs.push(text.clone());
    }
    let at24 = sokuji_audio::resample::convert(&samples, 16_000, 24_000).expect("resample");
    (int16_bytes(&at24), refs)
}

/// Runs the SDK script; returns its events.
fn sdk(server: &Server, mode: &str, pcm: &[u8], language: &str, want: usize) -> Vec<Value> {
    let python = testdata().join("venv/bin/python");
    assert!(python.is_file(), "no SDK venv at {}: run `make testdata`", python.display());
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("speech.pcm");
    std::fs::write(&file, pcm).expect("write pcm");
    let script = crate_dir().join("tests/sdk/realtime_client.py");
    let out = Command::new(python)
        .arg(script)
        .arg(format!("{}/v1", server.url()))
        .arg(mode)
        .arg(&file)
        .arg(language)
        .arg(want.to_string())
        .output()
        .expect("run the SDK");
    assert!(out.status.success(), "SDK run failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("an event per line")).collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[test]
fn the_official_sdk_transcribes_and_translates_in_realtime() {
    let server = Server::start(&["--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();

    // Transcription: two utterances, found by server VAD, each transcribed in deltas.
    let (pcm, refs) = pcm24k(&["doan", "ly"], 1.5);
    let events = sdk(&server, "transcribe", &pcm, "vi", 2);
    assert_eq!(events[0]["type"], "session.created", "{:?}", events[0]);
    assert_eq!(events[0]["session"]["type"], "transcription");
    assert!(!of_type(&events, "session.updated").is_empty());
    assert!(of_type(&events, "error").is_empty(), "{events:#?}");
    let completed = of_type(&events, "conversation.item.input_audio_transcription.completed");
    assert_eq!(completed.len(), 2, "{events:#?}");
    for (c, reference) in completed.iter().zip(&refs) {
        let transcript = c["transcript"].as_str().expect("transcript");
        assert!(word_error_rate(reference, transcript) < 0.4, "{transcript:?} vs {reference:?}");
        let item = &c["item_id"];
        // Deltas of an item add up to its transcript, and come before it.
        let deltas: String = events
            .iter()
            .filter(|e| e["type"] == "conversation.item.input_audio_transcription.delta" && e["item_id"] == *item)
            .filter_map(|e| e["delta"].as_str())
            .collect();
        assert_eq!(deltas, transcript, "deltas of {item}");
        let at = |kind: &str| events.iter().position(|e| e["type"] == kind && e["item_id"] == *item);
        let (started, stopped, committed) = (
            at("input_audio_buffer.speech_started"),
            at("input_audio_buffer.speech_stopped"),
            at("input_audio_buffer.committed"),
        );
        let done = at("conversation.item.input_audio_transcription.completed");
        assert!(started < stopped && stopped < committed && committed < done && started.is_some(), "{item}");
    }

    // Translation: Vietnamese speech to English text and speech, with the source transcript.
    let (pcm, _) = pcm24k(&["ly"], 1.0);
    let events = sdk(&server, "translate", &pcm, "en", 0);
    assert_eq!(events[0]["type"], "session.created");
    assert_eq!(events[0]["session"]["type"], "translation");
    assert!(of_type(&events, "error").is_empty(), "{events:#?}");
    let joined = |kind: &str| of_type(&events, kind).iter().filter_map(|e| e["delta"].as_str()).collect::<String>();
    let source = joined("session.input_transcript.delta");
    assert!(word_error_rate(&refs[1], &source) < 0.4, "{source:?}");
    assert_llm_translation_of_ly(&joined("session.output_transcript.delta"));
    let audio = of_type(&events, "session.output_audio.delta");
    assert!(!audio.is_empty(), "translated speech");
    assert!(
        audio.iter().all(|a| a["sample_rate"] == 24_000 && a["format"] == "pcm16" && a["delta"].as_u64() > Some(4_800))
    );
    assert_eq!(events.last().map(|e| e["type"].clone()), Some(json!("session.closed")));
}

#[tokio::test]
async fn a_beta_client_commits_its_own_turns() {
    let server = Server::start(&["--grpc-listen", "off"], &[]).wait_ready();
    let mut req = format!("ws://127.0.0.1:{}/v1/realtime?intent=transcription", server.port)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert("OpenAI-Beta", "realtime=v1".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
    let next = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| -> Value {
        loop {
            match tokio::time::timeout(Duration::from_secs(120), ws.next()).await.expect("in time") {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("json"),
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    };
    assert_eq!(next(&mut ws).await["type"], "transcription_session.created");
    let update = json!({"type": "transcription_session.update", "session": {"input_audio_format": "pcm16",
        "input_audio_transcription": {"model": "whisper-1", "language": "vi"}, "turn_detection": null}});
    ws.send(Message::Text(update.to_string().into())).await.expect("update");
    let updated = next(&mut ws).await;
    assert_eq!(
        (updated["type"].as_str(), &updated["session"]["turn_detection"]),
        (Some("transcription_session.updated"), &Value::Null)
    );
    // Push-to-talk: two recordings, each committed by the client; silence between is not a turn.
    let (pcm, refs) = pcm24k(&["binh", "vinh"], 0.5);
    let half = pcm.len() / 2 / 2 * 2;
    for (part, n) in [(&pcm[..half], 0), (&pcm[half..], 1)] {
        for c in part.chunks(9_600) {
            let audio = base64::engine::general_purpose::STANDARD.encode(c);
            let append = json!({"type": "input_audio_buffer.append", "audio": audio});
            ws.send(Message::Text(append.to_string().into())).await.expect("append");
        }
        ws.send(Message::Text(json!({"type": "input_audio_buffer.commit"}).to_string().into())).await.expect("commit");
        let mut committed = false;
        let transcript = loop {
            let e = next(&mut ws).await;
            match e["type"].as_str() {
                Some("input_audio_buffer.committed") => committed = true,
                Some("conversation.item.input_audio_transcription.completed") => break e["transcript"].clone(),
                Some("input_audio_buffer.speech_started") => panic!("no server VAD was asked for: {e}"),
                Some("error") => panic!("{e}"),
                _ => {}
            }
        };
        assert!(committed);
        // The halves cut mid-recording: compare against the whole text of both.
        let text = transcript.as_str().expect("text");
        assert!(!text.is_empty(), "commit {n}");
        assert!(word_error_rate(&refs.join(" "), text) < 0.85, "{text:?}");
    }
}
