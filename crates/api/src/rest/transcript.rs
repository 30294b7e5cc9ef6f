//! Transcripts as answers carry them: segments with their words and times.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A word with its times (seconds from the start of the audio) and the model's probability.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Word {
    pub text: String,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

/// A stretch of speech decoded as one piece.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    pub id: u32,
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Present when word times were asked for (or the archive stored them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
    pub no_speech_probability: f32,
    /// Language of this segment (each utterance is detected on its own).
    pub language: String,
}

impl From<&sokuji_core::Word> for Word {
    fn from(w: &sokuji_core::Word) -> Self {
        Self { text: w.text.clone(), start: w.start, end: w.end, probability: w.probability }
    }
}

impl From<&Word> for sokuji_core::Word {
    fn from(w: &Word) -> Self {
        Self { text: w.text.clone(), start: w.start, end: w.end, probability: w.probability }
    }
}

impl From<&sokuji_core::Segment> for Segment {
    fn from(s: &sokuji_core::Segment) -> Self {
        Self {
            id: s.id,
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            words: s.words.iter().map(Word::from).collect(),
            no_speech_probability: s.no_speech_probability,
            language: s.language.clone(),
        }
    }
}

/// A whole transcript (`sokuji transcribe --format json` prints one per file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Transcript {
    pub text: String,
    /// The language of most of the speech; "" when there was no speech.
    pub language: String,
    pub confidence: f32,
    /// Seconds of audio.
    pub duration: f64,
    pub segments: Vec<Segment>,
    /// The engine and model that decoded it.
    #[serde(default)]
    pub producer: Producer,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Producer {
    /// e.g. "whisper.cpp", "conformer-ctc".
    pub engine: String,
    /// e.g. "whisper-base", "vi-conformer".
    pub model: String,
}

impl From<&sokuji_core::Transcript> for Transcript {
    fn from(t: &sokuji_core::Transcript) -> Self {
        Self {
            text: t.text.clone(),
            language: t.language.clone(),
            confidence: t.confidence,
            duration: t.duration,
            segments: t.segments.iter().map(Segment::from).collect(),
            producer: Producer { engine: t.producer.engine.clone(), model: t.producer.model.clone() },
        }
    }
}
