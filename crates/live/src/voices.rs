//! The local voice set: routes a request to the engine that owns the voice, picks a default voice
//! per language, maps OpenAI's voice names, and reads Vietnamese numbers and dates out (TN)
//! before synthesis.
use sokuji_core::{
    Error, ErrorCode, Health, Result, Speech, SynthesizeRequest, Synthesizer, Voice,
    tts::{split_sentences, validate},
};
use sokuji_text::{Mode, ToneStyle, normalize_line};
use std::sync::Arc;

/// OpenAI's voice names: stock clients send them; they mean "the default voice".
pub const OPENAI_VOICES: &[&str] =
    &["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"];

/// The metadata key of a voice that is its language's default.
pub const DEFAULT_FOR: &str = "default_for";

/// Longest text one request may carry, in characters.
pub const MAX_CHARS: usize = 20_000;
/// Silence between sentences of one request.
const SENTENCE_GAP_SECS: f32 = 0.15;

/// One engine and the voices it owns.
pub struct Engine {
    pub synthesizer: Arc<dyn Synthesizer>,
    pub voices: Vec<Voice>,
}

pub struct VoiceSet {
    /// Earlier engines win defaults: neural voices first.
    engines: Vec<Engine>,
}

impl VoiceSet {
    pub async fn new(synthesizers: Vec<Arc<dyn Synthesizer>>) -> Result<Self> {
        let mut engines = Vec::new();
        for s in synthesizers {
            let voices = s.voices().await?;
            engines.push(Engine { synthesizer: s, voices });
        }
        if engines.iter().all(|e| e.voices.is_empty()) {
            return Err(Error::new(ErrorCode::EngineUnavailable, "no voices: neither Piper nor eSpeak NG loaded"));
        }
        Ok(Self { engines })
    }

    fn all(&self) -> impl Iterator<Item = (&Engine, &Voice)> {
        self.engines.iter().flat_map(|e| e.voices.iter().map(move |v| (e, v)))
    }

    /// The engine and voice for a request: an exact id, or the default for the language.
    fn resolve(&self, voice: &str, language: Option<&str>) -> Result<(&Engine, &Voice)> {
        let wants_default = voice.is_empty() || voice == "default" || OPENAI_VOICES.contains(&voice);
        if !wants_default {
            return self.all().find(|(_, v)| v.id == voice).ok_or_else(|| {
                Error::new(
                    ErrorCode::VoiceNotFound,
                    format!("unknown voice {voice:?}; GET /api/v1/tts/voices lists them"),
                )
            });
        }
        let lang = language.filter(|l| !l.is_empty()).unwrap_or("en").to_ascii_lowercase();
        let primary = lang.split(['-', '_']).next().unwrap_or(&lang).to_string();
        let norm = |l: &str| l.to_ascii_lowercase().replace('_', "-");
        // Best first: the voice's own language, then the language's home region ("fr" → "fr-fr",
        // though "fr-be" also claims "fr"), then one that claims it ("en-us" claims "en"), then any
        // regional form.
        let home = format!("{primary}-{primary}");
        self.all()
            .find(|(_, v)| norm(&v.language) == lang)
            .or_else(|| self.all().find(|(_, v)| norm(&v.language) == home))
            .or_else(|| self.all().find(|(_, v)| v.languages.iter().any(|l| norm(l) == lang)))
            .or_else(|| self.all().find(|(_, v)| norm(&v.language).split('-').next() == Some(primary.as_str())))
            .ok_or_else(|| Error::new(ErrorCode::UnsupportedLanguage, format!("no voice speaks {lang:?}")))
    }

    /// Text as the voice should read it: Vietnamese numbers, dates and units spelled out.
    fn prepare(text: &str, voice: &Voice) -> String {
        if voice.language.starts_with("vi") {
            text.split('\n').map(|l| normalize_line(l, Mode::Tn, ToneStyle::Classic)).collect::<Vec<_>>().join("\n")
        } else {
            text.to_string()
        }
    }
}

#[async_trait::async_trait]
impl Synthesizer for VoiceSet {
    async fn synthesize(&self, request: SynthesizeRequest) -> Result<Speech> {
        validate(&request, MAX_CHARS)?;
        let (engine, voice) = self.resolve(&request.voice, request.language.as_deref())?;
        let text = Self::prepare(&request.text, voice);
        let mut out = Speech::default();
        // Sentence by sentence: the engines' inputs stay short whatever the text's length.
        for sentence in split_sentences(&text, 400) {
            let piece = SynthesizeRequest { text: sentence, voice: voice.id.clone(), ..request.clone() };
            let s = engine.synthesizer.synthesize(piece).await?;
            if !out.samples.is_empty() {
                out.samples.extend(std::iter::repeat_n(0.0, (s.sample_rate as f32 * SENTENCE_GAP_SECS) as usize));
            }
            out.samples.extend_from_slice(&s.samples);
            out.sample_rate = s.sample_rate;
            out.voice = s.voice;
        }
        Ok(out)
    }

    /// Each voice that a request without a voice gets for a language says so in its metadata
    /// (`default_for`: those languages, comma-separated), so listings show which engine speaks
    /// each language.
    async fn voices(&self) -> Result<Vec<Voice>> {
        Ok(self
            .all()
            .map(|(_, v)| {
                let mut v = v.clone();
                let mut langs: Vec<String> = std::iter::once(&v.language)
                    .chain(&v.languages)
                    .map(|l| l.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase())
                    .collect();
                langs.dedup();
                langs.retain(|l| self.resolve("default", Some(l)).is_ok_and(|(_, d)| d.id == v.id));
                if !langs.is_empty() {
                    v.metadata.insert(DEFAULT_FOR.into(), langs.join(","));
                }
                v
            })
            .collect())
    }

    async fn health(&self) -> Health {
        let mut h = Health { healthy: true, status: "ok".into(), provider: "sokuji-tts".into(), ..Default::default() };
        for e in &self.engines {
            let eh = e.synthesizer.health().await;
            h.healthy &= eh.healthy;
            h.details.insert(eh.provider.clone(), if eh.healthy { "ok".into() } else { eh.status.clone() });
        }
        if !h.healthy {
            h.status = "degraded".into();
        }
        h
    }
}

/// A request cut into sentences for streaming: each piece is synthesized and sent on its own,
/// in order, so the first audio leaves long before the last sentence is done.
pub fn sentences(request: &SynthesizeRequest) -> Result<Vec<SynthesizeRequest>> {
    validate(request, MAX_CHARS)?;
    Ok(split_sentences(&request.text, 400)
        .into_iter()
        .map(|text| SynthesizeRequest { text, ..request.clone() })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lists voices; never speaks.
    struct Listed(Vec<Voice>);

    #[async_trait::async_trait]
    impl Synthesizer for Listed {
        async fn synthesize(&self, _: SynthesizeRequest) -> Result<Speech> {
            Err(Error::internal("not here"))
        }
        async fn voices(&self) -> Result<Vec<Voice>> {
            Ok(self.0.clone())
        }
        async fn health(&self) -> Health {
            Health::ready("listed")
        }
    }

    fn voice(id: &str, language: &str, engine: &str) -> Voice {
        Voice {
            id: id.into(),
            language: language.into(),
            languages: vec![language.into()],
            engine: engine.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn listings_say_which_voice_speaks_each_language() {
        let piper = Listed(vec![voice("en_US-joe-medium", "en-US", "piper")]);
        let espeak = Listed(vec![
            voice("espeak:en-us", "en-us", "espeak"),
            Voice { languages: vec!["fr-be".into(), "fr".into()], ..voice("espeak:fr-be", "fr-be", "espeak") },
            voice("espeak:fr-fr", "fr-fr", "espeak"),
            voice("espeak:vi", "vi", "espeak"),
            Voice { languages: vec!["cmn".into(), "zh".into()], ..voice("espeak:cmn", "cmn", "espeak") },
        ]);
        let set = VoiceSet::new(vec![Arc::new(piper), Arc::new(espeak)]).await.expect("voices");
        let defaults: Vec<(String, Option<String>)> = set
            .voices()
            .await
            .expect("list")
            .into_iter()
            .map(|v| (v.id, v.metadata.get(DEFAULT_FOR).cloned()))
            .collect();
        assert_eq!(
            defaults,
            [
                ("en_US-joe-medium".to_string(), Some("en".to_string())),
                ("espeak:en-us".to_string(), None),
                ("espeak:fr-be".to_string(), None),
                ("espeak:fr-fr".to_string(), Some("fr".to_string())),
                ("espeak:vi".to_string(), Some("vi".to_string())),
                ("espeak:cmn".to_string(), Some("cmn,zh".to_string())),
            ]
        );
    }
}
