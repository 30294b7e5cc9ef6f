//! No text from noise, through every path speech takes (a live session over the WebSocket and
//! over gRPC, a whole upload), on noise of several kinds and levels: hiss (white), fan and rain
//! (pink), rumble (brown), mains hum with its harmonics, each after a second of digital silence
//! (the onset a VAD takes for speech). In the live sessions every clip follows real speech, so
//! the decoder has just heard a sentence: a CI run once got "The next day, we'll be going to
//! the beach." from hiss right after speech (whisper.cpp read the previous decode's attention
//! cache; see `sokuji_whisper::decode::fitted_audio_ctx`). Rejections are counted in /metrics.
use crate::common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sokuji_core::wer::word_error_rate;
use sokuji_proto::{common::AudioChunk, stt::stt_service_client::SttServiceClient};
use sokuji_testkit::noise::{at_dbfs, brown, hum, pink, white};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const RATE: f32 = 16_000.0;

/// Every kind at every level, each as a second of silence, 4 s of noise and a second of silence.
fn clips() -> Vec<(String, Vec<f32>)> {
    type Make = fn(f32) -> Vec<f32>;
    let kinds: [(&str, Make); 4] = [("white", |s| white(s, 5)), ("pink", pink), ("brown", brown), ("hum", hum)];
    let mut out = Vec::new();
    for (name, make) in kinds {
        for db in [-50.0, -35.0, -20.0] {
            let audio = [vec![0.0; RATE as usize], at_dbfs(make(4.0), db), vec![0.0; RATE as usize]].concat();
            out.push((format!("{name} at {db} dBFS"), audio));
        }
    }
    out
}

/// Speech, then a noise clip, for every clip: (the audio, how many utterances of speech).
fn speech_between_noise() -> (Vec<f32>, usize, String) {
    let (wav, reference) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("ly.wav")).expect("ly");
    let speech = load_16k(&wav);
    let clips = clips();
    let audio =
        clips.iter().flat_map(|(_, noise)| [speech.clone(), vec![0.0; 12_800], noise.clone()].concat()).collect();
    (audio, clips.len(), reference)
}

/// Each final must be the speech, whole; nothing else may be heard.
fn only_the_speech(finals: &[String], utterances: usize, reference: &str, path: &str) {
    assert_eq!(finals.len(), utterances, "{path}: {finals:#?}");
    for f in finals {
        assert!(word_error_rate(reference, f) < 0.5, "{path}: {f:?} is not the speech");
    }
}

#[tokio::test]
async fn noise_never_becomes_text() {
    let (server, grpc) = Server::start_with_grpc(&[]);
    let server = server.wait_ready();
    let http = reqwest::Client::new();
    let mut channel = SttServiceClient::new(grpc_channel(grpc).await);
    let (mixed, utterances, reference) = speech_between_noise();

    // A live transcription session on the WebSocket, 100 ms frames, no language given.
    let url = format!("ws://127.0.0.1:{}/api/v1/ws/asr", server.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    ws.send(Message::Text(json!({"type": "config"}).to_string().into())).await.expect("config");
    for c in mixed.chunks(1_600) {
        ws.send(Message::Binary(int16_bytes(c).into())).await.expect("audio");
    }
    ws.send(Message::Text(json!({"type": "end"}).to_string().into())).await.expect("end");
    let mut finals = Vec::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(120), ws.next()).await {
        match m {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).expect("json");
                assert_eq!(v["type"], "transcription", "{v}");
                if v["is_final"] == true {
                    finals.push(v["text"].as_str().unwrap_or_default().to_string());
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    only_the_speech(&finals, utterances, &reference, "WebSocket");

    // The gRPC stream, as fast as the client can send (the path of the CI failure).
    let chunks: Vec<AudioChunk> = mixed
        .chunks(1_600)
        .map(|c| AudioChunk {
            data: int16_bytes(c),
            sample_rate: 16_000,
            channels: 1,
            format: "int16".into(),
            ..Default::default()
        })
        .collect();
    let mut res = channel.transcribe_stream(tokio_stream::iter(chunks)).await.expect("stream").into_inner();
    let mut finals = Vec::new();
    while let Some(r) = res.next().await {
        let r = r.expect("result");
        if r.is_final {
            finals.push(r.text);
        }
    }
    only_the_speech(&finals, utterances, &reference, "gRPC");

    for (name, audio) in clips() {
        // A whole upload, language detected: VAD, the gate and the decoder's own guards.
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(wav_bytes(&audio)).file_name("noise.wav"))
            .text("model", "whisper-1")
            .text("response_format", "json");
        let r = http.post(format!("{}/v1/audio/transcriptions", server.url())).multipart(form).send().await;
        let v: Value = r.expect("post").json().await.expect("json");
        assert_eq!(v["text"], "", "{name}: upload heard {v}");
    }
    let metrics =
        http.get(format!("{}/metrics", server.url())).send().await.expect("metrics").text().await.expect("text");
    let count = |reason: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("sokuji_stt_rejections_total{{reason=\"{reason}\"}}")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(count("steady_noise") > 0, "{metrics}");
}
