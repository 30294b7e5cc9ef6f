//! Loaded Piper voices as a `Synthesizer`. Voice ids are the model's file stem
//! ("en_US-joe-medium").
use crate::voice::{PiperError, PiperVoice};
use sokuji_admission::Admission;
use sokuji_core::{Error, ErrorCode, Health, Result, Speech, SynthesizeRequest, Synthesizer, Voice};
use std::sync::Arc;

pub struct PiperSynthesizer {
    voices: Vec<Arc<PiperVoice>>,
    /// One sentence at a time: ONNX Runtime already spreads one over every core.
    admission: Admission,
}

impl PiperSynthesizer {
    pub fn new(voices: Vec<PiperVoice>) -> Self {
        Self { voices: voices.into_iter().map(Arc::new).collect(), admission: Admission::new("piper", 1) }
    }
}

fn describe(v: &PiperVoice) -> Voice {
    let c = &v.config;
    let language = c.language.as_ref().map(|l| l.code.replace('_', "-")).unwrap_or_else(|| c.espeak.voice.clone());
    let family = language.split('-').next().unwrap_or_default().to_string();
    let mut metadata = std::collections::BTreeMap::new();
    metadata.insert("espeak_voice".to_string(), c.espeak.voice.clone());
    if let Some(q) = &c.audio.quality {
        metadata.insert("quality".into(), q.clone());
    }
    Voice {
        id: v.name.clone(),
        name: format!("Piper {}", c.dataset.clone().unwrap_or_else(|| v.name.clone())),
        language: language.clone(),
        languages: if family == language { vec![language] } else { vec![language, family] },
        gender: String::new(),
        sample_rate: v.sample_rate(),
        engine: "piper".into(),
        metadata,
    }
}

#[async_trait::async_trait]
impl Synthesizer for PiperSynthesizer {
    async fn synthesize(&self, request: SynthesizeRequest) -> Result<Speech> {
        let voice =
            self.voices.iter().find(|v| v.name == request.voice).cloned().ok_or_else(|| {
                Error::new(ErrorCode::VoiceNotFound, format!("unknown Piper voice {:?}", request.voice))
            })?;
        let speed = request.speed.unwrap_or(1.0);
        self.admission
            .run(None, move |_| {
                let samples = voice.synthesize(&request.text, speed).map_err(|e| match e {
                    PiperError::Phonemes(m) => Error::invalid_request(m),
                    other => Error::new(ErrorCode::EngineFailed, other.to_string()),
                })?;
                Ok(Speech { samples, sample_rate: voice.sample_rate(), voice: voice.name.clone() })
            })
            .await
    }

    async fn voices(&self) -> Result<Vec<Voice>> {
        Ok(self.voices.iter().map(|v| describe(v)).collect())
    }

    async fn health(&self) -> Health {
        Health {
            healthy: true,
            status: "ok".into(),
            provider: "piper".into(),
            details: [("voices".to_string(), self.voices.len().to_string())].into(),
        }
    }
}
