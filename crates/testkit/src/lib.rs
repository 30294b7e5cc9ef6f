//! Fake engines for the fast test tier: each implements a capability trait deterministically,
//! from its input alone, so that sessions, pipelines, admission and front ends are tested in
//! seconds without models. The slow tier runs the real engines on real speech.
//!
//! Signals: "speech" here is a steady tone whose amplitude names its words ([`speech`]):
//! [`LevelStt`] hears one word a fifth of a second, `w<amplitude × 10>`, and [`LoudnessVad`]
//! scores any frame above the floor as voice. Utterances at different levels therefore come
//! out as different words, and a word that leaks from one utterance into the next shows.
pub mod noise;

use async_trait::async_trait;
use sokuji_audio::FrameScorer;
use sokuji_core::{
    Audio, Error, ErrorCode, Health, Result, SAMPLE_RATE, Segment, Speech, SpeechToText, SttStream, SynthesizeRequest,
    Synthesizer, TranscribeOptions, Transcript, TranslateRequest, Translation, Translator, Voice, Word,
};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

/// Samples a word lasts for [`LevelStt`] (0.2 s).
pub const WORD_SAMPLES: usize = 3_200;
/// RMS above which a frame is sound.
const FLOOR: f32 = 0.02;

/// `secs` of "speech" at `level` (0.1..=0.9): a 220 Hz tone of that peak amplitude.
pub fn speech(secs: f32, level: f32) -> Vec<f32> {
    (0..(secs * SAMPLE_RATE as f32) as usize)
        .map(|i| level * (i as f32 * 2.0 * std::f32::consts::PI * 220.0 / SAMPLE_RATE as f32).sin())
        .collect()
}

pub fn silence(secs: f32) -> Vec<f32> {
    vec![0.0; (secs * SAMPLE_RATE as f32) as usize]
}

/// Mono samples as little-endian int16 PCM, the wire's default.
pub fn pcm16(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| sokuji_audio::wav::to_i16(*s).to_le_bytes()).collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|s| s * s).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// A VAD that scores frames by loudness alone: 1 above the floor, 0 below.
#[derive(Default)]
pub struct LoudnessVad {
    pending: Vec<f32>,
}

impl FrameScorer for LoudnessVad {
    fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        let frame = sokuji_audio::vad::FRAME;
        self.pending.extend_from_slice(samples);
        let whole = self.pending.len() / frame * frame;
        let scores =
            self.pending[..whole].chunks_exact(frame).map(|f| if rms(f) > FLOOR { 1.0 } else { 0.0 }).collect();
        self.pending.drain(..whole);
        scores
    }
}

/// Speech-to-text that hears the level of the tone: one word per whole 0.2 s of sound,
/// `w<peak × 10>` ("w3" for level 0.3), with word times.
#[derive(Default)]
pub struct LevelStt;

impl LevelStt {
    /// What this engine hears in `samples` (16 kHz), times from 0.
    pub fn hear(samples: &[f32]) -> Vec<Word> {
        samples
            .chunks(WORD_SAMPLES)
            .enumerate()
            .filter(|(_, w)| w.len() == WORD_SAMPLES && rms(w) > FLOOR)
            .map(|(i, w)| {
                let peak = w.iter().fold(0f32, |m, s| m.max(s.abs()));
                let start = (i * WORD_SAMPLES) as f64 / f64::from(SAMPLE_RATE);
                Word {
                    text: format!("w{}", (peak * 10.0).round() as i32),
                    start,
                    end: start + WORD_SAMPLES as f64 / f64::from(SAMPLE_RATE),
                    probability: 0.9,
                }
            })
            .collect()
    }
}

#[async_trait]
impl SpeechToText for LevelStt {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        let words = Self::hear(audio.samples());
        let language = options.language_hint().unwrap_or("en").to_string();
        let duration = audio.duration_secs();
        let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        let segments = if words.is_empty() {
            Vec::new()
        } else {
            vec![Segment {
                id: 0,
                start: words[0].start,
                end: words[words.len() - 1].end,
                text: text.clone(),
                words,
                no_speech_probability: 0.0,
                language: language.clone(),
            }]
        };
        Ok(Transcript {
            language_probability: None,
            text,
            language,
            confidence: 0.9,
            duration,
            segments,
            producer: Default::default(),
        })
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }

    async fn health(&self) -> Health {
        Health::ready("level-stt")
    }
}

/// [`LevelStt`] that also streams natively: a stream hears what it has been fed so far. Counts
/// the samples fed to streams and the whole-audio `transcribe` calls, so tests see that nothing
/// is decoded twice.
#[derive(Default)]
pub struct StreamingStt {
    pub fed: Arc<AtomicUsize>,
    pub transcribes: AtomicUsize,
    pub lag: Lag,
}

/// How long a stream's last word waits, as a step-reading engine's does (the Conformer's CTC
/// output lags the audio by up to a step).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lag {
    /// Every word heard is given at once.
    #[default]
    None,
    /// A push lacks the last word; a push at a pause reads it (`SttStream::push_at_pause`).
    UntilPause,
    /// Only the finish gives the last word (an engine that cannot read ahead at a pause).
    UntilFinish,
}

#[async_trait]
impl SpeechToText for StreamingStt {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        self.transcribes.fetch_add(1, Ordering::SeqCst);
        LevelStt.transcribe(audio, options).await
    }

    async fn languages(&self) -> Result<Vec<String>> {
        LevelStt.languages().await
    }

    async fn health(&self) -> Health {
        Health::ready("streaming-level-stt")
    }

    async fn stream(&self, options: &TranscribeOptions) -> Option<Box<dyn SttStream>> {
        Some(Box::new(LevelStream {
            heard: Vec::new(),
            fed: self.fed.clone(),
            options: options.clone(),
            lag: self.lag,
        }))
    }
}

struct LevelStream {
    heard: Vec<f32>,
    fed: Arc<AtomicUsize>,
    options: TranscribeOptions,
    lag: Lag,
}

impl LevelStream {
    /// Takes `samples`; every word heard so far, or all but the last.
    fn hear_more(&mut self, samples: Vec<f32>, all: bool) -> Vec<Word> {
        self.fed.fetch_add(samples.len(), Ordering::SeqCst);
        self.heard.extend(samples);
        let mut words = LevelStt::hear(&self.heard);
        if !all {
            words.pop();
        }
        words
    }
}

#[async_trait]
impl SttStream for LevelStream {
    async fn push(&mut self, samples: Vec<f32>) -> Result<Vec<Word>> {
        Ok(self.hear_more(samples, self.lag == Lag::None))
    }

    async fn push_at_pause(&mut self, samples: Vec<f32>) -> Result<Vec<Word>> {
        Ok(self.hear_more(samples, self.lag != Lag::UntilFinish))
    }

    async fn finish(self: Box<Self>) -> Result<Transcript> {
        LevelStt.transcribe(Audio::new(self.heard), self.options).await
    }
}

type FailWhen = Box<dyn Fn(usize, &[f32]) -> bool + Send + Sync>;

/// Wraps an engine and fails, with `code`, the calls for which `fail_when(call index, samples)`
/// holds (or, made by [`FlakyStt::hanging`], never answers them); counts every call.
pub struct FlakyStt<S> {
    inner: S,
    fail_when: FailWhen,
    /// `None`: a failing call hangs, as an engine behind a stalled connection.
    code: Option<ErrorCode>,
    calls: AtomicUsize,
    failed: AtomicUsize,
}

impl<S> FlakyStt<S> {
    pub fn new(inner: S, code: ErrorCode, fail_when: impl Fn(usize, &[f32]) -> bool + Send + Sync + 'static) -> Self {
        Self::with(inner, Some(code), fail_when)
    }

    /// Never answers the calls for which `fail_when` holds.
    pub fn hanging(inner: S, fail_when: impl Fn(usize, &[f32]) -> bool + Send + Sync + 'static) -> Self {
        Self::with(inner, None, fail_when)
    }

    fn with(
        inner: S,
        code: Option<ErrorCode>,
        fail_when: impl Fn(usize, &[f32]) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self { inner, fail_when: Box::new(fail_when), code, calls: AtomicUsize::new(0), failed: AtomicUsize::new(0) }
    }

    /// Calls made, failed or not.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn failures(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl<S: SpeechToText> SpeechToText for FlakyStt<S> {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if (self.fail_when)(n, audio.samples()) {
            self.failed.fetch_add(1, Ordering::SeqCst);
            let Some(code) = self.code else { return std::future::pending().await };
            return Err(Error::new(code, format!("scripted failure of call {n}")));
        }
        self.inner.transcribe(audio, options).await
    }

    async fn languages(&self) -> Result<Vec<String>> {
        self.inner.languages().await
    }

    async fn health(&self) -> Health {
        self.inner.health().await
    }
}

/// A translator that answers `"<target>: <text>"` after `delay`, counting the calls it started.
#[derive(Default)]
pub struct FixedTranslator {
    pub delay: Duration,
    pub calls: std::sync::atomic::AtomicUsize,
}

impl FixedTranslator {
    pub fn with_delay(delay: Duration) -> Self {
        Self { delay, ..Self::default() }
    }

    pub fn render(text: &str, target: &str) -> String {
        format!("{target}: {text}")
    }
}

#[async_trait]
impl Translator for FixedTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(self.delay).await;
        Ok(Translation {
            text: Self::render(&request.text, &request.target),
            original: request.text,
            source: request.source,
            target: request.target,
            source_detected: false,
            engine: "fixed".into(),
            model: "fixed".into(),
            processing_ms: self.delay.as_secs_f64() * 1000.0,
        })
    }

    async fn languages(&self) -> Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into(), "ja".into()])
    }

    async fn health(&self) -> Health {
        Health::ready("fixed")
    }
}

/// A voice that speaks a 440 Hz tone, 50 ms a character, at 22.05 kHz, after `delay`.
#[derive(Default)]
pub struct ToneTts {
    pub delay: Duration,
}

impl ToneTts {
    pub const RATE: u32 = 22_050;

    pub fn samples_for(text: &str) -> usize {
        text.chars().count() * Self::RATE as usize / 20
    }
}

#[async_trait]
impl Synthesizer for ToneTts {
    async fn synthesize(&self, request: SynthesizeRequest) -> Result<Speech> {
        tokio::time::sleep(self.delay).await;
        let n = Self::samples_for(&request.text);
        let samples =
            (0..n).map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / Self::RATE as f32).sin()).collect();
        Ok(Speech { samples, sample_rate: Self::RATE, voice: "tone".into() })
    }

    async fn voices(&self) -> Result<Vec<Voice>> {
        Ok(vec![Voice {
            id: "tone".into(),
            name: "Tone".into(),
            language: "en".into(),
            languages: vec!["en".into(), "vi".into()],
            engine: "tone".into(),
            sample_rate: Self::RATE,
            ..Default::default()
        }])
    }

    async fn health(&self) -> Health {
        Health::ready("tone")
    }
}
