//! `WS /api/v1/ws/translate`: the original system's live-translation JSON protocol, plus binary
//! PCM frames, `end`, latency fields, interim translations and non-fatal `error` messages.
//!
//! Client: `{"type":"config","source_language","target_language","voice_id","sample_rate","channels"}`,
//! then `{"type":"audio","data":"<base64 int16 PCM>"}` or binary frames of the same PCM, then
//! optionally `{"type":"end"}` (flush, then a clean close). Server: `transcription`,
//! `translation`, `audio` (base64 wav) and `error` messages, in session order.
use crate::AppState;
use crate::routes::{live_recording::LiveRecording, recordings::store_live};
use axum::{
    Router,
    extract::{
        State,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
    },
    http::HeaderValue,
    response::Response,
    routing::get,
};
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use sokuji_audio::{OutputFormat, PcmSpec, encode};
use sokuji_core::{ErrorCode, Segment, archive::RecordingMeta};
use sokuji_services::live::{LiveConfig, LiveEngines, LiveEvent, LiveInput, SESSION_ID_KEY, session_id, start};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tracing::Instrument;

/// Largest frame a client may send: 1 MiB is 32 s of 16 kHz int16 mono.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/ws/translate", get(upgrade))
}

/// The session id goes back in the upgrade response's headers and tags every log line.
async fn upgrade(State(s): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let id = session_id();
    let span = tracing::info_span!("live", session = %id, wire = "ws");
    let mut response = ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session(s, socket).instrument(span));
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(SESSION_ID_KEY, v);
    }
    response
}

#[derive(Deserialize)]
struct Config {
    #[serde(default = "auto")]
    source_language: String,
    target_language: String,
    #[serde(default = "default_voice")]
    voice_id: String,
    #[serde(default = "rate")]
    sample_rate: i64,
    #[serde(default = "one")]
    channels: i64,
    /// "int16" (default) or "float32".
    #[serde(default = "int16")]
    format: String,
    /// Translate committed prefixes of interim transcripts too (default true).
    #[serde(default = "yes")]
    interim_translations: bool,
    /// Store the session in the archive when it ends (audio + the transcript made live).
    #[serde(default)]
    record: bool,
    #[serde(default)]
    speaker: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

fn auto() -> String {
    "auto".into()
}
fn default_voice() -> String {
    "default".into()
}
pub(crate) fn rate() -> i64 {
    16_000
}
pub(crate) fn one() -> i64 {
    1
}
pub(crate) fn int16() -> String {
    "int16".into()
}
fn yes() -> bool {
    true
}

enum Out {
    Json(Value),
    Close(u16, &'static str),
}

/// Seconds since the epoch (the protocol's `timestamp`).
fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn error(code: ErrorCode, message: impl Into<String>) -> Out {
    Out::Json(json!({"type": "error", "code": code.as_str(), "message": message.into(), "timestamp": now()}))
}

fn render(e: LiveEvent) -> Value {
    match e {
        LiveEvent::Transcription {
            segment_id,
            text,
            committed,
            language,
            is_final,
            confidence,
            start,
            end,
            stt_ms,
            e2e_ms,
            ..
        } => json!({
            "type": "transcription", "text": text, "language": language, "is_final": is_final,
            "confidence": confidence, "timestamp": now(), "segment_id": segment_id,
            "committed_text": committed, "start": start, "end": end, "stt_ms": stt_ms, "e2e_ms": e2e_ms,
        }),
        LiveEvent::Translation {
            segment_id,
            text,
            source_text,
            source_language,
            target_language,
            is_final,
            mt_ms,
            e2e_ms,
        } => json!({
            "type": "translation", "text": text, "source_language": source_language,
            "target_language": target_language, "timestamp": now(), "is_final": is_final,
            "segment_id": segment_id, "source_text": source_text, "mt_ms": mt_ms, "e2e_ms": e2e_ms,
        }),
        LiveEvent::Audio { segment_id, samples, sample_rate, text, tts_ms, e2e_ms } => {
            let wav = encode(&samples, sample_rate, OutputFormat::Wav).unwrap_or_default();
            json!({
                "type": "audio", "data": base64::engine::general_purpose::STANDARD.encode(wav), "format": "wav",
                "sample_rate": sample_rate, "timestamp": now(), "segment_id": segment_id, "text": text,
                "tts_ms": tts_ms, "e2e_ms": e2e_ms,
            })
        }
        LiveEvent::Error { code, message } => {
            json!({"type": "error", "code": code.as_str(), "message": message, "timestamp": now()})
        }
    }
}

fn record(m: &crate::metrics::Metrics, e: &LiveEvent) {
    match e {
        LiveEvent::Transcription { is_final: true, stt_ms, e2e_ms, .. } => {
            m.observe_ms("stt", Some(*stt_ms));
            m.observe_ms("e2e_transcript", *e2e_ms);
        }
        LiveEvent::Translation { is_final: true, mt_ms, e2e_ms, .. } => {
            m.observe_ms("mt", Some(*mt_ms));
            m.observe_ms("e2e_translation", *e2e_ms);
        }
        LiveEvent::Audio { tts_ms, e2e_ms, .. } => {
            m.observe_ms("tts", Some(*tts_ms));
            m.observe_ms("e2e_audio", *e2e_ms);
        }
        _ => {}
    }
}

async fn session(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(16);
    // The writer: the only owner of the socket's sending half. A client that stops reading
    // blocks it, and through the bounded channels, the whole session (never memory).
    let metrics = state.metrics.clone();
    let send_timeout = state.live_send_timeout;
    let mut writer = tokio::spawn(
        async move {
            while let Some(o) = out_rx.recv().await {
                let msg = match o {
                    Out::Json(v) => {
                        // Every error a client sees, protocol or engine, counted by its code.
                        if v["type"] == "error" {
                            metrics.errors.with_label_values(&[v["code"].as_str().unwrap_or("internal")]).inc();
                        }
                        Message::Text(Utf8Bytes::from(v.to_string()))
                    }
                    Out::Close(code, reason) => {
                        let close = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
                        let _ = tokio::time::timeout(send_timeout, sink.send(Message::Close(Some(close)))).await;
                        break;
                    }
                };
                match tokio::time::timeout(send_timeout, sink.send(msg)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break,
                    Err(_) => {
                        // Its buffers are full: no close frame can get through either.
                        tracing::warn!("client read nothing for {send_timeout:?}; disconnecting");
                        break;
                    }
                }
            }
        }
        .in_current_span(),
    );
    let mut input: Option<Input> = None;
    // After `end`, frames still arriving (a microphone not yet stopped) are read and dropped, so
    // the socket closes cleanly instead of being reset with unread data.
    let mut ending = false;
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            // The writer has sent the close (or the client is gone): the session is over.
            _ = &mut writer => return,
        };
        let Some(msg) = msg else { break };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                // Mostly a frame over MAX_FRAME_BYTES; the reason goes with the close.
                tracing::debug!("websocket read failed: {e}");
                let _ = out_tx.send(Out::Close(1009, "frame too large or malformed")).await;
                break;
            }
        };
        if ending {
            if matches!(msg, Message::Close(_)) {
                break;
            }
            continue;
        }
        let pcm = match msg {
            Message::Binary(b) => Some(b.to_vec()),
            Message::Text(t) => match handle_text(&state, t.as_str(), &mut input, &out_tx).await {
                Step::Continue(pcm) => pcm,
                Step::End => {
                    ending = true;
                    continue;
                }
            },
            Message::Close(_) => break,
            _ => None,
        };
        let Some(pcm) = pcm else { continue };
        match &input {
            Some((tx, spec, recording)) => {
                if let Some(audio) = recording
                    && let Ok(mono) = spec.to_mono(&pcm)
                {
                    let full = audio.lock().unwrap_or_else(|e| e.into_inner()).push(&mono);
                    if let Some(full) = full {
                        let _ = out_tx.send(error(full.code, full.message)).await;
                    }
                }
                if tx.send(LiveInput::Pcm { spec: *spec, data: pcm }).await.is_err() {
                    break;
                }
            }
            None => {
                let _ = out_tx
                    .send(error(ErrorCode::InvalidRequest, "audio before config: send {\"type\":\"config\",…} first"))
                    .await;
            }
        }
    }
    // Dropping the input ends the pipeline; `end` already asked it to flush first.
    drop(input);
    drop(out_tx);
    let _ = writer.await;
}

enum Step {
    Continue(Option<Vec<u8>>),
    End,
}

async fn handle_text(state: &AppState, text: &str, input: &mut Option<Input>, out: &mpsc::Sender<Out>) -> Step {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let _ = out.send(error(ErrorCode::InvalidRequest, format!("not JSON: {e}"))).await;
            return Step::Continue(None);
        }
    };
    match v["type"].as_str().unwrap_or_default() {
        "config" => {
            if input.is_some() {
                let _ = out.send(error(ErrorCode::InvalidRequest, "the session is already configured")).await;
                return Step::Continue(None);
            }
            match configure(state, v, out.clone()) {
                Ok(started) => *input = Some(started),
                Err(m) => {
                    let _ = out.send(m).await;
                }
            }
            Step::Continue(None)
        }
        "audio" => match v["data"].as_str().map(|d| base64::engine::general_purpose::STANDARD.decode(d)) {
            Some(Ok(pcm)) => Step::Continue(Some(pcm)),
            _ => {
                let _ = out.send(error(ErrorCode::InvalidAudio, "audio.data must be base64 PCM")).await;
                Step::Continue(None)
            }
        },
        "end" => {
            match input.take() {
                Some((tx, _, _)) => {
                    let _ = tx.send(LiveInput::End).await;
                }
                None => {
                    let _ = out.send(Out::Close(1000, "end")).await;
                }
            }
            Step::End
        }
        other => {
            let _ = out.send(error(ErrorCode::InvalidRequest, format!("unknown message type {other:?}"))).await;
            Step::Continue(None)
        }
    }
}

/// A started session: where its audio goes, its format, and the audio kept for the archive
/// when the client asked for a recording.
type Input = (mpsc::Sender<LiveInput>, PcmSpec, Option<Arc<Mutex<LiveRecording>>>);

/// Validates a config and starts the pipeline; its events are forwarded to the writer, and a
/// clean close follows the last one (after the `recording` message when one was asked for).
fn configure(state: &AppState, v: Value, out: mpsc::Sender<Out>) -> Result<Input, Out> {
    let c: Config =
        serde_json::from_value(v).map_err(|e| error(ErrorCode::InvalidRequest, format!("bad config: {e}")))?;
    let spec = PcmSpec::new(&c.format, c.sample_rate, c.channels).map_err(|e| error(e.code, e.message))?;
    let engines = LiveEngines { stt: state.stt.clone(), translator: state.translator.clone(), tts: state.tts.clone() };
    let mut cfg = LiveConfig::new(&c.source_language, &c.target_language, &c.voice_id);
    cfg.translate_interim = c.interim_translations;
    cfg.validate().map_err(|e| error(e.code, e.message))?;
    let archive = match (c.record, &state.archive) {
        (false, _) => None,
        (true, Some(a)) => Some(a.clone()),
        (true, None) => return Err(error(ErrorCode::EngineUnavailable, "this server runs no archive: cannot record")),
    };
    let meta = RecordingMeta {
        language: Some(c.source_language.clone()).filter(|l| l != "auto"),
        speaker: c.speaker.clone(),
        tags: c.tags.clone(),
        ..Default::default()
    };
    meta.validate().map_err(|e| error(e.code, e.message))?;
    let audio = archive.as_ref().map(|a| Arc::new(Mutex::new(a.live_recording(spec.sample_rate))));
    let kept = audio.clone();
    let (tx, mut events) = start(engines, cfg);
    let metrics = state.metrics.clone();
    let models = state.model_names.clone();
    metrics.active_sessions.inc();
    let forward = async move {
        let mut ended = "end";
        let mut segments = Vec::new();
        while let Some(e) = events.recv().await {
            record(&metrics, &e);
            if let LiveEvent::Transcription { is_final: true, text, language, start, end, words, .. } = &e
                && !text.trim().is_empty()
            {
                let id = segments.len() as u32;
                segments.push(Segment {
                    id,
                    start: *start,
                    end: *end,
                    text: text.clone(),
                    words: words.clone(),
                    no_speech_probability: 0.0,
                    language: language.clone(),
                });
            }
            if out.send(Out::Json(render(e))).await.is_err() {
                ended = "disconnect";
                break;
            }
        }
        metrics.active_sessions.dec();
        metrics.sessions.with_label_values(&[ended]).inc();
        if let (Some(archive), Some(audio), "end") = (archive, kept, ended) {
            let empty = archive.live_recording(spec.sample_rate);
            let audio = std::mem::replace(&mut *audio.lock().unwrap_or_else(|e| e.into_inner()), empty);
            let msg = match store_live(&archive, &models, audio, segments, meta).await {
                Ok(v) => Out::Json(v),
                Err(e) => error(e.code, format!("recording not stored: {}", e.message)),
            };
            let _ = out.send(msg).await;
        }
        let _ = out.send(Out::Close(1000, "end")).await;
    };
    tokio::spawn(forward.in_current_span());
    Ok((tx, spec, audio))
}
