//! OpenAI's realtime speech translation sessions (`/v1/realtime/translations`): 24 kHz PCM16
//! in; the translated transcript (`session.output_transcript.delta`), translated speech as
//! 24 kHz PCM16 (`session.output_audio.delta`) and, when asked for, the source transcript
//! (`session.input_transcript.delta`) out. Deltas are append-only: a final translation is sent
//! once whole, never a prefix that a later one might contradict.
use super::{
    driver::{Outgoing, Protocol, Start, Step},
    realtime_events::{Events, INPUT_RATE},
};
use base64::Engine as _;
use sokuji_api::realtime::{
    AudioOutput, ClientEvent, InputTranscription, ServerEvent, Session, SessionUpdate, TranslationAudio,
    TranslationInput, TranslationSession,
};
use sokuji_audio::PcmSpec;
use sokuji_core::{Error, Result};
use sokuji_live::{LiveConfig, LiveEvent, LiveInput, LiveUpdate, Spoken, Transcription};

/// Translated speech goes out at OpenAI's rate, whatever the voice's own.
const OUTPUT_RATE: u32 = 24_000;

pub struct Translation {
    id: String,
    model: String,
    language: String,
    /// Source transcription deltas asked for (`audio.input.transcription`).
    input_transcription: Option<InputTranscription>,
    started: bool,
    events: Events,
    /// What was sent of each stream, so that deltas join with spaces only between pieces.
    input_sent: bool,
    output_sent: bool,
    /// Source text already sent per utterance (committed prefixes of interim transcripts).
    input_item: Option<(u64, String)>,
    /// Stream time at which each recent utterance ended, for `elapsed_ms`.
    ends: std::collections::BTreeMap<u64, f64>,
    created: i64,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Stream time in OpenAI's 200 ms frames.
fn elapsed_ms(secs: f64) -> u64 {
    ((secs.max(0.0) * 5.0).round() as u64) * 200
}

impl Translation {
    pub fn new(session: &str, model: String) -> Self {
        Self {
            id: format!("sess_{session}"),
            model,
            language: "en".into(),
            input_transcription: None,
            started: false,
            events: Events::new(session),
            input_sent: false,
            output_sent: false,
            input_item: None,
            ends: Default::default(),
            created: now_secs(),
        }
    }

    fn session(&self) -> Session {
        Session::Translation(TranslationSession {
            id: self.id.clone(),
            kind: "translation".into(),
            model: self.model.clone(),
            expires_at: self.created + 3_600,
            audio: TranslationAudio {
                input: TranslationInput { transcription: self.input_transcription.clone() },
                output: AudioOutput { language: Some(self.language.clone()) },
            },
        })
    }

    fn update(&mut self, u: SessionUpdate) -> Result<Vec<Step>> {
        if u.kind.as_deref().is_some_and(|k| k != "translation") {
            return Err(Error::invalid_request(format!("session type {:?}: this endpoint serves translation", u.kind)));
        }
        let audio = u.audio.unwrap_or_default();
        let language = audio.output.and_then(|o| o.language).filter(|l| !l.is_empty());
        if let Some(l) = &language {
            LiveConfig::translate("auto", l, "default").validate()?;
        }
        if let Some(t) = audio.input.and_then(|i| i.transcription) {
            self.input_transcription = t;
        }
        let mut steps = Vec::new();
        if let Some(l) = language {
            self.language = l;
            if self.started {
                let update = LiveUpdate { target: Some(self.language.clone()), ..Default::default() };
                steps.push(Step::Input(LiveInput::Update(update)));
            }
        }
        let session = self.session();
        steps.push(Step::Send(self.events.send(|event_id| ServerEvent::SessionUpdated { event_id, session })));
        Ok(steps)
    }

    fn append(&mut self, audio: &str) -> Result<Vec<Step>> {
        let data = base64::engine::general_purpose::STANDARD
            .decode(audio)
            .map_err(|_| Error::invalid_audio("audio must be base64 PCM16 at 24 kHz"))?;
        let spec = PcmSpec::new("int16", i64::from(INPUT_RATE), 1)?;
        let mut steps = Vec::new();
        if !self.started {
            // Interims are translated ahead, so an utterance's final translation builds on them,
            // but never sent: the output deltas are append-only (`event`).
            let config = LiveConfig::translate("auto", &self.language, "default");
            config.validate()?;
            self.started = true;
            steps.push(Step::Start(Box::new(Start { config, record: None })));
        }
        steps.push(Step::Input(LiveInput::Pcm { spec, data }));
        Ok(steps)
    }

    fn elapsed(&self, segment: u64) -> u64 {
        elapsed_ms(self.ends.get(&segment).copied().unwrap_or(0.0))
    }

    /// The source transcript as deltas, when asked for.
    fn source(&mut self, t: Transcription) -> Vec<Outgoing> {
        if t.is_final {
            self.ends.insert(t.segment_id, t.end);
            // A few utterances of history: translation and speech follow their transcript closely.
            while self.ends.len() > 16 {
                self.ends.pop_first();
            }
        }
        if self.input_transcription.is_none() {
            return Vec::new();
        }
        let sent = match self.input_item.take() {
            Some((id, s)) if id == t.segment_id => s,
            _ => String::new(),
        };
        let now = if t.is_final { t.text.clone() } else { t.committed.clone() };
        let Some(rest) = now.strip_prefix(sent.as_str()).filter(|r| !r.trim().is_empty()) else {
            if !t.is_final {
                self.input_item = Some((t.segment_id, sent));
            }
            return Vec::new();
        };
        let delta = if sent.is_empty() && self.input_sent { format!(" {rest}") } else { rest.to_string() };
        self.input_sent = true;
        if !t.is_final {
            self.input_item = Some((t.segment_id, now));
        }
        let elapsed_ms = elapsed_ms(t.end);
        vec![self.events.send(|event_id| ServerEvent::InputTranscriptDelta { event_id, delta, elapsed_ms })]
    }

    fn speech(&mut self, s: Spoken) -> Vec<Outgoing> {
        let samples = match sokuji_audio::resample::convert(&s.samples, s.sample_rate, OUTPUT_RATE) {
            Ok(x) => x,
            Err(e) => {
                return vec![self.events.error(&e, None)];
            }
        };
        let pcm: Vec<u8> = samples.iter().flat_map(|x| sokuji_audio::wav::to_i16(*x).to_le_bytes()).collect();
        let delta = base64::engine::general_purpose::STANDARD.encode(pcm);
        let elapsed_ms = self.elapsed(s.segment_id);
        vec![self.events.send(|event_id| ServerEvent::OutputAudioDelta {
            event_id,
            delta,
            sample_rate: OUTPUT_RATE,
            channels: 1,
            format: "pcm16".into(),
            elapsed_ms,
        })]
    }
}

impl Protocol for Translation {
    fn opened(&mut self) -> Vec<Outgoing> {
        let session = self.session();
        vec![self.events.send(|event_id| ServerEvent::SessionCreated { event_id, session })]
    }

    fn text(&mut self, text: &str) -> Vec<Step> {
        let event = serde_json::from_str::<ClientEvent>(text)
            .map_err(|e| Error::invalid_request(format!("unknown or malformed event: {e}")));
        let id = event.as_ref().ok().and_then(|e| e.event_id()).map(String::from);
        let steps = event.and_then(|event| match event {
            ClientEvent::SessionUpdate { session, .. } => self.update(session),
            ClientEvent::SessionInputAudioBufferAppend { audio, .. } => self.append(&audio),
            ClientEvent::SessionClose { .. } if self.started => Ok(vec![Step::Input(LiveInput::End)]),
            ClientEvent::SessionClose { .. } => Ok(vec![
                Step::Send(self.events.send(|event_id| ServerEvent::SessionClosed { event_id })),
                Step::Close(1000, "session closed"),
            ]),
            _ => Err(Error::invalid_request("a transcription session's event: use /v1/realtime?intent=transcription")),
        });
        steps.unwrap_or_else(|e| vec![Step::Send(self.events.error(&e, id.as_deref()))])
    }

    fn binary(&mut self, _data: Vec<u8>) -> Vec<Step> {
        let e = Error::invalid_request("send audio as session.input_audio_buffer.append events");
        vec![Step::Send(self.events.error(&e, None))]
    }

    fn event(&mut self, e: LiveEvent) -> Vec<Outgoing> {
        match e {
            LiveEvent::Transcription(t) => self.source(t),
            LiveEvent::Translation(t) if t.is_final && !t.text.trim().is_empty() => {
                let delta = if self.output_sent { format!(" {}", t.text) } else { t.text };
                self.output_sent = true;
                let elapsed_ms = self.elapsed(t.segment_id);
                vec![self.events.send(|event_id| ServerEvent::OutputTranscriptDelta { event_id, delta, elapsed_ms })]
            }
            LiveEvent::Audio(s) => self.speech(s),
            LiveEvent::Error(e) => vec![self.events.error(&Error::new(e.code, e.message), None)],
            _ => Vec::new(),
        }
    }

    fn ended(&mut self) -> Vec<Outgoing> {
        vec![self.events.send(|event_id| ServerEvent::SessionClosed { event_id })]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_live::Translated;

    fn translated(segment_id: u64, text: &str) -> LiveEvent {
        LiveEvent::Translation(Translated {
            segment_id,
            text: text.into(),
            source_text: "x".into(),
            source_language: "vi".into(),
            target_language: "en".into(),
            is_final: true,
            mt_ms: 1.0,
            e2e_ms: None,
            ..Default::default()
        })
    }

    fn json(o: &Outgoing) -> serde_json::Value {
        serde_json::from_str(&o.text).unwrap_or_default()
    }

    #[test]
    fn output_is_append_only_and_audio_is_24k_pcm16() {
        let mut p = Translation::new("s", "m".into());
        assert_eq!(json(&p.opened()[0])["session"]["audio"]["output"]["language"], "en");
        let steps = p.text(r#"{"type":"session.update","session":{"audio":{"output":{"language":"ja"}}}}"#);
        assert!(matches!(&steps[..], [Step::Send(o)] if json(o)["session"]["audio"]["output"]["language"] == "ja"));
        let steps = p.text(r#"{"type":"session.input_audio_buffer.append","audio":"AAAA"}"#);
        let Some(Step::Start(s)) = steps.first() else { panic!("no start") };
        assert_eq!((s.config.target.as_deref(), s.config.translate_interim), (Some("ja"), true));
        let interim =
            LiveEvent::Translation(Translated { is_final: false, text: "こん".into(), ..Default::default() });
        assert!(p.event(interim).is_empty(), "interim translations are not sent");
        let a = p.event(translated(0, "こんにちは。"));
        let b = p.event(translated(1, "元気です。"));
        assert_eq!(json(&a[0])["delta"], "こんにちは。");
        assert_eq!(json(&b[0])["delta"], " 元気です。", "pieces joined by the server");
        let speech = LiveEvent::Audio(Spoken {
            segment_id: 1,
            samples: vec![0.25; 22_050],
            sample_rate: 22_050,
            text: "元気です。".into(),
            tts_ms: 1.0,
            e2e_ms: None,
        });
        let out = p.event(speech);
        let v = json(&out[0]);
        assert_eq!((v["type"].as_str(), v["sample_rate"].as_u64()), (Some("session.output_audio.delta"), Some(24_000)));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["delta"].as_str().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(bytes.len(), 2 * 24_000, "one second at 24 kHz, 16-bit");
    }

    #[test]
    fn source_transcript_only_when_asked() {
        let mut p = Translation::new("s", "m".into());
        let heard = |id, is_final, committed: &str, text: &str| {
            LiveEvent::Transcription(Transcription {
                segment_id: id,
                is_final,
                text: text.into(),
                committed: committed.into(),
                language: "vi".into(),
                ..Default::default()
            })
        };
        assert!(p.event(heard(0, true, "xin chào", "xin chào")).is_empty());
        let _ = p
            .text(r#"{"type":"session.update","session":{"audio":{"input":{"transcription":{"model":"whisper-1"}}}}}"#);
        let deltas: Vec<String> = [
            heard(1, false, "tôi", "tôi muốn"),
            heard(1, true, "tôi muốn đi", "tôi muốn đi"),
            heard(2, true, "", "vâng"),
        ]
        .into_iter()
        .flat_map(|e| p.event(e))
        .map(|o| json(&o)["delta"].as_str().unwrap_or_default().to_string())
        .collect();
        assert_eq!(deltas, ["tôi", " muốn đi", " vâng"]);
        let close = p.text(r#"{"type":"session.close"}"#);
        assert!(matches!(close[..], [Step::Send(_), Step::Close(1000, _)]), "nothing started: closed at once");
        let _ = p.text(r#"{"type":"session.input_audio_buffer.append","audio":"AAAA"}"#);
        let close = p.text(r#"{"type":"session.close"}"#);
        assert!(matches!(close[..], [Step::Input(LiveInput::End)]), "a started session flushes first");
    }
}
