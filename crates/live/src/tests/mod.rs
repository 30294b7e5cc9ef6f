//! The fast tier of the live core: fake engines (sokuji-testkit), real session code.
mod pipeline;
mod recognizer;

use crate::{LiveEvent, RecognizerConfig, Transcription, Turns};
use sokuji_core::{SpeechToText, TranscribeOptions, Transcript, stream::EndpointConfig};
use sokuji_testkit::LevelStt;
use std::time::Duration;

/// Interim decodes every 0.4 s of audio, never held back by wall time, so runs are
/// deterministic; utterances end after 0.32 s of silence.
fn quick() -> RecognizerConfig {
    RecognizerConfig {
        turns: Turns::Vad(EndpointConfig { min_silence_frames: 20, ..EndpointConfig::default() }),
        interim_every: 0.4,
        min_interim_gap: Duration::ZERO,
        ..RecognizerConfig::default()
    }
}

fn finals(events: &[LiveEvent]) -> Vec<&Transcription> {
    transcriptions(events, true)
}

fn interims(events: &[LiveEvent]) -> Vec<&Transcription> {
    transcriptions(events, false)
}

fn transcriptions(events: &[LiveEvent], is_final: bool) -> Vec<&Transcription> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Transcription(t) if t.is_final == is_final => Some(t),
            _ => None,
        })
        .collect()
}

/// The distinct words of a text, in order of first appearance ("w3 w3 w6" -> ["w3", "w6"]).
fn kinds(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for w in text.split_whitespace() {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// [`LevelStt`] with the transcript of each decode that hears words handed to `edit`, with the
/// count of such decodes before it.
struct Edited {
    edit: fn(usize, &mut Transcript),
    heard: std::sync::atomic::AtomicUsize,
}

impl Edited {
    fn new(edit: fn(usize, &mut Transcript)) -> Self {
        Self { edit, heard: 0.into() }
    }
}

/// Every word of `t` heard as "guess", as Whisper's guess from the first second often is.
fn guess(t: &mut Transcript) {
    for s in &mut t.segments {
        s.words.iter_mut().for_each(|w| w.text = "guess".into());
    }
    retext(t);
}

/// `t`'s segment texts and its text written again from its (edited) words.
fn retext(t: &mut Transcript) {
    for s in &mut t.segments {
        s.text = s.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
    }
    t.text = t.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
}

#[async_trait::async_trait]
impl SpeechToText for Edited {
    async fn transcribe(
        &self,
        audio: sokuji_core::Audio,
        options: TranscribeOptions,
    ) -> sokuji_core::Result<Transcript> {
        let mut t = LevelStt.transcribe(audio, options).await?;
        if !t.segments.is_empty() {
            (self.edit)(self.heard.fetch_add(1, std::sync::atomic::Ordering::SeqCst), &mut t);
        }
        Ok(t)
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        LevelStt.languages().await
    }

    async fn health(&self) -> sokuji_core::Health {
        LevelStt.health().await
    }
}

/// Whisper's comma after the last quiet word where a louder one follows it in the same decode.
fn comma_where_louder(_: usize, t: &mut Transcript) {
    for s in &mut t.segments {
        for i in 1..s.words.len() {
            if s.words[i - 1].text == "w3" && s.words[i].text == "w6" {
                s.words[i - 1].text.push(',');
            }
        }
    }
    retext(t);
}
