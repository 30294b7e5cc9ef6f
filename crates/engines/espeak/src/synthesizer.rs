//! eSpeak NG's own voices as a `Synthesizer`: every language it ships, Vietnamese included.
//! Voice ids are "espeak:" + the voice's language tag ("espeak:vi", "espeak:vi-vn-x-south").
use crate::ffi::{EspeakError, espeak};
use sokuji_admission::Admission;
use sokuji_core::{Error, ErrorCode, Health, Result, Speech, SynthesizeRequest, Synthesizer, Voice};

pub const PREFIX: &str = "espeak:";
const NORMAL_WPM: f32 = 175.0;

#[derive(Clone)]
pub struct EspeakSynthesizer {
    /// libespeak-ng runs one synthesis at a time in the whole process (its lock); the pool keeps
    /// callers who gave up from queueing work behind it.
    admission: Admission,
}

impl EspeakSynthesizer {
    /// Fails when libespeak-ng cannot find its data.
    pub fn new() -> Result<Self, EspeakError> {
        espeak().map(|_| Self { admission: Admission::new("espeak", 1) })
    }
}

fn to_error(e: EspeakError) -> Error {
    match e {
        EspeakError::UnknownVoice(v) => Error::new(ErrorCode::VoiceNotFound, format!("unknown voice {PREFIX}{v}")),
        EspeakError::Nul => Error::invalid_request("text contains a NUL character"),
        EspeakError::Init(m) => Error::new(ErrorCode::EngineUnavailable, m),
        EspeakError::Failed(m) => Error::new(ErrorCode::EngineFailed, m),
    }
}

#[async_trait::async_trait]
impl Synthesizer for EspeakSynthesizer {
    async fn synthesize(&self, request: SynthesizeRequest) -> Result<Speech> {
        let Some(language) = request.voice.strip_prefix(PREFIX).map(str::to_string) else {
            return Err(Error::new(ErrorCode::VoiceNotFound, format!("{:?} is not an espeak voice", request.voice)));
        };
        self.admission
            .run(None, move |_| {
                let mut e = espeak().map_err(to_error)?;
                e.set_voice(&language).map_err(to_error)?;
                let wpm = (NORMAL_WPM * request.speed.unwrap_or(1.0)).round() as i32;
                let pitch = (50.0 * request.pitch.unwrap_or(1.0)).round() as i32;
                e.set_prosody(wpm, pitch);
                let samples = e.synthesize(&request.text).map_err(to_error)?;
                Ok(Speech {
                    samples: samples.iter().map(|&s| f32::from(s) / 32768.0).collect(),
                    sample_rate: e.sample_rate,
                    voice: format!("{PREFIX}{language}"),
                })
            })
            .await
    }

    async fn voices(&self) -> Result<Vec<Voice>> {
        let e = espeak().map_err(to_error)?;
        Ok(e.voices()
            .iter()
            .map(|v| Voice {
                id: format!("{PREFIX}{}", v.language),
                name: format!("eSpeak NG {}", v.name),
                language: v.language.clone(),
                languages: v.languages.clone(),
                gender: v.gender.clone(),
                sample_rate: e.sample_rate,
                engine: "espeak".into(),
                metadata: [("file".to_string(), v.file.clone())].into(),
            })
            .collect())
    }

    async fn health(&self) -> Health {
        match espeak() {
            Ok(e) => Health {
                healthy: true,
                status: "ok".into(),
                provider: "espeak-ng".into(),
                details: [("voices".to_string(), e.voices().len().to_string())].into(),
            },
            Err(err) => {
                Health { healthy: false, status: err.to_string(), provider: "espeak-ng".into(), ..Default::default() }
            }
        }
    }
}
