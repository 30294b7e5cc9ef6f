//! `sokuji.live.LiveTranslationService`: a live session over one bidirectional gRPC stream, for
//! services that consume live translation without a WebSocket.
use super::pipeline::{LiveConfig, LiveEngines, LiveEvent, LiveInput, session_id, start};
use crate::stt::server::chunk_spec;
use sokuji_audio::{OutputFormat, encode};
use sokuji_core::{Error, ErrorCode};
use sokuji_proto::{
    common::{SynthesisResult, TranscriptionResult, TranslationResult},
    convert::status_from_error,
    live::{
        LiveError, LiveTranslation, live_event::Event, live_request::Message,
        live_translation_service_server::LiveTranslationService,
    },
};
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, Streaming, metadata::MetadataValue};
use tracing::Instrument;

pub struct LiveServer {
    engines: LiveEngines,
}

impl LiveServer {
    pub fn new(engines: LiveEngines) -> Self {
        Self { engines }
    }
}

/// Metadata key of the session id in the response headers (also on every server log line).
pub const SESSION_ID_KEY: &str = "x-sokuji-session-id";

type EventStream = Pin<Box<dyn Stream<Item = Result<sokuji_proto::live::LiveEvent, Status>> + Send>>;

fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The session's settings from the wire, with the same defaults as the WebSocket protocol.
fn config_from(c: sokuji_proto::live::LiveConfig) -> Result<(LiveConfig, OutputFormat), Error> {
    let source = if c.source_language.is_empty() { "auto" } else { c.source_language.as_str() };
    let voice = match (c.text_only, c.voice_id.as_str()) {
        (true, _) => "",
        (false, "") => "default",
        (false, v) => v,
    };
    let mut cfg = LiveConfig::new(source, &c.target_language, voice);
    cfg.translate_interim = !c.no_interim_translations;
    cfg.validate()?;
    let format = OutputFormat::parse(&c.audio_format)?;
    Ok((cfg, format))
}

fn to_wire(e: LiveEvent, format: OutputFormat) -> sokuji_proto::live::LiveEvent {
    let (segment_id, e2e_ms, event) = match e {
        LiveEvent::Transcription {
            segment_id,
            text,
            committed,
            language,
            is_final,
            confidence,
            start,
            end,
            words,
            stt_ms,
            e2e_ms,
        } => {
            let r = TranscriptionResult {
                text,
                language,
                confidence,
                timestamp: now_secs(),
                start_time: Some(start),
                end_time: Some(end),
                is_final,
                committed_text: committed,
                segment_id,
                processing_time_ms: stt_ms,
                words: words.iter().map(Into::into).collect(),
                ..Default::default()
            };
            (segment_id, e2e_ms, Event::Transcription(r))
        }
        LiveEvent::Translation {
            segment_id,
            text,
            source_text,
            source_language,
            target_language,
            is_final,
            mt_ms,
            e2e_ms,
        } => {
            let result = TranslationResult {
                original_text: source_text,
                translated_text: text,
                source_language,
                target_language,
                timestamp: now_secs(),
                processing_time_ms: mt_ms,
                ..Default::default()
            };
            (segment_id, e2e_ms, Event::Translation(LiveTranslation { result: Some(result), is_final }))
        }
        LiveEvent::Audio { segment_id, samples, sample_rate, text, tts_ms, e2e_ms } => {
            let duration_ms = samples.len() as f64 * 1000.0 / f64::from(sample_rate.max(1));
            let event = match encode(&samples, sample_rate, format) {
                Ok(audio_data) => Event::Audio(SynthesisResult {
                    audio_data,
                    sample_rate: sample_rate as i32,
                    text,
                    timestamp: now_secs(),
                    duration_ms,
                    format: format.as_str().into(),
                    is_last: true,
                    processing_time_ms: tts_ms,
                    ..Default::default()
                }),
                Err(e) => Event::Error(LiveError { code: e.code.as_str().into(), message: e.message }),
            };
            (segment_id, e2e_ms, event)
        }
        LiveEvent::Error { code, message } => {
            (0, None, Event::Error(LiveError { code: code.as_str().into(), message }))
        }
    };
    sokuji_proto::live::LiveEvent { segment_id, e2e_ms, event: Some(event) }
}

#[tonic::async_trait]
impl LiveTranslationService for LiveServer {
    type TranslateStream = EventStream;

    async fn translate(
        &self,
        request: Request<Streaming<sokuji_proto::live::LiveRequest>>,
    ) -> Result<Response<EventStream>, Status> {
        let id = session_id();
        let span = tracing::info_span!("live", session = %id, wire = "grpc");
        let mut inbound = request.into_inner();
        let first = inbound.message().await?.and_then(|m| m.message);
        let Some(Message::Config(c)) = first else {
            return Err(status_from_error(&Error::invalid_request(
                "the first message of a live session must be its config",
            )));
        };
        let (cfg, format) = config_from(c).map_err(|e| status_from_error(&e))?;
        let (input, events) = span.in_scope(|| start(self.engines.clone(), cfg));
        // Refused chunks are reported beside the pipeline's events; the session goes on.
        let (refused_tx, refused) = mpsc::channel::<LiveEvent>(4);
        tokio::spawn(
            async move {
                loop {
                    let chunk = match inbound.message().await {
                        Ok(Some(sokuji_proto::live::LiveRequest { message: Some(Message::Audio(chunk)) })) => chunk,
                        Ok(Some(_)) => {
                            let e = LiveEvent::Error {
                                code: ErrorCode::InvalidRequest,
                                message: "only audio may follow the config".into(),
                            };
                            let _ = refused_tx.send(e).await;
                            continue;
                        }
                        // Half-close: flush the open utterance, then the stages finish.
                        Ok(None) => {
                            let _ = input.send(LiveInput::End).await;
                            break;
                        }
                        // The client is gone: dropping the input ends the session.
                        Err(s) => {
                            tracing::info!("client stream ended: {}", s.message());
                            break;
                        }
                    };
                    match chunk_spec(&chunk) {
                        Ok(spec) => {
                            if input.send(LiveInput::Pcm { spec, data: chunk.data }).await.is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            tracing::info!(code = e.code.as_str(), "audio refused: {}", e.message);
                            let _ = refused_tx.send(LiveEvent::Error { code: e.code, message: e.message }).await;
                        }
                    }
                }
            }
            .instrument(span.clone()),
        );
        let out = ReceiverStream::new(events).merge(ReceiverStream::new(refused)).map(move |e| Ok(to_wire(e, format)));
        let mut response = Response::new(Box::pin(out) as EventStream);
        if let Ok(v) = MetadataValue::try_from(id.as_str()) {
            response.metadata_mut().insert(SESSION_ID_KEY, v);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_follow_the_websocket_protocol() {
        let wire = |source: &str, voice: &str, text_only| sokuji_proto::live::LiveConfig {
            source_language: source.into(),
            target_language: "en".into(),
            voice_id: voice.into(),
            text_only,
            ..Default::default()
        };
        let (c, f) = config_from(wire("", "", false)).expect("defaults");
        assert_eq!((c.source.as_str(), c.voice.as_str(), f), ("auto", "default", OutputFormat::Wav));
        assert!(c.translate_interim);
        assert_eq!(config_from(wire("vi", "piper:en", true)).expect("text only").0.voice, "");
        let e = config_from(wire("xx", "", false)).expect_err("unknown language");
        assert_eq!(e.code, ErrorCode::UnsupportedLanguage);
        let bad = sokuji_proto::live::LiveConfig { audio_format: "mp3".into(), ..wire("vi", "", false) };
        assert_eq!(config_from(bad).expect_err("mp3").code, ErrorCode::UnsupportedFormat);
    }
}
