//! What speech-to-text produces, and what a caller may ask of it.

/// A word with its times (seconds from the start of the audio) and the model's probability.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Word {
    pub text: String,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

/// A stretch of speech the model decoded as one piece.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Segment {
    pub id: u32,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub words: Vec<Word>,
    pub no_speech_probability: f32,
    /// Language of this segment: with VAD on, each utterance is detected on its own.
    pub language: String,
}

/// Which engine and model wrote a transcript: set by the engine itself, stored with archive
/// transcripts and shown in API answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Producer {
    /// e.g. "whisper.cpp", "conformer-ctc".
    pub engine: String,
    /// e.g. "whisper-base", "vi-conformer".
    pub model: String,
}

impl Producer {
    pub fn new(engine: impl Into<String>, model: impl Into<String>) -> Self {
        Self { engine: engine.into(), model: model.into() }
    }

    /// Producers of a transcript joined from parts by different engines: each once, in order.
    pub fn join(parts: impl IntoIterator<Item = Producer>) -> Producer {
        let mut seen: Vec<Producer> = Vec::new();
        for p in parts {
            if !p.engine.is_empty() && !seen.contains(&p) {
                seen.push(p);
            }
        }
        let field = |f: fn(&Producer) -> &str| seen.iter().map(f).collect::<Vec<_>>().join("+");
        Producer { engine: field(|p| p.engine.as_str()), model: field(|p| p.model.as_str()) }
    }
}

impl std::fmt::Display for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.engine, self.model)
    }
}

impl Segment {
    /// The segment with its times and its words' moved `by` seconds (a window's offset).
    pub fn shifted(mut self, by: f64) -> Self {
        self.start += by;
        self.end += by;
        for w in &mut self.words {
            w.start += by;
            w.end += by;
        }
        self
    }
}

/// The result of transcribing one piece of audio.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transcript {
    pub text: String,
    /// The language of most of the speech (by duration); "" when there was no speech.
    pub language: String,
    /// How likely the engine that identified `language` found it (0–1); `None` when it was
    /// given, or identified by an engine that does not say.
    pub language_probability: Option<f32>,
    /// Mean token probability over the text, 0 when there is no text.
    pub confidence: f32,
    pub duration: f64,
    pub segments: Vec<Segment>,
    pub producer: Producer,
}

impl Transcript {
    /// Joins segments (in time order) into a transcript: ids renumbered, text joined, the
    /// language the one spoken longest (`hint` when there is no speech).
    pub fn assemble(
        segments: Vec<Segment>,
        confidence: f32,
        duration: f64,
        hint: Option<String>,
        producer: Producer,
    ) -> Self {
        let mut segments = segments;
        let mut by_lang: Vec<(String, f64)> = Vec::new();
        for s in &segments {
            match by_lang.iter_mut().find(|(l, _)| *l == s.language) {
                Some((_, t)) => *t += s.end - s.start,
                None => by_lang.push((s.language.clone(), s.end - s.start)),
            }
        }
        let language =
            by_lang.into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(l, _)| l).or(hint).unwrap_or_default();
        for (i, s) in segments.iter_mut().enumerate() {
            s.id = i as u32;
        }
        let text = segments.iter().map(|s| s.text.as_str()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ");
        Transcript { text, language, language_probability: None, confidence, duration, segments, producer }
    }

    /// Every word of every segment, in order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.segments.iter().flat_map(|s| s.words.iter())
    }
}

/// Transcribe in the spoken language, or translate any language to English text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Task {
    #[default]
    Transcribe,
    Translate,
}

/// Called with the fraction of the audio transcribed so far, for progress bars.
#[derive(Clone)]
pub struct ProgressFn(pub std::sync::Arc<dyn Fn(f32) + Send + Sync>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

impl PartialEq for ProgressFn {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a caller may ask of a transcription. Defaults are what a newcomer expects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TranscribeOptions {
    /// ISO 639-1 code; `None` (or "auto") detects the language.
    pub language: Option<String>,
    pub task: Task,
    pub word_timestamps: bool,
    /// Primes the decoder with names, spellings or hot words.
    pub initial_prompt: Option<String>,
    /// Voice activity detection before decoding; `None` means the engine's default (on).
    pub vad: Option<bool>,
    /// Live use: size the encoder context to the audio instead of a full 30 s window, decode
    /// once (no repeats at higher temperatures), and stop a decode whose tokens go round in a
    /// loop (`guard::ends_in_loop`; it gives no text). Much faster for short utterances,
    /// slightly less accurate.
    pub fit_context: bool,
    /// The engine or model to use (`SpeechToText::models` lists them); `None` lets the
    /// deployment's routing choose.
    pub model: Option<String>,
    /// Progress reports for long audio (local engines only; not sent over the wire).
    pub progress: Option<ProgressFn>,
}

impl TranscribeOptions {
    /// The language hint with "auto" and "" read as no hint.
    pub fn language_hint(&self) -> Option<&str> {
        self.language.as_deref().map(str::trim).filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("auto"))
    }
}
