//! What a live session is asked to do, checked before anything starts.
use crate::recognizer::RecognizerConfig;
use sokuji_core::{Error, ErrorCode, Result, Task, translate::language_name};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// ISO 639-1 or "auto" (detected per utterance).
    pub source: String,
    /// The language to translate into; `None` for a transcription-only session.
    pub target: Option<String>,
    /// Voice id, "default" for the target language's default voice, or "" for no speech.
    pub voice: String,
    /// `Translate`: Whisper turns any speech into English text in the STT pass itself.
    pub task: Task,
    pub recognizer: RecognizerConfig,
    /// When the target is English and the speech is not: Whisper's translate task turns each
    /// utterance's speech into English (one more decode, started at the pause; no translation
    /// model, so no interim translations) instead of the translator reading its transcript.
    /// Faster; Whisper base's English from Vietnamese is mostly wrong.
    pub speech_translation: bool,
    /// Terms every translation keeps verbatim (`TranslateRequest::keep`), checked by the guards.
    pub keep: Vec<String>,
    /// Translate interim results too (dropped when behind).
    pub translate_interim: bool,
    /// Every final translation is the translator's own of the whole sentence: interim
    /// translations are only drafts it checks. Off (the default), a final translation continues
    /// the interim one its text begins with and writes only the rest: sooner for long sentences,
    /// but their beginning stays what it was for the fragment.
    pub whole_sentences: bool,
    /// Deadline of each decode, translation and synthesis call (it replaces the recognizer's
    /// `decode_timeout`).
    pub call_timeout: Duration,
    /// Keep the session's audio and final transcript, up to this many bytes of audio, and give
    /// them as the last event (`Recorded`).
    pub record: Option<u64>,
}

impl LiveConfig {
    /// A translation session from `source` to `target`, spoken with `voice`.
    pub fn translate(source: &str, target: &str, voice: &str) -> Self {
        Self { target: Some(target.into()), voice: voice.into(), ..Self::transcribe(source) }
    }

    /// A transcription-only session.
    pub fn transcribe(source: &str) -> Self {
        Self {
            source: if source.trim().is_empty() { "auto".into() } else { source.into() },
            target: None,
            voice: String::new(),
            task: Task::Transcribe,
            speech_translation: false,
            keep: Vec::new(),
            recognizer: RecognizerConfig::default(),
            translate_interim: true,
            whole_sentences: false,
            call_timeout: Duration::from_secs(20),
            record: None,
        }
    }

    /// Refuses languages no stage can handle, before anything starts. A transcription-only
    /// session takes any language code the recognizer may know (it refuses unknown ones itself).
    pub fn validate(&self) -> Result<()> {
        match &self.target {
            Some(t) => {
                check_source(&self.source)?;
                check_target(t)
            }
            None if self.source == "auto" || is_code(&self.source) => Ok(()),
            None => Err(Error::new(
                ErrorCode::UnsupportedLanguage,
                format!("language {:?} is not a language code (ISO 639-1, or \"auto\")", self.source),
            )),
        }
    }

    /// The source as a recognizer hint: `None` for "auto".
    pub fn source_hint(&self) -> Option<String> {
        (self.source != "auto").then(|| self.source.clone())
    }
}

fn is_code(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase())
}

pub fn check_source(lang: &str) -> Result<()> {
    if lang == "auto" || language_name(lang).is_some() {
        return Ok(());
    }
    Err(Error::new(ErrorCode::UnsupportedLanguage, format!("source_language {lang:?} is not supported")))
}

pub fn check_target(lang: &str) -> Result<()> {
    if language_name(lang).is_some() {
        return Ok(());
    }
    Err(Error::new(ErrorCode::UnsupportedLanguage, format!("target_language {lang:?} is not supported")))
}
