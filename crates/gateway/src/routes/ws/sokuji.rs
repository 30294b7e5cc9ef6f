//! The original system's live JSON protocol (`sokuji_api::live`), for translation
//! (`/api/v1/ws/translate`) and transcription alone (`/api/v1/ws/asr`).
use super::driver::{Ctx, Outgoing, Protocol, Start, Step};
use base64::Engine as _;
use sokuji_api::live::{
    AudioMessage, ClientMessage, Config, ErrorMessage, RecordingMessage, ServerMessage, TranscriptionMessage,
    TranslationMessage,
};
use sokuji_audio::{OutputFormat, PcmSpec, encode};
use sokuji_core::{Error, ErrorCode, Result, archive::RecordingMeta};
use sokuji_live::{LiveConfig, LiveEvent, LiveInput, LiveUpdate};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Translate,
    /// Transcription only: the same session with translation and speech off.
    Transcribe,
}

pub struct SokujiJson {
    mode: Mode,
    ctx: Ctx,
    /// How audio frames are encoded, once the session has started.
    spec: Option<Frames>,
}

/// How a client's audio frames are encoded.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Frames {
    Pcm(PcmSpec),
    /// Pieces of one WebM or Ogg stream (a browser's MediaRecorder: `audio/webm;codecs=opus`).
    Media,
}

impl Frames {
    fn of(c: &Config) -> Result<Self> {
        match c.format.as_str() {
            "webm" | "ogg" | "opus" => Ok(Self::Media),
            other => Ok(Self::Pcm(PcmSpec::new(other, c.sample_rate, c.channels)?)),
        }
    }

    fn input(self, data: Vec<u8>) -> LiveInput {
        match self {
            Self::Pcm(spec) => LiveInput::Pcm { spec, data },
            Self::Media => LiveInput::Media(data),
        }
    }
}

/// Milliseconds since the Unix epoch (the protocol's `timestamp`).
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn error(code: ErrorCode, message: impl Into<String>, segment_id: Option<u64>) -> Outgoing {
    let m = ServerMessage::Error(ErrorMessage {
        code: code.as_str().into(),
        message: message.into(),
        timestamp: now_ms(),
        segment_id,
    });
    Outgoing::error(code, &m)
}

fn refuse(e: Error) -> Vec<Step> {
    vec![Step::Send(error(e.code, e.message, None))]
}

impl SokujiJson {
    pub fn new(mode: Mode, ctx: Ctx) -> Self {
        Self { mode, ctx, spec: None }
    }

    /// The session settings and PCM format a config asks for, checked whole.
    fn settings(&self, c: &Config) -> Result<(LiveConfig, Frames)> {
        let spec = Frames::of(c)?;
        let mut config = match self.mode {
            Mode::Translate => LiveConfig::translate(&c.source_language, &c.target_language, &c.voice_id),
            Mode::Transcribe => LiveConfig::transcribe(&c.source_language),
        };
        config.translate_interim = c.interim_translations;
        config.whole_sentences = c.whole_sentences;
        config.speech_translation = c.speech_translation;
        config.keep = c.do_not_translate.clone();
        config.validate()?;
        Ok((config, spec))
    }

    /// The session a config asks for, checked whole before anything starts.
    fn start(&mut self, c: Config) -> Result<Vec<Step>> {
        let (mut config, spec) = self.settings(&c)?;
        let record = if c.record {
            let cap = self.ctx.record_cap.ok_or_else(|| {
                Error::new(ErrorCode::EngineUnavailable, "this server runs no archive: cannot record")
            })?;
            config.record = Some(cap);
            let meta = RecordingMeta {
                language: Some(c.source_language.clone()).filter(|l| l != "auto"),
                speaker: c.speaker,
                source: c.source,
                tags: c.tags,
                ..Default::default()
            };
            meta.validate()?;
            Some(meta)
        } else {
            None
        };
        self.spec = Some(spec);
        Ok(vec![Step::Start(Box::new(Start { config, record }))])
    }

    /// A later config: languages and voice change for the utterances that follow, and the PCM
    /// format for the frames that follow; a bad one changes neither.
    fn update(&mut self, c: Config) -> Result<Vec<Step>> {
        let (config, spec) = self.settings(&c)?;
        let update = LiveUpdate {
            source: Some(config.source),
            target: config.target,
            voice: (self.mode == Mode::Translate).then_some(config.voice),
            turns: None,
            keep: Some(config.keep),
        };
        self.spec = Some(spec);
        Ok(vec![Step::Input(LiveInput::Update(update))])
    }

    /// PCM in the session's format; audio before any config starts the session with the
    /// original system's defaults.
    fn audio(&mut self, data: Vec<u8>) -> Vec<Step> {
        let mut steps = Vec::new();
        if self.spec.is_none() {
            match self.start(Config::default()) {
                Ok(s) => steps.extend(s),
                Err(e) => return refuse(e),
            }
        }
        if let Some(frames) = self.spec {
            steps.push(Step::Input(frames.input(data)));
        }
        steps
    }
}

impl Protocol for SokujiJson {
    fn text(&mut self, text: &str) -> Vec<Step> {
        let msg = match serde_json::from_str::<ClientMessage>(text) {
            Ok(m) => m,
            Err(e) => return refuse(Error::invalid_request(format!("bad message: {e}"))),
        };
        let started = self.spec.is_some();
        match msg {
            ClientMessage::Config(c) if started => self.update(c).unwrap_or_else(refuse),
            ClientMessage::Config(c) => self.start(c).unwrap_or_else(refuse),
            ClientMessage::Audio { data, .. } => match base64::engine::general_purpose::STANDARD.decode(data) {
                Ok(pcm) => self.audio(pcm),
                Err(_) => refuse(Error::invalid_audio("audio.data must be base64 PCM")),
            },
            ClientMessage::Commit if started => vec![Step::Input(LiveInput::Commit)],
            ClientMessage::Commit => refuse(Error::invalid_request("nothing to commit: no audio yet")),
            ClientMessage::End if started => vec![Step::Input(LiveInput::End)],
            ClientMessage::End => vec![Step::Close(1000, "end")],
        }
    }

    fn binary(&mut self, data: Vec<u8>) -> Vec<Step> {
        self.audio(data)
    }

    fn event(&mut self, e: LiveEvent) -> Vec<Outgoing> {
        let m = match e {
            // Nothing was said: the original protocol has no message for it.
            LiveEvent::Transcription(t) if t.is_final && t.text.trim().is_empty() => return Vec::new(),
            LiveEvent::Transcription(t) => ServerMessage::Transcription(TranscriptionMessage {
                text: t.text,
                language: t.language,
                is_final: t.is_final,
                confidence: t.confidence,
                timestamp: now_ms(),
                segment_id: t.segment_id,
                committed_text: t.committed,
                start: t.start,
                end: t.end,
                stt_ms: t.stt_ms,
                e2e_ms: t.e2e_ms,
                words: t.words.iter().map(sokuji_api::rest::transcript::Word::from).collect(),
                engine: t.producer.engine,
                model: t.producer.model,
            }),
            LiveEvent::Translation(t) => ServerMessage::Translation(TranslationMessage {
                text: t.text,
                source_language: t.source_language,
                target_language: t.target_language,
                timestamp: now_ms(),
                is_final: t.is_final,
                segment_id: t.segment_id,
                source_text: t.source_text,
                mt_ms: t.mt_ms,
                e2e_ms: t.e2e_ms,
                engine: t.engine,
                model: t.model,
            }),
            LiveEvent::Audio(a) => {
                // WAV is a header in front of the samples: no CPU worth a pool.
                let wav = encode(&a.samples, a.sample_rate, OutputFormat::Wav).unwrap_or_default();
                ServerMessage::Audio(AudioMessage {
                    data: base64::engine::general_purpose::STANDARD.encode(wav),
                    format: "wav".into(),
                    sample_rate: a.sample_rate,
                    timestamp: now_ms(),
                    segment_id: a.segment_id,
                    text: a.text,
                    tts_ms: a.tts_ms,
                    e2e_ms: a.e2e_ms,
                })
            }
            LiveEvent::Error(e) => return vec![error(e.code, e.message, e.segment_id)],
            _ => return Vec::new(),
        };
        vec![Outgoing::message(&m)]
    }

    fn stored(&mut self, r: Result<RecordingMessage>) -> Vec<Outgoing> {
        vec![match r {
            Ok(m) => Outgoing::message(&ServerMessage::Recording(m)),
            Err(e) => error(e.code, e.message, None),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx { record_cap: None }
    }

    fn kinds(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Start(_) => "start".into(),
                Step::Input(LiveInput::Pcm { .. }) => "pcm".into(),
                Step::Input(i) => format!("{i:?}").split(['(', ' ']).next().unwrap_or_default().to_lowercase(),
                Step::Send(o) => format!("send {}", o.error.map(|c| c.as_str()).unwrap_or("message")),
                Step::Close(code, _) => format!("close {code}"),
            })
            .collect()
    }

    #[test]
    fn frames_become_steps() {
        // (mode, frames in order, the steps of the last frame)
        let cases: &[(Mode, &[&str], &[&str])] = &[
            (Mode::Translate, &[r#"{"type":"config","target_language":"vi"}"#], &["start"]),
            (Mode::Translate, &[r#"{"type":"config","target_language":"xx"}"#], &["send unsupported_language"]),
            (Mode::Translate, &[r#"{"type":"config"}"#, r#"{"type":"config","target_language":"ja"}"#], &["update"]),
            (
                Mode::Translate,
                &[r#"{"type":"config"}"#, r#"{"type":"config","target_language":"xx","sample_rate":48000}"#],
                &["send unsupported_language"],
            ),
            (
                Mode::Translate,
                &[r#"{"type":"config","target_language":"vi","sample_rate":5}"#],
                &["send invalid_audio"],
            ),
            // Audio first: the original system's defaults (auto -> en).
            (Mode::Translate, &[r#"{"type":"audio","data":"AAAA"}"#], &["start", "pcm"]),
            (Mode::Translate, &[r#"{"type":"audio","data":"***"}"#], &["send invalid_audio"]),
            (Mode::Translate, &[r#"{"type":"end"}"#], &["close 1000"]),
            (Mode::Translate, &[r#"{"type":"config"}"#, r#"{"type":"end"}"#], &["end"]),
            (Mode::Translate, &[r#"{"type":"commit"}"#], &["send invalid_request"]),
            (Mode::Translate, &[r#"{"type":"config"}"#, r#"{"type":"commit"}"#], &["commit"]),
            (Mode::Translate, &["not json"], &["send invalid_request"]),
            (Mode::Translate, &[r#"{"type":"dance"}"#], &["send invalid_request"]),
            (Mode::Transcribe, &[r#"{"type":"config","language":"vi"}"#], &["start"]),
            (Mode::Transcribe, &[r#"{"type":"config","language":"vi","record":true}"#], &["send engine_unavailable"]),
            (Mode::Transcribe, &[r#"{"type":"config","language":"Vietnamese"}"#], &["send unsupported_language"]),
            // A MediaRecorder stream: its pieces go to the session undecoded, as one stream.
            (
                Mode::Transcribe,
                &[r#"{"type":"config","language":"vi","format":"webm"}"#, r#"{"type":"audio","data":"GkXfow=="}"#],
                &["media"],
            ),
            (
                Mode::Translate,
                &[r#"{"type":"config","format":"ogg"}"#, r#"{"type":"audio","data":"T2dnUw=="}"#],
                &["media"],
            ),
            (Mode::Translate, &[r#"{"type":"config","format":"mp4"}"#], &["send invalid_audio"]),
        ];
        for (mode, frames, expected) in cases {
            let mut p = SokujiJson::new(*mode, ctx());
            let mut last = Vec::new();
            for f in *frames {
                last = p.text(f);
            }
            assert_eq!(kinds(&last), *expected, "{frames:?}");
        }
    }

    #[test]
    fn a_refused_config_changes_nothing() {
        let mut p = SokujiJson::new(Mode::Translate, ctx());
        let _ = p.text(r#"{"type":"config","target_language":"vi"}"#);
        let _ = p.text(r#"{"type":"config","target_language":"xx","sample_rate":48000}"#);
        let rate = |p: &SokujiJson| match p.spec {
            Some(Frames::Pcm(s)) => Some(s.sample_rate),
            _ => None,
        };
        assert_eq!(rate(&p), Some(16_000), "the PCM format stays");
        let steps = p.text(r#"{"type":"config","target_language":"ja","sample_rate":48000}"#);
        assert_eq!(kinds(&steps), ["update"]);
        assert_eq!(rate(&p), Some(48_000));
    }

    #[test]
    fn a_translation_session_asks_for_what_the_config_says() {
        let mut p = SokujiJson::new(Mode::Translate, ctx());
        let steps = p.text(r#"{"type":"config","source_language":"vi","target_language":"en","voice_id":""}"#);
        let Some(Step::Start(s)) = steps.into_iter().next() else { panic!("no start") };
        assert_eq!(
            (s.config.source.as_str(), s.config.target.as_deref(), s.config.voice.as_str()),
            ("vi", Some("en"), "")
        );
        let mut p = SokujiJson::new(Mode::Transcribe, ctx());
        let Some(Step::Start(s)) = p.text(r#"{"type":"config","language":"vi"}"#).into_iter().next() else {
            panic!("no start")
        };
        assert_eq!(s.config.target, None, "transcription only");
    }
}
