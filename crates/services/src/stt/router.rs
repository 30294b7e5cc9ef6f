//! Speech-to-text routed by language: each language to the engine that reads it best (Vietnamese
//! to the Conformer), everything else to the general engine (Whisper). With no language given,
//! each utterance is identified by the general engine and transcribed by its language's engine,
//! so mixed Vietnamese/English audio comes out with each utterance in its own language. A
//! request may also name a model (`TranscribeOptions::model`).
use sokuji_audio::vad::detect_speech;
use sokuji_core::{
    Audio, Error, Health, Identified, Producer, Result, Segment, SpeechToText, SttModel, SttStream, Task,
    TranscribeOptions, Transcript, stream::EndpointConfig,
};
use std::sync::Arc;

/// Finds the utterances of 16 kHz audio, in seconds.
pub type Segmenter = fn(&[f32]) -> Vec<(f64, f64)>;

fn utterances(samples: &[f32]) -> Vec<(f64, f64)> {
    detect_speech(samples, &EndpointConfig::default(), 0.25)
}

pub struct SttRouter {
    general: Arc<dyn SpeechToText>,
    segmenter: Segmenter,
    /// (language, engine) pairs, checked in order.
    routes: Vec<(String, Arc<dyn SpeechToText>)>,
    /// Every engine's models, for requests that name one.
    models: Vec<(SttModel, Arc<dyn SpeechToText>)>,
}

/// Utterances shorter than this are not identified on their own (too little to tell from): they
/// take the language of the utterance before them (or after, at the start).
const MIN_IDENTIFY_SECS: f64 = 1.0;
/// At most this much of an utterance is listened to for its language.
const MAX_IDENTIFY_SECS: f64 = 10.0;

impl SttRouter {
    pub async fn new(general: Arc<dyn SpeechToText>, routes: Vec<(String, Arc<dyn SpeechToText>)>) -> Self {
        let mut models = Vec::new();
        for engine in std::iter::once(&general).chain(routes.iter().map(|(_, e)| e)) {
            models.extend(engine.models().await.into_iter().map(|m| (m, engine.clone())));
        }
        Self { general, segmenter: utterances, routes, models }
    }

    /// Finds utterances with `segmenter` instead of the voice detector (tests use loudness).
    pub fn with_segmenter(self, segmenter: Segmenter) -> Self {
        Self { segmenter, ..self }
    }

    fn engine_for(&self, language: &str) -> &Arc<dyn SpeechToText> {
        self.routes.iter().find(|(l, _)| l.eq_ignore_ascii_case(language)).map_or(&self.general, |(_, e)| e)
    }

    /// The engine a request names by model id or engine name.
    fn named(&self, name: &str) -> Result<&Arc<dyn SpeechToText>> {
        self.models.iter().find(|(m, _)| m.id == name || m.engine == name).map(|(_, e)| e).ok_or_else(|| {
            let known: Vec<&str> = self.models.iter().map(|(m, _)| m.id.as_str()).collect();
            Error::invalid_request(format!("unknown speech-to-text model {name:?}; known: {}", known.join(", ")))
        })
    }

    /// No language given: utterance by utterance, identified and sent to its language's engine.
    async fn per_utterance(&self, audio: Audio, o: TranscribeOptions) -> Result<Transcript> {
        let (samples, segmenter) = (audio.clone(), self.segmenter);
        let regions = tokio::task::spawn_blocking(move || segmenter(samples.samples()))
            .await
            .map_err(|e| Error::internal(format!("voice detection failed: {e}")))?;
        let mut identified = Vec::with_capacity(regions.len());
        for &(a, b) in &regions {
            identified.push(if b - a < MIN_IDENTIFY_SECS {
                None
            } else {
                self.general.identify_language(audio.slice_secs(a, b.min(a + MAX_IDENTIFY_SECS))).await?
            });
        }
        let languages: Vec<Option<String>> =
            identified.iter().map(|i| i.as_ref().map(|i| i.language.clone())).collect();
        if languages.iter().all(Option::is_none) {
            // Nothing identified (no speech, or a general engine that cannot tell): the general
            // engine transcribes, and its language decides whether another engine reads it again.
            let t = self.general.transcribe(audio.clone(), o.clone()).await?;
            let engine = self.engine_for(&t.language);
            if t.language.is_empty() || Arc::ptr_eq(engine, &self.general) {
                return Ok(t);
            }
            return engine.transcribe(audio, TranscribeOptions { language: Some(t.language), ..o }).await;
        }
        let duration = audio.duration_secs();
        let mut segments: Vec<Segment> = Vec::new();
        let mut producers = Vec::new();
        let (mut weighted, mut spoken) = (0.0f64, 0.0f64);
        for group in groups(&regions, &languages) {
            let part = audio.slice_secs(group.start, group.end);
            let options = TranscribeOptions { language: Some(group.language.clone()), progress: None, ..o.clone() };
            let t = self.engine_for(&group.language).transcribe(part, options).await?;
            weighted += t.confidence as f64 * (group.end - group.start);
            spoken += group.end - group.start;
            producers.push(t.producer);
            segments.extend(t.segments.into_iter().map(|s| s.shifted(group.start)));
            if let Some(p) = &o.progress {
                (p.0)((group.end / duration.max(1e-9)).clamp(0.0, 1.0) as f32);
            }
        }
        if let Some(p) = &o.progress {
            (p.0)(1.0);
        }
        let confidence = if segments.is_empty() { 0.0 } else { (weighted / spoken.max(1e-9)) as f32 };
        let mut t = Transcript::assemble(segments, confidence, duration, None, Producer::join(producers));
        // The surest identification of the language the transcript is in.
        t.language_probability =
            identified.iter().flatten().filter(|i| i.language == t.language).map(|i| i.probability).reduce(f32::max);
        Ok(t)
    }
}

/// A stretch of utterances in one language.
#[derive(Debug, PartialEq)]
struct Group {
    language: String,
    start: f64,
    end: f64,
}

/// Consecutive utterances of one language joined; unidentified ones take their neighbour's.
fn groups(regions: &[(f64, f64)], languages: &[Option<String>]) -> Vec<Group> {
    let first = languages.iter().flatten().next().cloned().unwrap_or_default();
    let mut current = first;
    let mut out: Vec<Group> = Vec::new();
    for (&(start, end), lang) in regions.iter().zip(languages) {
        if let Some(l) = lang {
            current = l.clone();
        }
        match out.last_mut() {
            Some(g) if g.language == current => g.end = end,
            _ => out.push(Group { language: current.clone(), start, end }),
        }
    }
    out
}

#[async_trait::async_trait]
impl SpeechToText for SttRouter {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        if let Some(name) = options.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            let engine = self.named(name)?.clone();
            return engine.transcribe(audio, TranscribeOptions { model: None, ..options }).await;
        }
        if options.task == Task::Translate || self.routes.is_empty() {
            return self.general.transcribe(audio, options).await;
        }
        match options.language_hint().map(str::to_string) {
            Some(lang) => self.engine_for(&lang).transcribe(audio, options).await,
            None => self.per_utterance(audio, options).await,
        }
    }

    async fn languages(&self) -> Result<Vec<String>> {
        let mut all = self.general.languages().await?;
        for (l, _) in &self.routes {
            if !all.contains(l) {
                all.push(l.clone());
            }
        }
        Ok(all)
    }

    /// The general engine's health, with each route's engine and state; unhealthy when any is.
    async fn health(&self) -> Health {
        let mut h = self.general.health().await;
        for (language, engine) in &self.routes {
            let r = engine.health().await;
            let model = r.details.get("model").cloned().unwrap_or_default();
            h.details.insert(format!("route_{language}"), format!("{} ({model}): {}", r.provider, r.status));
            if !r.healthy {
                h.healthy = false;
                h.status = r.status;
            }
        }
        h
    }

    async fn identify_language(&self, audio: Audio) -> Result<Option<Identified>> {
        self.general.identify_language(audio).await
    }

    async fn models(&self) -> Vec<SttModel> {
        self.models.iter().map(|(m, _)| m.clone()).collect()
    }

    /// The stream of the engine `transcribe` would choose; none without a language (it is
    /// identified on the first decode, and the caller streams from then on).
    async fn stream(&self, options: &TranscribeOptions) -> Option<Box<dyn SttStream>> {
        let engine = match options.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(name) => self.named(name).ok()?,
            None if options.task == Task::Translate || self.routes.is_empty() => &self.general,
            None => self.engine_for(options.language_hint()?),
        };
        engine.stream(&TranscribeOptions { model: None, ..options.clone() }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sokuji_audio::vad::FrameScorer;
    use sokuji_core::stream::endpoint::speech_regions;
    use sokuji_testkit::{LevelStt, LoudnessVad, silence, speech};

    fn l(s: &str) -> Option<String> {
        Some(s.into())
    }

    #[test]
    fn utterances_group_by_language() {
        let regions = [(0.0, 2.0), (2.5, 2.9), (3.0, 6.0), (7.0, 9.0), (9.5, 12.0)];
        type Case<'a> = (&'a [Option<String>], &'a [(&'a str, f64, f64)]);
        let cases: &[Case] = &[
            (&[l("vi"), None, l("vi"), l("en"), l("vi")], &[("vi", 0.0, 6.0), ("en", 7.0, 9.0), ("vi", 9.5, 12.0)]),
            // An unidentified first utterance takes the first identified language.
            (&[None, None, l("en"), l("en"), l("en")], &[("en", 0.0, 12.0)]),
            (&[l("en"), l("vi"), None, l("vi"), l("en")], &[("en", 0.0, 2.0), ("vi", 2.5, 9.0), ("en", 9.5, 12.0)]),
        ];
        for (languages, want) in cases {
            let got = groups(&regions, languages);
            let want: Vec<Group> =
                want.iter().map(|(l, a, b)| Group { language: l.to_string(), start: *a, end: *b }).collect();
            assert_eq!(got, want, "{languages:?}");
        }
        assert!(groups(&[], &[]).is_empty());
    }

    /// Hears like `LevelStt`, says which engine it is, and (as the general engine) tells
    /// loud "speech" (peak ≥ 0.5) for Vietnamese and quiet for English.
    struct Fake {
        name: &'static str,
        identifies: bool,
        calls: std::sync::Mutex<Vec<Option<String>>>,
    }

    impl Fake {
        fn new(name: &'static str, identifies: bool) -> Arc<Self> {
            Arc::new(Self { name, identifies, calls: Default::default() })
        }
    }

    #[async_trait::async_trait]
    impl SpeechToText for Fake {
        async fn transcribe(&self, audio: Audio, o: TranscribeOptions) -> Result<Transcript> {
            self.calls.lock().expect("calls").push(o.language.clone());
            let mut t = LevelStt.transcribe(audio, o).await?;
            t.producer = Producer::new(self.name, format!("{}-model", self.name));
            Ok(t)
        }
        async fn languages(&self) -> Result<Vec<String>> {
            Ok(vec!["en".into()])
        }
        async fn health(&self) -> Health {
            Health::ready(self.name)
        }
        async fn identify_language(&self, audio: Audio) -> Result<Option<Identified>> {
            let peak = audio.samples().iter().fold(0f32, |m, s| m.max(s.abs()));
            let language = if peak >= 0.5 { "vi" } else { "en" }.to_string();
            Ok(self.identifies.then_some(Identified { language, probability: peak }))
        }
        async fn models(&self) -> Vec<SttModel> {
            vec![SttModel { id: format!("{}-model", self.name), engine: self.name.into() }]
        }
    }

    fn loudness(samples: &[f32]) -> Vec<(f64, f64)> {
        speech_regions(&LoudnessVad::default().push(samples), &EndpointConfig::default(), 0.0)
    }

    async fn router(identifies: bool) -> (SttRouter, Arc<Fake>, Arc<Fake>) {
        let (general, vi) = (Fake::new("whisper", identifies), Fake::new("conformer", false));
        let r = SttRouter::new(general.clone(), vec![("vi".into(), vi.clone() as Arc<dyn SpeechToText>)]).await;
        (r.with_segmenter(loudness), general, vi)
    }

    /// English (level 0.3), Vietnamese (0.8), English again, with pauses between.
    fn mixed() -> Audio {
        let parts = [speech(1.6, 0.3), silence(1.0), speech(2.0, 0.8), silence(1.0), speech(1.2, 0.3)];
        Audio::new(parts.concat())
    }

    #[tokio::test]
    async fn each_utterance_goes_to_its_languages_engine() {
        let (r, general, vi) = router(true).await;
        let t = r.transcribe(mixed(), TranscribeOptions::default()).await.expect("transcribe");
        let langs: Vec<&str> = t.segments.iter().map(|s| s.language.as_str()).collect();
        assert_eq!(langs, ["en", "vi", "en"]);
        assert_eq!(t.segments[1].text.split(' ').next(), Some("w8"), "the Vietnamese utterance: {t:?}");
        // Times are the whole audio's, not the part's.
        assert!((t.segments[1].start - 2.6).abs() < 0.1, "{:?}", t.segments[1]);
        assert!((t.segments[2].start - 5.6).abs() < 0.1, "{:?}", t.segments[2]);
        assert_eq!(*vi.calls.lock().expect("calls"), vec![l("vi")]);
        assert_eq!(*general.calls.lock().expect("calls"), vec![l("en"), l("en")]);
        assert_eq!(t.producer, Producer::new("whisper+conformer", "whisper-model+conformer-model"));
        // How sure the identification of the transcript's language was (the fake's: the peak).
        let sure = |t: &Transcript, p: f32| t.language_probability.is_some_and(|q| (q - p).abs() < 0.05);
        assert!(t.language == "en" && sure(&t, 0.3), "{t:?}");
        let t = r.transcribe(Audio::new(speech(2.0, 0.8)), TranscribeOptions::default()).await.expect("vi");
        assert!(t.language == "vi" && sure(&t, 0.8), "{t:?}");
    }

    #[tokio::test]
    async fn a_language_or_a_model_chooses_the_engine_directly() {
        let (r, general, vi) = router(true).await;
        let o = |language: Option<&str>, model: Option<&str>| TranscribeOptions {
            language: language.map(String::from),
            model: model.map(String::from),
            ..Default::default()
        };
        let t = r.transcribe(mixed(), o(Some("vi"), None)).await.expect("vi");
        assert_eq!(t.producer.engine, "conformer");
        let t = r.transcribe(mixed(), o(Some("ja"), None)).await.expect("ja");
        assert_eq!(t.producer.engine, "whisper");
        let t = r.transcribe(mixed(), o(None, Some("conformer-model"))).await.expect("by model");
        assert_eq!(t.producer.engine, "conformer");
        let t = r.transcribe(mixed(), o(Some("vi"), Some("whisper"))).await.expect("by engine name");
        assert_eq!(t.producer.engine, "whisper");
        let e = r.transcribe(mixed(), o(None, Some("nope"))).await.expect_err("unknown model");
        assert_eq!(e.code, sokuji_core::ErrorCode::InvalidRequest);
        assert!(e.message.contains("whisper-model") && e.message.contains("conformer-model"), "{e}");
        let translate = TranscribeOptions { task: Task::Translate, ..o(Some("vi"), None) };
        assert_eq!(r.transcribe(mixed(), translate).await.expect("translate").producer.engine, "whisper");
        assert_eq!(vi.calls.lock().expect("calls").len(), 2);
        assert_eq!(general.calls.lock().expect("calls").len(), 3);
    }

    #[tokio::test]
    async fn without_identification_the_general_engines_language_decides() {
        let (r, _, vi) = router(false).await;
        // LevelStt answers "en" without a hint: stays with the general engine.
        let t = r.transcribe(mixed(), TranscribeOptions::default()).await.expect("transcribe");
        assert_eq!(t.producer.engine, "whisper");
        assert_eq!(t.language_probability, None);
        assert!(vi.calls.lock().expect("calls").is_empty());
        // Silence: nothing to identify, nothing said.
        let t = r.transcribe(Audio::new(silence(2.0)), TranscribeOptions::default()).await.expect("silence");
        assert!(t.text.is_empty());
    }
}
