//! `WS /api/v1/ws/asr`: streaming speech-to-text for live capture into the archive. The client
//! sends `{"type":"config","language","sample_rate","channels","format","record",
//! "speaker","source","tags"}`, then PCM (binary frames or `{"type":"audio","data":base64}`),
//! then `{"type":"end"}`. The server sends `transcription` messages (interim and final, as on
//! the translation socket) and, when `record` is set, `{"type":"recording","id",…}` after the
//! end: the audio is stored with the transcript already made, and the recording flows on
//! through NLP-Post like an upload.
use crate::{
    AppState,
    routes::{live, live_recording::LiveRecording, recordings::store_live},
};
use axum::{
    Router,
    extract::{
        State,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
    },
    response::Response,
    routing::get,
};
use base64::Engine as _;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_audio::PcmSpec;
use sokuji_core::{Error, ErrorCode, Segment, TranscribeOptions, archive::RecordingMeta};
use sokuji_services::{StreamConfig, StreamEvent, StreamSession};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/ws/asr", get(upgrade))
}

async fn upgrade(State(s): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let limit = live::MAX_FRAME_BYTES;
    ws.max_message_size(limit).max_frame_size(limit).on_upgrade(move |socket| session(s, socket))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(rename = "type")]
    _type: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default = "live::rate")]
    sample_rate: i64,
    #[serde(default = "live::one")]
    channels: i64,
    #[serde(default = "live::int16")]
    format: String,
    /// Store the session as a recording when it ends.
    #[serde(default)]
    record: bool,
    #[serde(default)]
    speaker: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

fn error(code: ErrorCode, message: impl Into<String>) -> Message {
    Message::Text(Utf8Bytes::from(
        json!({"type": "error", "code": code.as_str(), "message": message.into()}).to_string(),
    ))
}

fn render(e: &StreamEvent) -> Message {
    let v = json!({
        "type": "transcription", "text": e.text, "language": e.language, "is_final": e.is_final,
        "confidence": e.confidence, "segment_id": e.segment_id, "committed_text": e.committed,
        "start": e.start, "end": e.end, "stt_ms": e.processing_ms,
        "words": e.words.iter().map(|w| json!({"text": w.text, "start": w.start, "end": w.end, "probability": w.probability})).collect::<Vec<_>>(),
    });
    Message::Text(Utf8Bytes::from(v.to_string()))
}

/// What a session is capturing.
struct Capture {
    session: StreamSession,
    spec: PcmSpec,
    config: Config,
    /// The audio, kept only when recording.
    audio: Option<LiveRecording>,
    finals: Vec<StreamEvent>,
}

async fn session(state: AppState, mut socket: WebSocket) {
    let mut capture: Option<Capture> = None;
    while let Some(Ok(msg)) = socket.next().await {
        let pcm = match msg {
            Message::Binary(b) => b.to_vec(),
            Message::Text(t) => {
                let v: Value = match serde_json::from_str(t.as_str()) {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = socket.send(error(ErrorCode::InvalidRequest, format!("not JSON: {e}"))).await;
                        continue;
                    }
                };
                match v["type"].as_str().unwrap_or_default() {
                    "config" if capture.is_none() => match start(&state, v) {
                        Ok(c) => {
                            capture = Some(c);
                            continue;
                        }
                        Err(e) => {
                            let _ = socket.send(error(e.code, e.message)).await;
                            continue;
                        }
                    },
                    "audio" => match v["data"].as_str().map(|d| base64::engine::general_purpose::STANDARD.decode(d)) {
                        Some(Ok(pcm)) => pcm,
                        _ => {
                            let _ = socket.send(error(ErrorCode::InvalidAudio, "audio.data must be base64 PCM")).await;
                            continue;
                        }
                    },
                    "end" => {
                        finish(&state, &mut socket, capture.take()).await;
                        return;
                    }
                    other => {
                        let _ = socket
                            .send(error(ErrorCode::InvalidRequest, format!("unexpected message {other:?}")))
                            .await;
                        continue;
                    }
                }
            }
            Message::Close(_) => return,
            _ => continue,
        };
        let Some(c) = capture.as_mut() else {
            let _ = socket.send(error(ErrorCode::InvalidRequest, "audio before config")).await;
            continue;
        };
        match c.session.push(c.spec, &pcm).await {
            Ok(events) => {
                if let Some(audio) = c.audio.as_mut()
                    && let Ok(mono) = c.spec.to_mono(&pcm)
                    && let Some(full) = audio.push(&mono)
                {
                    let _ = socket.send(error(full.code, full.message)).await;
                }
                for e in events {
                    if socket.send(render(&e)).await.is_err() {
                        return;
                    }
                    if e.is_final && !e.text.trim().is_empty() {
                        c.finals.push(e);
                    }
                }
            }
            Err(e) => {
                let _ = socket.send(error(e.code, e.message)).await;
            }
        }
    }
}

fn start(state: &AppState, v: Value) -> Result<Capture, Error> {
    let config: Config = serde_json::from_value(v).map_err(|e| Error::invalid_request(format!("bad config: {e}")))?;
    let spec = PcmSpec::new(&config.format, config.sample_rate, config.channels)?;
    let language = config.language.clone().filter(|l| l != "auto" && !l.is_empty());
    let meta = RecordingMeta {
        language: language.clone(),
        speaker: config.speaker.clone(),
        source: config.source.clone(),
        tags: config.tags.clone(),
        ..Default::default()
    };
    meta.validate()?;
    let audio = match (config.record, &state.archive) {
        (false, _) => None,
        (true, Some(a)) => Some(a.live_recording(spec.sample_rate)),
        (true, None) => {
            return Err(Error::new(ErrorCode::EngineUnavailable, "this server runs no archive: cannot record"));
        }
    };
    let options = TranscribeOptions { language, ..Default::default() };
    let session = StreamSession::new(state.stt.clone(), StreamConfig::default(), options);
    Ok(Capture { session, spec, config, audio, finals: Vec::new() })
}

/// Flushes the session, stores the recording when asked, and closes.
async fn finish(state: &AppState, socket: &mut WebSocket, capture: Option<Capture>) {
    if let Some(mut c) = capture {
        match c.session.finish().await {
            Ok(events) => {
                for e in events {
                    let _ = socket.send(render(&e)).await;
                    if e.is_final && !e.text.trim().is_empty() {
                        c.finals.push(e);
                    }
                }
            }
            Err(e) => {
                let _ = socket.send(error(e.code, e.message)).await;
            }
        }
        if let (Some(audio), Some(archive)) = (c.audio, &state.archive) {
            let meta = RecordingMeta {
                language: c.config.language.clone().filter(|l| l != "auto" && !l.is_empty()),
                speaker: c.config.speaker.clone(),
                source: c.config.source.clone(),
                tags: c.config.tags.clone(),
                ..Default::default()
            };
            let segments = segments_of(&c.finals);
            let msg = match store_live(archive, &state.model_names, audio, segments, meta).await {
                Ok(v) => Message::Text(Utf8Bytes::from(v.to_string())),
                Err(e) => error(e.code, format!("recording not stored: {}", e.message)),
            };
            let _ = socket.send(msg).await;
        }
    }
    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: Utf8Bytes::from_static("end") }))).await;
}

/// Final results as transcript segments.
fn segments_of(finals: &[StreamEvent]) -> Vec<Segment> {
    finals
        .iter()
        .enumerate()
        .map(|(i, e)| Segment {
            id: i as u32,
            start: e.start,
            end: e.end,
            text: e.text.clone(),
            words: e.words.clone(),
            no_speech_probability: 0.0,
            language: e.language.clone(),
        })
        .collect()
}
