//! `sokuji.live.LiveTranslationService`: a live session (sokuji-live) over one bidirectional
//! gRPC stream, for services that consume live translation without a WebSocket.
use crate::stt::server::chunk_spec;
use sokuji_admission::Admission;
use sokuji_audio::{OutputFormat, encode};
use sokuji_core::{Error, ErrorCode};
use sokuji_live::{LiveConfig, LiveEngines, LiveError, LiveEvent, LiveInput, session_id, start};
use sokuji_proto::{
    common::AudioChunk,
    convert::{live::synthesis_result, status_from_error},
    live::{live_event::Event, live_request::Message, live_translation_service_server::LiveTranslationService},
};
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, Streaming, metadata::MetadataValue};
use tracing::Instrument;

pub struct LiveServer {
    engines: LiveEngines,
    /// Encoding speech (FLAC most of all) is CPU work: off the async runtime.
    encoder: Admission,
}

impl LiveServer {
    pub fn new(engines: LiveEngines) -> Self {
        Self { engines, encoder: Admission::per_core("live-encode") }
    }
}

/// Feeds a client's chunks into a session on a task of their own, so that a client sending
/// faster than it reads cannot block the session against its own output: valid PCM goes in, a
/// refused chunk comes out as an error event (beside the session's events); half-closing the
/// stream flushes the session (`End`), a broken stream drops its input (the session ends).
pub(crate) fn feed(
    mut chunks: impl Stream<Item = Result<Result<AudioChunk, Error>, Status>> + Send + Unpin + 'static,
    input: mpsc::Sender<LiveInput>,
) -> mpsc::Receiver<LiveEvent> {
    let (refused_tx, refused) = mpsc::channel(4);
    let feeding = async move {
        loop {
            let spec = match chunks.next().await {
                Some(Ok(chunk)) => chunk.and_then(|c| Ok((chunk_spec(&c)?, c.data))),
                Some(Err(s)) => {
                    tracing::info!("client stream ended: {}", s.message());
                    return;
                }
                None => {
                    let _ = input.send(LiveInput::End).await;
                    return;
                }
            };
            match spec {
                Ok((spec, data)) => {
                    if input.send(LiveInput::Pcm { spec, data }).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::info!(code = e.code.as_str(), "audio refused: {}", e.message);
                    if refused_tx.send(LiveEvent::error(e)).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    tokio::spawn(feeding.in_current_span());
    refused
}

/// Metadata key of the session id in the response headers (also on every server log line).
pub const SESSION_ID_KEY: &str = "x-sokuji-session-id";

type EventStream = Pin<Box<dyn Stream<Item = Result<sokuji_proto::live::LiveEvent, Status>> + Send>>;

/// The session's settings from the wire, with the same defaults as the WebSocket protocol.
fn config_from(c: sokuji_proto::live::LiveConfig) -> Result<(LiveConfig, OutputFormat), Error> {
    let source = if c.source_language.is_empty() { "auto" } else { c.source_language.as_str() };
    let voice = match (c.text_only, c.voice_id.as_str()) {
        (true, _) => "",
        (false, "") => "default",
        (false, v) => v,
    };
    let mut cfg = LiveConfig::translate(source, &c.target_language, voice);
    cfg.translate_interim = !c.no_interim_translations;
    cfg.whole_sentences = c.whole_sentences;
    cfg.keep = c.do_not_translate;
    cfg.validate()?;
    let format = OutputFormat::parse(&c.audio_format)?;
    Ok((cfg, format))
}

/// The wire event for a session event; `None` for events this contract does not carry.
async fn to_wire(e: LiveEvent, format: OutputFormat, encoder: &Admission) -> Option<sokuji_proto::live::LiveEvent> {
    let (segment_id, e2e_ms, event) = match e {
        LiveEvent::Transcription(t) if t.is_final && t.text.trim().is_empty() => return None,
        LiveEvent::Transcription(t) => (t.segment_id, t.e2e_ms, Event::Transcription((&t).into())),
        LiveEvent::Translation(t) => (t.segment_id, t.e2e_ms, Event::Translation((&t).into())),
        LiveEvent::Audio(s) => {
            let (samples, rate) = (s.samples.clone(), s.sample_rate);
            let event = match encoder.run(None, move |_| encode(&samples, rate, format)).await {
                Ok(data) => Event::Audio(synthesis_result(&s, data, format.as_str())),
                Err(e) => Event::Error((&LiveError::new(e)).into()),
            };
            (s.segment_id, s.e2e_ms, event)
        }
        LiveEvent::Error(e) => (e.segment_id.unwrap_or(0), None, Event::Error((&e).into())),
        _ => return None,
    };
    Some(sokuji_proto::live::LiveEvent { segment_id, e2e_ms, event: Some(event) })
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
        let meter = crate::grpc_auth::meter(&request);
        let slot = crate::grpc_auth::live_slot(meter.as_ref()).await?;
        let mut inbound = request.into_inner();
        let first = inbound.message().await?.and_then(|m| m.message);
        let Some(Message::Config(c)) = first else {
            return Err(status_from_error(&Error::invalid_request(
                "the first message of a live session must be its config",
            )));
        };
        let (cfg, format) = config_from(c).map_err(|e| status_from_error(&e))?;
        let (input, events) = span.in_scope(|| start(LiveEngines { meter, ..self.engines.clone() }, cfg));
        let chunks = inbound.map(|m| {
            m.map(|m| match m.message {
                Some(Message::Audio(chunk)) => Ok(chunk),
                _ => Err(Error::new(ErrorCode::InvalidRequest, "only audio may follow the config")),
            })
        });
        // Refused chunks are reported beside the session's events; the session goes on.
        let refused = span.in_scope(|| feed(chunks, input));
        let encoder = self.encoder.clone();
        let out = ReceiverStream::new(events)
            .merge(ReceiverStream::new(refused))
            .then(move |e| {
                // The stream owns the session's slot: held while its events stream.
                let _held = &slot;
                let encoder = encoder.clone();
                async move { to_wire(e, format, &encoder).await }
            })
            .filter_map(|e| e.map(Ok));
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
        assert!(c.translate_interim && !c.whole_sentences);
        let whole = sokuji_proto::live::LiveConfig { whole_sentences: true, ..wire("vi", "", false) };
        assert!(config_from(whole).expect("whole sentences").0.whole_sentences);
        assert_eq!(config_from(wire("vi", "piper:en", true)).expect("text only").0.voice, "");
        let e = config_from(wire("xx", "", false)).expect_err("unknown language");
        assert_eq!(e.code, ErrorCode::UnsupportedLanguage);
        let bad = sokuji_proto::live::LiveConfig { audio_format: "mp3".into(), ..wire("vi", "", false) };
        assert_eq!(config_from(bad).expect_err("mp3").code, ErrorCode::UnsupportedFormat);
    }
}
