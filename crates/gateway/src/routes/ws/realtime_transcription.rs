//! OpenAI's realtime transcription sessions (`/v1/realtime?intent=transcription`): 24 kHz PCM16
//! appended in base64, server VAD (or the client's commits), and the transcript of each item as
//! append-only deltas, then `completed`. Deltas come from the committed prefix of interim
//! results, so they never need taking back; the final adds whatever the prefix lacked.
use super::{
    driver::{Outgoing, Protocol, Start, Step},
    realtime_events::{Events, INPUT_RATE, error_detail},
};
use base64::Engine as _;
use sokuji_api::realtime::{
    AudioFormat, BetaSessionUpdate, BetaTranscriptionSession, ClientEvent, InputTranscription, ServerEvent, Session,
    SessionUpdate, TranscriptionAudio, TranscriptionInput, TranscriptionSession, TurnDetection, Usage,
};
use sokuji_audio::PcmSpec;
use sokuji_core::{Error, ErrorCode, Result, stream::EndpointConfig};
use sokuji_live::{LiveConfig, LiveEvent, LiveInput, LiveUpdate, Transcription as Heard, Turns};
use std::collections::HashMap;

pub struct Transcription {
    id: String,
    /// The beta shapes (`transcription_session.*`) instead of GA's `session.*`.
    beta: bool,
    transcription: InputTranscription,
    turn_detection: Option<TurnDetection>,
    rate: u32,
    started: bool,
    events: Events,
    /// Text already sent as deltas, per item.
    sent: HashMap<u64, String>,
    previous_item: Option<String>,
}

fn server_vad() -> TurnDetection {
    TurnDetection {
        kind: "server_vad".into(),
        threshold: None,
        prefix_padding_ms: Some(300),
        silence_duration_ms: Some(500),
    }
}

/// The turns a client's turn detection asks for: OpenAI's units, the endpointer's frames.
pub fn turns(t: &Option<TurnDetection>) -> Turns {
    let Some(t) = t else { return Turns::Manual };
    let d = EndpointConfig::default();
    let frames = |ms: u32| ((f64::from(ms) / 1000.0 / d.frame_secs).round() as u32).max(1);
    Turns::Vad(EndpointConfig {
        start_threshold: t.threshold.map_or(d.start_threshold, |x| x.clamp(0.05, 0.99)),
        end_threshold: t.threshold.map_or(d.end_threshold, |x| (x.clamp(0.05, 0.99) * 0.7).min(d.end_threshold)),
        min_silence_frames: t.silence_duration_ms.map_or(d.min_silence_frames, frames),
        ..d
    })
}

/// The PCM a declared format means: 16-bit mono at its rate (24 kHz when none is given).
pub fn input_rate(format: Option<&AudioFormat>, beta_format: Option<&str>) -> Result<u32> {
    let kind = format.map(|f| f.kind.as_str()).or(beta_format).unwrap_or("audio/pcm");
    match kind {
        "audio/pcm" | "pcm16" => {
            let rate = format.and_then(|f| f.rate).unwrap_or(INPUT_RATE);
            PcmSpec::new("int16", i64::from(rate), 1)?;
            Ok(rate)
        }
        other => Err(Error::new(
            ErrorCode::UnsupportedFormat,
            format!("input audio format {other:?} is not supported: send audio/pcm (PCM16, mono)"),
        )),
    }
}

impl Transcription {
    pub fn new(session: &str, beta: bool) -> Self {
        Self {
            id: format!("sess_{session}"),
            beta,
            transcription: InputTranscription { model: Some("whisper-1".into()), language: None, prompt: None },
            turn_detection: Some(server_vad()),
            rate: INPUT_RATE,
            started: false,
            events: Events::new(session),
            sent: HashMap::new(),
            previous_item: None,
        }
    }

    fn item_id(&self, segment: u64) -> String {
        format!("item_{}_{segment}", self.id.trim_start_matches("sess_"))
    }

    fn fail(&mut self, e: Error, event_id: Option<&str>) -> Vec<Step> {
        vec![Step::Send(self.events.error(&e, event_id))]
    }

    fn session(&self) -> Session {
        let format = AudioFormat { kind: "audio/pcm".into(), rate: Some(self.rate) };
        if self.beta {
            return Session::BetaTranscription(BetaTranscriptionSession {
                id: self.id.clone(),
                object: "realtime.transcription_session".into(),
                input_audio_format: "pcm16".into(),
                input_audio_transcription: self.transcription.clone(),
                turn_detection: self.turn_detection.clone(),
            });
        }
        Session::Transcription(TranscriptionSession {
            id: self.id.clone(),
            object: "realtime.transcription_session".into(),
            kind: "transcription".into(),
            audio: TranscriptionAudio {
                input: TranscriptionInput {
                    format,
                    transcription: self.transcription.clone(),
                    turn_detection: self.turn_detection.clone(),
                },
            },
        })
    }

    fn updated(&mut self) -> Outgoing {
        let session = self.session();
        if self.beta {
            self.events.send(|event_id| ServerEvent::TranscriptionSessionUpdated { event_id, session })
        } else {
            self.events.send(|event_id| ServerEvent::SessionUpdated { event_id, session })
        }
    }

    /// Applies a session update (either shape), all or nothing.
    fn update(
        &mut self,
        rate: Result<Option<u32>>,
        transcription: Option<Option<InputTranscription>>,
        turn_detection: Option<Option<TurnDetection>>,
    ) -> Result<Vec<Step>> {
        let rate = rate?;
        let transcription = transcription.flatten();
        let language = transcription.as_ref().and_then(|t| t.language.clone()).filter(|l| !l.is_empty());
        LiveConfig::transcribe(language.as_deref().unwrap_or("auto")).validate()?;
        if rate.is_some_and(|r| self.started && r != self.rate) {
            return Err(Error::invalid_request("the input format cannot change once audio has been sent"));
        }
        if let Some(r) = rate {
            self.rate = r;
        }
        if let Some(t) = transcription {
            self.transcription = t;
        }
        if let Some(t) = turn_detection {
            self.turn_detection = t;
        }
        let mut steps = Vec::new();
        if self.started {
            let update = LiveUpdate {
                source: Some(self.language().to_string()),
                turns: Some(turns(&self.turn_detection)),
                ..Default::default()
            };
            steps.push(Step::Input(LiveInput::Update(update)));
        }
        steps.push(Step::Send(self.updated()));
        Ok(steps)
    }

    fn language(&self) -> &str {
        self.transcription.language.as_deref().filter(|l| !l.is_empty()).unwrap_or("auto")
    }

    fn append(&mut self, audio: &str) -> Result<Vec<Step>> {
        let data = base64::engine::general_purpose::STANDARD
            .decode(audio)
            .map_err(|_| Error::invalid_audio("audio must be base64 PCM16"))?;
        let spec = PcmSpec::new("int16", i64::from(self.rate), 1)?;
        let mut steps = Vec::new();
        if !self.started {
            let mut config = LiveConfig::transcribe(self.language());
            config.recognizer.turns = turns(&self.turn_detection);
            config.validate()?;
            self.started = true;
            steps.push(Step::Start(Box::new(Start { config, record: None })));
        }
        steps.push(Step::Input(LiveInput::Pcm { spec, data }));
        Ok(steps)
    }

    /// Deltas for a transcript of an item: what its committed text adds to what was sent.
    fn transcript(&mut self, t: Heard) -> Vec<Outgoing> {
        let item_id = self.item_id(t.segment_id);
        let sent = self.sent.remove(&t.segment_id).unwrap_or_default();
        let now = if t.is_final { t.text.clone() } else { t.committed.clone() };
        let mut out = Vec::new();
        let delta = now.strip_prefix(sent.as_str()).filter(|d| !d.is_empty()).map(String::from);
        if let Some(delta) = delta {
            let item_id = item_id.clone();
            out.push(self.events.send(|event_id| ServerEvent::TranscriptionDelta {
                event_id,
                item_id,
                content_index: 0,
                delta,
            }));
        }
        if t.is_final {
            let usage = Usage { kind: "duration".into(), seconds: (t.end - t.start).max(0.0) };
            out.push(self.events.send(|event_id| ServerEvent::TranscriptionCompleted {
                event_id,
                item_id,
                content_index: 0,
                transcript: t.text,
                usage,
            }));
        } else {
            self.sent.insert(t.segment_id, if now.starts_with(&sent) { now } else { sent });
        }
        out
    }
}

impl Protocol for Transcription {
    fn opened(&mut self) -> Vec<Outgoing> {
        let session = self.session();
        vec![if self.beta {
            self.events.send(|event_id| ServerEvent::TranscriptionSessionCreated { event_id, session })
        } else {
            self.events.send(|event_id| ServerEvent::SessionCreated { event_id, session })
        }]
    }

    fn text(&mut self, text: &str) -> Vec<Step> {
        let event = match serde_json::from_str::<ClientEvent>(text) {
            Ok(e) => e,
            Err(e) => return self.fail(Error::invalid_request(format!("unknown or malformed event: {e}")), None),
        };
        let id = event.event_id().map(String::from);
        let steps = match event {
            ClientEvent::SessionUpdate { session: SessionUpdate { kind, audio }, .. } => {
                if kind.as_deref().is_some_and(|k| k != "transcription") {
                    Err(Error::invalid_request(format!(
                        "session type {kind:?}: this endpoint serves transcription sessions only"
                    )))
                } else {
                    let input = audio.and_then(|a| a.input).unwrap_or_default();
                    let rate = input.format.as_ref().map(|f| input_rate(Some(f), None)).transpose();
                    self.update(rate, input.transcription, input.turn_detection)
                }
            }
            ClientEvent::TranscriptionSessionUpdate {
                session: BetaSessionUpdate { input_audio_format, input_audio_transcription, turn_detection },
                ..
            } => {
                let rate = input_audio_format.as_deref().map(|f| input_rate(None, Some(f))).transpose();
                self.update(rate, input_audio_transcription, turn_detection)
            }
            ClientEvent::InputAudioBufferAppend { audio, .. } => self.append(&audio),
            ClientEvent::InputAudioBufferCommit { .. } if self.started => Ok(vec![Step::Input(LiveInput::Commit)]),
            ClientEvent::InputAudioBufferCommit { .. } => {
                Err(Error::invalid_request("the input audio buffer is empty: nothing to commit"))
            }
            ClientEvent::InputAudioBufferClear { .. } if self.started => Ok(vec![Step::Input(LiveInput::Clear)]),
            ClientEvent::InputAudioBufferClear { .. } => {
                Ok(vec![Step::Send(self.events.send(|event_id| ServerEvent::Cleared { event_id }))])
            }
            ClientEvent::SessionInputAudioBufferAppend { .. } | ClientEvent::SessionClose { .. } => {
                Err(Error::invalid_request("a translation session's event: use /v1/realtime/translations"))
            }
        };
        steps.unwrap_or_else(|e| self.fail(e, id.as_deref()))
    }

    fn binary(&mut self, _data: Vec<u8>) -> Vec<Step> {
        self.fail(Error::invalid_request("send audio as input_audio_buffer.append events (base64)"), None)
    }

    fn event(&mut self, e: LiveEvent) -> Vec<Outgoing> {
        match e {
            LiveEvent::SpeechStarted { segment_id, at } => {
                let item_id = self.item_id(segment_id);
                let audio_start_ms = (at * 1000.0) as u64;
                vec![self.events.send(|event_id| ServerEvent::SpeechStarted { event_id, audio_start_ms, item_id })]
            }
            LiveEvent::SpeechStopped { segment_id, at } => {
                let item_id = self.item_id(segment_id);
                let audio_end_ms = (at * 1000.0) as u64;
                vec![self.events.send(|event_id| ServerEvent::SpeechStopped { event_id, audio_end_ms, item_id })]
            }
            LiveEvent::Committed { segment_id, .. } => {
                let item_id = self.item_id(segment_id);
                let previous_item_id = self.previous_item.replace(item_id.clone());
                vec![self.events.send(|event_id| ServerEvent::Committed { event_id, item_id, previous_item_id })]
            }
            LiveEvent::Cleared => vec![self.events.send(|event_id| ServerEvent::Cleared { event_id })],
            LiveEvent::Transcription(t) => self.transcript(t),
            LiveEvent::Error(e) => {
                let err = Error::new(e.code, e.message);
                match e.segment_id {
                    Some(segment) => {
                        let item_id = self.item_id(segment);
                        let error = error_detail(&err, None);
                        let failed = self.events.send(|event_id| ServerEvent::TranscriptionFailed {
                            event_id,
                            item_id,
                            content_index: 0,
                            error,
                        });
                        vec![Outgoing { error: Some(err.code), ..failed }]
                    }
                    None => vec![self.events.error(&err, None)],
                }
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_live::Transcription as Heard;

    fn heard(segment_id: u64, is_final: bool, committed: &str, text: &str) -> LiveEvent {
        LiveEvent::Transcription(Heard {
            segment_id,
            is_final,
            text: text.into(),
            committed: committed.into(),
            language: "en".into(),
            ..Default::default()
        })
    }

    fn types(out: &[Outgoing]) -> Vec<String> {
        out.iter()
            .map(|o| {
                let v: serde_json::Value = serde_json::from_str(&o.text).unwrap_or_default();
                let t = v["type"].as_str().unwrap_or_default().to_string();
                match v["delta"].as_str() {
                    Some(d) => format!("{t} {d:?}"),
                    None => t,
                }
            })
            .collect()
    }

    #[test]
    fn deltas_only_append_and_add_up_to_the_transcript() {
        let mut p = Transcription::new("s", false);
        let mut out = Vec::new();
        for e in [
            LiveEvent::SpeechStarted { segment_id: 0, at: 0.5 },
            heard(0, false, "", "I"),
            heard(0, false, "I want", "I want to"),
            heard(0, false, "I want", "I want two"),
            heard(0, false, "I want to buy", "I want to buy tickets"),
            LiveEvent::SpeechStopped { segment_id: 0, at: 2.0 },
            LiveEvent::Committed { segment_id: 0, start: 0.2, end: 2.2 },
            heard(0, true, "I want to buy two tickets.", "I want to buy two tickets."),
            LiveEvent::Committed { segment_id: 1, start: 3.0, end: 4.0 },
            heard(1, true, "", ""),
        ] {
            out.extend(p.event(e));
        }
        assert_eq!(
            types(&out),
            [
                "input_audio_buffer.speech_started",
                "conversation.item.input_audio_transcription.delta \"I want\"",
                "conversation.item.input_audio_transcription.delta \" to buy\"",
                "input_audio_buffer.speech_stopped",
                "input_audio_buffer.committed",
                "conversation.item.input_audio_transcription.delta \" two tickets.\"",
                "conversation.item.input_audio_transcription.completed",
                "input_audio_buffer.committed",
                "conversation.item.input_audio_transcription.completed",
            ]
        );
        let last: serde_json::Value = serde_json::from_str(&out[8].text).unwrap_or_default();
        assert_eq!(last["transcript"], "", "an item of noise is answered, empty");
        let second_commit: serde_json::Value = serde_json::from_str(&out[7].text).unwrap_or_default();
        assert_eq!(second_commit["previous_item_id"], "item_s_0");
    }

    #[test]
    fn updates_and_bad_events() {
        let mut p = Transcription::new("s", false);
        let steps = p.text(
            r#"{"type":"session.update","session":{"type":"transcription","audio":{"input":{
            "transcription":{"model":"whisper-1","language":"vi"},"turn_detection":null}}}}"#,
        );
        assert!(
            matches!(&steps[..], [Step::Send(o)] if o.text.contains("session.updated") && o.text.contains("\"turn_detection\":null"))
        );
        let steps = p.text(r#"{"type":"input_audio_buffer.append","audio":"AAAA"}"#);
        let Some(Step::Start(s)) = steps.first() else { panic!("no start") };
        assert_eq!((s.config.source.as_str(), &s.config.recognizer.turns), ("vi", &Turns::Manual));
        assert!(matches!(steps.get(1), Some(Step::Input(LiveInput::Pcm { spec, .. })) if spec.sample_rate == 24_000));
        for (bad, code) in [
            (r#"{"type":"response.create"}"#, "invalid_request"),
            (r#"{"type":"input_audio_buffer.append","audio":"%%%"}"#, "invalid_audio"),
            (r#"{"type":"session.update","session":{"type":"realtime"}}"#, "invalid_request"),
            (
                r#"{"type":"session.update","session":{"audio":{"input":{"format":{"type":"audio/pcmu"}}}}}"#,
                "unsupported_format",
            ),
            (
                r#"{"type":"session.update","session":{"audio":{"input":{"transcription":{"language":"Vietnamese"}}}}}"#,
                "unsupported_language",
            ),
        ] {
            let steps = p.text(bad);
            let [Step::Send(o)] = &steps[..] else { panic!("{bad}: not one reply") };
            let v: serde_json::Value = serde_json::from_str(&o.text).unwrap_or_default();
            assert_eq!((v["type"].as_str(), v["error"]["code"].as_str()), (Some("error"), Some(code)), "{bad}");
        }
        let mut fresh = Transcription::new("t", true);
        assert!(types(&fresh.opened())[0] == "transcription_session.created", "beta clients get beta shapes");
        let steps = fresh.text(r#"{"type":"input_audio_buffer.commit","event_id":"c1"}"#);
        assert!(
            matches!(&steps[..], [Step::Send(o)] if o.text.contains("\"event_id\":\"c1\"")),
            "errors name the event"
        );
    }

    #[test]
    fn turn_detection_in_endpointer_units() {
        assert_eq!(turns(&None), Turns::Manual);
        let Turns::Vad(c) = turns(&Some(TurnDetection { silence_duration_ms: Some(320), ..server_vad() })) else {
            panic!("vad")
        };
        assert_eq!(c.min_silence_frames, 20);
    }
}
